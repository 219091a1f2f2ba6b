package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/bestai/inbox/domain"
)

// WebhooksChannel is the NOTIFY channel on which a new or redelivered webhook delivery is
// announced; the worker's dispatcher listens on it (and sweeps periodically besides).
const WebhooksChannel = "inbox_webhooks"

const (
	webhookCursorKind  = "w"
	deliveryCursorKind = "wd"
)

var (
	// ErrWebhookLimit is returned when a workspace already has MaxWebhooks endpoints.
	ErrWebhookLimit = errors.New("webhook limit reached")
	// ErrDeliveryInFlight is returned by Redeliver while the delivery is still pending.
	ErrDeliveryInFlight = errors.New("delivery in flight")
)

// Webhook is an endpoint that receives a workspace's events. Its secrets are sealed.
type Webhook struct {
	bun.BaseModel `bun:"table:webhooks,alias:w"`

	ID                      uuid.UUID    `bun:"id,pk,type:uuid"`
	WorkspaceID             uuid.UUID    `bun:"workspace_id,type:uuid"`
	URL                     string       `bun:"url"`
	Events                  []string     `bun:"events,array"`
	Enabled                 bool         `bun:"enabled"`
	DisabledReason          string       `bun:"disabled_reason"`
	SecretSealed            []byte       `bun:"secret_sealed"`
	PreviousSecretSealed    []byte       `bun:"previous_secret_sealed"`
	PreviousSecretExpiresAt sql.NullTime `bun:"previous_secret_expires_at"`
	CreatedAt               time.Time    `bun:"created_at"`
	UpdatedAt               time.Time    `bun:"updated_at"`
}

// WebhookPage is one page of a workspace's webhooks, newest first.
type WebhookPage struct {
	Items      []Webhook
	NextCursor string
}

// CreateWebhook stores w, refusing with ErrWebhookLimit when the workspace already has max
// endpoints, and audits it, in one transaction.
func (s *Store) CreateWebhook(ctx context.Context, w *Webhook, max int, actor *domain.Actor) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Serialise creations in the workspace so two at once cannot both pass the count.
		if _, err := tx.NewRaw("SELECT 1 FROM workspaces WHERE id = ? FOR UPDATE", w.WorkspaceID).Exec(ctx); err != nil {
			return fmt.Errorf("lock workspace: %w", err)
		}
		n, err := tx.NewSelect().Model((*Webhook)(nil)).Where("workspace_id = ?", w.WorkspaceID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count webhooks: %w", err)
		}
		if n >= max {
			return ErrWebhookLimit
		}
		if _, err := tx.NewInsert().Model(w).Exec(ctx); err != nil {
			return fmt.Errorf("insert webhook: %w", err)
		}
		if err := syncHasWebhooks(ctx, tx, w.WorkspaceID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, &AuditEntry{WorkspaceID: w.WorkspaceID, Actor: actor, Action: domain.AuditWebhookCreated,
			After: map[string]any{"webhook_id": w.ID, "url": w.URL, "events": w.Events, "enabled": w.Enabled}})
	})
}

// ListWebhooks pages through the workspace's webhooks, newest first.
func (s *Store) ListWebhooks(ctx context.Context, workspaceID uuid.UUID, limit int, cursor string) (WebhookPage, error) {
	q := s.DB.NewSelect().Model((*Webhook)(nil)).Where("workspace_id = ?", workspaceID).
		OrderExpr("created_at DESC, id DESC").Limit(limit + 1)
	if cursor != "" {
		c, err := decodeListCursor(cursor, webhookCursorKind)
		if err != nil {
			return WebhookPage{}, err
		}
		q = q.Where("(created_at, id) < (?, ?)", c.At, c.ID)
	}
	var items []Webhook
	if err := q.Scan(ctx, &items); err != nil {
		return WebhookPage{}, err
	}
	var page WebhookPage
	page.Items, page.NextCursor = cutPage(items, limit, webhookCursorKind,
		func(w Webhook) (time.Time, uuid.UUID) { return w.CreatedAt, w.ID })
	return page, nil
}

