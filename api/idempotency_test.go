package api_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/workflows"
)

// workflowState asks the conversation's workflow which state it holds.
func workflowState(t *testing.T, env *testenv.Env, id string) string {
	t.Helper()
	return string(workflowStatus(t, env, id).State)
}

func requireState(t *testing.T, env *testenv.Env, ws testenv.Workspace, id, want string) {
	t.Helper()
	res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil)
	var d detail
	res.JSON(t, &d)
	if d.State != want {
		t.Errorf("API shows %s, want %s", d.State, want)
	}
	if got := workflowState(t, env, id); got != want {
		t.Errorf("workflow holds %s, want %s", got, want)
	}
}

// The probe's repro: the README's own `Idempotency-Key: close-1` on two conversations.
// Before keys were scoped, B answered 200 "open" while its workflow thought it closed.
func TestIdempotencyKeyIsPerConversation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Scoped Keys Co")
	a := newConversation(t, env, ws, "scoped-a")
	b := newConversation(t, env, ws, "scoped-b")
	for _, id := range []string{a, b} {
		res := setState(env, ws, id, "closed", "Idempotency-Key", "close-1")
		var d detail
		res.JSON(t, &d)
		if res.Code != http.StatusOK || d.State != "closed" {
			t.Fatalf("close %s with close-1: %d %s", id, res.Code, res.Body)
		}
		requireState(t, env, ws, id, "closed")
		if n := countActions(audit(t, env, ws, id), "state_changed"); n != 1 {
			t.Errorf("%s: %d state_changed rows, want 1", id, n)
		}
	}
	// Another member's close-1 on the same conversation is another request.
	_, token, err := env.Store.AddMember(t.Context(), ws.WorkspaceID, "second@scoped.example", "Second", domain.Support)
	if err != nil {
		t.Fatal(err)
	}
	if res := env.As(token, http.MethodPost, convPath(ws, a, "/state"), map[string]any{"state": "open"}, "Idempotency-Key", "close-1"); res.Code != http.StatusOK {
		t.Fatalf("another member's close-1 reopening A: %d %s", res.Code, res.Body)
	}
	requireState(t, env, ws, a, "open")
}

// The same key with a different request is refused (IETF Idempotency-Key draft) and
// changes nothing; the same key with the same request answers with the conversation.
func TestIdempotencyKeyReusedForAnotherRequest(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Reused Key Co")
	id := newConversation(t, env, ws, "reused")
	if res := setState(env, ws, id, "pending", "Idempotency-Key", "k-1"); res.Code != http.StatusOK {
		t.Fatalf("pending: %d %s", res.Code, res.Body)
	}
	res := setState(env, ws, id, "closed", "Idempotency-Key", "k-1")
	if res.Code != http.StatusUnprocessableEntity || res.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("same key, other body: %d %s, want 422 idempotency_key_reused", res.Code, res.Body)
	}
	res = env.As(ws.OwnerToken, http.MethodPut, convPath(ws, id, "/assignee"), map[string]any{"user_id": nil}, "Idempotency-Key", "k-1")
	if res.Code != http.StatusUnprocessableEntity || res.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("same key on another endpoint: %d %s, want 422", res.Code, res.Body)
	}
	requireState(t, env, ws, id, "pending")

	// A retry of the completed request, after the conversation moved on, is not applied again.
	if res := setState(env, ws, id, "open"); res.Code != http.StatusOK {
		t.Fatalf("reopen: %d", res.Code)
	}
	res = setState(env, ws, id, "pending", "Idempotency-Key", "k-1")
	var d detail
	res.JSON(t, &d)
	if res.Code != http.StatusOK || d.State != "open" {
		t.Fatalf("late retry of k-1: %d %s, want 200 showing open", res.Code, res.Body)
	}
	if n := countActions(audit(t, env, ws, id), "state_changed"); n != 2 {
		t.Errorf("%d state_changed rows, want 2", n)
	}
	requireState(t, env, ws, id, "open")

	for _, bad := range []string{"has space", string(make([]byte, 201))} {
		if res := setState(env, ws, id, "pending", "Idempotency-Key", bad); res.Code != http.StatusBadRequest {
			t.Errorf("Idempotency-Key %q: %d, want 400", bad[:min(len(bad), 10)], res.Code)
		}
	}
}

