package api_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/workflows"
)

// updatesAccepted counts the Updates the conversation's workflow accepted; its run must be
// the first (none continued from another).
func updatesAccepted(t *testing.T, env *testenv.Env, id string) int {
	t.Helper()
	n := 0
	iter := env.Client.GetWorkflowHistory(context.Background(), "conversation/"+id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			n++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			if prev := ev.GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId(); prev != "" {
				t.Fatalf("the run continues %s: want the first run", prev)
			}
		}
	}
	return n
}

// A conversation's workflow starts at its first change: until then the detail has no run
// and Temporal none. Two first changes sent at once start one workflow, which takes both.
func TestConcurrentFirstChangesStartOneWorkflow(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Lazy Start Co")
	id := newConversation(t, env, ws, "lazy")
	ctx := context.Background()

	var d struct {
		Workflow struct {
			WorkflowID string  `json:"workflow_id"`
			RunID      *string `json:"run_id"`
		} `json:"workflow"`
	}
	env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil).JSON(t, &d)
	if d.Workflow.WorkflowID != "conversation/"+id || d.Workflow.RunID != nil {
		t.Fatalf("untouched conversation's workflow = %+v, want its id and no run", d.Workflow)
	}
	if _, err := env.Client.DescribeWorkflowExecution(ctx, "conversation/"+id, ""); !workflows.IsMissing(err) {
		t.Fatalf("a workflow runs before the first change: %v", err)
	}

	var wg sync.WaitGroup
	var closed, assigned testenv.Response
	wg.Add(2)
	go func() { defer wg.Done(); closed = setState(env, ws, id, "closed") }()
	go func() {
		defer wg.Done()
		assigned = env.As(ws.OwnerToken, http.MethodPut, convPath(ws, id, "/assignee"), map[string]any{"user_id": ws.OwnerUserID})
	}()
	wg.Wait()
	if closed.Code != http.StatusOK || assigned.Code != http.StatusOK {
		t.Fatalf("first changes: close %d %s, assign %d %s", closed.Code, closed.Body, assigned.Code, assigned.Body)
	}
	if n := updatesAccepted(t, env, id); n != 2 {
		t.Errorf("the workflow's run accepted %d Updates, want both first changes", n)
	}
	desc, err := env.Client.DescribeWorkflowExecution(ctx, "conversation/"+id, "")
	if err != nil {
		t.Fatal(err)
	}
	env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil).JSON(t, &d)
	if d.Workflow.RunID == nil || *d.Workflow.RunID != desc.GetWorkflowExecutionInfo().GetExecution().GetRunId() {
		t.Errorf("detail run %v, running run %s", d.Workflow.RunID, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
	}
	rows := audit(t, env, ws, id)
	if countActions(rows, "state_changed") != 1 || countActions(rows, "assignee_changed") != 1 {
		t.Errorf("audit %+v: want one state_changed and one assignee_changed", rows)
	}
}

// An SLA policy set after a conversation arrived starts the untouched conversation's
// workflow, through the fan-out, with its clocks running from the first message.
func TestSLAPolicyStartsUntouchedConversations(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Lazy SLA Co")
	id := newConversation(t, env, ws, "lazy-sla")
	var created struct {
		CreatedAt time.Time `json:"created_at"`
	}
	env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil).JSON(t, &created)
	if _, err := env.Client.DescribeWorkflowExecution(context.Background(), "conversation/"+id, ""); !workflows.IsMissing(err) {
		t.Fatalf("a workflow runs before the first change: %v", err)
	}
	time.Sleep(1100 * time.Millisecond) // so a clock started at the policy's time shows a later due time
	if res := env.As(ws.OwnerToken, http.MethodPut, slaPath(ws), map[string]any{"first_response": "PT1H"}); res.Code != http.StatusOK {
		t.Fatalf("set SLA: %d %s", res.Code, res.Body)
	}
	var d convSLAJSON
	testenv.Eventually(t, 30*time.Second, "the first-response due time to show", func() bool {
		env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil).JSON(t, &d)
		return d.SLA != nil && d.SLA.FirstResponseDue != nil
	})
	if want := created.CreatedAt.Add(time.Hour); d.SLA.FirstResponseDue.Sub(want).Abs() > time.Millisecond {
		t.Errorf("first response due %s, want the first message (%s) plus an hour", d.SLA.FirstResponseDue, created.CreatedAt)
	}
	// A conversation that arrives once the policy is on gets its workflow at once.
	later := newConversation(t, env, ws, "lazy-sla-later")
	if _, err := env.Client.DescribeWorkflowExecution(context.Background(), "conversation/"+later, ""); err != nil {
		t.Errorf("no workflow for a new conversation under an SLA policy: %v", err)
	}
}

// TestFirstChangeStartsWithTheChange: a conversation's first change starts its workflow with
// the change in the same request (Update-with-Start), so the run's first workflow task
// accepts it: no task of the run's own comes before the change.
func TestFirstChangeStartsWithTheChange(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Start With Co")
	id := newConversation(t, env, ws, "start-with")
	if res := setState(env, ws, id, "pending"); res.Code != http.StatusOK {
		t.Fatalf("first change: %d %s", res.Code, res.Body)
	}
	tasks, accepted := 0, false
	iter := env.Client.GetWorkflowHistory(context.Background(), "conversation/"+id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() && !accepted {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			tasks++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			accepted = true
		}
	}
	if !accepted || tasks != 1 {
		t.Errorf("the first change was accepted %v after %d workflow tasks, want in the run's first", accepted, tasks)
	}
}