// GetWebhook returns one of the workspace's webhooks, or ErrNotFound.
func (s *Store) GetWebhook(ctx context.Context, workspaceID, id uuid.UUID) (*Webhook, error) {
	w := new(Webhook)
	err := s.DB.NewSelect().Model(w).Where("workspace_id = ? AND id = ?", workspaceID, id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return w, err
}

// WebhookPatch holds the fields to change; nil leaves a field as it is.
type WebhookPatch struct {
	URL     *string
	Events  []string // nil: unchanged
	Enabled *bool
}

// UpdateWebhook applies p and audits the change; a patch that changes nothing records nothing.
func (s *Store) UpdateWebhook(ctx context.Context, workspaceID, id uuid.UUID, p WebhookPatch, actor *domain.Actor) (*Webhook, error) {
	var out *Webhook
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		w := new(Webhook)
		err := tx.NewSelect().Model(w).Where("workspace_id = ? AND id = ?", workspaceID, id).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		out = w
		before, after := map[string]any{}, map[string]any{}
		q := tx.NewUpdate().Model((*Webhook)(nil)).Where("id = ?", id)
		if p.URL != nil && *p.URL != w.URL {
			before["url"], after["url"] = w.URL, *p.URL
			q = q.Set("url = ?", *p.URL)
			w.URL = *p.URL
		}
		if p.Events != nil && !sameSet(p.Events, w.Events) {
			before["events"], after["events"] = w.Events, p.Events
			q = q.Set("events = ?", pgArray(p.Events))
			w.Events = p.Events
		}
		if p.Enabled != nil && *p.Enabled != w.Enabled {
			before["enabled"], after["enabled"] = w.Enabled, *p.Enabled
			q = q.Set("enabled = ?", *p.Enabled).Set("disabled_reason = ''")
			w.Enabled, w.DisabledReason = *p.Enabled, ""
		}
		if len(after) == 0 {
			return nil
		}
		w.UpdatedAt = time.Now().UTC()
		if _, err := q.Set("updated_at = ?", w.UpdatedAt).Exec(ctx); err != nil {
			return fmt.Errorf("update webhook: %w", err)
		}
		if _, ok := after["enabled"]; ok {
			if err := syncHasWebhooks(ctx, tx, workspaceID); err != nil {
				return err
			}
		}
		after["webhook_id"] = id
		return insertAudit(ctx, tx, &AuditEntry{WorkspaceID: workspaceID, Actor: actor, Action: domain.AuditWebhookUpdated,
			Before: before, After: after})
	})
	return out, err
}

// DeleteWebhook removes a webhook and its deliveries, and audits it. Delivery workflows
// still running find their row gone and stop.
func (s *Store) DeleteWebhook(ctx context.Context, workspaceID, id uuid.UUID, actor *domain.Actor) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var url string
		err := tx.NewDelete().Model((*Webhook)(nil)).Where("workspace_id = ? AND id = ?", workspaceID, id).
			Returning("url").Scan(ctx, &url)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}
		if err := syncHasWebhooks(ctx, tx, workspaceID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, &AuditEntry{WorkspaceID: workspaceID, Actor: actor, Action: domain.AuditWebhookDeleted,
			Before: map[string]any{"webhook_id": id, "url": url}})
	})
}

// RotateWebhookSecret makes sealed the signing secret; the current one keeps signing too
// until previousUntil. It is audited (never with a secret).
func (s *Store) RotateWebhookSecret(ctx context.Context, workspaceID, id uuid.UUID, sealed []byte, previousUntil time.Time, actor *domain.Actor) (*Webhook, error) {
	var out *Webhook
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		w := new(Webhook)
		err := tx.NewUpdate().Model(w).
			Set("previous_secret_sealed = secret_sealed").Set("previous_secret_expires_at = ?", previousUntil).
			Set("secret_sealed = ?", sealed).Set("updated_at = now()").
			Where("workspace_id = ? AND id = ?", workspaceID, id).Returning("*").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("rotate webhook secret: %w", err)
		}
		out = w
		return insertAudit(ctx, tx, &AuditEntry{WorkspaceID: workspaceID, Actor: actor, Action: domain.AuditWebhookSecretRotated,
			After: map[string]any{"webhook_id": id, "previous_secret_expires_at": previousUntil}})
	})
	return out, err
}

