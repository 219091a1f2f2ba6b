package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/workflows"
)

// scenario drives a running `inbox dev` through its HTTP API (and, for operators, Temporal
// Signals) so that each recorded history shows one part of the workflow's behaviour.
type scenario struct {
	apiURL, outDir, prefix string
	workspace, owner       uuid.UUID
	token, ingestKey       string
	lastRef                string
	model                  *fakeModel
	receiver               *receiver // webhooks' endpoints (WebhookDelivery scenarios)
	webhook                uuid.UUID // the webhook a WebhookDelivery scenario added
	temporal               client.Client
	http                   http.Client
}

// Scenarios of the Conversation workflow, in the order they run; each writes
// <prefix>-<name>.json (continue-as-new writes -run1 and -run2). workflows/replay_test.go
// lists the same names. The other workflow types' scenarios are in others.go.
//
// The timers' scenarios (since v3) come last: the two auto-archive ones turn the workspace's
// setting on, and turn it off again (cleanup) only after their history has been recorded, so
// that the fan-out of that change neither reaches the recorded run nor leaves the setting on
// for the scenarios before them on a later run.
var scenarios = []struct {
	name    string
	run     func(*scenario, context.Context, string) error
	cleanup func(*scenario, context.Context) error
}{
	// "ingest" (v1 to v3: messages only) is gone: since lazy start a conversation that only
	// has messages has no workflow to record.
	{"transitions", (*scenario).transitions, nil},
	{"assign", (*scenario).assign, nil},
	{"retry-summary", (*scenario).retrySummary, nil},
	{"summary-failed-retried", (*scenario).summaryFailedRetried, nil},
	{"signal", (*scenario).signal, nil},
	{"continue-as-new", (*scenario).continueAsNew, nil},
	{"superseded", (*scenario).superseded, nil},
	{"snooze", (*scenario).snooze, nil},
	{"snooze-woken-by-message", (*scenario).snoozeWokenByMessage, nil},
	{"auto-archive", (*scenario).autoArchive, (*scenario).autoArchiveOff},
	{"auto-archive-setting-change", (*scenario).autoArchiveSettingChange, (*scenario).autoArchiveOff},
	// Since v4 (GetVersion "sla"): a one-minute first-response SLA turned on while the
	// conversation is open (the fan-out's sla_changed Signal starts its clock), which
	// breaches: the timer fires and the breach is written. Record it alone with
	// SCENARIOS=sla PREFIX=v4; the cleanup turns the SLA off again.
	{"sla", (*scenario).slaBreach, (*scenario).slaOff},
	// Since v8 (no GetVersion: only such a start's input holds a change without a run id): a
	// bulk close of the untouched conversation starts its workflow with the close made
	// (workflows.StartInput); its first task runs after the start's delay, then an Update
	// archives it.
	{"bulk-start", (*scenario).bulkStart, nil},
}

