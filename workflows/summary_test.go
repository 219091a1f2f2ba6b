package workflows

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/bestai/inbox/domain"
)

func TestRetrySummaryRejectedWhenNotClosed(t *testing.T) {
	for _, state := range []domain.State{domain.Open, domain.Pending} {
		t.Run(string(state), func(t *testing.T) {
			h := newHarness(t)
			for i, s := range pathTo[state] {
				h.transition(minutes(i+1), "setup-"+string(s), s)
			}
			o := h.retrySummary(minutes(10), "retry")
			after := h.countAt(minutes(11))
			final := h.queryAt(minutes(11))
			h.run(newInput(), time.Hour)
			h.requireCanceled()

			requireRejected(t, o, ErrInvalidTransition)
			require.Equal(t, o.ChangesBefore, *after, "a rejected Update must record nothing")
			require.Equal(t, state, final.State)
			require.Zero(t, final.SummaryGeneration)
			require.Empty(t, h.acts.summaryGenerations())
		})
	}
}

// After reopening, a summary cannot be retried either, even though one was made before.
func TestRetrySummaryRejectedAfterReopen(t *testing.T) {
	h := newHarness(t)
	h.transition(minutes(1), "close", domain.Closed)
	h.transition(minutes(2), "reopen", domain.Open)
	o := h.retrySummary(minutes(3), "retry")
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	requireRejected(t, o, ErrInvalidTransition)
	require.Len(t, h.acts.recordedChanges(), 2)
	require.Equal(t, []int64{1}, h.acts.summaryGenerations())
}

func TestRetrySummaryAccepted(t *testing.T) {
	for _, state := range []domain.State{domain.Closed, domain.Archived} {
		t.Run(string(state), func(t *testing.T) {
			h := newHarness(t)
			for i, s := range pathTo[state] {
				h.transition(minutes(i+1), "setup-"+string(s), s)
			}
			o := h.retrySummary(minutes(10), "retry-1")
			o2 := h.retrySummary(minutes(11), "retry-2")
			final := h.queryAt(minutes(12))
			h.run(newInput(), time.Hour)
			h.requireCanceled()

			requireAccepted(t, o)
			requireAccepted(t, o2)
			require.Equal(t, state, o.Status.State, "a retry does not move the conversation")
			require.EqualValues(t, 2, o.Status.SummaryGeneration)
			require.EqualValues(t, 3, o2.Status.SummaryGeneration)
			require.EqualValues(t, 3, final.SummaryGeneration)
			requireTime(t, ptr(wfTime(minutes(1))), final.ClosedAt)

			changes := h.acts.recordedChanges()
			require.Len(t, changes, len(pathTo[state])+2)
			for i, want := range []int64{2, 3} {
				c := changes[len(pathTo[state])+i]
				require.Equal(t, []string{"retry-1", "retry-2"}[i], c.RequestID)
				require.Equal(t, want, c.SummaryGeneration)
				require.Empty(t, c.ToState, "a retry is not a state change")
				require.False(t, c.AssigneeChanged)
				require.Equal(t, alice, c.Actor)
			}
			require.Equal(t, []int64{1, 2, 3}, h.acts.summaryGenerations())
		})
	}
}

// A Summarize that fails for good is recorded as failed, with the activity's own words.
func TestSummaryNonRetryableFailureIsRecorded(t *testing.T) {
	h := newHarness(t)
	const msg = "no OpenAI key configured: add one in the workspace settings (or set OPENAI_API_KEY), then retry the summary"
	h.acts.summarize = func(_ context.Context, in SummarizeInput) (domain.SummaryStatus, error) {
		if in.Generation == 1 {
			return "", temporal.NewNonRetryableApplicationError(msg, "no_key", nil)
		}
		return domain.SummaryReady, nil
	}
	h.transition(minutes(1), "close", domain.Closed)
	retry := h.retrySummary(minutes(5), "retry")
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	require.Equal(t, []int64{1, 2}, h.acts.summaryGenerations(), "a non-retryable failure is tried once")
	results := h.acts.summaryResults()
	require.Len(t, results, 1, "only the failure is recorded by the workflow")
	r := results[0]
	require.Equal(t, domain.SummaryFailed, r.Status)
	require.Equal(t, msg, r.Error)
	require.EqualValues(t, 1, r.Generation)
	require.Equal(t, testWorkspaceID, r.WorkspaceID)
	require.Equal(t, testConversationID, r.ConversationID)
	require.True(t, wfTime(minutes(1)).Equal(r.At), "at %v", r.At)
	require.Empty(t, r.Text)
	requireAccepted(t, retry)
	require.EqualValues(t, 2, retry.Status.SummaryGeneration)
}

