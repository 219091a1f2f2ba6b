package workflows

import (
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/bestai/inbox/domain"
)

// fanOutPage and fanOutPagesPerRun bound one run of AutoArchiveFanOut: it continues as new
// well before its history grows large, with the cursor in its input.
const (
	fanOutPage        = 200
	fanOutPagesPerRun = 10
)

// AutoArchiveFanOut tells every closed conversation of a workspace its new auto-archive
// setting, by Signal, page by page in id order. It is a workflow so that the fan-out
// survives crashes: once the settings change has started it, Temporal carries it to the end
// (a restart resumes after the last page it finished; a Signal sent twice is harmless, the
// stamp orders them). A newer change of the setting replaces a fan-out still running.
func AutoArchiveFanOut(ctx workflow.Context, in FanOutInput) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	for page := 0; page < fanOutPagesPerRun; page++ {
		var ids []uuid.UUID
		err := workflow.ExecuteActivity(actx, ActivityClosedPage,
			ClosedPageInput{WorkspaceID: in.WorkspaceID, AfterID: in.AfterID, Limit: fanOutPage}).Get(ctx, &ids)
		if err != nil {
			return err
		}
		futures := make([]workflow.Future, len(ids))
		for i, id := range ids {
			futures[i] = workflow.SignalExternalWorkflow(ctx, domain.WorkflowID(id), "", SignalAutoArchive, in.Setting)
		}
		for i, f := range futures {
			if err := f.Get(ctx, nil); err != nil {
				// No running workflow (it is started again from Postgres on its next change):
				// there is nothing to tell.
				workflow.GetLogger(ctx).Warn("auto-archive signal not delivered", "conversation_id", ids[i], "error", err)
			}
		}
		if len(ids) < fanOutPage {
			return nil
		}
		in.AfterID = ids[len(ids)-1]
	}
	return workflow.NewContinueAsNewError(ctx, AutoArchiveFanOut, in)
}

// changeFanOutStarts: the SLA fan-out starts the workflows of conversations nobody has
// changed yet (lazy start) before it Signals a page.
const changeFanOutStarts = "sla-fanout-starts-untouched"

// SLAFanOut tells every open and pending conversation of a workspace its new SLA setting
// (policy and calendar), by Signal, page by page in id order, as AutoArchiveFanOut does.
func SLAFanOut(ctx workflow.Context, in SLAFanOutInput) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	for page := 0; page < fanOutPagesPerRun; page++ {
		var ids []uuid.UUID
		err := workflow.ExecuteActivity(actx, ActivityLivePage,
			ClosedPageInput{WorkspaceID: in.WorkspaceID, AfterID: in.AfterID, Limit: fanOutPage}).Get(ctx, &ids)
		if err != nil {
			return err
		}
		// A conversation nobody has changed has no workflow yet (lazy start): its clocks
		// must run from now on, so its workflow starts here, before the Signals.
		if len(ids) > 0 && workflow.GetVersion(ctx, changeFanOutStarts, workflow.DefaultVersion, 1) == 1 {
			err := workflow.ExecuteActivity(actx, ActivityStartUntouched,
				StartUntouchedInput{WorkspaceID: in.WorkspaceID, IDs: ids, Setting: in.Setting}).Get(ctx, nil)
			if err != nil {
				return err
			}
		}
		futures := make([]workflow.Future, len(ids))
		for i, id := range ids {
			futures[i] = workflow.SignalExternalWorkflow(ctx, domain.WorkflowID(id), "", SignalSLA, in.Setting)
		}
		for i, f := range futures {
			if err := f.Get(ctx, nil); err != nil {
				workflow.GetLogger(ctx).Warn("SLA signal not delivered", "conversation_id", ids[i], "error", err)
			}
		}
		if len(ids) < fanOutPage {
			return nil
		}
		in.AfterID = ids[len(ids)-1]
	}
	return workflow.NewContinueAsNewError(ctx, SLAFanOut, in)
}