// Delivery is one event bound for one endpoint, with where its delivery stands.
type Delivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries,alias:d"`

	ID             uuid.UUID             `bun:"id,pk,type:uuid"`
	WebhookID      uuid.UUID             `bun:"webhook_id,type:uuid"`
	WorkspaceID    uuid.UUID             `bun:"workspace_id,type:uuid"`
	Event          domain.WebhookEvent   `bun:"event"`
	Body           string                `bun:"body"`
	Status         domain.DeliveryStatus `bun:"status"`
	Generation     int                   `bun:"generation"`
	Attempts       int                   `bun:"attempts"`
	LastStatusCode sql.NullInt64         `bun:"last_status_code"`
	LastError      string                `bun:"last_error"`
	CreatedAt      time.Time             `bun:"created_at"`
	DeliveredAt    sql.NullTime          `bun:"delivered_at"`
	DispatchedAt   sql.NullTime          `bun:"dispatched_at"`
}

// DeliveryAttempt is one HTTP attempt of a delivery.
type DeliveryAttempt struct {
	bun.BaseModel `bun:"table:webhook_attempts"`

	ID         int64         `bun:"id,pk,autoincrement"`
	DeliveryID uuid.UUID     `bun:"delivery_id,type:uuid"`
	Generation int           `bun:"generation"`
	Attempt    int           `bun:"attempt"`
	At         time.Time     `bun:"at"`
	StatusCode sql.NullInt64 `bun:"status_code"`
	LatencyMS  int           `bun:"latency_ms"`
	Error      string        `bun:"error"`
}

// DeliveryPage is one page of a webhook's deliveries, newest first.
type DeliveryPage struct {
	Items      []Delivery
	NextCursor string
}

// ListDeliveries pages through a webhook's deliveries, newest first; ErrNotFound when the
// webhook is not the workspace's.
func (s *Store) ListDeliveries(ctx context.Context, workspaceID, webhookID uuid.UUID, limit int, cursor string) (DeliveryPage, error) {
	if _, err := s.GetWebhook(ctx, workspaceID, webhookID); err != nil {
		return DeliveryPage{}, err
	}
	q := s.DB.NewSelect().Model((*Delivery)(nil)).ExcludeColumn("body").
		Where("workspace_id = ? AND webhook_id = ?", workspaceID, webhookID).
		OrderExpr("created_at DESC, id DESC").Limit(limit + 1)
	if cursor != "" {
		c, err := decodeListCursor(cursor, deliveryCursorKind)
		if err != nil {
			return DeliveryPage{}, err
		}
		q = q.Where("(created_at, id) < (?, ?)", c.At, c.ID)
	}
	var items []Delivery
	if err := q.Scan(ctx, &items); err != nil {
		return DeliveryPage{}, err
	}
	var page DeliveryPage
	page.Items, page.NextCursor = cutPage(items, limit, deliveryCursorKind,
		func(d Delivery) (time.Time, uuid.UUID) { return d.CreatedAt, d.ID })
	return page, nil
}

// GetDelivery returns a delivery of the workspace's webhook with its latest maxAttempts
// attempts, oldest first.
func (s *Store) GetDelivery(ctx context.Context, workspaceID, webhookID, id uuid.UUID, maxAttempts int) (*Delivery, []DeliveryAttempt, error) {
	d := new(Delivery)
	err := s.DB.NewSelect().Model(d).Where("workspace_id = ? AND webhook_id = ? AND id = ?", workspaceID, webhookID, id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	var attempts []DeliveryAttempt
	if err := s.DB.NewSelect().Model(&attempts).Where("delivery_id = ?", id).
		OrderExpr("id DESC").Limit(maxAttempts).Scan(ctx); err != nil {
		return nil, nil, err
	}
	for i, j := 0, len(attempts)-1; i < j; i, j = i+1, j-1 {
		attempts[i], attempts[j] = attempts[j], attempts[i]
	}
	return d, attempts, nil
}

// Redeliver queues a finished delivery again: same id and body (so the same webhook-id), a
// new generation. ErrDeliveryInFlight while it is still pending.
func (s *Store) Redeliver(ctx context.Context, workspaceID, webhookID, id uuid.UUID, actor *domain.Actor) (*Delivery, error) {
	var out *Delivery
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d := new(Delivery)
		err := tx.NewSelect().Model(d).Where("workspace_id = ? AND webhook_id = ? AND id = ?", workspaceID, webhookID, id).
			For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if d.Status == domain.DeliveryPending {
			return ErrDeliveryInFlight
		}
		if err := tx.NewUpdate().Model(d).
			Set("status = ?", domain.DeliveryPending).Set("generation = generation + 1").
			Set("dispatched_at = NULL").Set("last_error = ''").
			WherePK().Returning("*").Scan(ctx); err != nil {
			return fmt.Errorf("redeliver: %w", err)
		}
		out = d
		if err := insertAudit(ctx, tx, &AuditEntry{WorkspaceID: workspaceID, Actor: actor, Action: domain.AuditWebhookRedelivered,
			After: map[string]any{"webhook_id": webhookID, "delivery_id": id, "generation": d.Generation}}); err != nil {
			return err
		}
		return notifyWebhooks(ctx, tx)
	})
	return out, err
}

