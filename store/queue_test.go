package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

// The queue of changes hands out only the oldest change of each conversation, leases what it
// hands out, keeps one row per Update id, and gives a postponed change back only once its
// wait is over; ChangeTarget and the token's query say which conversations have changes
// waiting.
func TestQueuedChangesKeepEachConversationsOrder(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, a := seedConversation(t, s)
	res, err := s.Ingest(ctx, store.IngestMessage{WorkspaceID: ws, Ref: "other", Channel: domain.Chat,
		Role: domain.VisitorMessage, Text: "hi", SentAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	b := res.ConversationID
	queue := func(conv uuid.UUID, updateID string) {
		t.Helper()
		err := s.QueueChange(ctx, store.QueuedChange{WorkspaceID: ws, ConversationID: conv, UpdateID: updateID,
			UpdateName: "transition", UpdateArg: json.RawMessage(`{"to":"closed"}`)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if queued, err := s.ChangeTarget(ctx, ws, a); err != nil || queued {
		t.Fatalf("before anything is queued: queued %v, %v", queued, err)
	}
	queue(a, "a-1")
	queue(a, "a-2")
	queue(b, "b-1")
	queue(a, "a-1") // the same request again: still one row
	if n, _, err := s.QueuedChanges(ctx); err != nil || n != 3 {
		t.Fatalf("%d queued (%v), want 3", n, err)
	}
	if queued, err := s.ChangeTarget(ctx, ws, a); err != nil || !queued {
		t.Fatalf("with changes queued: queued %v, %v", queued, err)
	}
	if _, err := s.ChangeTarget(ctx, uuid.New(), a); err != store.ErrNotFound {
		t.Fatalf("another workspace's conversation: %v, want ErrNotFound", err)
	}

	ids := func(qs []store.QueuedChange) []string {
		var out []string
		for _, q := range qs {
			out = append(out, q.UpdateID)
		}
		return out
	}
	first, err := s.ClaimQueuedChanges(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(first); len(got) != 2 || got[0] != "a-1" || got[1] != "b-1" {
		t.Fatalf("first claim %v, want [a-1 b-1]: a-2 waits behind a-1", got)
	}
	if first[0].Attempts != 1 || string(first[0].UpdateArg) != `{"to": "closed"}` || first[0].UpdateName != "transition" {
		t.Fatalf("claimed %+v", first[0])
	}
	if again, err := s.ClaimQueuedChanges(ctx, 10, time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("claimed %v while leased (%v), want nothing", ids(again), err)
	}
	// a-1 applied: a-2 is next. b-1 failed: back after its wait.
	if err := s.DropQueuedChange(ctx, first[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.PostponeQueuedChange(ctx, first[1].ID, 300*time.Millisecond, "busy"); err != nil {
		t.Fatal(err)
	}
	next, err := s.ClaimQueuedChanges(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(next); len(got) != 1 || got[0] != "a-2" {
		t.Fatalf("after a-1 was dropped: %v, want [a-2]", got)
	}
	time.Sleep(400 * time.Millisecond)
	later, err := s.ClaimQueuedChanges(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(later); len(got) != 1 || got[0] != "b-1" || later[0].Attempts != 2 {
		t.Fatalf("after b-1's wait: %v (%+v), want [b-1] at its second attempt", got, later)
	}
}
