package faults

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/internal/testenv"
)

// TestKillWithChangesQueued kills the process while a burst's changes wait in the queue of
// changes, the first of them leased by the queue runner and held before it is sent. With one Update allowed in flight and the
// first change held before it is sent, a conversation's two changes are queued (202) in
// order; after kill -9 and a restart the runner sends both, in order, once each, once the
// dead runner's lease has run out; the held change's client gets its result by retrying its
// key, and the queued changes' keys answer 200 without changing anything again.
func TestKillWithChangesQueued(t *testing.T) {
	suite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	in := newInbox(t, testenv.AdminURL(), "http://127.0.0.1:9/v1")
	in.env = []string{"INBOX_FAULTPOINTS=before-send=5m", "INBOX_MAX_UPDATES_IN_FLIGHT=1"}
	t.Logf("first start: ready in %.1fs", in.start(ctx).Seconds())
	api := newAPIClient(in)
	held := api.createConversation(ctx, t, fmt.Sprintf("queue-held-%d", rand.IntN(1e9)))
	conv := api.createConversation(ctx, t, fmt.Sprintf("queue-%d", rand.IntN(1e9)))

	heldKey := uuid.NewString()
	go func() {
		rctx, rcancel := context.WithTimeout(ctx, time.Minute)
		defer rcancel()
		api.transition(rctx, held, "pending", heldKey) // its answer dies with the process
	}()
	if !waitFor(ctx, time.Minute, func() bool { return in.holding("before-send") }) {
		t.Fatalf("the first change never held its slot")
	}
	keys := []string{uuid.NewString(), uuid.NewString()}
	for i, to := range []string{"pending", "open"} {
		if a := api.transition(ctx, conv, to, keys[i]); a.Code != http.StatusAccepted {
			t.Fatalf("change %d to %s behind a held slot: %s, want 202 (queued)", i+1, to, a)
		}
	}
	db := in.db()
	if n := queuedFor(ctx, t, db, conv); n != 2 {
		t.Fatalf("%d changes queued for the conversation, want 2", n)
	}
	// The queue runner leases the first and holds it before sending, as the request did.
	if !waitFor(ctx, time.Minute, func() bool { return in.holdings("before-send") == 2 }) {
		t.Fatalf("the queue runner never took the first queued change")
	}
	in.kill9()
	if changes, err := stateChanges(ctx, db, conv); err != nil || len(changes) != 0 {
		t.Fatalf("after the kill the queued conversation has state changes %+v (%v), want none", changes, err)
	}

	in.env = nil
	t.Logf("restart: ready in %.1fs", in.start(ctx).Seconds())
	restarted := time.Now()
	if !waitFor(ctx, 2*time.Minute, func() bool { return queuedFor(ctx, t, db, conv) == 0 }) {
		t.Fatalf("the queued changes were not sent within 2 minutes of the restart")
	}
	t.Logf("the queue was sent %.1fs after the restart (the dead runner's lease runs 30 s)", time.Since(restarted).Seconds())
	changes, err := stateChanges(ctx, db, conv)
	if err != nil || len(changes) != 2 || changes[0].After != "pending" || changes[1].After != "open" {
		t.Fatalf("the queued conversation's state changes %+v (%v), want pending then open, once each", changes, err)
	}
	tc := in.temporal(ctx)
	if state, err := workflowState(ctx, tc, conv); err != nil || state != "open" {
		t.Errorf("its workflow says %q (%v), want open", state, err)
	}
	if code := changeUntilKnown(ctx, api, held, "pending", heldKey, time.Minute); code != http.StatusOK {
		t.Fatalf("the held change's retry answered %d, want 200", code)
	}
	if changes, err := stateChanges(ctx, db, held); err != nil || len(changes) != 1 || changes[0].After != "pending" {
		t.Errorf("the held conversation's state changes %+v (%v), want one to pending", changes, err)
	}
	for i, to := range []string{"pending", "open"} {
		if a := api.transition(ctx, conv, to, keys[i]); a.Code != http.StatusOK {
			t.Errorf("the queued change %d's key again: %s, want 200", i+1, a)
		}
	}
	if changes, err := stateChanges(ctx, db, conv); err != nil || len(changes) != 2 {
		t.Errorf("after the keys' retries: %d state changes (%v), want still 2", len(changes), err)
	}
}

// queuedFor counts the changes of conv waiting in the queue.
func queuedFor(ctx context.Context, t *testing.T, db *sql.DB, conv string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM queued_changes WHERE conversation_id = $1`, conv).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// holdings counts the fault point holds at seam name since the process last started.
func (in *inbox) holdings(name string) int {
	tail := in.logTail("stderr", 200000)
	tail = tail[strings.LastIndex(tail, "===== faults: start")+1:]
	return strings.Count(tail, `fault point holding" faultpoint=`+name)
}
