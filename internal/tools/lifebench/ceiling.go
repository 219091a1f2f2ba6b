package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/bestai/inbox/internal/loadgen"
)

// The ceiling's workflow type, Update and task queue: its own, so that nothing of the inbox
// runs on them.
const (
	ceilingWorkflowName = "LifebenchCeiling"
	ceilingUpdateName   = "noop"
	ceilingTaskQueue    = "lifebench-ceiling"
)

// ceilingWorkflow accepts no-op Updates until it is terminated. An Update completes in the
// workflow task that accepts it: no activity, no timer, no search attribute, no other
// command, so one Update is the least a change through a workflow can cost.
func ceilingWorkflow(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandler(ctx, ceilingUpdateName, func(workflow.Context, int) (int, error) {
		return 0, nil
	}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return false })
}

// ceiling measures the ceiling of a lifecycle change on this inbox's own embedded Temporal
// server and store: the same closed loop as the transitions (one workflow per client, each
// client sending the next Update once the last one has completed) with bare no-op Updates.
// The worker that runs ceilingWorkflow is lifebench's, not the inbox process's, so the inbox
// CPU measured over it is the server's share alone.
func ceiling(ctx context.Context, hostPort string, clients []int, d time.Duration, measure func(func() loadgen.Stats) phase) ([]phase, error) {
	quiet := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	c, err := client.DialContext(ctx, client.Options{HostPort: hostPort, Namespace: "default", Logger: quiet})
	if err != nil {
		return nil, fmt.Errorf("ceiling: dial Temporal at %s: %w", hostPort, err)
	}
	defer c.Close()
	w := worker.New(c, ceilingTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(ceilingWorkflow, workflow.RegisterOptions{Name: ceilingWorkflowName})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("ceiling: worker: %w", err)
	}
	defer w.Stop()

	var ids []string
	defer func() {
		// Not left running in the dev server's history (its databases are dropped anyway).
		stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, id := range ids {
			_ = c.TerminateWorkflow(stop, id, "", "lifebench ceiling done")
		}
	}()
	var out []phase
	for _, n := range clients {
		for len(ids) < n {
			id := "lifebench-ceiling-" + uuid.NewString()
			if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: ceilingTaskQueue}, ceilingWorkflowName); err != nil {
				return nil, fmt.Errorf("ceiling: start workflow: %w", err)
			}
			ids = append(ids, id)
		}
		// One Update first on each, so the runs measure warm workflows, as the transitions do.
		for _, id := range ids[:n] {
			if err := noop(ctx, c, id); err != nil {
				return nil, fmt.Errorf("ceiling: first Update: %w", err)
			}
		}
		out = append(out, measure(func() loadgen.Stats {
			return loadgen.Run(ctx, n, d, func(ctx context.Context, i, _ int) loadgen.Outcome {
				t0 := time.Now()
				err := noop(ctx, c, ids[i])
				if err != nil {
					msg := err.Error()
					if errors.Is(err, context.DeadlineExceeded) {
						msg = "deadline"
					} else if len(msg) > 60 {
						msg = msg[:60]
					}
					return loadgen.Outcome{Took: time.Since(t0), Err: msg, Backoff: true}
				}
				return loadgen.Outcome{OK: true, Took: time.Since(t0)}
			})
		}))
	}
	return out, nil
}

// noop sends one no-op Update and waits until it has completed, as a lifecycle change does.
func noop(ctx context.Context, c client.Client, workflowID string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: ceilingUpdateName, Args: []any{0},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	var got int
	return h.Get(ctx, &got)
}
