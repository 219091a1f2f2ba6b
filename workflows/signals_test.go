package workflows

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/bestai/inbox/domain"
)

func signalID(n int) string { return fmt.Sprintf("signal/%s/%d", testConversationID, n) }

// A valid transition Signal goes through the Update's handler, recorded as the system.
func TestSignalTransitionAppliesAsSystem(t *testing.T) {
	h := newHarness(t)
	h.signal(minutes(1), UpdateTransition, TransitionRequest{To: domain.Closed, Actor: alice})
	final := h.queryAt(minutes(2))
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	changes := h.acts.recordedChanges()
	require.Len(t, changes, 1)
	c := changes[0]
	require.Nil(t, c.Actor, "a Signal's actor is forced to the system")
	require.Equal(t, signalID(1), c.RequestID)
	require.Equal(t, domain.Open, c.FromState)
	require.Equal(t, domain.Closed, c.ToState)
	requireTime(t, ptr(wfTime(minutes(1))), c.ToClosedAt)
	require.EqualValues(t, 1, c.SummaryGeneration)
	require.Equal(t, []int64{1}, h.acts.summaryGenerations())
	require.Equal(t, domain.Closed, final.State)
}

func TestSignalAssignAndRetryApplyAsSystem(t *testing.T) {
	h := newHarness(t)
	h.transition(minutes(1), "close", domain.Closed)
	h.signal(minutes(2), UpdateAssign, AssignRequest{Assignee: &bob, Actor: alice})
	h.signal(minutes(3), UpdateRetrySummary, RetrySummaryRequest{Actor: alice})
	final := h.queryAt(minutes(4))
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	changes := h.acts.recordedChanges()
	require.Len(t, changes, 3)
	require.Equal(t, signalID(1), changes[1].RequestID)
	require.Nil(t, changes[1].Actor)
	require.True(t, changes[1].AssigneeChanged)
	requireActor(t, &bob, changes[1].ToAssignee)
	require.Equal(t, signalID(2), changes[2].RequestID)
	require.Nil(t, changes[2].Actor)
	require.EqualValues(t, 2, changes[2].SummaryGeneration)
	require.Equal(t, []int64{1, 2}, h.acts.summaryGenerations())
	requireActor(t, &bob, final.Assignee)
	require.EqualValues(t, 2, final.SummaryGeneration)
}

// Signals the validators would reject change nothing, and the workflow goes on.
func TestInvalidSignalsIgnored(t *testing.T) {
	h := newHarness(t)
	viewer := Candidate{UserID: uuid.New(), Name: "Vera", Role: domain.Viewer, Member: true}
	outsider := Candidate{UserID: uuid.New(), Name: "Olga", Role: domain.Owner}
	h.signal(minutes(1), UpdateTransition, TransitionRequest{To: domain.Archived}) // open -> archived
	h.signal(minutes(2), UpdateTransition, TransitionRequest{To: domain.Open})     // open -> open
	h.signal(minutes(3), UpdateTransition, TransitionRequest{To: "bogus"})
	h.signal(minutes(4), UpdateAssign, AssignRequest{Assignee: &viewer})
	h.signal(minutes(5), UpdateAssign, AssignRequest{Assignee: &outsider})
	h.signal(minutes(6), UpdateRetrySummary, RetrySummaryRequest{}) // open: no summary to retry
	after := h.countAt(minutes(9))
	mid := h.queryAt(minutes(9))
	later := h.transition(minutes(10), "close", domain.Closed)
	h.signal(minutes(11), UpdateAssign, AssignRequest{Assignee: &bob})
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	require.Zero(t, *after, "invalid Signals record nothing")
	require.Equal(t, Status{State: domain.Open}, *mid)
	requireAccepted(t, later)
	changes := h.acts.recordedChanges()
	require.Len(t, changes, 2, "the workflow keeps serving after invalid Signals")
	// Ignored Signals still used their number: ids stay unique, they need not be dense.
	require.Equal(t, signalID(7), changes[1].RequestID)
	ignored := h.logs.matching("signal ignored")
	require.Len(t, ignored, 6, "each invalid Signal is logged")
	require.Contains(t, ignored[0], "cannot move a conversation from open to archived")
	require.Contains(t, ignored[1], "already open")
	require.Contains(t, ignored[3], "viewer cannot be assigned")
	require.Contains(t, ignored[4], "not a member")
	require.Contains(t, ignored[5], "closed or archived")
}

// Every Signal gets its own request id, so the store never takes two for one.
func TestSignalRequestIDsDistinct(t *testing.T) {
	h := newHarness(t)
	h.signal(minutes(1), UpdateTransition, TransitionRequest{To: domain.Closed})
	h.signal(minutes(2), UpdateAssign, AssignRequest{Assignee: &bob})
	h.signal(minutes(3), UpdateRetrySummary, RetrySummaryRequest{})
	h.signal(minutes(4), UpdateTransition, TransitionRequest{To: domain.Archived})
	h.signal(minutes(5), UpdateTransition, TransitionRequest{To: domain.Pending}) // invalid
	h.signal(minutes(6), UpdateTransition, TransitionRequest{To: domain.Closed})
	// Two at once, of different names.
	h.signal(minutes(7), UpdateTransition, TransitionRequest{To: domain.Open})
	h.signal(minutes(7), UpdateAssign, AssignRequest{Assignee: &carol})
	// And an Update in between, whose id is its own.
	h.assign(minutes(8), "update-1", nil)
	h.signal(minutes(9), UpdateTransition, TransitionRequest{To: domain.Pending})
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	changes := h.acts.recordedChanges()
	seen := map[string]bool{}
	var ids []string
	for _, c := range changes {
		require.False(t, seen[c.RequestID], "duplicate request id %s", c.RequestID)
		seen[c.RequestID] = true
		ids = append(ids, c.RequestID)
		if strings.HasPrefix(c.RequestID, "signal/") {
			require.Nil(t, c.Actor)
		}
	}
	require.Equal(t, []string{
		signalID(1), signalID(2), signalID(3), signalID(4), signalID(6), signalID(7), signalID(8), "update-1", signalID(9),
	}, ids)
	requireChained(t, newInput(), changes)
}
