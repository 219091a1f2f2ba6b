package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/workflows"
)

// TestKillAtTheWriteSeams kills the process at the two seams of a change's write, held there
// by fault points (internal/faultpoint) so that the kill lands on them, not near them:
//  1. the Update has completed (the history holds the change) and its caller has not
//     written it;
//  2. after a restart, the workflow's write-back is about to write it.
//
// After a clean restart the change shows once, the read model agrees with the workflow,
// one webhook went out for it, and the next change goes through. Postgres never showed the
// change before the history held it, and nothing shown was taken back.
func TestKillAtTheWriteSeams(t *testing.T) {
	suite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	var (
		mu         sync.Mutex
		deliveries = map[string]int{} // "conversation/to" of each state_changed delivery
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var event struct {
			Type string `json:"type"`
			Data struct {
				ConversationID string `json:"conversation_id"`
				To             string `json:"to"`
			} `json:"data"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&event); err == nil && event.Type == "conversation.state_changed" {
			mu.Lock()
			deliveries[event.Data.ConversationID+"/"+event.Data.To]++
			mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()
	delivered := func(conv, to string) int { mu.Lock(); defer mu.Unlock(); return deliveries[conv+"/"+to] }

	in := newInbox(t, testenv.AdminURL(), "http://127.0.0.1:9/v1")
	base := []string{"INBOX_WEBHOOK_ALLOW_PRIVATE=true", "INBOX_WEBHOOK_RETRY_INITIAL=1s", "INBOX_WEBHOOK_RETRY_MAX=2s"}
	in.env = append(base, "INBOX_FAULTPOINTS=after-completed=5m")
	t.Logf("first start: ready in %.1fs", in.start(ctx).Seconds())
	api := newAPIClient(in)
	if a := api.admin(ctx, http.MethodPost, "/webhooks", nil, map[string]any{
		"url": receiver.URL + "/hook", "events": []string{"conversation.state_changed"},
	}); a.Code != http.StatusCreated {
		t.Fatalf("create webhook: %s", a)
	}
	conv := api.createConversation(ctx, t, fmt.Sprintf("seams-%d", rand.IntN(1e9)))
	db := in.db()
	stored := func() string {
		var state string
		if err := db.QueryRowContext(ctx, `SELECT state FROM conversations WHERE id = $1`, conv).Scan(&state); err != nil {
			t.Fatalf("read the conversation: %v", err)
		}
		return state
	}

	// Seam 1: the change's request is held after its Update completed.
	go func() {
		rctx, rcancel := context.WithTimeout(ctx, time.Minute)
		defer rcancel()
		api.transition(rctx, conv, "pending", uuid.NewString()) // its answer dies with the process
	}()
	if !waitFor(ctx, time.Minute, func() bool { return in.holding("after-completed") }) {
		t.Fatalf("the request never reached the seam after its Update completed")
	}
	in.kill9()
	t.Logf("killed after the Update completed, before its caller wrote it (Postgres shows %s)", stored())

	// Seam 2: the restarted worker's write-back is held before it writes.
	in.env = append(base, "INBOX_FAULTPOINTS=write-back=5m")
	in.start(ctx)
	if !waitFor(ctx, time.Minute, func() bool { return in.holding("write-back") }) {
		t.Fatalf("the write-back never reached its seam after the restart")
	}
	if got := stored(); got != "open" {
		t.Errorf("with the write-back held, Postgres shows %s; only the write-back could have written it", got)
	}
	in.kill9()
	t.Log("killed while the write-back was about to write")

	// A clean restart: the write-back writes the change, once.
	in.env = base
	in.start(ctx)
	tc := in.temporal(ctx)
	var wf string
	agreed := waitFor(ctx, time.Minute, func() bool {
		state, err := workflowState(ctx, tc, conv)
		wf = state
		return err == nil && state == "pending" && stored() == "pending"
	})
	if !agreed {
		t.Fatalf("a minute after the restart the workflow says %q and Postgres %q; want pending in both", wf, stored())
	}
	changes, err := stateChanges(ctx, db, conv)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].After != "pending" {
		t.Errorf("audit of state changes %+v, want one to pending", changes)
	}
	if !waitFor(ctx, time.Minute, func() bool { return delivered(conv, "pending") > 0 }) {
		t.Errorf("no conversation.state_changed webhook for the change within a minute")
	}
	sleepCtx(ctx, 3*time.Second) // a second delivery would come by now
	if n := delivered(conv, "pending"); n != 1 {
		t.Errorf("%d webhook deliveries of the change, want 1", n)
	}
	if a := api.transition(ctx, conv, "open", uuid.NewString()); a.Code != http.StatusOK {
		t.Errorf("the next change: %s", a)
	}
	if got := stored(); got != "open" {
		t.Errorf("after the next change Postgres shows %s, want open", got)
	}
}

// holding reports whether the running process logged that it holds at fault point name.
func (in *inbox) holding(name string) bool {
	tail := in.logTail("stderr", 200000)
	tail = tail[strings.LastIndex(tail, "===== faults: start")+1:]
	return strings.Contains(tail, "fault point holding") && strings.Contains(tail, "faultpoint="+name)
}

// TestKillDuringLazyStart kills the process while a conversation's first change has
// started its workflow with the change (lazy start, Update-with-Start) and not yet written
// it. The client's retry with the same Idempotency-Key finds the run the start left, whose
// history holds the change: it is applied once, in that run.
func TestKillDuringLazyStart(t *testing.T) {
	suite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	in := newInbox(t, testenv.AdminURL(), "http://127.0.0.1:9/v1")
	in.env = []string{"INBOX_FAULTPOINTS=lazy-start=5m"}
	t.Logf("first start: ready in %.1fs", in.start(ctx).Seconds())
	api := newAPIClient(in)
	conv := api.createConversation(ctx, t, fmt.Sprintf("lazy-%d", rand.IntN(1e9)))
	tc := in.temporal(ctx)
	if _, err := tc.DescribeWorkflowExecution(ctx, "conversation/"+conv, ""); !workflows.IsMissing(err) {
		t.Fatalf("a workflow runs before the conversation's first change: %v", err)
	}

	key := uuid.NewString()
	go func() {
		rctx, rcancel := context.WithTimeout(ctx, time.Minute)
		defer rcancel()
		api.transition(rctx, conv, "pending", key) // its answer dies with the process
	}()
	if !waitFor(ctx, time.Minute, func() bool { return in.holding("lazy-start") }) {
		t.Fatalf("the first change never reached the seam after its workflow's start")
	}
	desc, err := tc.DescribeWorkflowExecution(ctx, "conversation/"+conv, "")
	if err != nil {
		t.Fatalf("held after the lazy start, but no workflow: %v", err)
	}
	started := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	in.kill9() // Temporal, embedded in inbox dev, dies with it
	db := in.db()
	changes, err := stateChanges(ctx, db, conv)
	if err != nil {
		t.Fatal(err)
	}
	// The caller had not written it; the workflow's own write-back (5 s on) may have.
	if len(changes) > 1 || (len(changes) == 1 && changes[0].After != "pending") {
		t.Fatalf("after the kill Postgres has %+v, want nothing or the one change", changes)
	}
	t.Logf("killed after the first change started the workflow, before its caller wrote it (%d written by the workflow)", len(changes))

	in.env = nil
	in.start(ctx)
	tc = in.temporal(ctx)
	if code := changeUntilKnown(ctx, api, conv, "pending", key, time.Minute); code != http.StatusOK {
		t.Fatalf("the client's retry of the first change answered %d", code)
	}
	state, err := workflowState(ctx, tc, conv)
	if err != nil || state != "pending" {
		t.Errorf("workflow state %q (%v), want pending", state, err)
	}
	desc, err = tc.DescribeWorkflowExecution(ctx, "conversation/"+conv, "")
	if err != nil {
		t.Fatal(err)
	}
	if run := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(); run != started {
		t.Errorf("the change went to run %s, not to the run the lazy start left (%s)", run, started)
	}
	if changes, err = stateChanges(ctx, db, conv); err != nil || len(changes) != 1 || changes[0].After != "pending" {
		t.Errorf("audit of state changes %+v (%v), want one to pending", changes, err)
	}
	if a := api.transition(ctx, conv, "open", uuid.NewString()); a.Code != http.StatusOK {
		t.Errorf("the next change: %s", a)
	}
}
