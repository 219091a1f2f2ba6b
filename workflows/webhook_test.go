package workflows_test

import (
	"testing"
	"time"

	"github.com/bestai/inbox/workflows"
)

// schedule lists the delays before each retry that the policy allows within the delivery
// window, as Temporal computes them: Initial * Backoff^n, capped at Maximum.
func schedule(r workflows.WebhookRetry) []time.Duration {
	p := workflows.WebhookRetryPolicy(r)
	var out []time.Duration
	total, next := time.Duration(0), p.InitialInterval
	for total+next <= workflows.WebhookDeliveryWindow {
		out = append(out, next)
		total += next
		next = min(time.Duration(float64(next)*p.BackoffCoefficient), p.MaximumInterval)
	}
	return out
}

func TestDefaultWebhookRetryPolicySpansThreeDays(t *testing.T) {
	p := workflows.WebhookRetryPolicy(workflows.WebhookRetry{})
	if p.InitialInterval != 30*time.Second || p.MaximumInterval != 24*time.Hour || p.MaximumAttempts != 0 {
		t.Fatalf("default policy %+v", p)
	}
	s := schedule(workflows.WebhookRetry{})
	var total time.Duration
	for _, d := range s {
		total += d
	}
	// First attempt at once; retries back off to a day apart; the last one lands after
	// two days and within three.
	if len(s) < 7 || len(s) > 10 {
		t.Errorf("%d retries: %v", len(s), s)
	}
	if s[len(s)-1] != 24*time.Hour || s[len(s)-2] != 24*time.Hour {
		t.Errorf("the last retries are not a day apart: %v", s)
	}
	if total < 48*time.Hour || total > workflows.WebhookDeliveryWindow {
		t.Errorf("retries span %s, want between 2 and 3 days", total)
	}
	if workflows.WebhookDeliveryWindow != 72*time.Hour {
		t.Errorf("window %s", workflows.WebhookDeliveryWindow)
	}
	for _, typ := range []string{workflows.WebhookErrGone, workflows.WebhookErrUnusable} {
		found := false
		for _, nr := range p.NonRetryableErrorTypes {
			found = found || nr == typ
		}
		if !found {
			t.Errorf("%s is retried", typ)
		}
	}
	if got := workflows.WebhookDeliveryID([16]byte{1}); got != "webhook-delivery/01000000-0000-0000-0000-000000000000" {
		t.Errorf("workflow id %s", got)
	}
}
