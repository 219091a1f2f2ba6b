package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// SectionWebhooks is the Webhooks page of a workspace (owners and admins).
const SectionWebhooks = "webhooks"

// webhookForm is the endpoint form as sent, so a refused one is shown again as typed.
type webhookForm struct {
	URL     string
	Events  []string
	Enabled bool
}

// Has reports whether the form has the event type ticked.
func (f webhookForm) Has(event domain.WebhookEvent) bool {
	for _, e := range f.Events {
		if e == string(event) {
			return true
		}
	}
	return false
}

func formOf(w app.Webhook) webhookForm {
	return webhookForm{URL: w.URL, Events: w.Events, Enabled: w.Enabled}
}

// webhooksData is the Data of the Webhooks list page.
type webhooksData struct {
	Workspace string
	Webhooks  []app.Webhook
	// MoreURL is the next page of endpoints; FirstURL the first, when on a later one.
	MoreURL, FirstURL string
	// Form is the add form as sent, with its refusal in words.
	Form      webhookForm
	FormError string
	// Created is the endpoint just added, with its secret shown this once.
	Created *app.Webhook
	Secret  string
	Notice  string
}

// Events lists the event types, for the form's checkboxes.
func (webhooksData) Events() []domain.WebhookEvent { return domain.WebhookEvents }

// WebhookPath is the page of one endpoint.
func (d webhooksData) WebhookPath(id uuid.UUID) string { return webhookPath(d.Workspace, id) }

func webhookPath(workspace string, id uuid.UUID) string {
	return WorkspacePath(workspace, SectionWebhooks) + "/" + id.String()
}

// webhookData is the Data of one endpoint's page.
type webhookData struct {
	Workspace string
	Webhook   *app.Webhook
	Form      webhookForm
	FormError string
	// Secret is a new secret after a rotation, shown this once.
	Secret string
	// ConfirmDelete and ConfirmRotate are the confirm steps of those two actions.
	ConfirmDelete, ConfirmRotate bool
	Deliveries                   []app.Delivery
	MoreURL, FirstURL            string
	// Delivery is the delivery opened in the log (?delivery=<id>), with its attempts.
	Delivery *app.Delivery
	Attempts []app.DeliveryAttempt
	// Refused names the delivery whose redelivery was refused, and why.
	RefusedDelivery uuid.UUID
	RefusedText     string
	Notice          string
}

// Events lists the event types, for the form's checkboxes.
func (webhookData) Events() []domain.WebhookEvent { return domain.WebhookEvents }

// Path is this endpoint's page.
func (d webhookData) Path() string { return webhookPath(d.Workspace, d.Webhook.ID) }

// DeliveryPath opens a delivery of the log, keeping the log's page.
func (d webhookData) DeliveryPath(id uuid.UUID) string {
	return d.Path() + "?delivery=" + id.String() + "#delivery-" + id.String()
}

// Finished reports whether a delivery may be sent again (it is not in flight).
func (webhookData) Finished(dl app.Delivery) bool { return dl.Status != domain.DeliveryPending }

var webhookNotices = map[string]string{
	"saved":       "Saved. New events use these settings.",
	"deleted":     "Webhook deleted, with its delivery log. Events are no longer sent to it.",
	"redelivered": "Redelivery queued: the same body is sent again under the same webhook-id. Its attempts appear below.",
}

// webhooksForbidden explains the refusal of the pages to support members and viewers.
func (s *Site) webhooksForbidden(c *gin.Context) {
	s.web.Render.errorPage(c, http.StatusForbidden, "Webhooks are for owners and admins",
		"Only an owner or an admin of this workspace can see and change where its events are sent. Ask one of them if a webhook needs changing.")
}

// webhookFailure is a whole page for an error that has no control to stand next to.
func (s *Site) webhookFailure(c *gin.Context, err error) {
	if errors.Is(err, app.ErrForbidden) {
		s.webhooksForbidden(c)
		return
	}
	s.fail(c, err)
}

