package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

func seedConversation(t testing.TB, s *store.Store) (uuid.UUID, uuid.UUID) {
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

// TestLifecycleChangeNamingAnotherWorkspaceWritesNothing: the audit rows, the update and
// the notice are one statement, the update only where the workspace owns the conversation;
// a change that finds none is not found and leaves no audit row behind.
func TestLifecycleChangeNamingAnotherWorkspaceWritesNothing(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	other, err := s.CreateWorkspace(ctx, "Other", "owner@other.example", "Other")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	change := domain.LifecycleChange{
		RequestID: "req-1", WorkspaceID: other.WorkspaceID, ConversationID: conv, At: now, Seq: 1,
		FromState: domain.Open, ToState: domain.Closed, ToClosedAt: &now, SummaryGeneration: 1,
		After: &domain.LifecycleState{State: domain.Closed, ClosedAt: &now},
	}
	if err := s.ApplyLifecycleChange(ctx, change); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a change naming another workspace: %v, want not found", err)
	}
	for _, action := range []domain.AuditAction{domain.AuditStateChanged, domain.AuditSummaryRequested} {
		if n := auditCount(t, s, conv, action); n != 0 {
			t.Errorf("%d %s rows left by a change that was not applied", n, action)
		}
	}
	v, err := s.GetConversation(ctx, ws, conv)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != domain.Open || v.SummaryGeneration != 0 {
		t.Errorf("the conversation changed: %+v", v.Conversation)
	}
	// Its own workspace's change applies, once.
	change.WorkspaceID = ws
	for range 2 {
		if err := s.ApplyLifecycleChange(ctx, change); err != nil {
			t.Fatal(err)
		}
	}
	if n := auditCount(t, s, conv, domain.AuditStateChanged); n != 1 {
		t.Errorf("%d state_changed rows, want 1", n)
	}
}

