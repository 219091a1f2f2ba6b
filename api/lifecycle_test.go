package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/testenv"
)

type detail struct {
	ID       string  `json:"id"`
	State    string  `json:"state"`
	Unread   bool    `json:"unread"`
	ClosedAt *string `json:"closed_at"`
	Assignee *struct {
		UserID string `json:"user_id"`
		Name   string `json:"name"`
		Role   string `json:"role"`
	} `json:"assignee"`
	Visitor struct {
		Name  *string `json:"name"`
		Email *string `json:"email"`
	} `json:"visitor"`
	SummaryStatus string `json:"summary_status"`
	Source        struct {
		PageURL  *string `json:"page_url"`
		IPMasked *string `json:"ip_masked"`
	} `json:"source"`
	Lead struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"lead"`
	Workflow struct {
		WorkflowID string  `json:"workflow_id"`
		RunID      *string `json:"run_id"`
	} `json:"workflow"`
}

type auditItem struct {
	Action string         `json:"action"`
	Actor  *struct{}      `json:"actor"`
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

func ingestBody(ref, text string) map[string]any {
	return map[string]any{
		"conversation_ref": ref,
		"channel":          "chat",
		"visitor":          map[string]any{"name": "Ana", "email": "ana@example.com"},
		"message":          map[string]any{"role": "visitor", "text": text},
		"source":           map[string]any{"page_url": "https://shop.example/pricing", "referrer": "https://www.google.com/", "user_agent": "Mozilla/5.0"},
	}
}

// newConversation ingests a first message and returns the conversation id.
func newConversation(t *testing.T, env *testenv.Env, ws testenv.Workspace, ref string) string {
	t.Helper()
	res := env.Ingest(ws.IngestKey, ingestBody(ref, "Hi, do you ship to NZ?"))
	if res.Code != http.StatusCreated {
		t.Fatalf("ingest: %d %s", res.Code, res.Body)
	}
	var out struct {
		ConversationID string `json:"conversation_id"`
	}
	res.JSON(t, &out)
	return out.ConversationID
}

func convPath(ws testenv.Workspace, id, suffix string) string {
	return fmt.Sprintf("/api/v1/workspaces/%s/conversations/%s%s", ws.WorkspaceID, id, suffix)
}

func setState(env *testenv.Env, ws testenv.Workspace, id, state string, headers ...string) testenv.Response {
	return env.As(ws.OwnerToken, http.MethodPost, convPath(ws, id, "/state"), map[string]any{"state": state}, headers...)
}

func audit(t *testing.T, env *testenv.Env, ws testenv.Workspace, id string) []auditItem {
	t.Helper()
	res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, "/audit?limit=200"), nil)
	if res.Code != http.StatusOK {
		t.Fatalf("audit: %d %s", res.Code, res.Body)
	}
	var page struct {
		Items []auditItem `json:"items"`
	}
	res.JSON(t, &page)
	return page.Items
}

func countActions(items []auditItem, action string) int {
	n := 0
	for _, it := range items {
		if it.Action == action {
			n++
		}
	}
	return n
}

func TestIngestThenDetail(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Ingest Co")
	id := newConversation(t, env, ws, "widget-1")

	res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil)
	if res.Code != http.StatusOK {
		t.Fatalf("detail: %d %s", res.Code, res.Body)
	}
	var d detail
	res.JSON(t, &d)
	if d.State != "open" || d.Assignee != nil || d.ClosedAt != nil || d.SummaryStatus != "none" {
		t.Errorf("new conversation: %+v", d)
	}
	if d.Unread {
		t.Error("opening the detail did not mark it read")
	}
	if d.Source.IPMasked == nil || *d.Source.IPMasked != "203.0.113.0/24" {
		t.Errorf("ip_masked = %v", d.Source.IPMasked)
	}
	if d.Workflow.WorkflowID != "conversation/"+id || d.Workflow.RunID != nil {
		t.Errorf("workflow = %+v, want its id and no run before the first change (lazy start)", d.Workflow)
	}
	if d.Visitor.Name == nil || *d.Visitor.Name != "Ana" || d.Lead.Status != "new" {
		t.Errorf("lead/visitor = %+v %+v", d.Visitor, d.Lead)
	}
	// The full address never leaves the server.
	if got := string(res.Body); strings.Contains(got, "203.0.113.7") {
		t.Errorf("detail leaks the full IP: %s", got)
	}

	// A later message makes it unread again; a repeated message id stores nothing new.
	later := ingestBody("widget-1", "Also, what about returns?")
	later["message"].(map[string]any)["id"] = "m-2"
	first := env.Ingest(ws.IngestKey, later)
	again := env.Ingest(ws.IngestKey, later)
	if first.Code != http.StatusOK || again.Code != http.StatusOK || string(first.Body) != string(again.Body) {
		t.Fatalf("later/duplicate message: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
	}
	msgs := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, "/messages"), nil)
	var page struct {
		Items []struct{ Text string } `json:"items"`
	}
	msgs.JSON(t, &page)
	if len(page.Items) != 2 {
		t.Errorf("messages = %d, want 2 (the duplicate must not be stored)", len(page.Items))
	}
}

func TestEveryTransitionThroughTheAPI(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Transitions Co")
	states := []string{"open", "pending", "closed", "archived"}
	allowed := map[[2]string]bool{
		{"open", "pending"}: true, {"open", "closed"}: true, {"pending", "open"}: true, {"pending", "closed"}: true,
		{"closed", "open"}: true, {"closed", "archived"}: true, {"archived", "closed"}: true,
	}
	// The shortest path from open to each state.
	path := map[string][]string{"open": nil, "pending": {"pending"}, "closed": {"closed"}, "archived": {"closed", "archived"}}
	for _, from := range states {
		for _, to := range states {
			id := newConversation(t, env, ws, "t-"+from+"-"+to)
			for _, step := range path[from] {
				if res := setState(env, ws, id, step); res.Code != http.StatusOK {
					t.Fatalf("reach %s: %d %s", from, res.Code, res.Body)
				}
			}
			res := setState(env, ws, id, to)
			if allowed[[2]string{from, to}] {
				var d detail
				res.JSON(t, &d)
				if res.Code != http.StatusOK || d.State != to {
					t.Errorf("%s -> %s: %d %s", from, to, res.Code, res.Body)
				}
				if (to == "closed" || to == "archived") != (d.ClosedAt != nil) {
					t.Errorf("%s -> %s: closed_at = %v", from, to, d.ClosedAt)
				}
				continue
			}
			if res.Code != http.StatusConflict || res.ErrorCode() != "invalid_transition" {
				t.Errorf("%s -> %s: want 409 invalid_transition, got %d %s", from, to, res.Code, res.Body)
			}
		}
	}
}

func TestConcurrentConflictingTransitions(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Race Co")
	for round := range 3 {
		id := newConversation(t, env, ws, fmt.Sprintf("race-%d", round))
		// From closed, "open" and "archived" are both allowed, and each excludes the other
		// (open->archived and archived->open are forbidden), so exactly one may win.
		if res := setState(env, ws, id, "closed"); res.Code != http.StatusOK {
			t.Fatalf("close: %d %s", res.Code, res.Body)
		}
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, to := range []string{"open", "archived"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = setState(env, ws, id, to).Code
			}()
		}
		wg.Wait()
		ok, conflicts := 0, 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
				conflicts++
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Fatalf("round %d: codes %v, want one 200 and one 409", round, codes)
		}
		if n := countActions(audit(t, env, ws, id), "state_changed"); n != 2 {
			t.Errorf("round %d: %d state_changed rows, want 2 (close + the winner)", round, n)
		}
	}
}

func TestIdempotencyKeyAppliesOnce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Retry Co")
	id := newConversation(t, env, ws, "idem")
	a := setState(env, ws, id, "pending", "Idempotency-Key", "req-1")
	b := setState(env, ws, id, "pending", "Idempotency-Key", "req-1")
	if a.Code != http.StatusOK || b.Code != http.StatusOK {
		t.Fatalf("retry with the same key: %d / %d %s", a.Code, b.Code, b.Body)
	}
	if n := countActions(audit(t, env, ws, id), "state_changed"); n != 1 {
		t.Errorf("%d state_changed rows, want 1", n)
	}
	if c := setState(env, ws, id, "pending", "Idempotency-Key", "req-2"); c.Code != http.StatusConflict {
		t.Errorf("a new request to the same state: %d, want 409", c.Code)
	}
}

func TestWorkerKilledBetweenUpdateAndActivity(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Crash Co")
	id := newConversation(t, env, ws, "crash")
	env.StopWorker()
	done := make(chan testenv.Response, 1)
	go func() { done <- setState(env, ws, id, "pending", "Idempotency-Key", "crash-1") }()
	time.Sleep(500 * time.Millisecond) // the Update waits on the server for a worker
	env.StartWorker()
	res := <-done
	if res.Code != http.StatusOK {
		// The request may have timed out while no worker ran; its retry must land once.
		res = setState(env, ws, id, "pending", "Idempotency-Key", "crash-1")
	}
	if res.Code != http.StatusOK {
		t.Fatalf("after restart: %d %s", res.Code, res.Body)
	}
	var d detail
	res.JSON(t, &d)
	if d.State != "pending" {
		t.Errorf("state = %s", d.State)
	}
	if n := countActions(audit(t, env, ws, id), "state_changed"); n != 1 {
		t.Errorf("%d state_changed rows, want exactly 1", n)
	}
}

// A conversation whose workflow is gone (terminated by an operator, or never started
// because the start failed after the message was stored) gets one rebuilt from the read
// model on its next change.
func TestChangeRestartsAMissingWorkflow(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Terminated Co")
	id := newConversation(t, env, ws, "terminated")
	if res := setState(env, ws, id, "closed"); res.Code != http.StatusOK {
		t.Fatalf("close: %d", res.Code)
	}
	if err := env.Client.TerminateWorkflow(t.Context(), "conversation/"+id, "", "operator test"); err != nil {
		t.Fatal(err)
	}
	res := setState(env, ws, id, "archived")
	var d detail
	res.JSON(t, &d)
	if res.Code != http.StatusOK || d.State != "archived" || d.ClosedAt == nil {
		t.Fatalf("change after termination: %d %s", res.Code, res.Body)
	}
	// The rebuilt workflow knows the conversation was closed: archived -> open is still refused.
	if res := setState(env, ws, id, "open"); res.Code != http.StatusConflict {
		t.Errorf("archived -> open on the rebuilt workflow: %d", res.Code)
	}
}

func TestBadLifecycleBodiesAreClientErrors(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Bad Bodies")
	id := newConversation(t, env, ws, "bad")
	for _, body := range []string{`{}`, `{"state":null}`, `{"state":"nope"}`, `{"state":"closed","x":1}`, `not json`, `{"state":"closed"} {}`, `{"state":7}`} {
		res := env.As(ws.OwnerToken, http.MethodPost, convPath(ws, id, "/state"), body)
		if res.Code != http.StatusBadRequest || res.ErrorCode() != "bad_request" {
			t.Errorf("state body %s: %d %s", body, res.Code, res.Body)
		}
	}
	for _, body := range []string{`{}`, `{"user_id":7}`, `{"user_id":"x"}`, `{"user_id":null,"y":1}`} {
		res := env.As(ws.OwnerToken, http.MethodPut, convPath(ws, id, "/assignee"), body)
		if res.Code != http.StatusBadRequest {
			t.Errorf("assignee body %s: %d %s", body, res.Code, res.Body)
		}
	}
	if res := env.As(ws.OwnerToken, http.MethodPost, convPath(ws, "not-a-uuid", "/state"), `{"state":"closed"}`); res.Code != http.StatusBadRequest {
		t.Errorf("bad conversation id: %d", res.Code)
	}
	if n := countActions(audit(t, env, ws, id), "state_changed"); n != 0 {
		t.Errorf("bad requests changed the conversation %d times", n)
	}
}

// A burst of changes larger than the admission bound queues instead of failing: with room
// for two Updates at a time, twenty closes sent at once all end 200, and each is applied
// once.
func TestBurstBeyondAdmissionQueues(t *testing.T) {
	if testenv.Race {
		t.Skip("a timing test of the queue; app's admission tests run under -race")
	}
	t.Parallel()
	env := testenv.New(t, testenv.Options{MaxUpdatesInFlight: 2})
	ws := env.NewWorkspace("Burst Co")
	const n = 20
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newConversation(t, env, ws, fmt.Sprintf("burst-%d", i))
	}
	codes := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			<-start
			codes[i] = setState(env, ws, ids[i], "closed").Code
		})
	}
	close(start)
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("close %d: %d, want 200", i, code)
		}
		if got := countActions(audit(t, env, ws, ids[i]), "state_changed"); got != 1 {
			t.Errorf("conversation %d: %d state_changed rows, want 1", i, got)
		}
	}
}
