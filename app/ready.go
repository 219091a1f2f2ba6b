package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/bestai/inbox/workflows"
)

// pollerFreshness is how recently a worker must have polled. Matching holds a long poll for
// up to a minute and records each poll's start and end, so a live worker, even an idle one,
// is always seen within it; a killed one drops out within it.
const pollerFreshness = 2 * time.Minute

// Readiness probes what a conversation's workflow needs to run now, side by side, and
// answers each dependency's error (nil when it serves):
//   - postgres: a ping.
//   - temporal: DescribeWorkflowExecution of an id nobody uses. The frontend hands it to the
//     history shard that owns the id, so NotFound proves frontend, membership and history
//     all serve; CheckHealth alone says 200 while history has no owner for its shards.
//   - worker: a worker polled the inbox task queue lately (DescribeTaskQueue). This holds
//     for `inbox serve` as well, whose worker runs elsewhere, and, unlike "my worker
//     started", shows the worker's polls actually reach matching.
func (s *Service) Readiness(ctx context.Context) map[string]error {
	probes := map[string]func(context.Context) error{
		"postgres": s.Store.Ping,
		"temporal": s.historyServes,
		"worker":   s.workerPolls,
	}
	type outcome struct {
		name string
		err  error
	}
	done := make(chan outcome, len(probes))
	for name, probe := range probes {
		go func() { done <- outcome{name, probe(ctx)} }()
	}
	errs := make(map[string]error, len(probes))
	for range probes {
		o := <-done
		errs[o.name] = o.err
	}
	return errs
}

func (s *Service) historyServes(ctx context.Context) error {
	_, err := s.Lifecycle.Client.DescribeWorkflowExecution(ctx, "readyz-probe/"+uuid.NewString(), "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	if err == nil {
		return errors.New("a workflow exists under the probe's random id")
	}
	return err
}

func (s *Service) workerPolls(ctx context.Context) error {
	res, err := s.Lifecycle.Client.DescribeTaskQueue(ctx, workflows.TaskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return err
	}
	for _, p := range res.GetPollers() {
		if time.Since(p.GetLastAccessTime().AsTime()) < pollerFreshness {
			return nil
		}
	}
	return fmt.Errorf("no poller on task queue %q in the last %v", workflows.TaskQueue, pollerFreshness)
}
