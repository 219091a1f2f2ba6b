package workflows

import (
	"errors"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The webhook delivery workflow: one per delivery (an outbox row of the store), started by
// the worker's dispatcher. It is separate from the Conversation workflow and shares only its
// task queue. It runs the DeliverWebhook activity under a retry policy that spans up to
// three days; the activity signs and sends one attempt and records it in Postgres.
const (
	WebhookDeliveryWorkflow     = "WebhookDelivery"
	ActivityDeliverWebhook      = "DeliverWebhook"
	ActivityFailWebhookDelivery = "FailWebhookDelivery"
)

// WebhookDeliveryID is the workflow id of a delivery. A redelivery runs again under it,
// after the previous run has finished.
func WebhookDeliveryID(deliveryID uuid.UUID) string { return "webhook-delivery/" + deliveryID.String() }

// WebhookRetry shapes a delivery's retries: the first retry after Initial, each following
// one WebhookBackoff times later, at most Maximum apart, for at most WebhookDeliveryWindow.
type WebhookRetry struct {
	Initial time.Duration `json:"initial"`
	Maximum time.Duration `json:"maximum"`
}

const (
	// WebhookBackoff is the factor between successive retry intervals.
	WebhookBackoff = 4.0
	// WebhookDeliveryWindow is how long a delivery is retried before it is given up.
	WebhookDeliveryWindow = 72 * time.Hour
	// WebhookAttemptTimeout bounds one attempt's activity (the HTTP call is bounded at 10s).
	WebhookAttemptTimeout = time.Minute
)

// DefaultWebhookRetry is production's schedule: at once, then after 30s, 2m, 8m, 32m, about
// 2h, 8.5h, then a day apart, until three days have passed (nine attempts in all).
var DefaultWebhookRetry = WebhookRetry{Initial: 30 * time.Second, Maximum: 24 * time.Hour}

// WebhookRetryPolicy is the activity retry policy of r; zero fields take the default.
func WebhookRetryPolicy(r WebhookRetry) *temporal.RetryPolicy {
	if r.Initial <= 0 {
		r.Initial = DefaultWebhookRetry.Initial
	}
	if r.Maximum <= 0 {
		r.Maximum = DefaultWebhookRetry.Maximum
	}
	return &temporal.RetryPolicy{
		InitialInterval:    r.Initial,
		BackoffCoefficient: WebhookBackoff,
		MaximumInterval:    max(r.Maximum, r.Initial),
		MaximumAttempts:    0, // bounded by WebhookDeliveryWindow instead
		NonRetryableErrorTypes: []string{
			WebhookErrGone, WebhookErrUnusable,
		},
	}
}

// Error types of the DeliverWebhook activity that end a delivery at once.
const (
	// WebhookErrGone: the receiver answered 410; the endpoint has been disabled.
	WebhookErrGone = "gone"
	// WebhookErrUnusable: the endpoint's secret, once opened, cannot sign (it is malformed).
	WebhookErrUnusable = "unusable"
)

// WebhookDeliveryInput names the delivery and generation to send, with its retry schedule.
type WebhookDeliveryInput struct {
	DeliveryID uuid.UUID    `json:"delivery_id"`
	Generation int          `json:"generation"`
	Retry      WebhookRetry `json:"retry"`
}

// WebhookFailure is what the workflow records when a delivery is given up.
type WebhookFailure struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
	Generation int       `json:"generation"`
	Reason     string    `json:"reason"`
}

// WebhookDelivery sends one delivery until a receiver accepts it or the retries run out;
// then it records the failure. It never fails itself: the outcome is in Postgres.
func WebhookDelivery(ctx workflow.Context, in WebhookDeliveryInput) error {
	deliver := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ScheduleToCloseTimeout: WebhookDeliveryWindow,
		StartToCloseTimeout:    WebhookAttemptTimeout,
		RetryPolicy:            WebhookRetryPolicy(in.Retry),
	})
	err := workflow.ExecuteActivity(deliver, ActivityDeliverWebhook, in).Get(ctx, nil)
	if err == nil {
		return nil
	}
	reason := "gave up: no 2xx answer within 3 days"
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == WebhookErrGone {
		reason = app.Message()
	}
	record := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
	})
	return workflow.ExecuteActivity(record, ActivityFailWebhookDelivery,
		WebhookFailure{DeliveryID: in.DeliveryID, Generation: in.Generation, Reason: reason}).Get(ctx, nil)
}
