package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/converter"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/workflows"
)

type bulkAnswer struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Action  string `json:"action"`
	Total   int    `json:"total"`
	Done    int    `json:"done"`
	Failed  int    `json:"failed"`
	Applied int    `json:"applied"`
	Refused int    `json:"refused"`
	Skipped int    `json:"skipped"`
	Items   []struct {
		ConversationID string  `json:"conversation_id"`
		Result         *string `json:"result"`
		Reason         *string `json:"reason"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func bulkPath(ws testenv.Workspace, suffix string) string {
	return fmt.Sprintf("/api/v1/workspaces/%s/conversations/bulk%s", ws.WorkspaceID, suffix)
}

// startBulk posts a bulk action and wants its 202.
func startBulk(t *testing.T, env *testenv.Env, ws testenv.Workspace, body map[string]any) bulkAnswer {
	t.Helper()
	res := env.As(ws.OwnerToken, http.MethodPost, bulkPath(ws, ""), body)
	if res.Code != http.StatusAccepted {
		t.Fatalf("bulk %v: %d %s", body, res.Code, res.Body)
	}
	var b bulkAnswer
	res.JSON(t, &b)
	return b
}

// waitBulk polls the batch until it has finished.
func waitBulk(t *testing.T, env *testenv.Env, ws testenv.Workspace, id string, timeout time.Duration) bulkAnswer {
	t.Helper()
	var b bulkAnswer
	testenv.Eventually(t, timeout, "bulk "+id+" finished", func() bool {
		res := env.As(ws.OwnerToken, http.MethodGet, bulkPath(ws, "/"+id+"?limit=200"), nil)
		if res.Code != http.StatusOK {
			t.Fatalf("get bulk: %d %s", res.Code, res.Body)
		}
		b = bulkAnswer{}
		res.JSON(t, &b)
		return b.Status == "done" || b.Status == "cancelled" || b.Status == "failed"
	})
	return b
}

func stateChanges(t *testing.T, env *testenv.Env, ws testenv.Workspace, id string) int {
	t.Helper()
	res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, "/audit?limit=200"), nil)
	var page struct {
		Items []auditItem `json:"items"`
	}
	res.JSON(t, &page)
	n := 0
	for _, e := range page.Items {
		if e.Action == "state_changed" {
			n++
		}
	}
	return n
}

// TestBulkActions: by ids and by filter, each item's result with its reason in words, the
// limits, another workspace's batch, a viewer, bad input, and a cancel.
func TestBulkActions(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Bulk Co")
	other := env.NewWorkspace("Bulk Other")
	a, b := newConversation(t, env, ws, "bulk-a"), newConversation(t, env, ws, "bulk-b")
	closed, archived := newConversation(t, env, ws, "bulk-c"), newConversation(t, env, ws, "bulk-d")
	for _, step := range []struct{ id, state string }{{closed, "closed"}, {archived, "closed"}, {archived, "archived"}} {
		if res := setState(env, ws, step.id, step.state); res.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", step.state, res.Code, res.Body)
		}
	}
	stranger := uuid.NewString()

	// By ids: snooze them. Open ones are applied; the closed and the archived one are refused
	// by the workflow's rule, in words; an unknown id is skipped.
	until := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	started := startBulk(t, env, ws, map[string]any{"ids": []string{a, b, closed, archived, stranger, a},
		"action": "state", "state": "pending", "until": until})
	if started.Total != 5 || started.Action != "state" {
		t.Fatalf("started: %+v", started)
	}
	done := waitBulk(t, env, ws, started.ID, 60*time.Second)
	if done.Status != "done" || done.Applied != 2 || done.Refused != 2 || done.Skipped != 1 || done.Failed != 0 || done.Done != 5 {
		t.Fatalf("finished: %+v", done)
	}
	reasons := map[string]string{}
	for _, it := range done.Items {
		if it.Result == nil {
			t.Fatalf("item without a result after done: %+v", it)
		}
		r := *it.Result
		if it.Reason != nil {
			r += ": " + *it.Reason
		}
		reasons[it.ConversationID] = r
	}
	if !strings.HasPrefix(reasons[archived], "refused: cannot move a conversation from archived to pending") ||
		!strings.HasPrefix(reasons[closed], "refused: cannot move a conversation from closed to pending") ||
		reasons[a] != "applied" || reasons[b] != "applied" ||
		reasons[stranger] != "skipped: no such conversation in this workspace" {
		t.Fatalf("results: %v", reasons)
	}
	var d detail
	env.As(ws.OwnerToken, http.MethodGet, convPath(ws, a, ""), nil).JSON(t, &d)
	if d.State != "pending" {
		t.Fatalf("a after the bulk snooze: %s", d.State)
	}
	if n := stateChanges(t, env, ws, a); n != 1 {
		t.Fatalf("a has %d state_changed audit entries, want 1", n)
	}
	// Closing them again: already closed is skipped, in words.
	again := waitBulk(t, env, ws, startBulk(t, env, ws, map[string]any{"ids": []string{a, closed}, "action": "state", "state": "closed"}).ID, 60*time.Second)
	if again.Applied != 1 || again.Skipped != 1 || *again.Items[1].Reason != "the conversation is already closed" {
		t.Fatalf("close again: %+v", again)
	}

	// By filter: mark every unread one read (a was read when its detail was opened above).
	byFilter := waitBulk(t, env, ws, startBulk(t, env, ws, map[string]any{"filter": map[string]any{"unread": true, "include_archived": true}, "action": "read"}).ID, 60*time.Second)
	if byFilter.Total != 3 || byFilter.Applied != 3 {
		t.Fatalf("read by filter: %+v", byFilter)
	}
	var unread struct {
		Items []detail `json:"items"`
	}
	env.As(ws.OwnerToken, http.MethodGet, fmt.Sprintf("/api/v1/workspaces/%s/conversations?unread=true&include_archived=true", ws.WorkspaceID), nil).JSON(t, &unread)
	if len(unread.Items) != 0 {
		t.Fatalf("still unread after the bulk read: %d", len(unread.Items))
	}

	// The limits: more than 10,000 ids, and a filter that matches more than the most a
	// batch takes (lowered here, so no 10,000 rows are needed: the same count decides).
	many := make([]string, 10001)
	for i := range many {
		many[i] = uuid.NewString()
	}
	res := env.As(ws.OwnerToken, http.MethodPost, bulkPath(ws, ""), map[string]any{"ids": many, "action": "read"})
	if res.Code != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "at most 10000") {
		t.Fatalf("10,001 ids: %d %s", res.Code, res.Body)
	}
	env.App.BulkMax = 3
	res = env.As(ws.OwnerToken, http.MethodPost, bulkPath(ws, ""), map[string]any{"filter": map[string]any{"include_archived": true}, "action": "read"})
	env.App.BulkMax = 0
	if res.Code != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "matches more than 3 conversations") {
		t.Fatalf("a filter over the limit: %d %s", res.Code, res.Body)
	}

	// Bad input is a clear 400 or 422.
	for _, tc := range []struct {
		body map[string]any
		code int
		want string
	}{
		{map[string]any{"ids": []string{a}}, 400, "action: required"},
		{map[string]any{"ids": []string{a}, "filter": map[string]any{}, "action": "read"}, 400, "not both"},
		{map[string]any{"ids": []string{"nope"}, "action": "read"}, 400, "ids[0]"},
		{map[string]any{"ids": []string{a}, "action": "state", "state": "gone"}, 400, "state:"},
		{map[string]any{"ids": []string{a}, "action": "read", "state": "open"}, 400, "state: only with the state action"},
		{map[string]any{"ids": []string{a}, "action": "explode"}, 400, "action:"},
		{map[string]any{"filter": map[string]any{"stat": "open"}, "action": "read"}, 400, "filter.stat"},
		{map[string]any{"ids": []string{a}, "action": "assign", "assignee": uuid.NewString()}, 422, "not a member"},
		{map[string]any{"ids": []string{a}, "action": "state", "state": "pending", "until": "2001-01-01T00:00:00Z"}, 400, "until:"},
		{map[string]any{"ids": []string{}, "action": "read"}, 400, "ids:"},
	} {
		res := env.As(ws.OwnerToken, http.MethodPost, bulkPath(ws, ""), tc.body)
		if res.Code != tc.code || !strings.Contains(string(res.Body), tc.want) {
			t.Errorf("%v: %d %s, want %d with %q", tc.body, res.Code, res.Body, tc.code, tc.want)
		}
	}

	// Another workspace's batch is a 404, under either workspace's path.
	if res := env.As(other.OwnerToken, http.MethodGet, bulkPath(ws, "/"+started.ID), nil); res.Code != http.StatusNotFound {
		t.Fatalf("another workspace's owner: %d", res.Code)
	}
	if res := env.As(other.OwnerToken, http.MethodGet, bulkPath(other, "/"+started.ID), nil); res.Code != http.StatusNotFound {
		t.Fatalf("under another workspace: %d", res.Code)
	}
	if res := env.As(other.OwnerToken, http.MethodPost, bulkPath(other, "/"+started.ID+"/cancel"), nil); res.Code != http.StatusNotFound {
		t.Fatalf("cancel under another workspace: %d", res.Code)
	}

	// A viewer may not change state in bulk, as singly; marking read they may.
	_, viewer, err := env.Store.AddMember(context.Background(), ws.WorkspaceID, "viewer@bulk.example", "Vera", domain.Viewer)
	if err != nil {
		t.Fatal(err)
	}
	if res := env.As(viewer, http.MethodPost, bulkPath(ws, ""), map[string]any{"ids": []string{a}, "action": "state", "state": "open"}); res.Code != http.StatusForbidden {
		t.Fatalf("viewer bulk state: %d %s", res.Code, res.Body)
	}
	if res := env.As(viewer, http.MethodPost, bulkPath(ws, ""), map[string]any{"ids": []string{a}, "action": "unread"}); res.Code != http.StatusAccepted {
		t.Fatalf("viewer bulk unread: %d %s", res.Code, res.Body)
	}

	// Cancel: with no worker running, the batch cannot begin; cancelled, it ends with every
	// item skipped, in words.
	env.StopWorker()
	queued := startBulk(t, env, ws, map[string]any{"ids": []string{a, b}, "action": "state", "state": "open"})
	res = env.As(ws.OwnerToken, http.MethodPost, bulkPath(ws, "/"+queued.ID+"/cancel"), nil)
	var cancelling bulkAnswer
	res.JSON(t, &cancelling)
	if res.Code != http.StatusAccepted || cancelling.Status != "cancelling" {
		t.Fatalf("cancel: %d %s", res.Code, res.Body)
	}
	env.StartWorker()
	cancelled := waitBulk(t, env, ws, queued.ID, 60*time.Second)
	if cancelled.Status != "cancelled" || cancelled.Skipped != 2 || cancelled.Applied != 0 ||
		*cancelled.Items[0].Reason != "the batch was cancelled before it reached this conversation" {
		t.Fatalf("cancelled: %+v", cancelled)
	}
}

// TestBulkSurvivesAWorkerCrash stops the worker in the middle of a slow batch and starts
// another: the batch finishes, and no change is applied twice.
func TestBulkSurvivesAWorkerCrash(t *testing.T) {
	if testenv.Race {
		t.Skip("a second batch of Updates and a worker restart are too heavy under -race on 2 cores")
	}
	t.Parallel()
	env := testenv.New(t, testenv.Options{BulkRate: 10})
	ws := env.NewWorkspace("Bulk Crash")
	const n = 20
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newConversation(t, env, ws, fmt.Sprintf("crash-%d", i))
	}
	b := startBulk(t, env, ws, map[string]any{"ids": ids, "action": "state", "state": "closed"})
	testenv.Eventually(t, 60*time.Second, "a few items done", func() bool {
		var now bulkAnswer
		env.As(ws.OwnerToken, http.MethodGet, bulkPath(ws, "/"+b.ID), nil).JSON(t, &now)
		return now.Done >= 3
	})
	env.StopWorker()
	var mid bulkAnswer
	env.As(ws.OwnerToken, http.MethodGet, bulkPath(ws, "/"+b.ID), nil).JSON(t, &mid)
	t.Logf("worker stopped with %d of %d done", mid.Done, n)
	env.StartWorker()
	done := waitBulk(t, env, ws, b.ID, 90*time.Second)
	if done.Status != "done" || done.Applied+done.Skipped != n || done.Refused != 0 || done.Failed != 0 {
		t.Fatalf("after the restart: %+v", done)
	}
	for _, id := range ids {
		if c := stateChanges(t, env, ws, id); c != 1 {
			t.Fatalf("%s has %d state changes, want 1", id, c)
		}
	}
}

// TestBulkStartsUntouchedConversationsWithTheirChange: a batch's change to conversations
// nobody has touched starts each one's workflow with the change made, instead of an
// Update-with-Start; one with a workflow gets an Update. Every item is applied once, in
// Postgres, in the audit and in the workflow; the summaries run; a person's change right
// after the batch (before the runs' delayed first tasks) goes through at once; a start sent
// again is recognised as the item's own, and a conversation someone else started is not.
func TestBulkStartsUntouchedConversationsWithTheirChange(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Bulk Start")
	untouched := []string{newConversation(t, env, ws, "start-a"), newConversation(t, env, ws, "start-b"), newConversation(t, env, ws, "start-c")}
	touched := newConversation(t, env, ws, "start-d")
	if res := setState(env, ws, touched, "pending"); res.Code != http.StatusOK {
		t.Fatalf("pending: %d %s", res.Code, res.Body)
	}
	b := startBulk(t, env, ws, map[string]any{"ids": append([]string{touched}, untouched...), "action": "state", "state": "closed"})
	done := waitBulk(t, env, ws, b.ID, 60*time.Second)
	if done.Status != "done" || done.Applied != 4 || done.Done != 4 {
		t.Fatalf("finished: %+v", done)
	}
	startedFor := func(id string) string {
		desc, err := env.Client.DescribeWorkflowExecution(t.Context(), domain.WorkflowID(mustUUID(t, id)), "")
		if err != nil {
			t.Fatalf("describe %s: %v", id, err)
		}
		var s string
		if p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()["started_for"]; p != nil {
			if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	// Shown at once, before the runs' first tasks: Postgres has the change the start holds.
	for _, id := range append([]string{touched}, untouched...) {
		var d detail
		env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil).JSON(t, &d)
		if d.State != "closed" || d.ClosedAt == nil || d.Workflow.RunID == nil {
			t.Fatalf("%s after the batch: %s, closed at %v, run %v", id, d.State, d.ClosedAt, d.Workflow.RunID)
		}
		want := 1
		if id == touched {
			want = 2 // pending, then the batch's close
		}
		if n := stateChanges(t, env, ws, id); n != want {
			t.Fatalf("%s has %d state changes, want %d", id, n, want)
		}
	}
	for _, id := range untouched {
		if got, want := startedFor(id), fmt.Sprintf("bulk/%s/%s", b.ID, id); got != want {
			t.Fatalf("%s's workflow was started for %q, want the batch's item %q", id, got, want)
		}
	}
	if got := startedFor(touched); got != "" {
		t.Fatalf("the touched conversation's workflow says it was started for %q: it was started by its own change", got)
	}

	// A person archives one at once: the Update runs the run's first task without waiting.
	began := time.Now()
	if res := setState(env, ws, untouched[0], "archived"); res.Code != http.StatusOK {
		t.Fatalf("archive after the batch: %d %s", res.Code, res.Body)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Errorf("the archive took %s: it waited for the start's delay", took)
	}
	requireState(t, env, ws, untouched[0], "archived")

	// The summaries run in the started workflows, and their state is the batch's.
	for _, id := range untouched[1:] {
		// (This workspace has no model key: the summary ends failed, saying so.)
		testenv.Eventually(t, 60*time.Second, id+"'s summary run", func() bool {
			var d detail
			env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil).JSON(t, &d)
			return d.SummaryStatus == "ready" || d.SummaryStatus == "failed"
		})
		requireState(t, env, ws, id, "closed")
	}

	// A start sent again for the same item is its own, and gives back the change its run
	// holds (not this attempt's); a start for another request is not, and changes nothing.
	c := mustUUID(t, untouched[1])
	var stored detail
	env.As(ws.OwnerToken, http.MethodGet, convPath(ws, untouched[1], ""), nil).JSON(t, &stored)
	first := workflows.FirstInput(ws.WorkspaceID, c, workflows.SLASetting{}, time.Now())
	closing := workflows.TransitionRequest{To: domain.Closed}
	for _, tc := range []struct {
		id   string
		ours bool
	}{{fmt.Sprintf("bulk/%s/%s", b.ID, c), true}, {"someone-else", false}} {
		in, err := workflows.StartInput(first, tc.id, closing, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		change, err := env.App.Lifecycle.StartChanged(t.Context(), in, time.Second)
		switch {
		case err != nil:
			t.Fatalf("start again as %q: %v", tc.id, err)
		case !tc.ours && change != nil:
			t.Fatalf("a start for %q took the batch's run for its own: %+v", tc.id, change)
		case tc.ours && (change == nil || change.Seq != 1 || change.RequestID != tc.id || change.WorkflowRunID != *stored.Workflow.RunID ||
			change.ToClosedAt == nil || !change.ToClosedAt.Equal(mustTime(t, *stored.ClosedAt))):
			t.Fatalf("the item's start sent again: %+v, want its run's change (run %s, closed at %s)", change, *stored.Workflow.RunID, *stored.ClosedAt)
		}
	}
	if _, err := workflows.StartInput(first, "x", workflows.TransitionRequest{To: domain.Open}, time.Now()); err == nil ||
		err.Error() != "the conversation is already open" {
		t.Fatalf("an untouched conversation opened again: %v", err)
	}
	if n := stateChanges(t, env, ws, untouched[1]); n != 1 {
		t.Fatalf("after the starts sent again: %d state changes, want 1", n)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