// webhookRefusal is the words of a refused write, shown next to its form; ok is false for
// anything else (a 404, the 403, an outage), which is a whole page.
func webhookRefusal(err error) (status int, text string, ok bool) {
	if errors.Is(err, app.ErrForbidden) {
		return 0, "", false
	}
	return refusal(err)
}

// webhooksPage loads the list page's endpoints.
func (s *Site) webhooksPage(c *gin.Context) (webhooksData, error) {
	caller := callerOf(c)
	SetTitle(c, "Webhooks")
	SetSection(c, SectionWebhooks)
	d := webhooksData{Workspace: caller.WorkspaceID.String(), Notice: webhookNotices[c.Query("done")],
		Form: webhookForm{Enabled: true}}
	cursor := c.Query("cursor")
	page, err := s.App.ListWebhooks(c.Request.Context(), caller, pageQuery(cursor))
	if err != nil {
		return d, err
	}
	d.Webhooks = page.Items
	path := WorkspacePath(d.Workspace, SectionWebhooks)
	if page.NextCursor != "" {
		d.MoreURL = withQuery(path, url.Values{"cursor": {page.NextCursor}})
	}
	if cursor != "" {
		d.FirstURL = path
	}
	return d, nil
}

// webhooks is the list of the workspace's endpoints and the form that adds one.
func (s *Site) webhooks(c *gin.Context) {
	d, err := s.webhooksPage(c)
	if err != nil {
		s.webhookFailure(c, err)
		return
	}
	s.web.Render.Page(c, http.StatusOK, "webhooks", d)
}

// createWebhook adds an endpoint and shows its secret on the answer, the only time it is
// shown.
func (s *Site) createWebhook(c *gin.Context) {
	form := webhookForm{URL: c.PostForm("url"), Events: c.PostFormArray("events"), Enabled: true}
	created, secret, err := s.App.CreateWebhook(c.Request.Context(), callerOf(c), app.WebhookInput{URL: form.URL, Events: form.Events})
	status, text := http.StatusOK, ""
	if err != nil {
		var ok bool
		if status, text, ok = webhookRefusal(err); !ok {
			s.webhookFailure(c, err)
			return
		}
	}
	d, lerr := s.webhooksPage(c)
	if lerr != nil {
		s.webhookFailure(c, lerr)
		return
	}
	if err != nil {
		d.Form, d.FormError = form, text
	} else {
		c.Header("Cache-Control", "no-store") // the secret
		d.Created, d.Secret = created, secret
		status = http.StatusCreated
	}
	s.web.Render.Page(c, status, "webhooks", d)
}

// webhookParams reads the endpoint id of the path; a malformed one is the 404 page.
func (s *Site) webhookParams(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("webhook_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return uuid.Nil, false
	}
	return id, true
}

// webhookPage loads one endpoint, a page of its delivery log and the delivery opened in it.
func (s *Site) webhookPage(c *gin.Context, id uuid.UUID) (webhookData, error) {
	caller := callerOf(c)
	ctx := c.Request.Context()
	SetSection(c, SectionWebhooks)
	d := webhookData{Workspace: caller.WorkspaceID.String(), Notice: webhookNotices[c.Query("done")]}
	w, err := s.App.GetWebhook(ctx, caller, id)
	if err != nil {
		return d, err
	}
	SetTitle(c, "Webhook "+w.URL)
	d.Webhook, d.Form = w, formOf(*w)
	cursor := c.Query("cursor")
	page, err := s.App.WebhookDeliveries(ctx, caller, id, pageQuery(cursor))
	if err != nil {
		return d, err
	}
	d.Deliveries = page.Items
	if page.NextCursor != "" {
		d.MoreURL = withQuery(d.Path(), url.Values{"cursor": {page.NextCursor}})
	}
	if cursor != "" {
		d.FirstURL = d.Path()
	}
	if raw := c.Query("delivery"); raw != "" {
		deliveryID, err := uuid.Parse(raw)
		if err != nil {
			return d, app.ErrNotFound
		}
		if d.Delivery, d.Attempts, err = s.App.WebhookDelivery(ctx, caller, id, deliveryID); err != nil {
			return d, err
		}
	}
	return d, nil
}

