package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
)

// webhookItem is an endpoint as the API shows it: never its secret.
type webhookItem struct {
	ID             uuid.UUID `json:"id"`
	URL            string    `json:"url"`
	Events         []string  `json:"events"`
	Enabled        bool      `json:"enabled"`
	DisabledReason *string   `json:"disabled_reason"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// SecretRotationEndsAt is when the previous secret stops signing; null outside a rotation.
	SecretRotationEndsAt *time.Time `json:"secret_rotation_ends_at"`
}

func toWebhook(w *app.Webhook) webhookItem {
	out := webhookItem{ID: w.ID, URL: w.URL, Events: w.Events, Enabled: w.Enabled,
		DisabledReason: nonEmpty(w.DisabledReason), CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC()}
	if out.Events == nil {
		out.Events = []string{}
	}
	if w.PreviousSecretExpiresAt.Valid && w.PreviousSecretExpiresAt.Time.After(time.Now()) {
		t := w.PreviousSecretExpiresAt.Time.UTC()
		out.SecretRotationEndsAt = &t
	}
	return out
}

// deliveryItem is one delivery of an event to an endpoint.
type deliveryItem struct {
	ID             uuid.UUID  `json:"id"`
	Event          string     `json:"event"`
	WebhookID      uuid.UUID  `json:"webhook_id"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	LastStatusCode *int64     `json:"last_status_code"`
	LastError      *string    `json:"last_error"`
	CreatedAt      time.Time  `json:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
}

func toDelivery(d *app.Delivery) deliveryItem {
	out := deliveryItem{ID: d.ID, Event: string(d.Event), WebhookID: d.WebhookID, Status: string(d.Status),
		Attempts: d.Attempts, LastError: nonEmpty(d.LastError), CreatedAt: d.CreatedAt.UTC(),
		DeliveredAt: timePtr(d.DeliveredAt.Time, d.DeliveredAt.Valid)}
	if d.LastStatusCode.Valid {
		out.LastStatusCode = &d.LastStatusCode.Int64
	}
	return out
}

// attemptItem is one HTTP attempt of a delivery.
type attemptItem struct {
	Attempt    int       `json:"attempt"`
	Generation int       `json:"generation"`
	At         time.Time `json:"at"`
	StatusCode *int64    `json:"status_code"`
	LatencyMS  int       `json:"latency_ms"`
	Error      *string   `json:"error"`
}

func (s *server) listWebhooks(c *gin.Context) {
	q, err := app.ReadQuery(c.Request.URL.Query(), "limit", "cursor")
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.App.ListWebhooks(c.Request.Context(), caller(c), q)
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]webhookItem, len(page.Items))
	for i := range page.Items {
		items[i] = toWebhook(&page.Items[i])
	}
	writePage(c, items, page.NextCursor)
}

func (s *server) createWebhook(c *gin.Context) {
	var body struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	w, secret, err := s.App.CreateWebhook(c.Request.Context(), caller(c), app.WebhookInput{URL: body.URL, Events: body.Events})
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusCreated, newWebhookAnswer{Webhook: toWebhook(w), Secret: secret})
}

func (s *server) getWebhook(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	w, err := s.App.GetWebhook(c.Request.Context(), caller(c), id)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toWebhook(w))
}

func (s *server) patchWebhook(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	var body struct {
		URL     *string   `json:"url"`
		Events  *[]string `json:"events"`
		Enabled *bool     `json:"enabled"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	w, err := s.App.UpdateWebhook(c.Request.Context(), caller(c), id,
		app.WebhookChanges{URL: body.URL, Events: body.Events, Enabled: body.Enabled})
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toWebhook(w))
}

func (s *server) deleteWebhook(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	if err := s.App.DeleteWebhook(c.Request.Context(), caller(c), id); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) rotateWebhookSecret(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	w, secret, err := s.App.RotateWebhookSecret(c.Request.Context(), caller(c), id)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, newWebhookAnswer{Webhook: toWebhook(w), Secret: secret})
}

func (s *server) listDeliveries(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	q, err := app.ReadQuery(c.Request.URL.Query(), "limit", "cursor")
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.App.WebhookDeliveries(c.Request.Context(), caller(c), id, q)
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]deliveryItem, len(page.Items))
	for i := range page.Items {
		items[i] = toDelivery(&page.Items[i])
	}
	writePage(c, items, page.NextCursor)
}

func deliveryTarget(c *gin.Context) (webhookID, deliveryID uuid.UUID, err error) {
	if webhookID, err = pathID(c, "id"); err != nil {
		return
	}
	deliveryID, err = pathID(c, "delivery_id")
	return
}

func (s *server) getDelivery(c *gin.Context) {
	webhookID, deliveryID, err := deliveryTarget(c)
	if err != nil {
		respond(c, err)
		return
	}
	d, attempts, err := s.App.WebhookDelivery(c.Request.Context(), caller(c), webhookID, deliveryID)
	if err != nil {
		respond(c, err)
		return
	}
	log := make([]attemptItem, len(attempts))
	for i, a := range attempts {
		log[i] = attemptItem{Attempt: a.Attempt, Generation: a.Generation, At: a.At.UTC(), LatencyMS: a.LatencyMS, Error: nonEmpty(a.Error)}
		if a.StatusCode.Valid {
			code := a.StatusCode.Int64
			log[i].StatusCode = &code
		}
	}
	c.JSON(http.StatusOK, deliveryAnswer{Delivery: toDelivery(d), Body: json.RawMessage(d.Body), AttemptLog: log})
}

func (s *server) redeliver(c *gin.Context) {
	webhookID, deliveryID, err := deliveryTarget(c)
	if err != nil {
		respond(c, err)
		return
	}
	d, err := s.App.RedeliverWebhook(c.Request.Context(), caller(c), webhookID, deliveryID)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusAccepted, redeliveryAnswer{Delivery: toDelivery(d)})
}
