package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bestai/inbox/domain"
)

// Two transition Updates sent in the same instant are validated one after the other, and
// each validator sees the state the handler before it already set (before its write).
func TestConcurrentTransitions(t *testing.T) {
	cases := []struct {
		name         string
		first, other domain.State
		wantAccepted [2]bool
	}{
		// open -> closed wins; closed -> pending is not a move.
		{"close_and_pending", domain.Closed, domain.Pending, [2]bool{true, false}},
		{"close_twice", domain.Closed, domain.Closed, [2]bool{true, false}},
		{"pending_twice", domain.Pending, domain.Pending, [2]bool{true, false}},
		// open -> pending, then pending -> closed is a move too: both are accepted, in order.
		{"pending_and_close", domain.Pending, domain.Closed, [2]bool{true, true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			a := h.transition(minutes(1), "a", tc.first)
			b := h.transition(minutes(1), "b", tc.other)
			final := h.queryAt(minutes(2))
			h.run(newInput(), time.Hour)
			h.requireCanceled()

			requireAccepted(t, a)
			changes := h.acts.recordedChanges()
			if !tc.wantAccepted[1] {
				requireRejected(t, b, ErrInvalidTransition)
				require.Len(t, changes, 1)
				require.Equal(t, "a", changes[0].RequestID)
				require.Equal(t, tc.first, final.State)
				return
			}
			requireAccepted(t, b)
			require.Len(t, changes, 2)
			require.Equal(t, []string{"a", "b"}, []string{changes[0].RequestID, changes[1].RequestID})
			requireChained(t, newInput(), changes)
			require.Equal(t, tc.other, b.Status.State)
			require.Equal(t, tc.other, final.State)
			// Each Update completes in the task that accepted it, with its own change,
			// numbered in acceptance order, for its caller to write.
			require.Equal(t, tc.first, a.Status.State)
			require.EqualValues(t, 1, a.Status.Change.Seq)
			require.EqualValues(t, 2, b.Status.Change.Seq)
			require.Equal(t, tc.other, b.Status.Change.After.State)
		})
	}
}

// retry_summary racing a reopen: whichever comes first decides.
func TestConcurrentRetryAndReopen(t *testing.T) {
	t.Run("retry_first", func(t *testing.T) {
		h := newHarness(t)
		h.transition(minutes(1), "close", domain.Closed)
		retry := h.retrySummary(minutes(2), "retry")
		reopen := h.transition(minutes(2), "reopen", domain.Open)
		h.run(newInput(), time.Hour)
		h.requireCanceled()
		requireAccepted(t, retry)
		requireAccepted(t, reopen)
		require.EqualValues(t, 2, reopen.Status.SummaryGeneration)
		require.Len(t, h.acts.recordedChanges(), 3)
	})
	t.Run("reopen_first", func(t *testing.T) {
		h := newHarness(t)
		h.transition(minutes(1), "close", domain.Closed)
		reopen := h.transition(minutes(2), "reopen", domain.Open)
		retry := h.retrySummary(minutes(2), "retry")
		h.run(newInput(), time.Hour)
		h.requireCanceled()
		requireAccepted(t, reopen)
		requireRejected(t, retry, ErrInvalidTransition)
		require.Len(t, h.acts.recordedChanges(), 2)
		require.Equal(t, []int64{1}, h.acts.summaryGenerations())
	})
}

// An assignment and a transition in the same instant both apply, each write carrying only
// its own part.
func TestConcurrentAssignAndTransition(t *testing.T) {
	h := newHarness(t)
	tr := h.transition(minutes(1), "close", domain.Closed)
	as := h.assign(minutes(1), "assign", &bob)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	requireAccepted(t, tr)
	requireAccepted(t, as)
	require.Equal(t, domain.Closed, as.Status.State)
	requireActor(t, &bob, as.Status.Assignee)
	changes := h.acts.recordedChanges()
	require.Len(t, changes, 2)
	require.Equal(t, "close", changes[0].RequestID)
	require.False(t, changes[0].AssigneeChanged)
	require.Equal(t, "assign", changes[1].RequestID)
	require.Empty(t, changes[1].ToState)
	require.Zero(t, changes[1].SummaryGeneration)
}

// Changes accepted while an earlier write is still running are written in the order they
// were accepted, so the store ends where the workflow is and the audit log reads in order.
func TestQueuedChangesPersistInAcceptanceOrder(t *testing.T) {
	h := newHarness(t)
	h.acts.gate = make(chan struct{}) // the first write is slow
	closeIt := &outcome{ID: "close"}
	reopen := &outcome{ID: "reopen"}
	pending := &outcome{ID: "pending"}
	closeIt.onAccept = func() { h.sendUpdate(reopen, UpdateTransition, TransitionRequest{To: domain.Open}) }
	reopen.onAccept = func() { h.sendUpdate(pending, UpdateTransition, TransitionRequest{To: domain.Pending}) }
	pending.onAccept = func() { close(h.acts.gate) }
	h.env.RegisterDelayedCallback(func() {
		h.sendUpdate(closeIt, UpdateTransition, TransitionRequest{To: domain.Closed})
	}, minutes(1))
	final := h.queryAt(minutes(2))
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	for _, o := range []*outcome{closeIt, reopen, pending} {
		requireAccepted(t, o)
	}
	require.Equal(t, domain.Pending, final.State)
	changes := h.acts.recordedChanges()
	require.Len(t, changes, 3)
	var ids []string
	for _, c := range changes {
		ids = append(ids, c.RequestID)
	}
	require.Equal(t, []string{"close", "reopen", "pending"}, ids)
	requireChained(t, newInput(), changes)
	require.Equal(t, final.State, changes[len(changes)-1].ToState, "the last write leaves the store where the workflow is")
}
