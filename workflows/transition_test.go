package workflows

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/bestai/inbox/domain"
)

// pathTo lists the accepted transitions that take a new (open) conversation to a state.
var pathTo = map[domain.State][]domain.State{
	domain.Open:     nil,
	domain.Pending:  {domain.Pending},
	domain.Closed:   {domain.Closed},
	domain.Archived: {domain.Closed, domain.Archived},
}

// allowedTransitions is the inbox guide's table, written out independently of domain.
var allowedTransitions = map[[2]domain.State]bool{
	{domain.Open, domain.Pending}:    true,
	{domain.Open, domain.Closed}:     true,
	{domain.Pending, domain.Open}:    true,
	{domain.Pending, domain.Closed}:  true,
	{domain.Closed, domain.Open}:     true,
	{domain.Closed, domain.Archived}: true,
	{domain.Archived, domain.Closed}: true,
}

func TestTransitionTable(t *testing.T) {
	for _, from := range domain.States {
		for _, to := range domain.States {
			allowed := allowedTransitions[[2]domain.State{from, to}]
			t.Run(fmt.Sprintf("%s_to_%s", from, to), func(t *testing.T) {
				h := newHarness(t)
				var setup []*outcome
				for i, s := range pathTo[from] {
					setup = append(setup, h.transition(minutes(i+1), fmt.Sprintf("setup-%d", i), s))
				}
				before := h.queryAt(minutes(9))
				o := h.transition(minutes(10), "under-test", to)
				after := h.countAt(minutes(11))
				final := h.queryAt(minutes(11))
				h.run(newInput(), time.Hour)
				h.requireCanceled()

				for _, s := range setup {
					requireAccepted(t, s)
				}
				require.Equal(t, from, before.State)
				require.Equal(t, len(pathTo[from]), o.ChangesBefore)

				if !allowed {
					requireRejected(t, o, ErrInvalidTransition)
					require.Equal(t, o.ChangesBefore, *after, "a rejected Update must record nothing")
					require.Equal(t, *before, *final, "a rejected Update must change nothing")
					return
				}
				requireAccepted(t, o)
				require.Equal(t, to, o.Status.State)
				require.Equal(t, to, final.State)
				require.Equal(t, o.ChangesBefore+1, *after)
				changes := h.acts.recordedChanges()
				last := changes[len(changes)-1]
				require.Equal(t, "under-test", last.RequestID)
				require.Equal(t, from, last.FromState)
				require.Equal(t, to, last.ToState)
				require.Equal(t, alice, last.Actor)
				require.False(t, last.AssigneeChanged)
				require.True(t, o.SentAt.Equal(last.At), "change At %v, sent at %v", last.At, o.SentAt)
				require.Equal(t, testWorkspaceID, last.WorkspaceID)
				require.Equal(t, testConversationID, last.ConversationID)
				require.NotEmpty(t, last.WorkflowRunID)
				requireChained(t, newInput(), changes)
			})
		}
	}
}

// An unknown target state is refused like any move the table does not have.
func TestTransitionToUnknownStateRejected(t *testing.T) {
	h := newHarness(t)
	o := h.update(minutes(1), UpdateTransition, "bogus", TransitionRequest{To: "deleted", Actor: alice})
	after := h.countAt(minutes(2))
	h.run(newInput(), time.Hour)
	h.requireCanceled()
	requireRejected(t, o, ErrInvalidTransition)
	require.Zero(t, *after)
}

// closed_at follows the conversation: closing sets it to the workflow time, archiving keeps
// it, coming back from the archive keeps it, reopening clears it. Every change to Closed
// starts a new summary generation, carried by the change and given to Summarize.
func TestClosedAtAndSummaryGenerations(t *testing.T) {
	h := newHarness(t)
	steps := []struct {
		to           domain.State
		wantClosedAt *time.Time
		wantGen      int64 // the change's SummaryGeneration
		wantStatus   int64 // Status.SummaryGeneration after it
	}{
		{domain.Closed, ptr(wfTime(minutes(1))), 1, 1},   // 1m: close
		{domain.Archived, ptr(wfTime(minutes(1))), 0, 1}, // 2m: archive keeps it
		{domain.Closed, ptr(wfTime(minutes(1))), 2, 2},   // 3m: back from the archive keeps it
		{domain.Open, nil, 0, 2},                         // 4m: reopen clears it
		{domain.Pending, nil, 0, 2},                      // 5m
		{domain.Closed, ptr(wfTime(minutes(6))), 3, 3},   // 6m: closing again sets it anew
		{domain.Archived, ptr(wfTime(minutes(6))), 0, 3}, // 7m
	}
	outcomes := make([]*outcome, len(steps))
	for i, s := range steps {
		outcomes[i] = h.transition(minutes(i+1), fmt.Sprintf("step-%d", i+1), s.to)
	}
	final := h.queryAt(minutes(30))
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	changes := h.acts.recordedChanges()
	require.Len(t, changes, len(steps))
	requireChained(t, newInput(), changes)
	var prevClosedAt *time.Time
	for i, s := range steps {
		o, c := outcomes[i], changes[i]
		requireAccepted(t, o)
		require.Equal(t, o.ID, c.RequestID)
		require.Equal(t, s.to, c.ToState, "step %d", i+1)
		requireTime(t, prevClosedAt, c.FromClosedAt, "step %d from_closed_at", i+1)
		requireTime(t, s.wantClosedAt, c.ToClosedAt, "step %d to_closed_at", i+1)
		requireTime(t, s.wantClosedAt, o.Status.ClosedAt, "step %d status closed_at", i+1)
		require.Equal(t, s.wantGen, c.SummaryGeneration, "step %d change generation", i+1)
		require.Equal(t, s.wantStatus, o.Status.SummaryGeneration, "step %d status generation", i+1)
		require.True(t, wfTime(minutes(i+1)).Equal(c.At), "step %d at %v", i+1, c.At)
		prevClosedAt = s.wantClosedAt
	}
	require.Equal(t, []int64{1, 2, 3}, h.acts.summaryGenerations())
	for _, s := range h.acts.summaries {
		require.Equal(t, testWorkspaceID, s.WorkspaceID)
		require.Equal(t, testConversationID, s.ConversationID)
	}
	require.Empty(t, h.acts.summaryResults(), "successful summaries record nothing from the workflow")
	require.Equal(t, domain.Archived, final.State)
	requireTime(t, ptr(wfTime(minutes(6))), final.ClosedAt)
	require.EqualValues(t, 3, final.SummaryGeneration)
}

