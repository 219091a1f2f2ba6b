package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

// TestLifecycleWriteSkipsWebhooksWithoutEndpoints checks workspaces.has_webhooks: a
// lifecycle write of a workspace with no enabled endpoint runs no webhooks SELECT and
// records no event; the flag follows every create, disable, enable, 410-disable and delete,
// in their own transactions; and with an enabled endpoint the event still goes out.
func TestLifecycleWriteSkipsWebhooksWithoutEndpoints(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	queries := &testenv.QueryLog{}
	s.DB.AddQueryHook(queries)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	flag := func() bool {
		t.Helper()
		var on bool
		if err := s.DB.NewRaw("SELECT has_webhooks FROM workspaces WHERE id = ?", ws).Scan(ctx, &on); err != nil {
			t.Fatal(err)
		}
		return on
	}
	states := []domain.State{domain.Pending, domain.Open}
	n := 0
	// change applies the next transition and says whether it looked up the webhooks.
	change := func() bool {
		t.Helper()
		queries.Reset()
		n++
		ch := domain.LifecycleChange{RequestID: uuid.NewString(), WorkspaceID: ws, ConversationID: conv, At: time.Now().UTC(),
			FromState: states[(n+1)%2], ToState: states[n%2]}
		if err := s.ApplyLifecycleChange(ctx, ch); err != nil {
			t.Fatal(err)
		}
		return len(queries.Matching(`FROM "webhooks"`)) > 0
	}
	events := func() int { return len(outbox(t, s, ws, domain.EventConversationStateChanged)) }

	if flag() || change() || events() != 0 {
		t.Fatalf("no endpoint: flag %v, deliveries %d; the write must not look for webhooks", flag(), events())
	}
	// A disabled endpoint is no endpoint.
	off := addWebhook(t, s, ws, false, domain.EventConversationStateChanged)
	if flag() || change() {
		t.Fatal("a disabled endpoint turned the flag on")
	}
	hook := addWebhook(t, s, ws, true, domain.EventConversationStateChanged)
	if !flag() || !change() || events() != 1 {
		t.Fatalf("an enabled endpoint: flag %v, deliveries %d, want on and 1", flag(), events())
	}
	disabled, enabled := false, true
	if _, err := s.UpdateWebhook(ctx, ws, hook, store.WebhookPatch{Enabled: &disabled}, nil); err != nil {
		t.Fatal(err)
	}
	if flag() || change() || events() != 1 {
		t.Fatalf("endpoint disabled: flag %v, deliveries %d", flag(), events())
	}
	if _, err := s.UpdateWebhook(ctx, ws, off, store.WebhookPatch{Enabled: &enabled}, nil); err != nil {
		t.Fatal(err)
	}
	if !flag() || !change() {
		t.Fatal("the other endpoint enabled: the flag stayed off")
	}
	// The receiver answered 410: the delivery fails and the endpoint is turned off.
	refs, err := s.UndispatchedDeliveries(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		if err := s.FailDelivery(ctx, ref, "gone", true); err != nil {
			t.Fatal(err)
		}
	}
	if flag() {
		t.Fatal("the 410-disabled endpoint left the flag on")
	}
	if _, err := s.UpdateWebhook(ctx, ws, hook, store.WebhookPatch{Enabled: &enabled}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, ws, off, nil); err != nil {
		t.Fatal(err)
	}
	if !flag() {
		t.Fatal("deleting one (disabled) endpoint turned the flag off while another is enabled")
	}
	if err := s.DeleteWebhook(ctx, ws, hook, nil); err != nil {
		t.Fatal(err)
	}
	if flag() || change() {
		t.Fatal("the last endpoint deleted: the flag stayed on")
	}
}