// The same transition sent 100 times at once with one key is applied once; every answer
// is the same 200. Under the race detector 20 at once: the race run looks for data races,
// and 100 instrumented requests on 2 cores outlast the request's own 15 s.
func TestSameKeyConcurrentlyAppliedOnce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Stampede Co")
	id := newConversation(t, env, ws, "stampede")
	n := 100
	if testenv.Race {
		n = 20
	}
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			codes[i] = setState(env, ws, id, "closed", "Idempotency-Key", "close-once").Code
		})
	}
	close(start)
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("request %d: %d, want 200", i, code)
		}
	}
	items := audit(t, env, ws, id)
	if got := countActions(items, "state_changed"); got != 1 {
		t.Errorf("%d state_changed rows, want 1", got)
	}
	if got := countActions(items, "summary_requested"); got != 1 {
		t.Errorf("%d summary_requested rows, want 1", got)
	}
	requireState(t, env, ws, id, "closed")
}

// A change reaches Postgres only after the workflow's history holds it: the Update is
// accepted and completed in one workflow task, no activity stands between them, and the
// only write the workflow makes itself (the write-back's local activity) runs in a later
// task. Were it otherwise, a crash between a write and its task's completion would leave
// Postgres with a change the history lacks (issue 8, defect 1; the fault suite shows it
// with kill -9).
func TestAcceptanceIsDurableBeforeTheWrite(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Durable Co")
	id := newConversation(t, env, ws, "durable")
	if res := setState(env, ws, id, "pending"); res.Code != http.StatusOK {
		t.Fatalf("pending: %d %s", res.Code, res.Body)
	}
	requireState(t, env, ws, id, "pending") // the caller wrote it before it answered
	type event struct {
		id   int64
		kind enumspb.EventType
		name string
	}
	var events []event
	testenv.Eventually(t, 30*time.Second, "the write-back to run", func() bool {
		events = events[:0]
		iter := env.Client.GetWorkflowHistory(context.Background(), "conversation/"+id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		wroteBack := false
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				t.Fatal(err)
			}
			e := event{id: ev.GetEventId(), kind: ev.GetEventType()}
			switch e.kind {
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				e.name = ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			case enumspb.EVENT_TYPE_MARKER_RECORDED:
				e.name = ev.GetMarkerRecordedEventAttributes().GetMarkerName()
				wroteBack = wroteBack || e.name == "LocalActivity"
			}
			events = append(events, e)
		}
		return wroteBack
	})
	var accepted, completed, taskDone, marker int64
	for _, e := range events {
		switch {
		case e.kind == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			accepted = e.id
		case e.kind == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
			completed = e.id
		case e.kind == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && completed > 0 && taskDone == 0:
			taskDone = e.id // the task after the one that completed the Update
		case e.kind == enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.name == workflows.ActivityApplyChange:
			t.Errorf("event %d: the change was written by an activity before the Update completed", e.id)
		case e.kind == enumspb.EVENT_TYPE_MARKER_RECORDED && e.name == "LocalActivity" && marker == 0:
			marker = e.id
		}
	}
	if accepted == 0 || completed == 0 {
		t.Fatalf("UpdateAccepted at event %d, UpdateCompleted at %d: want both", accepted, completed)
	}
	// Accepted and completed by one task: between them only that task's own commands
	// (version markers, search attributes), no other task and no activity.
	for _, e := range events {
		if e.id <= accepted || e.id >= completed {
			continue
		}
		switch e.kind {
		case enumspb.EVENT_TYPE_MARKER_RECORDED, enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
		default:
			t.Errorf("event %d (%s) between the acceptance and the completion", e.id, e.kind)
		}
	}
	if marker <= completed || taskDone == 0 || marker <= taskDone {
		t.Errorf("the write-back's local activity at event %d, the Update completed at %d and its task ended at %d: the write-back must run in a later task",
			marker, completed, taskDone)
	}
	if n := countActions(audit(t, env, ws, id), "state_changed"); n != 1 {
		t.Errorf("%d state_changed rows after the caller's write and the write-back's, want 1", n)
	}
}