// The state Query returns what the last Update returned.
func TestQueryState(t *testing.T) {
	h := newHarness(t)
	initial := h.queryAt(time.Second)
	h.transition(minutes(1), "close", domain.Closed)
	a := h.assign(minutes(2), "assign", &bob)
	final := h.queryAt(minutes(3))
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	require.Equal(t, Status{State: domain.Open}, *initial)
	requireAccepted(t, a)
	require.Equal(t, a.Status.State, final.State)
	requireTime(t, a.Status.ClosedAt, final.ClosedAt)
	require.Equal(t, a.Status.Assignee, final.Assignee)
	require.Equal(t, a.Status.SummaryGeneration, final.SummaryGeneration)
	require.Equal(t, domain.Closed, final.State)
	requireActor(t, &bob, final.Assignee)
	require.EqualValues(t, 1, final.SummaryGeneration)
}

// Each change's RequestID is the id of the Update that made it, so a retried write is
// deduplicated by the store.
func TestChangeRequestIDIsUpdateID(t *testing.T) {
	h := newHarness(t)
	ids := []string{"req-2f9c-transition", "req-81aa-assign", "req-7d01-retry", "req-0b3e-archive"}
	h.transition(minutes(1), ids[0], domain.Closed)
	h.assign(minutes(2), ids[1], &carol)
	h.retrySummary(minutes(3), ids[2])
	h.transition(minutes(4), ids[3], domain.Archived)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	changes := h.acts.recordedChanges()
	require.Len(t, changes, len(ids))
	runID := changes[0].WorkflowRunID
	require.NotEmpty(t, runID)
	for i, c := range changes {
		require.Equal(t, ids[i], c.RequestID)
		require.Equal(t, runID, c.WorkflowRunID)
		require.Equal(t, alice, c.Actor)
	}
}

// A change the store refuses for good (the conversation is gone) still completes its
// Update, whose history holds it; the write-back drops it with an error in the log rather
// than retry it forever, and goes on writing the changes after it.
func TestWriteBackDropsAChangeTheStoreRefuses(t *testing.T) {
	h := newHarness(t)
	h.acts.applyErr = func(c domain.LifecycleChange) error {
		if c.RequestID == "close" {
			return temporal.NewNonRetryableApplicationError("the conversation no longer exists", "not_found", nil)
		}
		return nil
	}
	o := h.transition(minutes(1), "close", domain.Closed)
	later := h.transition(minutes(2), "reopen", domain.Open)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	requireAccepted(t, o)
	require.NotNil(t, o.Status.Change, "the caller is handed the change to write")
	requireAccepted(t, later)
	changes := h.acts.recordedChanges()
	require.Len(t, changes, 1)
	require.Equal(t, "reopen", changes[0].RequestID)
	require.Len(t, h.logs.matching("changes dropped"), 1)
}

// The write-back writes every change made before the workflow task its timer fires in, not
// only those held when the timer was armed: a conversation changed many times a second is
// written back in one batch per timer, and its held changes stay few.
func TestWriteBackCoversEveryEarlierTask(t *testing.T) {
	h := newHarness(t)
	// Each Update comes in a task of its own: the history grows between them (the test
	// environment leaves the length to the test).
	h.env.SetCurrentHistoryLength(10)
	h.transition(minutes(1), "a", domain.Pending) // arms the timer, which covers a
	h.env.RegisterDelayedCallback(func() { h.env.SetCurrentHistoryLength(20) }, minutes(1)+time.Second)
	h.transition(minutes(1)+2*time.Second, "b", domain.Open)
	h.env.RegisterDelayedCallback(func() { h.env.SetCurrentHistoryLength(30) }, minutes(1)+3*time.Second)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	require.Equal(t, []string{"a", "b"}, requestIDs(h.acts.recordedChanges()))
	h.acts.mu.Lock()
	defer h.acts.mu.Unlock()
	require.Equal(t, []int{2}, h.acts.batches, "one batch, with the change made after the timer was armed")
}

func requestIDs(changes []domain.LifecycleChange) []string {
	ids := make([]string, len(changes))
	for i, c := range changes {
		ids[i] = c.RequestID
	}
	return ids
}

func ptr[T any](v T) *T { return &v }
