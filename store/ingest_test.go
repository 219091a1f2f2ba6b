package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

// TestIngestFollowUpAndRetry: a follow-up touches its conversation and stores its message
// with one call, which also reads the SLA policy, and looks for webhooks only when the workspace has an enabled
// endpoint; a retried message (same external id) stores nothing and changes nothing, not
// even the unread flag a person cleared meanwhile, and answers the first message's id.
func TestIngestFollowUpAndRetry(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	queries := &testenv.QueryLog{}
	s.DB.AddQueryHook(queries)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	msg := func(ext, text string) store.IngestResult {
		t.Helper()
		queries.Reset()
		res, err := s.Ingest(ctx, store.IngestMessage{WorkspaceID: ws, Ref: "r", Channel: domain.Chat,
			ExternalID: ext, Role: domain.VisitorMessage, Text: text, SentAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		if res.ConversationID != conv || res.Created {
			t.Fatalf("follow-up %s went to %s (created %v), want %s", ext, res.ConversationID, res.Created, conv)
		}
		return res
	}
	first := msg("m2", "second message")
	if first.SLAPolicy == nil || first.SLAPolicy.On() {
		t.Errorf("a follow-up's SLA policy %v, want read and off", first.SLAPolicy)
	}
	// The touch, the message and the SLA policy's read are one call, outside a transaction:
	// no other statement (its announcement leaves later, in a batch).
	all, announced, calls := queries.Matching(), queries.Matching(`pg_notify`), queries.Matching(`inbox_store_follow_up(`)
	if len(all)-len(announced) != 1 || len(calls) != 1 {
		t.Errorf("a follow-up made %d statements besides its announcement, %d of them calls of inbox_store_follow_up, want that one call: %q",
			len(all)-len(announced), len(calls), all)
	}
	if n := len(queries.Matching(`FROM "webhooks"`)); n != 0 {
		t.Errorf("a follow-up in a workspace without webhooks looked them up %d times", n)
	}
	if n := len(queries.Matching(`INSERT INTO "conversations"`)); n != 0 {
		t.Errorf("a follow-up tried to create its conversation %d times", n)
	}
	if err := s.SetRead(ctx, ws, conv, true, nil); err != nil {
		t.Fatal(err)
	}
	before, err := s.GetConversation(ctx, ws, conv)
	if err != nil {
		t.Fatal(err)
	}

	retry := msg("m2", "second message")
	if !retry.Duplicate || retry.MessageID != first.MessageID {
		t.Errorf("the retry answered %+v, want a duplicate of message %s", retry, first.MessageID)
	}
	after, err := s.GetConversation(ctx, ws, conv)
	if err != nil {
		t.Fatal(err)
	}
	if after.Unread || !after.LastMessageAt.Equal(before.LastMessageAt) {
		t.Errorf("the retry changed the conversation: unread %v, last message %v (was %v)", after.Unread, after.LastMessageAt, before.LastMessageAt)
	}
	var stored int
	if stored, err = s.DB.NewSelect().Table("messages").Where("conversation_id = ?", conv).Count(ctx); err != nil || stored != 2 {
		t.Errorf("%d messages stored (%v), want 2", stored, err)
	}

	// With an enabled endpoint, a follow-up records its message.created event; with an SLA
	// policy, it carries the policy (the caller starts the workflow without asking again).
	addWebhook(t, s, ws, true, domain.EventMessageCreated)
	hour := time.Hour
	if _, err := s.SetSLAPolicy(ctx, ws, domain.SLAPolicy{FirstResponse: &hour}, nil); err != nil {
		t.Fatal(err)
	}
	if third := msg("m3", "third message"); third.SLAPolicy == nil || third.SLAPolicy.FirstResponse == nil || *third.SLAPolicy.FirstResponse != hour {
		t.Errorf("a follow-up under a one-hour policy read %v", third.SLAPolicy)
	}
	if n := len(outbox(t, s, ws, domain.EventMessageCreated)); n != 1 {
		t.Errorf("%d message.created deliveries after a follow-up with an endpoint, want 1", n)
	}
	if got, _ := s.GetConversation(ctx, ws, conv); !got.Unread {
		t.Error("a new message left the conversation read")
	}
}
