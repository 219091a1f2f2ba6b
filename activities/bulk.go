package activities

import (
	"context"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/bestai/inbox/workflows"
)

// BulkRunner applies the items of a stored batch, each through the same path as the single
// change; the application layer implements it. heartbeat is called as results are
// recorded; a cancelled ctx stops the run after the items in flight.
type BulkRunner interface {
	RunBulk(ctx context.Context, workspaceID, bulkID uuid.UUID, heartbeat func(done int)) error
}

// RunBulk applies a batch's items still to do (a retry after a crash goes on from the
// results recorded so far).
func (a *Activities) RunBulk(ctx context.Context, in workflows.BulkInput) error {
	if a.Bulk == nil {
		return temporal.NewNonRetryableApplicationError("this worker was built without bulk actions", "no_bulk", nil)
	}
	return a.Bulk.RunBulk(ctx, in.WorkspaceID, in.BulkID, func(done int) { activity.RecordHeartbeat(ctx, done) })
}

// FinishBulk writes a batch's final status; the items it did not reach are skipped with
// the reason.
func (a *Activities) FinishBulk(ctx context.Context, in workflows.BulkFinish) error {
	return a.Store.SetBulkStatus(ctx, in.WorkspaceID, in.BulkID, in.Status, in.Reason)
}
