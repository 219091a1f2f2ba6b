package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

func seedConversation(t *testing.T, s *store.Store) (uuid.UUID, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, "Lifecycle", "owner@lifecycle.example", "Owner")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Ingest(ctx, store.IngestMessage{
		WorkspaceID: ws.WorkspaceID, Ref: "r", Channel: domain.Chat,
		Role: domain.VisitorMessage, Text: "hello", SentAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return ws.WorkspaceID, res.ConversationID
}

func auditCount(t *testing.T, s *store.Store, conv uuid.UUID, action domain.AuditAction) int {
	t.Helper()
	n, err := s.DB.NewSelect().Table("audit_log").Where("conversation_id = ? AND action = ?", conv, action).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestApplyLifecycleChangeIsIdempotent(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	change := domain.LifecycleChange{
		RequestID: "req-1", WorkspaceID: ws, ConversationID: conv, At: now,
		FromState: domain.Open, ToState: domain.Closed, ToClosedAt: &now, SummaryGeneration: 1,
	}
	for range 3 { // a retried activity
		if err := s.ApplyLifecycleChange(ctx, change); err != nil {
			t.Fatal(err)
		}
	}
	if n := auditCount(t, s, conv, domain.AuditStateChanged); n != 1 {
		t.Errorf("%d state_changed rows, want 1", n)
	}
	if n := auditCount(t, s, conv, domain.AuditSummaryRequested); n != 1 {
		t.Errorf("%d summary_requested rows, want 1", n)
	}
	v, err := s.GetConversation(ctx, ws, conv)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != domain.Closed || !v.ClosedAt.Valid || !v.ClosedAt.Time.Equal(now) || v.SummaryStatus != domain.SummaryPending || v.SummaryGeneration != 1 {
		t.Errorf("after close: %+v", v.Conversation)
	}
	// Another workspace cannot be written through a forged change.
	other := change
	other.RequestID, other.WorkspaceID = "req-2", uuid.New()
	if err := s.ApplyLifecycleChange(ctx, other); err == nil {
		t.Error("a change naming another workspace was applied")
	}
}

func TestStaleSummaryResultIsRefused(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	start := func(gen int64) {
		if err := s.ApplyLifecycleChange(ctx, domain.LifecycleChange{
			RequestID: uuid.NewString(), WorkspaceID: ws, ConversationID: conv, At: time.Now(), SummaryGeneration: gen,
		}); err != nil {
			t.Fatal(err)
		}
	}
	result := func(gen int64, text string) error {
		return s.RecordSummaryResult(ctx, domain.SummaryResult{
			WorkspaceID: ws, ConversationID: conv, Generation: gen, Status: domain.SummaryReady, Text: text, At: time.Now(),
		})
	}
	start(1)
	start(2)
	if err := result(1, "old"); !errors.Is(err, store.ErrStaleSummary) {
		t.Fatalf("generation 1 after 2 started: %v", err)
	}
	if err := s.RecordSummaryAttempt(ctx, conv, 1, 3); !errors.Is(err, store.ErrStaleSummary) {
		t.Errorf("attempt of a stale generation: %v", err)
	}
	if err := result(2, "new"); err != nil {
		t.Fatal(err)
	}
	if err := result(2, "again"); err != nil { // a retried activity: no-op
		t.Fatal(err)
	}
	v, _ := s.GetConversation(ctx, ws, conv)
	if v.SummaryText != "new" || v.SummaryStatus != domain.SummaryReady {
		t.Errorf("summary = %q %s", v.SummaryText, v.SummaryStatus)
	}
	if n := auditCount(t, s, conv, domain.AuditSummaryReady); n != 1 {
		t.Errorf("%d summary_ready rows, want 1", n)
	}
}

func TestSetReadAuditsOnlyChanges(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	for range 2 {
		if err := s.SetRead(ctx, ws, conv, true, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetRead(ctx, ws, conv, false, nil); err != nil {
		t.Fatal(err)
	}
	if r, u := auditCount(t, s, conv, domain.AuditRead), auditCount(t, s, conv, domain.AuditUnread); r != 1 || u != 1 {
		t.Errorf("read/unread rows = %d/%d, want 1/1", r, u)
	}
	if err := s.SetRead(ctx, uuid.New(), conv, true, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another workspace: %v", err)
	}
}
