package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/webhooks"
)

// Limits of webhooks.
const (
	// MaxWebhooks is how many endpoints one workspace may have.
	MaxWebhooks = 10
	// MaxWebhookURLLen bounds an endpoint URL, in bytes.
	MaxWebhookURLLen = 2048
	// MaxDeliveryAttemptsShown is how many of a delivery's latest attempts its detail lists.
	MaxDeliveryAttemptsShown = 100
	// SecretRotationOverlap is how long the previous secret keeps signing after a rotation,
	// so receivers can switch without dropping a webhook.
	SecretRotationOverlap = 24 * time.Hour
)

var (
	errWebhookLimit = Conflict(fmt.Sprintf("this workspace has %d webhooks, the most it may have: delete one first", MaxWebhooks))
	errInFlight     = Conflict("this delivery is still in flight (queued, sending or waiting to retry): redeliver it once it has succeeded or failed")
)

// WebhookInput is a new endpoint: where to send, and which event types.
type WebhookInput struct {
	URL    string
	Events []string
}

// WebhookChanges changes an endpoint; nil fields stay as they are.
type WebhookChanges struct {
	URL     *string
	Events  *[]string
	Enabled *bool
}

// ListWebhooks is a page of the workspace's webhooks, newest first.
func (s *Service) ListWebhooks(ctx context.Context, c *Caller, q Query) (store.WebhookPage, error) {
	if err := s.Authorize(c, domain.ManageWebhooks); err != nil {
		return store.WebhookPage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return store.WebhookPage{}, err
	}
	return s.Store.ListWebhooks(ctx, c.WorkspaceID, limit, cursor)
}

// GetWebhook is one of the workspace's webhooks; another workspace's is ErrNotFound.
func (s *Service) GetWebhook(ctx context.Context, c *Caller, id uuid.UUID) (*store.Webhook, error) {
	if err := s.Authorize(c, domain.ManageWebhooks); err != nil {
		return nil, err
	}
	return s.Store.GetWebhook(ctx, c.WorkspaceID, id)
}

// CreateWebhook adds an endpoint, enabled, and returns it with its signing secret: the
// only time the secret is shown. The secret is stored sealed.
func (s *Service) CreateWebhook(ctx context.Context, c *Caller, in WebhookInput) (*store.Webhook, string, error) {
	if err := s.Authorize(c, domain.ManageWebhooks); err != nil {
		return nil, "", err
	}
	url, err := s.checkWebhookURL(in.URL)
	if err != nil {
		return nil, "", err
	}
	events, err := checkEvents(in.Events)
	if err != nil {
		return nil, "", err
	}
	if s.Secrets == nil {
		return nil, "", Unavailable("webhook secrets cannot be stored: INBOX_SECRET_KEY is not configured", 60)
	}
	now := time.Now().UTC()
	w := &store.Webhook{
		ID: uuid.Must(uuid.NewV7()), WorkspaceID: c.WorkspaceID, URL: url, Events: events, Enabled: true,
		CreatedAt: now, UpdatedAt: now,
	}
	secret := webhooks.NewSecret()
	w.SecretSealed = s.Secrets.Seal([]byte(secret), webhooks.SecretContext(w.ID))
	err = s.Store.CreateWebhook(ctx, w, MaxWebhooks, c.Actor())
	if errors.Is(err, store.ErrWebhookLimit) {
		return nil, "", errWebhookLimit
	}
	if err != nil {
		return nil, "", err
	}
	return w, secret, nil
}

// UpdateWebhook changes an endpoint's URL, event types or whether it is enabled. Enabling
// again one the inbox disabled (a 410) clears the reason.
func (s *Service) UpdateWebhook(ctx context.Context, c *Caller, id uuid.UUID, ch WebhookChanges) (*store.Webhook, error) {
	if err := s.Authorize(c, domain.ManageWebhooks); err != nil {
		return nil, err
	}
	if ch.URL == nil && ch.Events == nil && ch.Enabled == nil {
		return nil, BadRequest("body: give at least one of url, events, enabled")
	}
	var p store.WebhookPatch
	if ch.URL != nil {
		url, err := s.checkWebhookURL(*ch.URL)
		if err != nil {
			return nil, err
		}
		p.URL = &url
	}
	if ch.Events != nil {
		events, err := checkEvents(*ch.Events)
		if err != nil {
			return nil, err
		}
		p.Events = events
	}
	p.Enabled = ch.Enabled
	return s.Store.UpdateWebhook(ctx, c.WorkspaceID, id, p, c.Actor())
}

