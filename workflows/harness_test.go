package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/bestai/inbox/domain"
)

// Fixtures shared by the workflow tests.
var (
	testWorkspaceID    = uuid.MustParse("6f1c2a4e-0000-4000-8000-000000000001")
	testConversationID = uuid.MustParse("6f1c2a4e-0000-4000-8000-000000000002")
	// testStart lies in the future on purpose: the test environment bounds a local
	// activity's retries by ScheduledTime (mock clock) + ScheduleToCloseTimeout but runs it
	// against the wall clock, so with a start in the past every retry of a local activity
	// (say, a first attempt that took over 10s on a loaded machine) times out at once, and
	// the run spins on retries until the test's own deadline.
	testStart = time.Date(2099, 3, 4, 9, 0, 0, 0, time.UTC)

	alice = &domain.Actor{UserID: uuid.MustParse("aaaaaaaa-0000-4000-8000-000000000001"), Name: "Alice"}
	bob   = Candidate{UserID: uuid.MustParse("bbbbbbbb-0000-4000-8000-000000000002"), Name: "Bob", Role: domain.Support, Member: true}
	carol = Candidate{UserID: uuid.MustParse("cccccccc-0000-4000-8000-000000000003"), Name: "Carol", Role: domain.Admin, Member: true}
)

// fakeActivities stands in for the activities package: it records what the workflow asks
// of it so the tests can assert on it. Local activities run on their own goroutines in the
// test environment, hence the mutex.
type fakeActivities struct {
	mu        sync.Mutex
	changes   []domain.LifecycleChange
	batches   []int // the size of each write-back batch, in order
	summaries []SummarizeInput
	results   []domain.SummaryResult

	// applyErr, when set, decides the outcome of ApplyLifecycleChange before it records.
	applyErr func(domain.LifecycleChange) error
	// summarize, when set, replaces the default "ready" answer of Summarize.
	summarize func(context.Context, SummarizeInput) (domain.SummaryStatus, error)
	// gate, when set, fails every ApplyLifecycleChange (retryably) until it is closed.
	gate chan struct{}
	// autoArchive is the workspace's auto-archive setting a change to Closed answers.
	autoArchive AutoArchiveSetting
	// sla is the workspace's SLA setting LoadSLASetting answers; slaWrites what the
	// workflow wrote of its clocks, in order.
	sla       SLASetting
	slaWrites []domain.SLAWrite
	slaLoads  int
}

func (f *fakeActivities) LoadSLASetting(_ context.Context, _ uuid.UUID) (SLASetting, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slaLoads++
	return f.sla, nil
}

func (f *fakeActivities) WriteSLAClocks(_ context.Context, w domain.SLAWrite) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slaWrites = append(f.slaWrites, w)
	return nil
}

func (f *fakeActivities) recordedSLAWrites() []domain.SLAWrite {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]domain.SLAWrite(nil), f.slaWrites...)
}

func (f *fakeActivities) ApplyLifecycleChange(ctx context.Context, change domain.LifecycleChange) (ApplyResult, error) {
	f.mu.Lock()
	gate, applyErr := f.gate, f.applyErr
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		default:
			// Like Postgres being down: the attempt fails at once and is retried.
			return ApplyResult{}, errors.New("the store is unavailable")
		}
	}
	if applyErr != nil {
		if err := applyErr(change); err != nil {
			return ApplyResult{}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, change)
	var result ApplyResult
	if change.ToState == domain.Closed {
		setting := f.autoArchive
		result.AutoArchive = &setting
	}
	return result, nil
}

// ApplyLifecycleChanges is the write-back: each change as ApplyLifecycleChange takes it, the
// auto-archive setting if one of them closed the conversation.
func (f *fakeActivities) ApplyLifecycleChanges(ctx context.Context, changes []domain.LifecycleChange) (ApplyResult, error) {
	f.mu.Lock()
	f.batches = append(f.batches, len(changes))
	f.mu.Unlock()
	var result ApplyResult
	for _, change := range changes {
		r, err := f.ApplyLifecycleChange(ctx, change)
		if err != nil {
			return ApplyResult{}, err
		}
		if r.AutoArchive != nil {
			result = r
		}
	}
	return result, nil
}

func (f *fakeActivities) Summarize(ctx context.Context, in SummarizeInput) (domain.SummaryStatus, error) {
	f.mu.Lock()
	f.summaries = append(f.summaries, in)
	fn := f.summarize
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, in)
	}
	return domain.SummaryReady, nil
}

func (f *fakeActivities) RecordSummaryResult(_ context.Context, result domain.SummaryResult) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results = append(f.results, result)
	return nil
}

func (f *fakeActivities) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.changes)
}