// A Summarize that keeps failing is retried by the policy (10 attempts), then recorded failed.
func TestSummaryRetryableFailureExhaustsAttempts(t *testing.T) {
	h := newHarness(t)
	h.acts.summarize = func(context.Context, SummarizeInput) (domain.SummaryStatus, error) {
		return "", temporal.NewApplicationError("the model is overloaded; try again later", "rate_limited")
	}
	h.transition(minutes(1), "close", domain.Closed)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	require.Equal(t, []int64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, h.acts.summaryGenerations())
	results := h.acts.summaryResults()
	require.Len(t, results, 1)
	require.Equal(t, domain.SummaryFailed, results[0].Status)
	require.Equal(t, "the model is overloaded; try again later", results[0].Error)
	require.EqualValues(t, 1, results[0].Generation)
}

// A newer generation supersedes the one in flight: the old one is canceled and its failure
// is never recorded.
func TestSummarySupersededByNewGeneration(t *testing.T) {
	h := newHarness(t)
	h.acts.summarize = func(_ context.Context, in SummarizeInput) (domain.SummaryStatus, error) {
		if in.Generation == 1 {
			return "", temporal.NewApplicationError("still failing", "upstream")
		}
		return domain.SummaryReady, nil
	}
	h.transition(minutes(1), "close", domain.Closed)
	// Between the first attempts' back-offs (1s, 2s, 4s, ...): reopen and close again.
	reopen := h.transition(minutes(1)+5*time.Second, "reopen", domain.Open)
	reclose := h.transition(minutes(1)+5*time.Second, "reclose", domain.Closed)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	requireAccepted(t, reopen)
	requireAccepted(t, reclose)
	require.EqualValues(t, 2, reclose.Status.SummaryGeneration)
	gens := h.acts.summaryGenerations()
	require.Contains(t, gens, int64(1))
	require.Contains(t, gens, int64(2))
	require.Empty(t, h.acts.summaryResults(), "a superseded generation records no failure")
}

// A run started with a summary in flight (continued as new) starts it again.
func TestSummaryInFlightRestartsOnNewRun(t *testing.T) {
	h := newHarness(t)
	closedAt := wfTime(-time.Hour)
	in := newInput()
	in.State, in.ClosedAt, in.SummaryGeneration, in.SummaryInFlight = domain.Closed, &closedAt, 4, true
	final := h.queryAt(minutes(1))
	h.run(in, time.Hour)
	h.requireCanceled()

	require.Equal(t, []int64{4}, h.acts.summaryGenerations())
	require.Empty(t, h.acts.recordedChanges(), "restarting a summary writes no change")
	require.Equal(t, domain.Closed, final.State)
	require.EqualValues(t, 4, final.SummaryGeneration)
	requireTime(t, &closedAt, final.ClosedAt)
}

func TestSummaryNotStartedWithoutInFlight(t *testing.T) {
	h := newHarness(t)
	in := newInput()
	in.State, in.SummaryGeneration = domain.Archived, 2
	h.run(in, time.Hour)
	h.requireCanceled()
	require.Empty(t, h.acts.summaryGenerations())
}

func TestReadableError(t *testing.T) {
	appErr := temporal.NewNonRetryableApplicationError("no key", "no_key", nil)
	require.Equal(t, "no key", readableError(appErr))
	require.Equal(t, "no key", readableError(fmt.Errorf("activity error: %w", appErr)))
	require.Equal(t, "the summary timed out; retry it",
		readableError(temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, nil)))
	require.Equal(t, "the summary could not be generated; retry it", readableError(errors.New("boom")))
}
