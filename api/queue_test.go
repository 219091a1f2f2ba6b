package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/workflows"
)

// A burst's changes wait in the queue instead of failing. With one Update allowed in flight
// and no worker to accept it: a close that is sent and never confirmed is queued (202, the
// detail as it is); a close of another conversation that waits in line past its patience is
// queued without being sent; a reopen of the first conversation is queued behind its close
// without being sent. Once a worker runs, the queue runner applies every one, each
// conversation's in the order asked, once; the first request's Idempotency-Key then answers
// 200 without a second change. (A change Temporal is down for is a 503: TestTemporalUnavailable.)
func TestBurstChangesWaitInTheQueue(t *testing.T) {
	t.Parallel()
	const timeout = 3 * time.Second
	env := testenv.New(t, testenv.Options{NoWorker: true})
	ws := env.NewWorkspace("Queue Co")
	a := newConversation(t, env, ws, "queue-a")
	b := newConversation(t, env, ws, "queue-b")
	logs := routerOn(t, env, app.Service{Store: env.Store, Lifecycle: workflows.Lifecycle{Client: env.Client},
		UpdateTimeout: timeout, MaxUpdatesInFlight: 1})
	wantQueued := func(what string, res testenv.Response) {
		t.Helper()
		var d detail
		res.JSON(t, &d)
		if res.Code != http.StatusAccepted || d.State != "open" {
			t.Fatalf("%s: %d %s, want 202 with the detail as it is (open)", what, res.Code, res.Body)
		}
	}

	closeA := make(chan testenv.Response, 1)
	go func() { closeA <- setState(env, ws, a, "closed", "Idempotency-Key", "queue-close-a") }()
	time.Sleep(300 * time.Millisecond) // a's close holds the one slot
	wantQueued("close of b, in line behind a's", setState(env, ws, b, "closed"))
	wantQueued("close of a, never confirmed", <-closeA)
	start := time.Now()
	wantQueued("reopen of a, behind its queued close", setState(env, ws, a, "open"))
	if took := time.Since(start); took >= timeout {
		t.Errorf("the reopen behind a queued change took %v: it was sent instead of queued", took)
	}
	got := logs.String()
	if n := strings.Count(got, "lifecycle change not confirmed in time"); n != 1 {
		t.Fatalf("%d changes sent and not confirmed, want 1 (a's close; b's and the reopen never sent):\n%s", n, got)
	}
	// The operator reads which change it was, how long it waited in line, and Temporal's
	// own error: the answer alone does not tell a slow workflow from a lost one.
	for _, want := range []string{"conversation_id=" + a, "in_line=", "error="} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %q:\n%s", want, got)
		}
	}
	if n, _, err := env.Store.QueuedChanges(context.Background()); err != nil || n != 3 {
		t.Fatalf("%d changes queued (%v), want 3", n, err)
	}

	env.StartWorker()
	testenv.Eventually(t, 60*time.Second, "the queue sent", func() bool {
		n, _, err := env.Store.QueuedChanges(context.Background())
		return err == nil && n == 0
	})
	var order []string
	for _, it := range audit(t, env, ws, a) {
		if it.Action == "state_changed" {
			state, _ := it.After["state"].(string)
			order = append(order, state)
		}
	}
	if len(order) != 2 || order[0] != "closed" || order[1] != "open" {
		t.Fatalf("a's state changes %v, want closed then open", order)
	}
	if n := countActions(audit(t, env, ws, b), "state_changed"); n != 1 {
		t.Fatalf("b's close applied %d times, want once", n)
	}
	var d detail
	env.As(ws.OwnerToken, http.MethodGet, convPath(ws, b, ""), nil).JSON(t, &d)
	if d.State != "closed" {
		t.Fatalf("b is %s, want closed", d.State)
	}
	res := setState(env, ws, a, "closed", "Idempotency-Key", "queue-close-a")
	res.JSON(t, &d)
	if res.Code != http.StatusOK || d.State != "open" {
		t.Fatalf("the queued close's key again: %d %s, want 200 with a as it is (open)", res.Code, res.Body)
	}
	if n := countActions(audit(t, env, ws, a), "state_changed"); n != 2 {
		t.Fatalf("a has %d state changes after the key's retry, want still 2", n)
	}
}

// A queue runner that stops while it sends a change gives the change back at once, for the
// next runner (a deploy), instead of leaving it leased.
func TestStoppedQueueRunnerGivesItsChangeBack(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{NoWorker: true})
	ws := env.NewWorkspace("Runner Stops")
	conv := uuid.MustParse(newConversation(t, env, ws, "runner-stops"))
	ctx := context.Background()
	if err := env.Store.QueueChange(ctx, store.QueuedChange{WorkspaceID: ws.WorkspaceID, ConversationID: conv,
		UpdateID: "runner-stops-1", UpdateName: workflows.UpdateTransition, UpdateArg: []byte(`{"to":"closed"}`)}); err != nil {
		t.Fatal(err)
	}
	// No worker: the runner's Update waits, as for a slow workflow, until the runner stops.
	runner := app.New(app.Service{Store: env.Store, Lifecycle: workflows.Lifecycle{Client: env.Client},
		UpdateTimeout: time.Minute, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { defer close(stopped); runner.RunQueue(runCtx) }()
	testenv.Eventually(t, 30*time.Second, "the runner took the change", func() bool {
		var attempts int
		err := env.Store.DB.NewRaw(`SELECT attempts FROM queued_changes WHERE update_id = 'runner-stops-1'`).Scan(ctx, &attempts)
		return err == nil && attempts == 1
	})
	time.Sleep(200 * time.Millisecond) // into its send
	stop()
	<-stopped
	again, err := env.Store.ClaimQueuedChanges(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].UpdateID != "runner-stops-1" {
		t.Fatalf("after the runner stopped the next one claims %+v, want the change back at once", again)
	}
}
