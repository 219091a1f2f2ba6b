package workflows

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bestai/inbox/domain"
)

// When Temporal suggests it, the run drains its handlers and continues as new with the
// whole lifecycle in its input.
func TestContinueAsNewWhenSuggested(t *testing.T) {
	h := newHarness(t)
	h.transition(minutes(1), "close", domain.Closed)
	h.assign(minutes(2), "assign", &bob)
	h.transition(minutes(3), "archive", domain.Archived)
	h.signal(minutes(3)+time.Second, UpdateAssign, AssignRequest{Assignee: &carol})
	// The suggestion comes in the very task that delivers an Update: the Update, handled
	// first, must finish (and its write with it) before the run ends.
	retry := &outcome{ID: "retry", onAccept: func() { h.env.SetContinueAsNewSuggested(true) }}
	h.env.RegisterDelayedCallback(func() {
		h.sendUpdate(retry, UpdateRetrySummary, RetrySummaryRequest{Actor: alice})
	}, minutes(4))
	late := h.transition(minutes(5), "late", domain.Closed)
	h.run(newInput(), time.Hour)

	next, canErr := h.continuedAsNew()
	require.Equal(t, ConversationWorkflow, canErr.WorkflowType.Name)
	requireAccepted(t, retry)
	require.False(t, late.Accepted || late.Rejected, "the run had ended")
	require.Equal(t, testWorkspaceID, next.WorkspaceID)
	require.Equal(t, testConversationID, next.ConversationID)
	require.Equal(t, domain.Archived, next.State)
	requireTime(t, ptr(wfTime(minutes(1))), next.ClosedAt)
	requireActor(t, &carol, next.Assignee)
	require.EqualValues(t, 2, next.SummaryGeneration)
	require.True(t, next.SummaryInFlight, "the retried summary had not finished when the run ended")
	require.EqualValues(t, 1, next.SignalsSeen)
	require.Len(t, writtenOrCarried(h, next), 5)
}

// Suggested from the start: the run passes its input on unchanged.
func TestContinueAsNewSuggestedAtStart(t *testing.T) {
	h := newHarness(t)
	h.env.SetContinueAsNewSuggested(true)
	closedAt := wfTime(-24 * time.Hour)
	in := newInput()
	in.State, in.ClosedAt, in.SummaryGeneration, in.SignalsSeen = domain.Closed, &closedAt, 7, 3
	in.Assignee = &domain.Actor{UserID: bob.UserID, Name: bob.Name}
	h.run(in, time.Hour)

	next, _ := h.continuedAsNew()
	require.Equal(t, in.State, next.State)
	requireTime(t, in.ClosedAt, next.ClosedAt)
	require.Equal(t, in.Assignee, next.Assignee)
	require.Equal(t, in.SummaryGeneration, next.SummaryGeneration)
	require.Equal(t, in.SignalsSeen, next.SignalsSeen)
	require.False(t, next.SummaryInFlight)
	require.Empty(t, h.acts.recordedChanges())
}

// Signals delivered in the task that decides to continue as new are handled first.
// SignalWorkflowSkippingWorkflowTask delivers them without a workflow task of their own,
// so that they and the suggestion are seen by the same task, as they are in production.
func TestContinueAsNewHandlesSignalsOfTheSameTask(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflowSkippingWorkflowTask(UpdateTransition, TransitionRequest{To: domain.Pending})
		h.env.SignalWorkflowSkippingWorkflowTask(UpdateAssign, AssignRequest{Assignee: &bob})
	}, minutes(1))
	h.env.RegisterDelayedCallback(func() { h.env.SetContinueAsNewSuggested(true) }, minutes(2))
	h.run(newInput(), time.Hour)

	next, _ := h.continuedAsNew()
	changes := writtenOrCarried(h, next)
	require.Len(t, changes, 2)
	require.Equal(t, domain.Pending, next.State)
	requireActor(t, &bob, next.Assignee)
	require.EqualValues(t, 2, next.SignalsSeen)
}

// The same with a single Signal: the listener's Selector, blocked on the channel, takes the
// value off the channel when the Signal is delivered, so drain() cannot see it, the root
// coroutine (which runs first) continues as new, and the Signal is lost.
func TestContinueAsNewHandlesSingleSignalOfTheSameTask(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflowSkippingWorkflowTask(UpdateTransition, TransitionRequest{To: domain.Pending})
	}, minutes(1))
	h.env.RegisterDelayedCallback(func() { h.env.SetContinueAsNewSuggested(true) }, minutes(2))
	h.run(newInput(), time.Hour)

	next, _ := h.continuedAsNew()
	require.Len(t, writtenOrCarried(h, next), 1, "the Signal was applied")
	require.Equal(t, domain.Pending, next.State)
	require.EqualValues(t, 1, next.SignalsSeen)
}

