package webhooks

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/workflows"
)

// DefaultSweep is how often the dispatcher looks for undispatched deliveries even when no
// notification came (one lost to a dropped LISTEN connection, or a failed start).
const DefaultSweep = 5 * time.Second

// dispatchBatch is how many deliveries one pass starts at most; a full batch is followed by
// another pass at once.
const dispatchBatch = 200

// Dispatcher starts a WebhookDelivery workflow for every outbox row that has none yet. It
// runs in the worker process. Several dispatchers (several workers) may run at once: a
// second start of a running delivery is refused by Temporal, and a second run of a finished
// one finds nothing to send.
type Dispatcher struct {
	Store    *store.Store
	Temporal client.Client
	// Retry is the schedule passed to each delivery; zero fields take the default.
	Retry  workflows.WebhookRetry
	Sweep  time.Duration // 0: DefaultSweep
	Logger *slog.Logger
}

// Run dispatches on every notification on store.WebhooksChannel and every Sweep, until ctx
// ends.
func (d *Dispatcher) Run(ctx context.Context) {
	logger := d.Logger
	if logger == nil {
		logger = slog.Default()
	}
	sweep := d.Sweep
	if sweep <= 0 {
		sweep = DefaultSweep
	}
	ln := pgdriver.NewListener(d.Store.DB)
	defer ln.Close()
	var notes <-chan pgdriver.Notification
	if err := ln.Listen(ctx, store.WebhooksChannel); err != nil {
		logger.Warn("webhooks: cannot LISTEN, relying on the periodic sweep", "error", err)
	} else {
		notes = ln.Channel(pgdriver.WithChannelSize(64))
	}
	t := time.NewTicker(sweep)
	defer t.Stop()
	for {
		for {
			n, err := d.DispatchPending(ctx)
			if err != nil && ctx.Err() == nil {
				logger.Warn("webhooks: dispatch failed; retrying at the next sweep", "error", err)
			}
			if n < dispatchBatch || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-notes:
		case <-t.C:
		}
	}
}

// DispatchPending starts the workflows of up to one batch of undispatched deliveries and
// returns how many it looked at.
func (d *Dispatcher) DispatchPending(ctx context.Context) (int, error) {
	refs, err := d.Store.UndispatchedDeliveries(ctx, dispatchBatch)
	if err != nil {
		return 0, err
	}
	for _, ref := range refs {
		if err := d.start(ctx, ref); err != nil {
			return len(refs), err
		}
	}
	return len(refs), nil
}

func (d *Dispatcher) start(ctx context.Context, ref store.DeliveryRef) error {
	_, err := d.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    workflows.WebhookDeliveryID(ref.ID),
		TaskQueue:             workflows.TaskQueue,
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.WebhookDeliveryWorkflow, workflows.WebhookDeliveryInput{
		DeliveryID: ref.ID, Generation: ref.Generation, Retry: d.Retry,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started) && ref.Generation > 0:
		// A redelivery asked for while the previous run was finishing: start it once that
		// run has ended (the next sweep).
		return nil
	case errors.As(err, &started):
		// Started by an earlier pass (which died before recording it) or another worker.
	case err != nil:
		return err
	}
	return d.Store.MarkDispatched(ctx, ref)
}
