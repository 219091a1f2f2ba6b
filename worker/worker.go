// Package worker wires the conversation workflow and its activities onto the inbox task
// queue. It holds no logic of its own.
package worker

import (
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/bestai/inbox/activities"
	"github.com/bestai/inbox/workflows"
)

// Options shape the worker; a zero field keeps the SDK's default.
type Options struct {
	// StopTimeout: Stop stops polling at once, then lets in-flight activities run on for up
	// to this long before their contexts are cancelled; one cut off is retried elsewhere
	// once its heartbeat times out.
	StopTimeout time.Duration
	// WorkflowPollers and ActivityPollers are the long polls kept open for each kind of task.
	WorkflowPollers, ActivityPollers int
}

// New returns a worker for the inbox task queue with everything registered.
func New(c client.Client, acts *activities.Activities, o Options) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{
		WorkerStopTimeout:                o.StopTimeout,
		MaxConcurrentWorkflowTaskPollers: o.WorkflowPollers,
		MaxConcurrentActivityTaskPollers: o.ActivityPollers,
	})
	Register(w, acts)
	return w
}

// Register registers the workflow and activities under the names the workflow calls.
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.Conversation, workflow.RegisterOptions{Name: workflows.ConversationWorkflow})
	r.RegisterActivityWithOptions(acts.ApplyLifecycleChange, activity.RegisterOptions{Name: workflows.ActivityApplyChange})
	r.RegisterActivityWithOptions(acts.ApplyLifecycleChanges, activity.RegisterOptions{Name: workflows.ActivityApplyChanges})
	r.RegisterActivityWithOptions(acts.Summarize, activity.RegisterOptions{Name: workflows.ActivitySummarize})
	r.RegisterActivityWithOptions(acts.RecordSummaryResult, activity.RegisterOptions{Name: workflows.ActivityRecordSummary})
	// Webhooks: a workflow of their own per delivery, on the same task queue.
	r.RegisterWorkflowWithOptions(workflows.WebhookDelivery, workflow.RegisterOptions{Name: workflows.WebhookDeliveryWorkflow})
	r.RegisterActivityWithOptions(acts.DeliverWebhook, activity.RegisterOptions{Name: workflows.ActivityDeliverWebhook})
	r.RegisterActivityWithOptions(acts.FailWebhookDelivery, activity.RegisterOptions{Name: workflows.ActivityFailWebhookDelivery})
	r.RegisterWorkflowWithOptions(workflows.AutoArchiveFanOut, workflow.RegisterOptions{Name: workflows.AutoArchiveFanOutWorkflow})
	r.RegisterActivityWithOptions(acts.ClosedConversationsPage, activity.RegisterOptions{Name: workflows.ActivityClosedPage})
	r.RegisterWorkflowWithOptions(workflows.SLAFanOut, workflow.RegisterOptions{Name: workflows.SLAFanOutWorkflow})
	r.RegisterActivityWithOptions(acts.LoadSLASetting, activity.RegisterOptions{Name: workflows.ActivityLoadSLA})
	r.RegisterActivityWithOptions(acts.WriteSLAClocks, activity.RegisterOptions{Name: workflows.ActivityWriteSLA})
	r.RegisterActivityWithOptions(acts.LiveConversationsPage, activity.RegisterOptions{Name: workflows.ActivityLivePage})
	r.RegisterActivityWithOptions(acts.StartUntouchedConversations, activity.RegisterOptions{Name: workflows.ActivityStartUntouched})
	// Bulk actions: one workflow per batch.
	r.RegisterWorkflowWithOptions(workflows.BulkAction, workflow.RegisterOptions{Name: workflows.BulkActionWorkflow})
	r.RegisterActivityWithOptions(acts.RunBulk, activity.RegisterOptions{Name: workflows.ActivityRunBulk})
	r.RegisterActivityWithOptions(acts.FinishBulk, activity.RegisterOptions{Name: workflows.ActivityFinishBulk})
}
