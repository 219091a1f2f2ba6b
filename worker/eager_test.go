package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/grpc"

	"github.com/bestai/inbox/activities"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/worker"
	"github.com/bestai/inbox/workflows"
)

// startCalls records what each StartWorkflowExecution asked for and got back.
type startCalls struct {
	mu    sync.Mutex
	asked []bool // RequestEagerExecution
	got   []bool // the answer carried the first workflow task
}

func (s *startCalls) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoke(ctx, method, req, reply, cc, opts...)
	if start, ok := req.(*workflowservice.StartWorkflowExecutionRequest); ok && err == nil {
		answer, _ := reply.(*workflowservice.StartWorkflowExecutionResponse)
		s.mu.Lock()
		s.asked = append(s.asked, start.GetRequestEagerExecution())
		s.got = append(s.got, answer.GetEagerWorkflowTask() != nil)
		s.mu.Unlock()
	}
	return err
}

func (s *startCalls) last(t *testing.T) (asked, got bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.asked) == 0 {
		t.Fatal("no StartWorkflowExecution was sent")
	}
	return s.asked[len(s.asked)-1], s.got[len(s.got)-1]
}

// A conversation's workflow started next to a worker gets its first workflow task in the
// start's answer, not through matching (so new conversations cannot queue up unrun); with
// no worker in the process the start is a plain one and still works.
func TestStartHandsTheFirstTaskToTheLocalWorker(t *testing.T) {
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	calls := &startCalls{}
	c := srv.NewClientWithOptions(client.Options{ConnectionOptions: client.ConnectionOptions{
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(calls.intercept)},
	}})
	testenv.RegisterSearchAttributes(t, c, srv.GetDefaultNamespace())
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	lifecycle := workflows.Lifecycle{Client: c}

	// No worker on this client yet: nothing to hand the task to.
	alone := workflows.NewInput(uuid.New(), uuid.New())
	if _, err := lifecycle.Start(ctx, alone); err != nil {
		t.Fatalf("start without a worker: %v", err)
	}
	if asked, got := calls.last(t); asked || got {
		t.Errorf("without a worker: asked eager %v, got a task %v; want neither", asked, got)
	}

	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{})
	worker.Register(w, &activities.Activities{})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	in := workflows.NewInput(uuid.New(), uuid.New())
	runID, err := lifecycle.Start(ctx, in)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if asked, got := calls.last(t); !asked || !got {
		t.Fatalf("with a worker: asked eager %v, got the first task %v; want both", asked, got)
	}
	// The worker ran the task it was handed: the first workflow task completes.
	testenv.Eventually(t, 20*time.Second, "the first workflow task completes", func() bool {
		history := c.GetWorkflowHistory(ctx, domain.WorkflowID(in.ConversationID), runID, false,
			enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for history.HasNext() {
			event, err := history.Next()
			if err != nil {
				return false
			}
			if event.GetEventType() == enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
				return true
			}
		}
		return false
	})
}