func (f *fakeActivities) recordedChanges() []domain.LifecycleChange {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]domain.LifecycleChange(nil), f.changes...)
}

func (f *fakeActivities) summaryGenerations() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	gens := make([]int64, 0, len(f.summaries))
	for _, s := range f.summaries {
		gens = append(gens, s.Generation)
	}
	return gens
}

func (f *fakeActivities) summaryResults() []domain.SummaryResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]domain.SummaryResult(nil), f.results...)
}

// logBuffer keeps the environment's log (info and up) quiet unless a test fails, and lets
// tests assert on what the workflow logged.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (b *logBuffer) matching(substr string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range b.lines {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// harness is one test workflow environment with the stand-in activities registered under
// the names the worker uses.
type harness struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	acts *fakeActivities
	logs *logBuffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	logs := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			logs.mu.Lock()
			defer logs.mu.Unlock()
			t.Log("workflow log:\n" + strings.Join(logs.lines, "\n"))
		}
	})
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(testStart)
	env.SetTestTimeout(time.Minute) // the machine is shared; local activities run in real time
	acts := &fakeActivities{}
	env.RegisterWorkflowWithOptions(Conversation, workflow.RegisterOptions{Name: ConversationWorkflow})
	env.RegisterActivityWithOptions(acts.ApplyLifecycleChange, activity.RegisterOptions{Name: ActivityApplyChange})
	env.RegisterActivityWithOptions(acts.ApplyLifecycleChanges, activity.RegisterOptions{Name: ActivityApplyChanges})
	env.RegisterActivityWithOptions(acts.Summarize, activity.RegisterOptions{Name: ActivitySummarize})
	env.RegisterActivityWithOptions(acts.RecordSummaryResult, activity.RegisterOptions{Name: ActivityRecordSummary})
	env.RegisterActivityWithOptions(acts.LoadSLASetting, activity.RegisterOptions{Name: ActivityLoadSLA})
	env.RegisterActivityWithOptions(acts.WriteSLAClocks, activity.RegisterOptions{Name: ActivityWriteSLA})
	return &harness{t: t, env: env, acts: acts, logs: logs}
}

// outcome is what the test environment told about one Update.
type outcome struct {
	ID            string
	SentAt        time.Time
	ChangesBefore int // recorded changes when the Update was sent
	Accepted      bool
	Rejected      bool
	Completed     bool
	Err           error // the rejection or the handler's error
	Status        Status
	// onAccept and then, when set, run once the Update is accepted, respectively rejected
	// or completed.
	onAccept, then func()
}

// update sends an Update at workflow time start+at.
func (h *harness) update(at time.Duration, name, id string, arg any) *outcome {
	o := &outcome{ID: id}
	h.env.RegisterDelayedCallback(func() { h.sendUpdate(o, name, arg) }, at)
	return o
}

func (h *harness) sendUpdate(o *outcome, name string, arg any) {
	o.SentAt = h.env.Now()
	o.ChangesBefore = h.acts.count()
	h.env.UpdateWorkflow(name, o.ID, &testsuite.TestUpdateCallback{
		OnAccept: func() {
			o.Accepted = true
			if o.onAccept != nil {
				o.onAccept()
			}
		},
		OnReject: func(err error) {
			o.Rejected, o.Err = true, err
			if o.then != nil {
				o.then()
			}
		},
		OnComplete: func(v any, err error) {
			o.Completed = true
			if o.then != nil {
				defer o.then()
			}
			if err != nil {
				o.Err = err
				return
			}
			o.Status = decodeStatus(h.t, v)
		},
	}, arg)
}

func (h *harness) transition(at time.Duration, id string, to domain.State) *outcome {
	return h.update(at, UpdateTransition, id, TransitionRequest{To: to, Actor: alice})
}

func (h *harness) assign(at time.Duration, id string, c *Candidate) *outcome {
	return h.update(at, UpdateAssign, id, AssignRequest{Assignee: c, Actor: alice})
}

func (h *harness) retrySummary(at time.Duration, id string) *outcome {
	return h.update(at, UpdateRetrySummary, id, RetrySummaryRequest{Actor: alice})
}

func (h *harness) signal(at time.Duration, name string, arg any) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(name, arg) }, at)
}

// countAt samples the number of recorded changes at workflow time start+at.
func (h *harness) countAt(at time.Duration) *int {
	n := new(int)
	h.env.RegisterDelayedCallback(func() { *n = h.acts.count() }, at)
	return n
}

// queryAt runs the state Query at workflow time start+at.
func (h *harness) queryAt(at time.Duration) *Status {
	st := new(Status)
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryState)
		require.NoError(h.t, err)
		require.NoError(h.t, v.Get(st))
	}, at)
	return st
}