// webhookBody is the JSON every endpoint receives.
type webhookBody struct {
	Type      domain.WebhookEvent `json:"type"`
	Timestamp time.Time           `json:"timestamp"`
	Data      map[string]any      `json:"data"`
}

// enqueueWebhookEvent records event in the outbox: one delivery per enabled endpoint of the
// workspace subscribed to it. It must run inside the transaction of the change that causes
// the event, after the point where a repeated (idempotent) write has returned, so the
// event exists exactly when the change does. data gains the workspace id.
func enqueueWebhookEvent(ctx context.Context, tx bun.Tx, workspaceID uuid.UUID, event domain.WebhookEvent, data map[string]any) error {
	var hooks []uuid.UUID
	if err := tx.NewSelect().Model((*Webhook)(nil)).Column("id").
		Where("workspace_id = ? AND enabled AND ? = ANY(events)", workspaceID, string(event)).
		Scan(ctx, &hooks); err != nil {
		return fmt.Errorf("find webhooks: %w", err)
	}
	if len(hooks) == 0 {
		return nil
	}
	now := time.Now().UTC()
	data["workspace_id"] = workspaceID
	body, err := json.Marshal(webhookBody{Type: event, Timestamp: now, Data: data})
	if err != nil {
		return fmt.Errorf("webhook body: %w", err)
	}
	rows := make([]Delivery, len(hooks))
	for i, h := range hooks {
		rows[i] = Delivery{ID: uuid.Must(uuid.NewV7()), WebhookID: h, WorkspaceID: workspaceID, Event: event,
			Body: string(body), Status: domain.DeliveryPending, CreatedAt: now}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert webhook deliveries: %w", err)
	}
	return notifyWebhooks(ctx, tx)
}

func notifyWebhooks(ctx context.Context, tx bun.Tx) error {
	if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, '')", WebhooksChannel); err != nil {
		return fmt.Errorf("notify webhooks: %w", err)
	}
	return nil
}

// DeliveryRef names one generation of a delivery: what a delivery workflow runs.
type DeliveryRef struct {
	ID         uuid.UUID `bun:"id,type:uuid"`
	Generation int       `bun:"generation"`
}

// UndispatchedDeliveries returns up to limit deliveries no workflow has been started for
// yet, oldest first.
func (s *Store) UndispatchedDeliveries(ctx context.Context, limit int) ([]DeliveryRef, error) {
	var out []DeliveryRef
	err := s.DB.NewSelect().Model((*Delivery)(nil)).Column("id", "generation").
		Where("dispatched_at IS NULL").OrderExpr("created_at, id").Limit(limit).Scan(ctx, &out)
	return out, err
}

// MarkDispatched records that the workflow of ref has been started.
func (s *Store) MarkDispatched(ctx context.Context, ref DeliveryRef) error {
	_, err := s.DB.NewUpdate().Model((*Delivery)(nil)).Set("dispatched_at = now()").
		Where("id = ? AND generation = ? AND dispatched_at IS NULL", ref.ID, ref.Generation).Exec(ctx)
	return err
}

// DeliveryToSend is a pending delivery with its endpoint, as the delivery activity needs it.
type DeliveryToSend struct {
	Delivery `bun:",extend"`

	URL                     string       `bun:"url"`
	Enabled                 bool         `bun:"enabled"`
	SecretSealed            []byte       `bun:"secret_sealed"`
	PreviousSecretSealed    []byte       `bun:"previous_secret_sealed"`
	PreviousSecretExpiresAt sql.NullTime `bun:"previous_secret_expires_at"`
}