// DeleteWebhook removes an endpoint and its delivery log; queued deliveries are dropped.
func (s *Service) DeleteWebhook(ctx context.Context, c *Caller, id uuid.UUID) error {
	if err := s.Authorize(c, domain.ManageWebhooks); err != nil {
		return err
	}
	return s.Store.DeleteWebhook(ctx, c.WorkspaceID, id, c.Actor())
}

// RotateWebhookSecret gives an endpoint a new signing secret, returned once. For
// SecretRotationOverlap the previous secret signs too (webhook-signature carries both).
func (s *Service) RotateWebhookSecret(ctx context.Context, c *Caller, id uuid.UUID) (*store.Webhook, string, error) {
	if err := s.Authorize(c, domain.ManageWebhooks); err != nil {
		return nil, "", err
	}
	if s.Secrets == nil {
		return nil, "", Unavailable("webhook secrets cannot be stored: INBOX_SECRET_KEY is not configured", 60)
	}
	secret := webhooks.NewSecret()
	sealed := s.Secrets.Seal([]byte(secret), webhooks.SecretContext(id))
	w, err := s.Store.RotateWebhookSecret(ctx, c.WorkspaceID, id, sealed, time.Now().UTC().Add(SecretRotationOverlap), c.Actor())
	if err != nil {
		return nil, "", err
	}
	return w, secret, nil
}

// WebhookDeliveries is a page of an endpoint's deliveries, newest first.
func (s *Service) WebhookDeliveries(ctx context.Context, c *Caller, webhookID uuid.UUID, q Query) (store.DeliveryPage, error) {
	if err := s.Authorize(c, domain.ManageWebhooks); err != nil {
		return store.DeliveryPage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return store.DeliveryPage{}, err
	}
	return s.Store.ListDeliveries(ctx, c.WorkspaceID, webhookID, limit, cursor)
}

// WebhookDelivery is one delivery with its latest attempts (status code, latency, error),
// oldest first.
func (s *Service) WebhookDelivery(ctx context.Context, c *Caller, webhookID, deliveryID uuid.UUID) (*store.Delivery, []store.DeliveryAttempt, error) {
	if err := s.Authorize(c, domain.ManageWebhooks); err != nil {
		return nil, nil, err
	}
	return s.Store.GetDelivery(ctx, c.WorkspaceID, webhookID, deliveryID, MaxDeliveryAttemptsShown)
}

// RedeliverWebhook sends a finished delivery again: the same body under the same
// webhook-id, so a receiver that has it already can drop it. A delivery still in flight is
// a 409.
func (s *Service) RedeliverWebhook(ctx context.Context, c *Caller, webhookID, deliveryID uuid.UUID) (*store.Delivery, error) {
	if err := s.Authorize(c, domain.ManageWebhooks); err != nil {
		return nil, err
	}
	d, err := s.Store.Redeliver(ctx, c.WorkspaceID, webhookID, deliveryID, c.Actor())
	if errors.Is(err, store.ErrDeliveryInFlight) {
		return nil, errInFlight
	}
	return d, err
}

func (s *Service) checkWebhookURL(raw string) (string, error) {
	url := strings.TrimSpace(raw)
	if url == "" {
		return "", BadRequest("url: required, an absolute http:// or https:// URL")
	}
	if err := CheckText("url", url, MaxWebhookURLLen, true); err != nil {
		return "", err
	}
	if err := webhooks.CheckURL(url, MaxWebhookURLLen, s.WebhookAllowPrivate); err != nil {
		return "", BadRequest("url: %v", err)
	}
	return url, nil
}

// checkEvents reads a list of event types: at least one, each from the fixed list,
// duplicates dropped.
func checkEvents(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, BadRequest("events: give at least one of %s", eventNames())
	}
	if len(in) > 2*len(domain.WebhookEvents) {
		return nil, BadRequest("events: at most %d event types", len(domain.WebhookEvents))
	}
	out := make([]string, 0, len(in))
	for _, e := range in {
		ev, err := domain.ParseWebhookEvent(strings.TrimSpace(e))
		if err != nil {
			return nil, BadRequest("events: %q is not an event type (want %s)", domain.Clip(e, 64), eventNames())
		}
		if !slices.Contains(out, string(ev)) {
			out = append(out, string(ev))
		}
	}
	return out, nil
}

func eventNames() string {
	names := make([]string, len(domain.WebhookEvents))
	for i, e := range domain.WebhookEvents {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}
