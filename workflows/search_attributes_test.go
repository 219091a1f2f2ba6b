package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/bestai/inbox/domain"
)

// saSnapshot is one UpsertTypedSearchAttributes call, as keyword values ("" when unset).
type saSnapshot struct {
	Workspace, State, Assignee, Summary string
	HasSummary                          bool
}

func captureSearchAttributes(h *harness) func() []saSnapshot {
	var mu sync.Mutex
	var got []saSnapshot
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		var s saSnapshot
		s.Workspace, _ = sa.GetKeyword(SearchWorkspace)
		s.State, _ = sa.GetKeyword(SearchState)
		s.Assignee, _ = sa.GetKeyword(SearchAssignee)
		s.Summary, s.HasSummary = sa.GetKeyword(SearchSummary)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, s)
	}).Return()
	return func() []saSnapshot {
		mu.Lock()
		defer mu.Unlock()
		return append([]saSnapshot(nil), got...)
	}
}

func TestSearchAttributesFollowTheLifecycle(t *testing.T) {
	h := newHarness(t)
	snapshots := captureSearchAttributes(h)
	h.transition(minutes(1), "close", domain.Closed)
	h.assign(minutes(2), "assign", &bob)
	h.transition(minutes(3), "archive", domain.Archived)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	ws := testWorkspaceID.String()
	require.Equal(t, []saSnapshot{
		{Workspace: ws, State: "open", Assignee: "none", Summary: "none", HasSummary: true},      // start
		{Workspace: ws, State: "closed", Assignee: "none", Summary: "pending", HasSummary: true}, // close written
		{Workspace: ws, State: "closed", Assignee: "none", Summary: "ready", HasSummary: true},   // summary done
		{Workspace: ws, State: "closed", Assignee: bob.UserID.String()},                          // assign
		{Workspace: ws, State: "archived", Assignee: bob.UserID.String()},                        // archive
	}, snapshots())
}

func TestSearchAttributesShowFailedSummary(t *testing.T) {
	h := newHarness(t)
	snapshots := captureSearchAttributes(h)
	h.acts.summarize = func(context.Context, SummarizeInput) (domain.SummaryStatus, error) {
		return "", temporal.NewNonRetryableApplicationError("key rejected", "bad_key", nil)
	}
	h.transition(minutes(1), "close", domain.Closed)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	got := snapshots()
	require.NotEmpty(t, got)
	last := got[len(got)-1]
	require.True(t, last.HasSummary)
	require.Equal(t, string(domain.SummaryFailed), last.Summary)
	require.Len(t, h.acts.summaryResults(), 1)
}

// TestSearchAttributesNotUpsertedWhenUnchanged: a run that starts holding the attributes
// it would set (Lifecycle.Start sets them all) upserts none in its first task (since
// version quietSearchAttributes); every change that moves one still upserts.
func TestSearchAttributesNotUpsertedWhenUnchanged(t *testing.T) {
	h := newHarness(t)
	ws := testWorkspaceID.String()
	require.NoError(t, h.env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(
		SearchWorkspace.ValueSet(ws), SearchState.ValueSet("open"),
		SearchAssignee.ValueSet("none"), SearchSummary.ValueSet("none"))))
	snapshots := captureSearchAttributes(h)
	h.transition(minutes(1), "close", domain.Closed)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	require.Equal(t, []saSnapshot{
		{Workspace: ws, State: "closed", Assignee: "none", Summary: "pending", HasSummary: true}, // close written
		{Workspace: ws, State: "closed", Assignee: "none", Summary: "ready", HasSummary: true},   // summary done
	}, snapshots())
}
