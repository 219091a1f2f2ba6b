package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bestai/inbox/domain"
)

// TestRunStartedWithItsChange: a run started from StartInput (a batch's close of an
// untouched conversation) holds the close as its change number 1, writes it back under its
// own run id, has its summary activity write it first, and numbers the next change 2.
func TestRunStartedWithItsChange(t *testing.T) {
	h := newHarness(t)
	first := FirstInput(testWorkspaceID, testConversationID, SLASetting{}, testStart.Add(-time.Hour))
	days := 30
	first.AutoArchiveDays = &days
	in, err := StartInput(first, "bulk/1/2", TransitionRequest{To: domain.Closed, Actor: alice}, testStart)
	require.NoError(t, err)
	require.Equal(t, domain.Closed, in.State)
	require.Equal(t, int64(1), in.LifecycleSeq)
	require.Equal(t, int64(1), in.SummaryGeneration)
	require.True(t, in.SummaryInFlight)
	require.NotNil(t, in.ArchiveAt)
	require.True(t, in.ArchiveAt.Equal(testStart.AddDate(0, 0, days)), "archive at %s", in.ArchiveAt)
	require.Len(t, in.Unwritten, 1)
	held := in.Unwritten[0]
	require.Equal(t, int64(1), held.Seq)
	require.Equal(t, domain.Open, held.FromState)
	require.Equal(t, domain.Closed, held.ToState)
	require.Equal(t, domain.Closed, held.After.State)
	require.Empty(t, held.WorkflowRunID, "the caller cannot know the run's id")

	reopened := h.transition(time.Minute, "reopen", domain.Open)
	h.run(in, time.Hour)
	h.requireCanceled()
	require.NoError(t, reopened.Err)
	require.True(t, reopened.Completed)

	changes := h.acts.recordedChanges()
	require.NotEmpty(t, changes)
	var written *domain.LifecycleChange
	for i := range changes {
		if changes[i].RequestID == "bulk/1/2" {
			written = &changes[i]
		}
	}
	require.NotNil(t, written, "the start's change was not written back: %+v", changes)
	require.NotEmpty(t, written.WorkflowRunID)
	require.Equal(t, int64(1), written.Seq)
	require.Equal(t, held.ToClosedAt, written.ToClosedAt)

	h.acts.mu.Lock()
	summaries := append([]SummarizeInput(nil), h.acts.summaries...)
	h.acts.mu.Unlock()
	require.Len(t, summaries, 1)
	require.Equal(t, int64(1), summaries[0].Generation)
	require.NotNil(t, summaries[0].Change, "the summary activity must write the close first")
	require.Equal(t, "bulk/1/2", summaries[0].Change.RequestID)
	require.Equal(t, written.WorkflowRunID, summaries[0].Change.WorkflowRunID)

	require.NotNil(t, reopened.Status.Change)
	require.Equal(t, int64(2), reopened.Status.Change.Seq, "the next change is numbered after the start's")

	_, err = StartInput(first, "x", TransitionRequest{To: domain.Open, Actor: alice}, testStart)
	require.EqualError(t, err, "the conversation is already open")
	_, err = StartInput(first, "x", TransitionRequest{To: domain.Closed, Until: &testStart, Actor: alice}, testStart)
	require.EqualError(t, err, "until is only for a change to pending")
}