// run executes the workflow from in and cancels it at start+cancelAt, unless it ended before.
func (h *harness) run(in Input, cancelAt time.Duration) {
	h.t.Helper()
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, cancelAt)
	h.env.ExecuteWorkflow(ConversationWorkflow, in)
	require.True(h.t, h.env.IsWorkflowCompleted(), "the workflow did not end")
}

// requireCanceled asserts the run ended only because the test canceled it.
func (h *harness) requireCanceled() {
	h.t.Helper()
	err := h.env.GetWorkflowError()
	require.Error(h.t, err)
	require.True(h.t, temporal.IsCanceledError(err), "want a cancellation, got %v", err)
}

// continuedAsNew asserts the run continued as new and decodes the input it passed on.
func (h *harness) continuedAsNew() (Input, *workflow.ContinueAsNewError) {
	h.t.Helper()
	err := h.env.GetWorkflowError()
	var canErr *workflow.ContinueAsNewError
	require.True(h.t, errors.As(err, &canErr), "want a ContinueAsNewError, got %v", err)
	var next Input
	require.NoError(h.t, converter.GetDefaultDataConverter().FromPayloads(canErr.Input, &next))
	return next, canErr
}

func newInput() Input { return NewInput(testWorkspaceID, testConversationID) }

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }

func wfTime(d time.Duration) time.Time { return testStart.Add(d) }

func decodeStatus(t *testing.T, v any) Status {
	switch s := v.(type) {
	case Status:
		return s
	case *Status:
		return *s
	case converter.EncodedValue:
		var st Status
		require.NoError(t, s.Get(&st))
		return st
	}
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var st Status
	require.NoError(t, json.Unmarshal(raw, &st))
	return st
}

// requireAccepted asserts an Update was accepted and completed without error.
func requireAccepted(t *testing.T, o *outcome) {
	t.Helper()
	require.True(t, o.Accepted, "update %s not accepted (err: %v)", o.ID, o.Err)
	require.False(t, o.Rejected, "update %s rejected: %v", o.ID, o.Err)
	require.True(t, o.Completed, "update %s not completed", o.ID)
	require.NoError(t, o.Err, "update %s", o.ID)
}

// requireRejected asserts an Update was rejected by its validator with an application error
// of the given type, and never reached its handler.
func requireRejected(t *testing.T, o *outcome, errType string) {
	t.Helper()
	require.True(t, o.Rejected, "update %s not rejected", o.ID)
	require.False(t, o.Accepted, "update %s accepted", o.ID)
	require.False(t, o.Completed, "update %s completed", o.ID)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(o.Err, &appErr), "want an *temporal.ApplicationError, got %T: %v", o.Err, o.Err)
	require.Equal(t, errType, appErr.Type(), "update %s: %v", o.ID, o.Err)
}

func requireTime(t *testing.T, want, got *time.Time, msgAndArgs ...any) {
	t.Helper()
	if want == nil {
		require.Nil(t, got, msgAndArgs...)
		return
	}
	require.NotNil(t, got, msgAndArgs...)
	require.True(t, want.Equal(*got), "want %v, got %v %v", *want, *got, msgAndArgs)
}

func requireActor(t *testing.T, want *Candidate, got *domain.Actor, msgAndArgs ...any) {
	t.Helper()
	if want == nil {
		require.Nil(t, got, msgAndArgs...)
		return
	}
	require.NotNil(t, got, msgAndArgs...)
	require.Equal(t, domain.Actor{UserID: want.UserID, Name: want.Name}, *got, msgAndArgs...)
}

// writtenOrCarried is every change of a run that continued as new: those its write-back
// wrote, then those it handed to the next run.
func writtenOrCarried(h *harness, next Input) []domain.LifecycleChange {
	return append(h.acts.recordedChanges(), next.Unwritten...)
}

// requireChained asserts the recorded changes form one history: each state change starts
// where the one before it ended, and so does each assignee change.
func requireChained(t *testing.T, start Input, changes []domain.LifecycleChange) {
	t.Helper()
	state, assignee := start.State, start.Assignee
	for i, c := range changes {
		require.EqualValues(t, start.LifecycleSeq+int64(i)+1, c.Seq, "change %d (%s) is numbered in order", i, c.RequestID)
		if c.ToState != "" {
			require.Equal(t, state, c.FromState, "change %d (%s)", i, c.RequestID)
			state = c.ToState
		}
		if c.AssigneeChanged {
			require.Equal(t, assignee, c.FromAssignee, "change %d (%s)", i, c.RequestID)
			assignee = c.ToAssignee
		}
	}
}