// DeliveryForSend returns the delivery with its endpoint; ErrNotFound when it (or its
// webhook) was deleted.
func (s *Store) DeliveryForSend(ctx context.Context, id uuid.UUID) (*DeliveryToSend, error) {
	d := new(DeliveryToSend)
	err := s.DB.NewSelect().Model(d).ColumnExpr("d.*").
		ColumnExpr("w.url, w.enabled, w.secret_sealed, w.previous_secret_sealed, w.previous_secret_expires_at").
		Join("JOIN webhooks AS w ON w.id = d.webhook_id").Where("d.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return d, err
}

// RecordDeliveryAttempt stores one attempt of a generation and what it means for the
// delivery: succeeded on success, still pending otherwise. An attempt of an older
// generation, or of a delivery already finished, is kept in the log but changes nothing.
func (s *Store) RecordDeliveryAttempt(ctx context.Context, a DeliveryAttempt, succeeded bool) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&a).Exec(ctx); err != nil {
			return fmt.Errorf("insert webhook attempt: %w", err)
		}
		q := tx.NewUpdate().Model((*Delivery)(nil)).
			Set("attempts = attempts + 1").Set("last_status_code = ?", a.StatusCode).Set("last_error = ?", a.Error).
			Where("id = ? AND generation = ? AND status = ?", a.DeliveryID, a.Generation, domain.DeliveryPending)
		if succeeded {
			q = q.Set("status = ?", domain.DeliverySucceeded).Set("delivered_at = ?", a.At)
		}
		_, err := q.Exec(ctx)
		return err
	})
}

// FailDelivery marks a pending generation failed with reason; with disable it also turns
// its endpoint off (the receiver answered 410 Gone).
func (s *Store) FailDelivery(ctx context.Context, ref DeliveryRef, reason string, disable bool) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var webhookID uuid.UUID
		err := tx.NewUpdate().Model((*Delivery)(nil)).Set("status = ?", domain.DeliveryFailed).
			Set("last_error = CASE WHEN last_error = '' THEN ? ELSE last_error END", reason).
			Where("id = ? AND generation = ? AND status = ?", ref.ID, ref.Generation, domain.DeliveryPending).
			Returning("webhook_id").Scan(ctx, &webhookID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // finished already, redelivered, or deleted
		}
		if err != nil || !disable {
			return err
		}
		var workspaceID uuid.UUID
		err = tx.NewUpdate().Model((*Webhook)(nil)).Set("enabled = false").Set("disabled_reason = ?", reason).
			Set("updated_at = now()").Where("id = ?", webhookID).Returning("workspace_id").Scan(ctx, &workspaceID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		return syncHasWebhooks(ctx, tx, workspaceID)
	})
}

// syncHasWebhooks sets workspaces.has_webhooks to whether the workspace has an enabled
// endpoint, in the transaction that changed its endpoints. It locks the workspace row
// first and only then looks at the endpoints, in a statement of its own: a concurrent
// change to another endpoint of the workspace waits for this transaction, and its own
// look then sees this one's endpoints committed (READ COMMITTED takes a snapshot per
// statement), so the last to commit writes the truth. A lifecycle write reads the flag
// with its own UPDATE (ApplyLifecycleChange), on whichever replica it runs.
func syncHasWebhooks(ctx context.Context, tx bun.Tx, workspaceID uuid.UUID) error {
	if _, err := tx.NewRaw("SELECT 1 FROM workspaces WHERE id = ? FOR UPDATE", workspaceID).Exec(ctx); err != nil {
		return fmt.Errorf("lock workspace: %w", err)
	}
	if _, err := tx.NewRaw(`UPDATE workspaces SET has_webhooks = EXISTS (
		SELECT 1 FROM webhooks WHERE workspace_id = ? AND enabled) WHERE id = ?`, workspaceID, workspaceID).Exec(ctx); err != nil {
		return fmt.Errorf("webhooks flag: %w", err)
	}
	return nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]bool, len(a))
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			return false
		}
	}
	return true
}

// pgArray wraps a slice for a text[] column in a raw Set.
func pgArray(v []string) any { return pgdialect.Array(v) }