// webhook is one endpoint's page.
func (s *Site) webhook(c *gin.Context) {
	id, ok := s.webhookParams(c)
	if !ok {
		return
	}
	d, err := s.webhookPage(c, id)
	if err != nil {
		s.webhookFailure(c, err)
		return
	}
	d.ConfirmDelete = c.Query("confirm") == "delete"
	d.ConfirmRotate = c.Query("confirm") == "rotate"
	s.web.Render.Page(c, http.StatusOK, "webhook", d)
}

// updateWebhook saves the endpoint's URL, event types and whether it is enabled.
func (s *Site) updateWebhook(c *gin.Context) {
	id, ok := s.webhookParams(c)
	if !ok {
		return
	}
	form := webhookForm{URL: c.PostForm("url"), Events: c.PostFormArray("events"), Enabled: c.PostForm("enabled") == "on"}
	events := form.Events
	_, err := s.App.UpdateWebhook(c.Request.Context(), callerOf(c), id, app.WebhookChanges{URL: &form.URL, Events: &events, Enabled: &form.Enabled})
	if err == nil {
		SeeOther(c, webhookPath(callerOf(c).WorkspaceID.String(), id)+"?done=saved")
		return
	}
	s.refuseOnWebhook(c, id, err, func(d *webhookData, text string) { d.Form, d.FormError = form, text })
}

// refuseOnWebhook shows a refused write on the endpoint's page, its words placed by show
// next to the control; anything else (a 404, the 403, an outage) is a whole page.
func (s *Site) refuseOnWebhook(c *gin.Context, id uuid.UUID, err error, show func(d *webhookData, text string)) {
	status, text, shown := webhookRefusal(err)
	if !shown {
		s.webhookFailure(c, err)
		return
	}
	d, lerr := s.webhookPage(c, id)
	if lerr != nil {
		s.webhookFailure(c, lerr)
		return
	}
	show(&d, text)
	s.web.Render.Page(c, status, "webhook", d)
}

// rotateWebhookSecret gives the endpoint a new secret, shown on the answer only.
func (s *Site) rotateWebhookSecret(c *gin.Context) {
	id, ok := s.webhookParams(c)
	if !ok {
		return
	}
	_, secret, err := s.App.RotateWebhookSecret(c.Request.Context(), callerOf(c), id)
	if err != nil {
		s.webhookFailure(c, err)
		return
	}
	d, err := s.webhookPage(c, id)
	if err != nil {
		s.webhookFailure(c, err)
		return
	}
	c.Header("Cache-Control", "no-store") // the secret
	d.Secret = secret
	s.web.Render.Page(c, http.StatusOK, "webhook", d)
}

// deleteWebhook removes the endpoint, after the confirm step.
func (s *Site) deleteWebhook(c *gin.Context) {
	id, ok := s.webhookParams(c)
	if !ok {
		return
	}
	if err := s.App.DeleteWebhook(c.Request.Context(), callerOf(c), id); err != nil {
		s.webhookFailure(c, err)
		return
	}
	SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionWebhooks)+"?done=deleted")
}

// redeliverWebhook sends a finished delivery again; one still in flight is refused next to
// its row.
func (s *Site) redeliverWebhook(c *gin.Context) {
	id, ok := s.webhookParams(c)
	if !ok {
		return
	}
	deliveryID, err := uuid.Parse(c.Param("delivery_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	if _, err := s.App.RedeliverWebhook(c.Request.Context(), callerOf(c), id, deliveryID); err != nil {
		s.refuseOnWebhook(c, id, err, func(d *webhookData, text string) { d.RefusedDelivery, d.RefusedText = deliveryID, text })
		return
	}
	SeeOther(c, webhookPath(callerOf(c).WorkspaceID.String(), id)+"?done=redelivered&delivery="+deliveryID.String())
}
