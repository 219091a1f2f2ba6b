package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/bestai/inbox/workflows"
)

const (
	// readyTimeout bounds one round of checks; they run side by side.
	readyTimeout = 2 * time.Second
	// readyCacheFor lets a burst of unauthenticated /readyz calls share one round of checks
	// instead of each reaching Postgres and Temporal.
	readyCacheFor = time.Second
	// pollerFreshness is how recently a worker must have polled. Matching holds a long poll
	// for up to a minute and records each poll's start and end, so a live worker, even an
	// idle one, is always seen within it; a killed one drops out within it.
	pollerFreshness = 2 * time.Minute
)

// readiness answers /readyz: 200 only when a conversation's workflow could run now.
//   - postgres: a ping.
//   - temporal: DescribeWorkflowExecution of an id nobody uses. The frontend hands it to the
//     history shard that owns the id, so NotFound proves frontend, membership and history
//     all serve; CheckHealth alone says 200 while history has no owner for its shards.
//   - worker: a worker polled the inbox task queue lately (DescribeTaskQueue). This holds
//     for `inbox serve` as well, whose worker runs elsewhere, and, unlike "my worker
//     started", shows the worker's polls actually reach matching.
//
// The body carries one word per dependency; the errors, which name hosts and ports, go to
// the log only.
type readiness struct {
	deps Deps

	mu     sync.Mutex
	at     time.Time
	status int
	checks gin.H
}

func newReadiness(d Deps) *readiness { return &readiness{deps: d} }

func (r *readiness) serve(c *gin.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.at) > readyCacheFor {
		r.status, r.checks = r.check()
		r.at = time.Now()
	}
	c.JSON(r.status, r.checks)
}

func (r *readiness) check() (int, gin.H) {
	// Not the request's context: the result is shared with other callers for a moment, so
	// one caller hanging up must not turn it into "unavailable".
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	probes := map[string]func(context.Context) error{
		"postgres": r.deps.Store.Ping,
		"temporal": r.historyServes,
		"worker":   r.workerPolls,
	}
	errs := make(map[string]error, len(probes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, probe := range probes {
		wg.Go(func() {
			err := probe(ctx)
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	status, checks := http.StatusOK, gin.H{}
	for name, err := range errs {
		checks[name] = "ok"
		if err != nil {
			checks[name], status = "unavailable", http.StatusServiceUnavailable
			r.deps.Logger.Warn("not ready", "dependency", name, "error", err)
		}
	}
	return status, checks
}

func (r *readiness) historyServes(ctx context.Context) error {
	_, err := r.deps.Temporal.DescribeWorkflowExecution(ctx, "readyz-probe/"+uuid.NewString(), "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	if err == nil {
		return errors.New("a workflow exists under the probe's random id")
	}
	return err
}

func (r *readiness) workerPolls(ctx context.Context) error {
	res, err := r.deps.Temporal.DescribeTaskQueue(ctx, workflows.TaskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW)
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