// TestNumberedChangesNeverUndoANewerOne: the caller of an Update and the workflow's
// write-back both write a completed change, in any order; an older change arriving late
// adds its audit row and leaves the newer lifecycle alone, and a summary generation that
// is ready stays ready when the change that started it is written again.
func TestNumberedChangesNeverUndoANewerOne(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	bob := &domain.Actor{Name: "Owner"}
	if err := s.DB.NewRaw("SELECT user_id FROM memberships WHERE workspace_id = ?", ws).Scan(ctx, &bob.UserID); err != nil {
		t.Fatal(err)
	}
	closeIt := domain.LifecycleChange{
		RequestID: "close", WorkspaceID: ws, ConversationID: conv, WorkflowRunID: "run", At: now, Seq: 1,
		FromState: domain.Open, ToState: domain.Closed, ToClosedAt: &now, SummaryGeneration: 1,
		After: &domain.LifecycleState{State: domain.Closed, ClosedAt: &now},
	}
	reopen := domain.LifecycleChange{
		RequestID: "reopen", WorkspaceID: ws, ConversationID: conv, WorkflowRunID: "run", At: now, Seq: 2,
		FromState: domain.Closed, ToState: domain.Open, FromClosedAt: &now,
		After: &domain.LifecycleState{State: domain.Open},
	}
	if err := s.ApplyLifecycleChange(ctx, reopen); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyLifecycleChange(ctx, closeIt); err != nil { // late: seq 1 after seq 2
		t.Fatal(err)
	}
	v, err := s.GetConversation(ctx, ws, conv)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != domain.Open || v.ClosedAt.Valid || v.LifecycleSeq != 2 {
		t.Errorf("after seq 2 then seq 1: state %s, closed_at %v, seq %d; want open, none, 2", v.State, v.ClosedAt, v.LifecycleSeq)
	}
	if n := auditCount(t, s, conv, domain.AuditStateChanged); n != 2 {
		t.Errorf("%d state_changed rows, want 2 (the late change is still audited)", n)
	}
	// The generation the late close started is still recorded, and its result is kept when
	// the close is written once more (say, by the write-back after the caller).
	if v.SummaryStatus != domain.SummaryPending || v.SummaryGeneration != 1 {
		t.Errorf("summary %s generation %d, want pending 1", v.SummaryStatus, v.SummaryGeneration)
	}
	if err := s.RecordSummaryResult(ctx, domain.SummaryResult{WorkspaceID: ws, ConversationID: conv, Generation: 1,
		Status: domain.SummaryReady, Text: "done", At: now}); err != nil {
		t.Fatal(err)
	}
	assign := domain.LifecycleChange{
		RequestID: "assign", WorkspaceID: ws, ConversationID: conv, WorkflowRunID: "run", At: now, Seq: 3,
		AssigneeChanged: true, ToAssignee: bob,
		After: &domain.LifecycleState{State: domain.Open, Assignee: bob},
	}
	// The write-back's batch: two changes written already, one not.
	if err := s.ApplyLifecycleChanges(ctx, []domain.LifecycleChange{closeIt, reopen, assign}); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyLifecycleChange(ctx, assign); err != nil {
		t.Fatal(err)
	}
	v, err = s.GetConversation(ctx, ws, conv)
	if err != nil {
		t.Fatal(err)
	}
	if v.SummaryStatus != domain.SummaryReady || v.State != domain.Open || v.LifecycleSeq != 3 {
		t.Errorf("after writing again: summary %s, state %s, seq %d; want ready, open, 3", v.SummaryStatus, v.State, v.LifecycleSeq)
	}
	if n := auditCount(t, s, conv, domain.AuditStateChanged); n != 2 {
		t.Errorf("%d state_changed rows after writing again, want 2", n)
	}
	if n := auditCount(t, s, conv, domain.AuditAssigneeChanged); n != 1 {
		t.Errorf("%d assignee_changed rows, want 1", n)
	}
	// A numbered change without the lifecycle it leaves is refused, not half applied.
	broken := assign
	broken.RequestID, broken.Seq, broken.After = "broken", 4, nil
	if err := s.ApplyLifecycleChange(ctx, broken); err == nil {
		t.Error("a numbered change without After was applied")
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

// TestApplyLifecycleChangeViewIsTheDetail: the write that returns its conversation returns
// what GetConversation reads right after it (the lifecycle it set, the assignee's name, the
// lead, the labels), from its own statement; a change written before returns no view and
// changes nothing; a change naming another workspace is not found and writes nothing.
func TestApplyLifecycleChangeViewIsTheDetail(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	queries := &testenv.QueryLog{}
	s.DB.AddQueryHook(queries)
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, "Views", "owner@views.example", "Olive Owner")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Ingest(ctx, store.IngestMessage{WorkspaceID: ws.WorkspaceID, Ref: "r", Channel: domain.Chat,
		Role: domain.VisitorMessage, Text: "hello", SentAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	conv := res.ConversationID
	label := &store.Label{ID: uuid.Must(uuid.NewV7()), WorkspaceID: ws.WorkspaceID, Name: "vip", Color: domain.DefaultLabelColor, CreatedAt: time.Now().UTC()}
	if err := s.CreateLabel(ctx, label, 100, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConversationLabels(ctx, ws.WorkspaceID, conv, []uuid.UUID{label.ID}, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	owner := &domain.Actor{UserID: ws.OwnerUserID, Name: "Olive Owner"}
	change := domain.LifecycleChange{
		RequestID: "req-1", WorkspaceID: ws.WorkspaceID, ConversationID: conv, At: now, Seq: 1, Actor: owner,
		AssigneeChanged: true, ToAssignee: owner,
		After: &domain.LifecycleState{State: domain.Open, Assignee: owner},
	}

	queries.Reset()
	written, err := s.ApplyLifecycleChangeView(ctx, change)
	if err != nil {
		t.Fatal(err)
	}
	if got := queries.Matching(`"conversations"`); len(got) != 1 || !strings.Contains(got[0], "labels_json") {
		t.Errorf("the write and its view are not one statement: %q", got)
	}
	read, err := s.GetConversation(ctx, ws.WorkspaceID, conv)
	if err != nil {
		t.Fatal(err)
	}
	if written == nil || !reflect.DeepEqual(*written, *read) {
		t.Fatalf("the write returned\n%+v\nthe read after it\n%+v", written, read)
	}
	if !written.AssigneeID.Valid || written.AssigneeID.UUID != ws.OwnerUserID || written.AssigneeName.String != "Olive Owner" ||
		len(written.Labels) != 1 || written.Labels[0].Name != "vip" || written.LeadID == uuid.Nil || written.LifecycleSeq != 1 {
		t.Errorf("the view lacks the change or the detail: %+v", written)
	}

	again, err := s.ApplyLifecycleChangeView(ctx, change)
	if err != nil || again != nil {
		t.Errorf("the same change again: %+v, %v; want no view and no error", again, err)
	}
	if n := auditCount(t, s, conv, domain.AuditAssigneeChanged); n != 1 {
		t.Errorf("%d assignee_changed rows, want 1", n)
	}

	other, err := s.CreateWorkspace(ctx, "Other views", "owner@other-views.example", "Other")
	if err != nil {
		t.Fatal(err)
	}
	foreign := change
	foreign.RequestID, foreign.WorkspaceID = "req-2", other.WorkspaceID
	if v, err := s.ApplyLifecycleChangeView(ctx, foreign); !errors.Is(err, store.ErrNotFound) || v != nil {
		t.Errorf("a change naming another workspace: %+v, %v; want not found", v, err)
	}
	if n := auditCount(t, s, conv, domain.AuditAssigneeChanged); n != 1 {
		t.Errorf("%d assignee_changed rows after the foreign change, want 1", n)
	}
}

// TestLifecycleChangeWrittenAlone: a change that needs nothing else written with it (here a
// close, with its summary request) is one statement outside a transaction, and returns the
// detail GetConversation reads after it; written again, or naming another workspace, it
// writes nothing (no audit row is left behind: no transaction would roll it back). In a
// workspace with an enabled webhook endpoint the statement writes nothing and the
// transaction writes the change with its event; the workspace's next change goes to the
// transaction at once.
func TestLifecycleChangeWrittenAlone(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	queries := &testenv.QueryLog{}
	s.DB.AddQueryHook(queries)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	closing := domain.LifecycleChange{
		RequestID: "req-1", WorkspaceID: ws, ConversationID: conv, At: now, Seq: 1,
		FromState: domain.Open, ToState: domain.Closed, ToClosedAt: &now, SummaryGeneration: 1,
		After: &domain.LifecycleState{State: domain.Closed, ClosedAt: &now},
	}

	queries.Reset()
	written, err := s.ApplyLifecycleChangeView(ctx, closing)
	if err != nil {
		t.Fatal(err)
	}
	// (The seeding message's announcement leaves after its commit, in a batch: not counted.)
	got, announced := queries.Matching(), queries.Matching(`"k":"message"`)
	if len(got)-len(announced) != 1 || len(queries.Matching("audit_rows", "UPDATE")) != 1 || len(queries.Matching("BEGIN")) != 0 {
		t.Errorf("the close was not one statement outside a transaction: %q", got)
	}
	read, err := s.GetConversation(ctx, ws, conv)
	if err != nil {
		t.Fatal(err)
	}
	if written == nil || !reflect.DeepEqual(*written, *read) || read.State != domain.Closed || read.SummaryStatus != domain.SummaryPending {
		t.Fatalf("the write returned\n%+v\nthe read after it\n%+v", written, read)
	}
	if again, err := s.ApplyLifecycleChangeView(ctx, closing); err != nil || again != nil {
		t.Errorf("the same close again: %+v, %v; want no view and no error", again, err)
	}
	for _, action := range []domain.AuditAction{domain.AuditStateChanged, domain.AuditSummaryRequested} {
		if n := auditCount(t, s, conv, action); n != 1 {
			t.Errorf("%d %s rows, want 1", n, action)
		}
	}

	other, err := s.CreateWorkspace(ctx, "Elsewhere", "owner@elsewhere.example", "Other")
	if err != nil {
		t.Fatal(err)
	}
	foreign := closing
	foreign.RequestID, foreign.WorkspaceID, foreign.Seq = "req-2", other.WorkspaceID, 2
	foreign.ToState, foreign.After = domain.Open, &domain.LifecycleState{State: domain.Open}
	if v, err := s.ApplyLifecycleChangeView(ctx, foreign); !errors.Is(err, store.ErrNotFound) || v != nil {
		t.Errorf("a change naming another workspace: %+v, %v; want not found", v, err)
	}
	if n := auditCount(t, s, conv, domain.AuditStateChanged); n != 1 {
		t.Errorf("%d state_changed rows after the foreign change, want 1", n)
	}

	addWebhook(t, s, ws, true, domain.EventConversationStateChanged)
	reopening := domain.LifecycleChange{
		RequestID: "req-3", WorkspaceID: ws, ConversationID: conv, At: now, Seq: 2,
		FromState: domain.Closed, ToState: domain.Open, After: &domain.LifecycleState{State: domain.Open},
	}
	queries.Reset()
	if v, err := s.ApplyLifecycleChangeView(ctx, reopening); err != nil || v == nil || v.State != domain.Open {
		t.Fatalf("reopening with an endpoint: %+v, %v", v, err)
	}
	if n := len(outbox(t, s, ws, domain.EventConversationStateChanged)); n != 1 {
		t.Errorf("%d state_changed deliveries, want 1", n)
	}
	if n := len(queries.Matching("BEGIN")); n != 1 {
		t.Errorf("the reopening with an endpoint took %d transactions, want 1", n)
	}
	archiving := reopening
	archiving.RequestID, archiving.Seq, archiving.FromState, archiving.ToState = "req-4", 3, domain.Open, domain.Archived
	archiving.After = &domain.LifecycleState{State: domain.Archived}
	queries.Reset()
	if v, err := s.ApplyLifecycleChangeView(ctx, archiving); err != nil || v == nil || v.State != domain.Archived {
		t.Fatalf("archiving with an endpoint: %+v, %v", v, err)
	}
	if got := queries.Matching("audit_rows"); len(got) != 0 {
		t.Errorf("the workspace's next change tried the statement alone first: %q", got)
	}
	if n := len(outbox(t, s, ws, domain.EventConversationStateChanged)); n != 2 {
		t.Errorf("%d state_changed deliveries, want 2", n)
	}
}

// BenchmarkLifecycleWriteAndAnswer times what a change costs in Postgres after its Update:
// its write and the detail it answers with, read after the commit or returned by the
// write's own statement. go test -run '^$' -bench LifecycleWriteAndAnswer ./store/
func BenchmarkLifecycleWriteAndAnswer(b *testing.B) {
	s := testenv.NewStore(b)
	ctx := context.Background()
	ws, conv := seedConversation(b, s)
	seq := int64(0)
	change := func() domain.LifecycleChange {
		seq++
		to, from := domain.Pending, domain.Open
		if seq%2 == 0 {
			to, from = domain.Open, domain.Pending
		}
		return domain.LifecycleChange{RequestID: fmt.Sprint("req-", seq), WorkspaceID: ws, ConversationID: conv,
			At: time.Now().UTC(), Seq: seq, FromState: from, ToState: to, After: &domain.LifecycleState{State: to}}
	}
	b.Run("write then read", func(b *testing.B) {
		for b.Loop() {
			if err := s.ApplyLifecycleChange(ctx, change()); err != nil {
				b.Fatal(err)
			}
			if _, err := s.GetConversation(ctx, ws, conv); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write returning the view", func(b *testing.B) {
		for b.Loop() {
			if v, err := s.ApplyLifecycleChangeView(ctx, change()); err != nil || v == nil {
				b.Fatal(v, err)
			}
		}
	})
}