func (s *scenario) loadDemo(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("demo credentials (start `inbox dev` first): %w", err)
	}
	var d struct {
		WorkspaceID uuid.UUID `json:"workspace_id"`
		IngestKey   string    `json:"ingest_key"`
		OwnerUserID uuid.UUID `json:"owner_user_id"`
		OwnerToken  string    `json:"owner_token"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	s.workspace, s.owner, s.token, s.ingestKey = d.WorkspaceID, d.OwnerUserID, d.OwnerToken, d.IngestKey
	s.http.Timeout = 30 * time.Second
	return nil
}

func (s *scenario) run(ctx context.Context, only string) error {
	for _, sc := range scenarios {
		if only != "" && !slices.Contains(strings.Split(only, ","), sc.name) {
			continue
		}
		start := time.Now()
		conv, err := s.ingest(ctx, "replay-"+sc.name+"-"+uuid.NewString()[:8])
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		if err := sc.run(s, ctx, conv); err != nil {
			return fmt.Errorf("%s (conversation %s): %w", sc.name, conv, err)
		}
		workflowID := "conversation/" + conv
		// Since write-after-completed the workflow writes its changes back a few seconds
		// after the last one (workflows/writeback.go): the history ends with that.
		time.Sleep(7 * time.Second) // writeBackDelay and a margin
		if err := s.waitQuiet(ctx, workflowID); err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		out := filepath.Join(s.outDir, s.prefix+"-"+sc.name+".json")
		if err := fetchTo(ctx, s.temporal, workflowID, "", sc.name == "continue-as-new", out); err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		if sc.cleanup != nil {
			if err := sc.cleanup(s, ctx); err != nil {
				return fmt.Errorf("%s cleanup: %w", sc.name, err)
			}
		}
		fmt.Printf("  %s: %s in %s\n", sc.name, workflowID, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// The scenarios. Each gets a freshly ingested, open conversation.

func (s *scenario) transitions(ctx context.Context, conv string) error {
	// Every edge of the transition table: open->pending->open->closed->open->closed->
	// archived->closed->open->pending->closed.
	for _, to := range []domain.State{domain.Pending, domain.Open, domain.Closed, domain.Open, domain.Closed,
		domain.Archived, domain.Closed, domain.Open, domain.Pending, domain.Closed} {
		if err := s.setState(ctx, conv, to); err != nil {
			return err
		}
	}
	return s.waitSummary(ctx, conv, domain.SummaryReady)
}

func (s *scenario) bulkStart(ctx context.Context, conv string) error {
	path := fmt.Sprintf("/api/v1/workspaces/%s/conversations/bulk", s.workspace)
	b, err := s.call(ctx, http.MethodPost, path, map[string]any{"ids": []string{conv}, "action": "state", "state": "closed"}, http.StatusAccepted)
	if err != nil {
		return err
	}
	var batch struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(b, &batch); err != nil {
		return err
	}
	if err := poll(ctx, "bulk "+batch.ID+" done", func() (bool, error) {
		b, err := s.call(ctx, http.MethodGet, path+"/"+batch.ID, nil, http.StatusOK)
		if err == nil {
			err = json.Unmarshal(b, &batch)
		}
		return batch.Status == "done", err
	}); err != nil {
		return err
	}
	if err := s.waitSummary(ctx, conv, domain.SummaryReady); err != nil {
		return err
	}
	return s.setState(ctx, conv, domain.Archived)
}

func (s *scenario) assign(ctx context.Context, conv string) error {
	agent, err := s.agent(ctx)
	if err != nil {
		return err
	}
	for _, user := range []any{s.owner.String(), agent, agent /* no change, nothing recorded */, nil} {
		if _, err := s.call(ctx, http.MethodPut, s.convPath(conv)+"/assignee", map[string]any{"user_id": user}, http.StatusOK); err != nil {
			return err
		}
	}
	return nil
}

func (s *scenario) retrySummary(ctx context.Context, conv string) error {
	if err := s.setState(ctx, conv, domain.Closed); err != nil {
		return err
	}
	if err := s.waitSummary(ctx, conv, domain.SummaryReady); err != nil {
		return err
	}
	if err := s.retry(ctx, conv); err != nil {
		return err
	}
	return s.waitSummary(ctx, conv, domain.SummaryReady)
}

func (s *scenario) summaryFailedRetried(ctx context.Context, conv string) error {
	// A 500 is retried by Temporal; the 401 after it is final: the summary fails.
	s.model.enqueue(answer{status: http.StatusInternalServerError}, answer{status: http.StatusUnauthorized})
	if err := s.setState(ctx, conv, domain.Closed); err != nil {
		return err
	}
	if err := s.waitSummary(ctx, conv, domain.SummaryFailed); err != nil {
		return err
	}
	if err := s.retry(ctx, conv); err != nil {
		return err
	}
	return s.waitSummary(ctx, conv, domain.SummaryReady)
}

func (s *scenario) signal(ctx context.Context, conv string) error {
	workflowID := "conversation/" + conv
	// Since lazy start a conversation that only has messages has no workflow to Signal: its
	// first change starts it.
	if err := s.setState(ctx, conv, domain.Pending); err != nil {
		return err
	}
	signals := []struct {
		name string
		arg  any
	}{
		{workflows.UpdateTransition, workflows.TransitionRequest{To: domain.Open}},
		{workflows.UpdateTransition, workflows.TransitionRequest{To: domain.Archived}}, // forbidden: logged, ignored
		{workflows.UpdateAssign, workflows.AssignRequest{Assignee: &workflows.Candidate{
			UserID: s.owner, Name: "Demo Owner", Role: domain.Owner, Member: true}}},
		{workflows.UpdateAssign, workflows.AssignRequest{}}, // unassign
		{workflows.UpdateTransition, workflows.TransitionRequest{To: domain.Closed}},
	}
	for _, sig := range signals {
		if err := s.temporal.SignalWorkflow(ctx, workflowID, "", sig.name, sig.arg); err != nil {
			return err
		}
	}
	if err := s.waitSummary(ctx, conv, domain.SummaryReady); err != nil {
		return err
	}
	if err := s.temporal.SignalWorkflow(ctx, workflowID, "", workflows.UpdateRetrySummary, workflows.RetrySummaryRequest{}); err != nil {
		return err
	}
	return s.waitAttempts(ctx, conv, 2)
}

func (s *scenario) continueAsNew(ctx context.Context, conv string) error {
	// More than the 500 changes after which a run continues as new.
	for i := range 510 {
		to := domain.Pending
		if i%2 == 1 {
			to = domain.Open
		}
		if err := s.setState(ctx, conv, to); err != nil {
			return fmt.Errorf("change %d: %w", i+1, err)
		}
	}
	return nil
}

func (s *scenario) superseded(ctx context.Context, conv string) error {
	// The first generation's model call is slow; the retry supersedes it and it is cancelled.
	s.model.enqueue(answer{delay: 30 * time.Second})
	before := s.model.requests.Load()
	if err := s.setState(ctx, conv, domain.Closed); err != nil {
		return err
	}
	if err := poll(ctx, "the slow model call to start", func() (bool, error) { return s.model.requests.Load() > before, nil }); err != nil {
		return err
	}
	if err := s.retry(ctx, conv); err != nil {
		return err
	}
	return s.waitSummary(ctx, conv, domain.SummaryReady)
}

func (s *scenario) snooze(ctx context.Context, conv string) error {
	// A wake-up a few seconds ahead: the timer starts, fires, and the conversation is open.
	until := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339Nano)
	if _, err := s.call(ctx, http.MethodPost, s.convPath(conv)+"/state",
		map[string]any{"state": domain.Pending, "until": until}, http.StatusOK); err != nil {
		return err
	}
	if err := s.waitState(ctx, conv, domain.Open); err != nil {
		return err
	}
	return s.waitEvent(ctx, conv, enumspb.EVENT_TYPE_TIMER_FIRED)
}

func (s *scenario) snoozeWokenByMessage(ctx context.Context, conv string) error {
	// A wake-up far ahead; the visitor writes meanwhile: the timer is cancelled, it is open.
	until := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339Nano)
	if _, err := s.call(ctx, http.MethodPost, s.convPath(conv)+"/state",
		map[string]any{"state": domain.Pending, "until": until}, http.StatusOK); err != nil {
		return err
	}
	if err := s.waitEvent(ctx, conv, enumspb.EVENT_TYPE_TIMER_STARTED); err != nil {
		return err
	}
	if _, err := s.call(ctx, http.MethodPost, "/api/v1/ingest/messages", map[string]any{
		"conversation_ref": s.lastRef, "channel": "chat",
		"message": map[string]any{"id": "m-2", "role": "visitor", "text": "Any news?"},
	}, http.StatusOK, http.StatusCreated); err != nil {
		return err
	}
	if err := s.waitState(ctx, conv, domain.Open); err != nil {
		return err
	}
	return s.waitEvent(ctx, conv, enumspb.EVENT_TYPE_TIMER_CANCELED)
}

func (s *scenario) autoArchive(ctx context.Context, conv string) error {
	// Auto-archive after a day, then close: the write answers the setting and the archive
	// timer starts. Nobody waits a day: the history ends with the timer pending.
	if err := s.setAutoArchive(ctx, 1); err != nil {
		return err
	}
	if err := s.setState(ctx, conv, domain.Closed); err != nil {
		return err
	}
	if err := s.waitSummary(ctx, conv, domain.SummaryReady); err != nil {
		return err
	}
	return s.waitEvent(ctx, conv, enumspb.EVENT_TYPE_TIMER_STARTED)
}

func (s *scenario) autoArchiveSettingChange(ctx context.Context, conv string) error {
	// Closed with auto-archive off (no timer); turning it on signals the closed
	// conversations (auto_archive_changed), and this one arms its archive timer.
	if err := s.setAutoArchive(ctx, 0); err != nil {
		return err
	}
	if err := s.setState(ctx, conv, domain.Closed); err != nil {
		return err
	}
	if err := s.waitSummary(ctx, conv, domain.SummaryReady); err != nil {
		return err
	}
	if err := s.waitQuiet(ctx, "conversation/"+conv); err != nil {
		return err
	}
	if err := s.setAutoArchive(ctx, 1); err != nil {
		return err
	}
	if err := s.waitEvent(ctx, conv, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED); err != nil {
		return err
	}
	return s.waitEvent(ctx, conv, enumspb.EVENT_TYPE_TIMER_STARTED)
}

func (s *scenario) autoArchiveOff(ctx context.Context) error { return s.setAutoArchive(ctx, 0) }

func (s *scenario) slaBreach(ctx context.Context, conv string) error {
	if err := s.waitQuiet(ctx, "conversation/"+conv); err != nil {
		return err
	}
	if err := s.setSLA(ctx, "PT1M"); err != nil {
		return err
	}
	if err := s.waitEvent(ctx, conv, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED); err != nil {
		return err
	}
	return s.waitEvent(ctx, conv, enumspb.EVENT_TYPE_TIMER_FIRED)
}

func (s *scenario) slaOff(ctx context.Context) error { return s.setSLA(ctx, "") }

// setSLA sets the workspace's first-response SLA ("" turns it off) and waits for the
// fan-out it starts to finish.
func (s *scenario) setSLA(ctx context.Context, firstResponse string) error {
	var v any
	if firstResponse != "" {
		v = firstResponse
	}
	if _, err := s.call(ctx, http.MethodPut, fmt.Sprintf("/api/v1/workspaces/%s/sla", s.workspace),
		map[string]any{"first_response": v}, http.StatusOK); err != nil {
		return err
	}
	return poll(ctx, "the SLA fan-out", func() (bool, error) {
		d, err := s.temporal.DescribeWorkflowExecution(ctx, workflows.SLAFanOutWorkflowID(s.workspace), "")
		if err != nil {
			return false, err
		}
		return d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
	})
}

// Helpers.

// setAutoArchive sets the workspace's auto_archive_days (0 turns auto-archive off: null) and
// waits for the fan-out it starts to finish, so that its Signals reach only the
// conversations closed before the change, never a later step of the scenario.
func (s *scenario) setAutoArchive(ctx context.Context, days int) error {
	var v any
	if days > 0 {
		v = days
	}
	if _, err := s.call(ctx, http.MethodPatch, fmt.Sprintf("/api/v1/workspaces/%s/settings", s.workspace),
		map[string]any{"auto_archive_days": v}, http.StatusOK); err != nil {
		return err
	}
	return poll(ctx, "the auto-archive fan-out", func() (bool, error) {
		d, err := s.temporal.DescribeWorkflowExecution(ctx, workflows.FanOutWorkflowID(s.workspace), "")
		if err != nil {
			return false, err
		}
		return d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
	})
}

func (s *scenario) waitState(ctx context.Context, conv string, want domain.State) error {
	return poll(ctx, "state "+string(want), func() (bool, error) {
		var v struct {
			State domain.State `json:"state"`
		}
		b, err := s.call(ctx, http.MethodGet, s.convPath(conv), nil, http.StatusOK)
		if err == nil {
			err = json.Unmarshal(b, &v)
		}
		return v.State == want, err
	})
}

// waitEvent waits until the conversation's (latest run's) history holds an event of type want.
func (s *scenario) waitEvent(ctx context.Context, conv string, want enumspb.EventType) error {
	return poll(ctx, want.String(), func() (bool, error) {
		h, err := fetch(ctx, s.temporal, "conversation/"+conv, "")
		if err != nil {
			return false, err
		}
		for _, e := range h.Events {
			if e.EventType == want {
				return true, nil
			}
		}
		return false, nil
	})
}

func (s *scenario) convPath(conv string) string {
	return fmt.Sprintf("/api/v1/workspaces/%s/conversations/%s", s.workspace, conv)
}

func (s *scenario) ingest(ctx context.Context, ref string) (string, error) {
	s.lastRef = ref
	b, err := s.call(ctx, http.MethodPost, "/api/v1/ingest/messages", map[string]any{
		"conversation_ref": ref, "channel": "chat",
		"visitor": map[string]any{"name": "Ana Replay", "email": "ana@example.com"},
		"message": map[string]any{"id": "m-1", "role": "visitor", "text": "Hi, do you ship to New Zealand?"},
	}, http.StatusCreated)
	if err != nil {
		return "", err
	}
	var out struct {
		ConversationID string `json:"conversation_id"`
	}
	return out.ConversationID, json.Unmarshal(b, &out)
}

func (s *scenario) setState(ctx context.Context, conv string, to domain.State) error {
	_, err := s.call(ctx, http.MethodPost, s.convPath(conv)+"/state", map[string]any{"state": to}, http.StatusOK)
	return err
}

func (s *scenario) retry(ctx context.Context, conv string) error {
	_, err := s.call(ctx, http.MethodPost, s.convPath(conv)+"/summary/retry", nil, http.StatusAccepted, http.StatusOK)
	return err
}

// agent returns the user id of an agent of the demo workspace, adding one the first time.
func (s *scenario) agent(ctx context.Context) (string, error) {
	const email = "replay-support@demo.example"
	if _, err := s.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/workspaces/%s/members", s.workspace),
		map[string]any{"email": email, "name": "Replay Support", "role": "support"}, http.StatusCreated, http.StatusConflict); err != nil {
		return "", err
	}
	b, err := s.call(ctx, http.MethodGet, fmt.Sprintf("/api/v1/workspaces/%s/members?limit=200", s.workspace), nil, http.StatusOK)
	if err != nil {
		return "", err
	}
	var out struct {
		Items []struct {
			UserID string `json:"user_id"`
			Email  string `json:"email"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", err
	}
	for _, m := range out.Items {
		if m.Email == email {
			return m.UserID, nil
		}
	}
	return "", fmt.Errorf("agent %s not among the members: %s", email, b)
}

