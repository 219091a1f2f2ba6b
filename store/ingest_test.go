package store_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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
	all, announced, calls := queries.Matching(), queries.Matching(`pg_notify`), queries.Matching(`inbox_store_message(`)
	if len(all)-len(announced) != 1 || len(calls) != 1 {
		t.Errorf("a follow-up made %d statements besides its announcement, %d of them calls of inbox_store_message, want that one call: %q",
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

// TestIngestFirstMessageInOneCall: a first message to a workspace without webhooks is one
// call, outside a transaction, and writes exactly the rows the transaction writes for a
// first message to a workspace with webhooks (which takes the transaction for its events):
// the conversation, its lead with the contact fields, the created audit row and the message.
func TestIngestFirstMessageInOneCall(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	queries := &testenv.QueryLog{}
	s.DB.AddQueryHook(queries)
	ctx := context.Background()
	first := func(ws uuid.UUID) store.IngestResult {
		t.Helper()
		name, email := "Ada", "ada@example.com"
		queries.Reset()
		res, err := s.Ingest(ctx, store.IngestMessage{WorkspaceID: ws, Ref: "visitor-1", Channel: domain.WebVoice,
			Visitor: store.Visitor{Name: &name, Email: &email}, ExternalID: "m1", Role: domain.VisitorMessage,
			Text: "hello", SentAt: time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC),
			Source: store.Source{PageURL: "https://shop.example/p", Referrer: "https://search.example/",
				UserAgent: "Mozilla/5.0", IP: netip.MustParseAddr("203.0.113.9")}})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Created || res.Duplicate || res.SLAPolicy != nil || res.WorkflowID != domain.WorkflowID(res.ConversationID) {
			t.Fatalf("first message answered %+v, want created, its workflow id, no policy read", res)
		}
		return res
	}
	workspace := func(name string) uuid.UUID {
		t.Helper()
		ws, err := s.CreateWorkspace(ctx, name, "owner@"+name+".example", "Owner")
		if err != nil {
			t.Fatal(err)
		}
		return ws.WorkspaceID
	}

	plainWS := workspace("plain")
	plain := first(plainWS)
	all, announced, calls := queries.Matching(), queries.Matching(`pg_notify`), queries.Matching(`inbox_store_message(`)
	if len(all)-len(announced) != 1 || len(calls) != 1 {
		t.Errorf("a first message made %d statements besides its announcement, %d of them calls of inbox_store_message, want that one call: %q",
			len(all)-len(announced), len(calls), all)
	}

	hooked := workspace("hooked")
	addWebhook(t, s, hooked, true, domain.EventConversationCreated)
	inTx := first(hooked)
	if n := len(queries.Matching(`INSERT INTO "conversations"`)); n != 1 {
		t.Errorf("a first message to a workspace with webhooks inserted its conversation %d times in the transaction, want 1", n)
	}
	if n := len(outbox(t, s, hooked, domain.EventConversationCreated)); n != 1 {
		t.Errorf("%d conversation.created deliveries, want 1", n)
	}

	// Everything but ids, workspaces and times is the same, row by row.
	rows := func(conv uuid.UUID) []string {
		t.Helper()
		var out []string
		for _, q := range []string{
			`SELECT (to_jsonb(c) - 'id' - 'workspace_id' - 'workflow_id' - 'created_at' - 'last_message_at')::text FROM conversations AS c WHERE id = ?`,
			`SELECT (to_jsonb(l) - 'id' - 'workspace_id' - 'conversation_id' - 'created_at' - 'updated_at')::text FROM leads AS l WHERE conversation_id = ?`,
			`SELECT (to_jsonb(a) - 'id' - 'workspace_id' - 'conversation_id' - 'at')::text FROM audit_log AS a WHERE conversation_id = ?`,
			`SELECT (to_jsonb(m) - 'id' - 'conversation_id' - 'created_at')::text FROM messages AS m WHERE conversation_id = ?`,
		} {
			var got []string
			if err := s.DB.NewRaw(q, conv).Scan(ctx, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d rows for %q, want 1", len(got), q)
			}
			out = append(out, got[0])
		}
		return out
	}
	if got, want := rows(plain.ConversationID), rows(inTx.ConversationID); !slices.Equal(got, want) {
		t.Errorf("the one call wrote\n%s\nthe transaction\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A second message to the same ref, and one with contact fields, are follow-ups.
	for _, visitor := range []store.Visitor{{}, {Phone: ptr("+44 20 7946 0000")}} {
		res, err := s.Ingest(ctx, store.IngestMessage{WorkspaceID: plainWS, Ref: "visitor-1",
			Channel: domain.WebVoice, Visitor: visitor, Role: domain.VisitorMessage, Text: "again", SentAt: time.Now().UTC()})
		if err != nil || res.Created || res.ConversationID != plain.ConversationID {
			t.Fatalf("a later message: %+v, %v; want a follow-up of %s", res, err, plain.ConversationID)
		}
	}
	if n, err := s.DB.NewSelect().Table("conversations").Where("ref = ?", "visitor-1").Count(ctx); err != nil || n != 2 {
		t.Errorf("%d conversations of ref visitor-1 in the two workspaces (%v), want 2", n, err)
	}
}

func ptr(s string) *string { return &s }
