package workflows

import (
	"context"
	"fmt"
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
	snapshots := captureSearchAttributesAt(h)
	return func() []saSnapshot {
		got, _ := snapshots()
		return got
	}
}

// captureSearchAttributesAt is captureSearchAttributes with the workflow time of each call
// (since the test's start).
func captureSearchAttributesAt(h *harness) func() ([]saSnapshot, []time.Duration) {
	var mu sync.Mutex
	var got []saSnapshot
	var at []time.Duration
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
		at = append(at, h.env.Now().Sub(testStart))
	}).Return()
	return func() ([]saSnapshot, []time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		return append([]saSnapshot(nil), got...), append([]time.Duration(nil), at...)
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

	// An Update's change is upserted with the write-back, not in its own task: the close's
	// "pending" is overtaken by its summary, done at once here, which upserts the close too.
	ws := testWorkspaceID.String()
	require.Equal(t, []saSnapshot{
		{Workspace: ws, State: "open", Assignee: "none", Summary: "none", HasSummary: true},    // start
		{Workspace: ws, State: "closed", Assignee: "none", Summary: "ready", HasSummary: true}, // summary done
		{Workspace: ws, State: "closed", Assignee: bob.UserID.String()},                        // assign, at its write-back
		{Workspace: ws, State: "archived", Assignee: bob.UserID.String()},                      // archive, at its write-back
	}, snapshots())
}

// TestUpdatesUpsertSearchAttributesWithTheWriteBack: since version attributesWithWriteBack,
// the changes of Updates upsert nothing in the task that completes them; the write-back's
// task upserts the lifecycle as it is then, once for all the changes its timer covers.
func TestUpdatesUpsertSearchAttributesWithTheWriteBack(t *testing.T) {
	h := newHarness(t)
	snapshots := captureSearchAttributesAt(h)
	h.transition(minutes(1), "pending", domain.Pending)
	h.transition(minutes(1)+time.Second, "open", domain.Open)
	h.assign(minutes(1)+2*time.Second, "assign", &bob)
	h.run(newInput(), time.Hour)
	h.requireCanceled()

	ws := testWorkspaceID.String()
	got, at := snapshots()
	require.Equal(t, []saSnapshot{
		{Workspace: ws, State: "open", Assignee: "none", Summary: "none", HasSummary: true}, // start
		{Workspace: ws, State: "open", Assignee: bob.UserID.String()},                       // the three changes, at once
	}, got)
	require.Equal(t, minutes(1)+writeBackDelay, at[1], "upserted when the first change's write-back fired")
	require.Len(t, h.acts.recordedChanges(), 3, "every change written back")
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
		{Workspace: ws, State: "closed", Assignee: "none", Summary: "ready", HasSummary: true}, // summary done, with the close
	}, snapshots())
}

// TestStaleSearchAttributesUpsertedBeforeContinueAsNew: a run that continues as new with an
// Update's change not yet upserted upserts it first, since the next run starts with this
// run's search attributes. The last change (to open) reaches maxChangesPerRun and the run
// continues as new in that task, before its write-back: without the upsert the attributes
// would still say pending, from the change before.
func TestStaleSearchAttributesUpsertedBeforeContinueAsNew(t *testing.T) {
	h := newHarness(t)
	h.env.SetTestTimeout(5 * time.Minute)
	snapshots := captureSearchAttributes(h)
	for i := 1; i <= maxChangesPerRun; i++ {
		to := domain.Pending
		if i%2 == 0 {
			to = domain.Open
		}
		h.transition(minutes(i), fmt.Sprintf("u-%d", i), to)
	}
	h.run(newInput(), 24*time.Hour)
	next, _ := h.continuedAsNew()

	got := snapshots()
	require.Equal(t, domain.Open, next.State)
	require.NotEmpty(t, next.Unwritten, "the last change was not written back by this run")
	require.Equal(t, saSnapshot{Workspace: testWorkspaceID.String(), State: "open", Assignee: "none"}, got[len(got)-1])
	require.Equal(t, saSnapshot{Workspace: testWorkspaceID.String(), State: "pending", Assignee: "none"}, got[len(got)-2])
}
