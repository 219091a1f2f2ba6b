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

func addWebhook(t *testing.T, s *store.Store, ws uuid.UUID, enabled bool, events ...domain.WebhookEvent) uuid.UUID {
	t.Helper()
	names := make([]string, len(events))
	for i, e := range events {
		names[i] = string(e)
	}
	now := time.Now().UTC()
	w := &store.Webhook{ID: uuid.Must(uuid.NewV7()), WorkspaceID: ws, URL: "https://example.com/h", Events: names,
		Enabled: enabled, SecretSealed: []byte("sealed"), CreatedAt: now, UpdatedAt: now}
	if err := s.CreateWebhook(context.Background(), w, 10, nil); err != nil {
		t.Fatal(err)
	}
	return w.ID
}

func outbox(t *testing.T, s *store.Store, ws uuid.UUID, event domain.WebhookEvent) []map[string]any {
	t.Helper()
	var bodies []string
	if err := s.DB.NewRaw("SELECT body FROM webhook_deliveries WHERE workspace_id = ? AND event = ? ORDER BY created_at",
		ws, string(event)).Scan(context.Background(), &bodies); err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(bodies))
	for i, b := range bodies {
		var ev struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(b), &ev); err != nil || ev.Type != string(event) {
			t.Fatalf("body %s: %v", b, err)
		}
		out[i] = ev.Data
	}
	return out
}

// TestLifecycleEventsAreRecordedOncePerChange: a lifecycle change applied again (a retried
// activity) records its event once; a system change (a workflow timer, no actor) records it
// with a null actor; only enabled, subscribed endpoints get a delivery.
func TestLifecycleEventsAreRecordedOncePerChange(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	addWebhook(t, s, ws, true, domain.EventConversationStateChanged, domain.EventConversationAssigned)
	addWebhook(t, s, ws, true, domain.EventMessageCreated)            // not subscribed
	addWebhook(t, s, ws, false, domain.EventConversationStateChanged) // disabled
	now := time.Now().UTC()
	change := domain.LifecycleChange{RequestID: "req-1", WorkflowRunID: "run-1", WorkspaceID: ws, ConversationID: conv, At: now,
		FromState: domain.Open, ToState: domain.Pending}
	for range 3 {
		if err := s.ApplyLifecycleChange(ctx, change); err != nil {
			t.Fatal(err)
		}
	}
	got := outbox(t, s, ws, domain.EventConversationStateChanged)
	if len(got) != 1 {
		t.Fatalf("%d state_changed deliveries, want 1", len(got))
	}
	if got[0]["actor"] != nil || got[0]["from"] != "open" || got[0]["to"] != "pending" || got[0]["conversation_id"] != conv.String() || got[0]["workspace_id"] != ws.String() {
		t.Errorf("data %v", got[0])
	}
	var owner uuid.UUID
	if err := s.DB.NewRaw("SELECT user_id FROM memberships WHERE workspace_id = ?", ws).Scan(ctx, &owner); err != nil {
		t.Fatal(err)
	}
	actor := &domain.Actor{UserID: owner, Name: "Owner"}
	assign := domain.LifecycleChange{RequestID: "req-2", WorkflowRunID: "run-1", WorkspaceID: ws, ConversationID: conv, At: now,
		Actor: actor, AssigneeChanged: true, ToAssignee: actor}
	for range 2 {
		if err := s.ApplyLifecycleChange(ctx, assign); err != nil {
			t.Fatal(err)
		}
	}
	if got := outbox(t, s, ws, domain.EventConversationAssigned); len(got) != 1 {
		t.Errorf("%d assigned deliveries, want 1", len(got))
	}
	// A summary retry alone is no event; its result is.
	retry := domain.LifecycleChange{RequestID: "req-3", WorkflowRunID: "run-1", WorkspaceID: ws, ConversationID: conv, At: now, SummaryGeneration: 1}
	if err := s.ApplyLifecycleChange(ctx, retry); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB.NewRaw("SELECT count(*) FROM webhook_deliveries WHERE workspace_id = ?", ws).Scan(ctx, &n); err != nil || n != 2 {
		t.Errorf("%d deliveries in all, want 2 (%v)", n, err)
	}
	// A failed change records no event: the transaction rolls back.
	gone := change
	gone.RequestID, gone.ConversationID = "req-4", uuid.New()
	if err := s.ApplyLifecycleChange(ctx, gone); err == nil {
		t.Error("a change of a missing conversation succeeded")
	}
	if got := outbox(t, s, ws, domain.EventConversationStateChanged); len(got) != 1 {
		t.Errorf("%d state_changed deliveries after a failed change, want 1", len(got))
	}
}