type summaryView struct {
	Summary struct {
		Status   domain.SummaryStatus `json:"status"`
		Attempts int                  `json:"attempts"`
	} `json:"summary"`
}

func (s *scenario) summary(ctx context.Context, conv string) (summaryView, error) {
	var v summaryView
	b, err := s.call(ctx, http.MethodGet, s.convPath(conv), nil, http.StatusOK)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	return v, err
}

func (s *scenario) waitSummary(ctx context.Context, conv string, want domain.SummaryStatus) error {
	return poll(ctx, "summary "+string(want), func() (bool, error) {
		v, err := s.summary(ctx, conv)
		return v.Summary.Status == want, err
	})
}

// waitAttempts waits for a ready summary from at least n generations' worth of answers.
func (s *scenario) waitAttempts(ctx context.Context, conv string, n int) error {
	start := s.model.requests.Load()
	return poll(ctx, "the retried summary", func() (bool, error) {
		v, err := s.summary(ctx, conv)
		return v.Summary.Status == domain.SummaryReady && s.model.requests.Load() >= start+int64(n-1), err
	})
}

// waitQuiet waits until the workflow has nothing left to do: no workflow task or activity
// pending and a history that stopped growing, so the recorded file ends on a settled task.
func (s *scenario) waitQuiet(ctx context.Context, workflowID string) error {
	last := int64(-1)
	return poll(ctx, workflowID+" to settle", func() (bool, error) {
		d, err := s.temporal.DescribeWorkflowExecution(ctx, workflowID, "")
		if err != nil {
			return false, err
		}
		n := d.GetWorkflowExecutionInfo().GetHistoryLength()
		settled := d.GetPendingWorkflowTask() == nil && len(d.GetPendingActivities()) == 0 && n == last
		last = n
		return settled, nil
	})
}

func poll(ctx context.Context, what string, done func() (bool, error)) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (s *scenario) call(ctx context.Context, method, path string, body any, want ...int) ([]byte, error) {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.apiURL+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if strings.HasPrefix(path, "/api/v1/ingest/") {
		req.Header.Set("X-Inbox-Key", s.ingestKey)
	} else {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	res, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	if !slices.Contains(want, res.StatusCode) {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, buf.Bytes())
	}
	return buf.Bytes(), nil
}