// Without a suggestion the same Signal is applied in that task: the loss above is specific
// to continuing as new.
func TestSignalWithoutWorkflowTaskAppliedLater(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflowSkippingWorkflowTask(UpdateTransition, TransitionRequest{To: domain.Pending})
	}, minutes(1))
	o := h.transition(minutes(2), "close", domain.Closed)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	requireAccepted(t, o)
	changes := h.acts.recordedChanges()
	require.Len(t, changes, 2)
	require.Equal(t, signalID(1), changes[0].RequestID)
	requireChained(t, newInput(), changes)
}

// After maxChangesPerRun changes the run continues as new on its own, and the next run
// carries on with the signal numbering.
func TestContinueAsNewAfterMaxChanges(t *testing.T) {
	h := newHarness(t)
	h.env.SetTestTimeout(5 * time.Minute)
	h.signal(30*time.Second, UpdateTransition, TransitionRequest{To: domain.Pending}) // change 1
	var last *outcome
	for i := 1; i < maxChangesPerRun; i++ {
		to := domain.Pending
		if i%2 == 1 {
			to = domain.Open
		}
		last = h.transition(minutes(i), fmt.Sprintf("u-%d", i), to)
	}
	extra := h.transition(minutes(maxChangesPerRun+10), "extra", domain.Closed)
	h.run(newInput(), 24*time.Hour)

	next, _ := h.continuedAsNew()
	requireAccepted(t, last)
	require.False(t, extra.Accepted || extra.Rejected, "the run ended after %d changes", maxChangesPerRun)
	changes := writtenOrCarried(h, next)
	require.Len(t, changes, maxChangesPerRun)
	requireChained(t, newInput(), changes)
	require.Equal(t, domain.Open, next.State) // u-499 reopened it
	require.Nil(t, next.ClosedAt)
	require.EqualValues(t, 1, next.SignalsSeen)
	require.Zero(t, next.SummaryGeneration)

	// The next run: its signal ids continue where the last run stopped, and it accepts changes.
	h2 := newHarness(t)
	h2.signal(minutes(1), UpdateTransition, TransitionRequest{To: domain.Closed})
	o := h2.transition(minutes(2), "after-can", domain.Archived)
	h2.run(next, time.Hour)
	h2.requireCanceled()
	requireAccepted(t, o)
	// The next run writes what the last one carried first, then its own.
	changes2 := h2.acts.recordedChanges()
	require.Len(t, changes2, len(next.Unwritten)+2)
	for i, c := range next.Unwritten {
		require.Equal(t, c.RequestID, changes2[i].RequestID)
	}
	changes2 = changes2[len(next.Unwritten):]
	require.Equal(t, signalID(2), changes2[0].RequestID, "signal ids are unique across runs")
	require.Equal(t, domain.Open, changes2[0].FromState)
}

// While the store takes no changes, the write-back holds at most maxUnwritten of them; past
// that Updates are refused as busy (the run would otherwise carry an ever longer list), and
// once the store is back the held changes are written in order and Updates are accepted.
func TestBusyWhenTheStoreTakesNoChanges(t *testing.T) {
	h := newHarness(t)
	h.acts.gate = make(chan struct{})
	outs := make([]*outcome, maxUnwritten+1)
	// Each Update is sent once the one before it settled.
	var send func(i int)
	send = func(i int) {
		if i == len(outs) {
			return
		}
		to := domain.Pending
		if i%2 == 1 {
			to = domain.Open
		}
		o := &outcome{ID: fmt.Sprintf("u-%d", i)}
		outs[i] = o
		o.then = func() {
			if i == len(outs)-1 {
				close(h.acts.gate) // the store recovers
			}
			send(i + 1)
		}
		h.sendUpdate(o, UpdateTransition, TransitionRequest{To: to})
	}
	h.env.RegisterDelayedCallback(func() { send(0) }, minutes(1))
	after := h.transition(minutes(30), "after", domain.Closed)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	for i := 0; i < maxUnwritten; i++ {
		requireAccepted(t, outs[i])
	}
	requireRejected(t, outs[maxUnwritten], ErrBusy)
	require.Equal(t, 0, outs[maxUnwritten].ChangesBefore, "nothing was written while the store was stuck")
	requireAccepted(t, after)
	changes := h.acts.recordedChanges()
	require.Len(t, changes, maxUnwritten+1)
	requireChained(t, newInput(), changes)
	require.Equal(t, "after", changes[maxUnwritten].RequestID)
}
