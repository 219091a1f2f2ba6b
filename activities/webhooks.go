package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/webhooks"
	"github.com/bestai/inbox/workflows"
)

var defaultWebhookClient = webhooks.NewClient(false)

// maxAttemptError bounds the error text recorded with an attempt, in bytes.
const maxAttemptError = 1000

// DeliverWebhook makes one signed attempt at a delivery and records it. It returns nil
// when the receiver answered 2xx, or when there is nothing to send (the delivery was
// deleted, finished, or superseded by a redelivery); a retryable error otherwise, carrying
// the receiver's Retry-After as the next delay; a non-retryable one on 410 Gone, after
// disabling the endpoint.
func (a *Activities) DeliverWebhook(ctx context.Context, in workflows.WebhookDeliveryInput) error {
	d, err := a.Store.DeliveryForSend(ctx, in.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted with its webhook
	}
	if err != nil {
		return err
	}
	ref := store.DeliveryRef{ID: d.ID, Generation: in.Generation}
	if d.Generation != in.Generation || d.Status != domain.DeliveryPending {
		return nil // done already, or a redelivery's run owns it now
	}
	if !d.Enabled {
		return a.Store.FailDelivery(ctx, ref, "the endpoint is disabled", false)
	}
	now := time.Now()
	secrets, err := a.webhookSecrets(d)
	if err != nil {
		// Retried like a failed send, not given up: this worker may lack the key another
		// worker has (a replica with the wrong INBOX_SECRET_KEY), or its configuration may be
		// put right within the delivery's three days. Each attempt says why in the log.
		failed := store.DeliveryAttempt{DeliveryID: d.ID, Generation: in.Generation,
			Attempt: int(activity.GetInfo(ctx).Attempt), At: now.UTC(), Error: err.Error()}
		if rerr := a.Store.RecordDeliveryAttempt(ctx, failed, false); rerr != nil {
			return rerr
		}
		return temporal.NewApplicationError(err.Error(), "secret_unreadable")
	}
	id := d.ID.String()
	signature, err := webhooks.Sign(id, now, []byte(d.Body), secrets...)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.WebhookErrUnusable, nil)
	}
	client := a.WebhookClient
	if client == nil {
		client = defaultWebhookClient
	}
	res := webhooks.Send(ctx, client, d.URL, id, now, []byte(d.Body), signature)
	attempt := store.DeliveryAttempt{
		DeliveryID: d.ID, Generation: in.Generation, Attempt: int(activity.GetInfo(ctx).Attempt),
		At: now.UTC(), LatencyMS: int(res.Latency / time.Millisecond),
	}
	if res.StatusCode != 0 {
		attempt.StatusCode.Int64, attempt.StatusCode.Valid = int64(res.StatusCode), true
	}
	if res.Err != nil {
		attempt.Error = domain.Clip(res.Err.Error(), maxAttemptError)
	}
	// Recorded with a context of its own: an attempt cut off by a worker stopping is still
	// worth its row, and the send is not repeated for want of it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := a.Store.RecordDeliveryAttempt(rctx, attempt, res.OK()); err != nil {
		return err
	}
	switch {
	case res.OK():
		return nil
	case res.StatusCode == 410:
		reason := "the receiver answered 410 Gone: the endpoint has been disabled"
		if err := a.Store.FailDelivery(rctx, ref, reason, true); err != nil {
			return err
		}
		return temporal.NewNonRetryableApplicationError(reason, workflows.WebhookErrGone, nil)
	}
	return temporal.NewApplicationErrorWithOptions(attempt.Error, "delivery_failed", temporal.ApplicationErrorOptions{
		NextRetryDelay: res.RetryAfter, // 0: the retry policy's own back-off
	})
}

// FailWebhookDelivery records that a delivery was given up.
func (a *Activities) FailWebhookDelivery(ctx context.Context, f workflows.WebhookFailure) error {
	return a.Store.FailDelivery(ctx, store.DeliveryRef{ID: f.DeliveryID, Generation: f.Generation}, f.Reason, false)
}

// webhookSecrets opens the endpoint's signing secret and, during a rotation, the previous one.
func (a *Activities) webhookSecrets(d *store.DeliveryToSend) ([]string, error) {
	if a.Secrets == nil {
		return nil, errors.New("the webhook's secret cannot be decrypted on this worker")
	}
	adata := webhooks.SecretContext(d.WebhookID)
	cur, err := a.Secrets.Open(d.SecretSealed, adata)
	if err != nil {
		return nil, errors.New("the webhook's secret cannot be decrypted (was INBOX_SECRET_KEY changed?): rotate its secret")
	}
	out := []string{string(cur)}
	if len(d.PreviousSecretSealed) > 0 && d.PreviousSecretExpiresAt.Valid && time.Now().Before(d.PreviousSecretExpiresAt.Time) {
		if prev, err := a.Secrets.Open(d.PreviousSecretSealed, adata); err == nil {
			out = append(out, string(prev))
		}
	}
	return out, nil
}
