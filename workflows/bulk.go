package workflows

import (
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Names of the bulk action's workflow and activities.
const (
	BulkActionWorkflow = "BulkAction"
	ActivityRunBulk    = "RunBulk"
	ActivityFinishBulk = "FinishBulk"
)

// Bulk statuses a finished batch ends in (store.Bulk*, which the activity writes).
const (
	BulkDone      = "done"
	BulkCancelled = "cancelled"
	BulkFailed    = "failed"
)

// BulkHeartbeatTimeout is how long a running batch may go without a heartbeat before
// Temporal gives its activity to another worker (a crashed worker's batch resumes then).
var BulkHeartbeatTimeout = 15 * time.Second

// BulkInput names a stored batch: the activity reads its items and their results from
// Postgres, so a run resumed after a crash goes on from what was recorded.
type BulkInput struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	BulkID      uuid.UUID `json:"bulk_id"`
}

// BulkFinish is the end of a batch: its final status, and the reason given to the items
// it did not reach.
type BulkFinish struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	BulkID      uuid.UUID `json:"bulk_id"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason"`
}

// BulkWorkflowID is the workflow id of a batch: one workflow per bulk id.
func BulkWorkflowID(bulkID uuid.UUID) string { return "bulk:" + bulkID.String() }

// BulkAction runs one batch: a single long activity applies the items (each through the
// conversation's own Update, at a bounded rate and concurrency, heartbeating its progress)
// and is retried on another worker after a crash; then the batch's final status is written.
// Cancelling the workflow cancels the activity at its next heartbeat.
func BulkAction(ctx workflow.Context, in BulkInput) error {
	run := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 6 * time.Hour,
		HeartbeatTimeout:    BulkHeartbeatTimeout,
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    20,
		},
	})
	err := workflow.ExecuteActivity(run, ActivityRunBulk, in).Get(run, nil)
	finish := BulkFinish{WorkspaceID: in.WorkspaceID, BulkID: in.BulkID, Status: BulkDone}
	switch {
	case temporal.IsCanceledError(err) || ctx.Err() != nil:
		finish.Status = BulkCancelled
		finish.Reason = "the batch was cancelled before it reached this conversation"
	case err != nil:
		finish.Status = BulkFailed
		finish.Reason = "the batch stopped before it reached this conversation (it failed: " + err.Error() + ")"
	}
	// The final status is written even when the workflow was cancelled.
	done, _ := workflow.NewDisconnectedContext(ctx)
	done = workflow.WithActivityOptions(done, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second},
	})
	if ferr := workflow.ExecuteActivity(done, ActivityFinishBulk, finish).Get(done, nil); ferr != nil {
		return ferr
	}
	if finish.Status == BulkCancelled {
		return temporal.NewCanceledError()
	}
	return nil
}
