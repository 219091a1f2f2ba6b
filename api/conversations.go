package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

type assigneeJSON struct {
	UserID uuid.UUID `json:"user_id"`
	Name   string    `json:"name"`
	Role   *string   `json:"role"`
}

type visitorJSON struct {
	Name  *string `json:"name"`
	Email *string `json:"email"`
	Phone *string `json:"phone"`
}

type conversationItem struct {
	ID            uuid.UUID            `json:"id"`
	State         domain.State         `json:"state"`
	Channel       domain.Channel       `json:"channel"`
	Unread        bool                 `json:"unread"`
	Assignee      *assigneeJSON        `json:"assignee"`
	Visitor       visitorJSON          `json:"visitor"`
	CreatedAt     time.Time            `json:"created_at"`
	LastMessageAt time.Time            `json:"last_message_at"`
	ClosedAt      *time.Time           `json:"closed_at"`
	SummaryStatus domain.SummaryStatus `json:"summary_status"`
	PendingUntil  *time.Time           `json:"pending_until"`
	Labels        []labelRef           `json:"labels"`
	SLA           *slaJSON             `json:"sla"`
}

type summaryJSON struct {
	Status      domain.SummaryStatus `json:"status"`
	Text        *string              `json:"text"`
	GeneratedAt *time.Time           `json:"generated_at"`
	Error       *string              `json:"error"`
	Attempts    int                  `json:"attempts"`
}

type conversationDetail struct {
	conversationItem
	Summary summaryJSON `json:"summary"`
	Source  struct {
		PageURL   *string `json:"page_url"`
		Referrer  *string `json:"referrer"`
		IPMasked  *string `json:"ip_masked"`
		UserAgent *string `json:"user_agent"`
	} `json:"source"`
	Lead struct {
		ID     uuid.UUID         `json:"id"`
		Status domain.LeadStatus `json:"status"`
	} `json:"lead"`
	Workflow struct {
		WorkflowID string  `json:"workflow_id"`
		RunID      *string `json:"run_id"`
	} `json:"workflow"`
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timePtr(t time.Time, valid bool) *time.Time {
	if !valid {
		return nil
	}
	u := t.UTC()
	return &u
}

func toItem(v *app.ConversationView) conversationItem {
	item := conversationItem{
		ID: v.ID, State: v.State, Channel: v.Channel, Unread: v.Unread,
		Visitor:   visitorJSON{Name: nonEmpty(v.VisitorName), Email: nonEmpty(v.VisitorEmail), Phone: nonEmpty(v.VisitorPhone)},
		CreatedAt: v.CreatedAt.UTC(), LastMessageAt: v.LastMessageAt.UTC(),
		ClosedAt:      timePtr(v.ClosedAt.Time, v.ClosedAt.Valid),
		SummaryStatus: v.SummaryStatus,
		PendingUntil:  timePtr(v.PendingUntil.Time, v.PendingUntil.Valid),
		Labels:        toLabelRefs(v.Labels),
		SLA:           toSLAJSON(v),
	}
	if v.AssigneeID.Valid {
		item.Assignee = &assigneeJSON{UserID: v.AssigneeID.UUID, Name: v.AssigneeName.String}
		if v.AssigneeRole.Valid {
			item.Assignee.Role = &v.AssigneeRole.String
		}
	}
	return item
}

func toDetail(v *app.ConversationView) conversationDetail {
	d := conversationDetail{conversationItem: toItem(v)}
	d.Summary = summaryJSON{
		Status: v.SummaryStatus, Text: nonEmpty(v.SummaryText), Error: nonEmpty(v.SummaryError),
		GeneratedAt: timePtr(v.SummaryGeneratedAt.Time, v.SummaryGeneratedAt.Valid), Attempts: v.SummaryAttempts,
	}
	d.Source.PageURL, d.Source.Referrer, d.Source.UserAgent = nonEmpty(v.PageURL), nonEmpty(v.Referrer), nonEmpty(v.UserAgent)
	d.Source.IPMasked = nonEmpty(app.MaskedIP(v)) // only the network leaves the server
	d.Lead.ID, d.Lead.Status = v.LeadID, v.LeadStatus
	d.Workflow.WorkflowID, d.Workflow.RunID = v.WorkflowID, nonEmpty(v.WorkflowRunID)
	return d
}

// getConversation shows the detail; opening it marks the conversation read for the caller.
func (s *server) getConversation(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	v, err := s.App.OpenConversation(c.Request.Context(), caller(c), id)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toDetail(v))
}

func (s *server) changeState(c *gin.Context) {
	to, until, err := decodeStateChange(c)
	if err != nil {
		respond(c, err)
		return
	}
	id, key, err := lifecycleTarget(c)
	if err != nil {
		respond(c, err)
		return
	}
	v, err := s.App.ChangeState(c.Request.Context(), caller(c), id, to, until, key)
	answerChange(c, v, err)
}

// decodeStateChange reads {"state": "...", "until": "<RFC 3339>"}; until is optional (null
// is the same as absent) and only for pending, which the application layer checks.
func decodeStateChange(c *gin.Context) (domain.State, *time.Time, error) {
	var body map[string]json.RawMessage
	if err := decodeBody(c, &body); err != nil {
		return "", nil, err
	}
	for k := range body {
		if k != "state" && k != "until" {
			return "", nil, badRequest("body: unknown field %q", domain.Clip(k, 100))
		}
	}
	var state *string
	if err := json.Unmarshal(body["state"], &state); err != nil && body["state"] != nil {
		return "", nil, badRequest("state: want a string")
	}
	if state == nil {
		return "", nil, badRequest("state: required")
	}
	to, err := domain.ParseState(*state)
	if err != nil {
		return "", nil, badRequest("state: %v", err)
	}
	var raw *string
	if err := json.Unmarshal(body["until"], &raw); err != nil && body["until"] != nil {
		return "", nil, badRequest("until: want an RFC 3339 time such as 2026-11-24T09:00:00Z")
	}
	if raw == nil {
		return to, nil, nil
	}
	until, err := time.Parse(time.RFC3339, *raw)
	if err != nil {
		return "", nil, badRequest("until: want an RFC 3339 time such as 2026-11-24T09:00:00Z, not %q", domain.Clip(*raw, 100))
	}
	return to, &until, nil
}

func (s *server) changeAssignee(c *gin.Context) {
	var body struct {
		UserID json.RawMessage `json:"user_id"` // "null" when cleared, empty when absent
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	if len(body.UserID) == 0 {
		respond(c, badRequest(`user_id: required (a user id, or null for "None")`))
		return
	}
	var raw *string
	if err := json.Unmarshal(body.UserID, &raw); err != nil {
		respond(c, badRequest("user_id: must be a UUID string or null"))
		return
	}
	var assignee *uuid.UUID
	if raw != nil {
		userID, err := uuid.Parse(*raw)
		if err != nil {
			respond(c, badRequest("user_id: not a UUID"))
			return
		}
		assignee = &userID
	}
	id, key, err := lifecycleTarget(c)
	if err != nil {
		respond(c, err)
		return
	}
	v, err := s.App.Assign(c.Request.Context(), caller(c), id, assignee, key)
	answerChange(c, v, err)
}

// answerChange answers a lifecycle change: 200 with the detail after it, or 202 with the
// detail as it is now when the workflow accepted the change but its result did not arrive
// in time, or the change waits in the queue of a burst (it shows in a moment).
func answerChange(c *gin.Context, v *app.ConversationView, err error) {
	switch {
	case app.IsAccepted(err):
		c.JSON(http.StatusAccepted, toDetail(v))
	case err != nil:
		respond(c, err)
	default:
		c.JSON(http.StatusOK, toDetail(v))
	}
}

func (s *server) retrySummary(c *gin.Context) {
	id, key, err := lifecycleTarget(c)
	if err != nil {
		respond(c, err)
		return
	}
	v, err := s.App.RetrySummary(c.Request.Context(), caller(c), id, key)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusAccepted, summaryAnswer{Summary: toDetail(v).Summary})
}

// lifecycleTarget reads the conversation id of a lifecycle request and its
// Idempotency-Key header ("" when absent).
func lifecycleTarget(c *gin.Context) (uuid.UUID, string, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return uuid.Nil, "", err
	}
	switch values := c.Request.Header.Values("Idempotency-Key"); len(values) {
	case 0:
		return id, "", nil
	case 1:
		if values[0] == "" {
			return uuid.Nil, "", app.CheckIdempotencyKey("")
		}
		return id, values[0], nil
	default:
		return uuid.Nil, "", badRequest("Idempotency-Key: given more than once")
	}
}

func (s *server) markRead(read bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			respond(c, err)
			return
		}
		if err := s.App.SetRead(c.Request.Context(), caller(c), id, read); err != nil {
			respond(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

type messageJSON struct {
	ID     uuid.UUID          `json:"id"`
	Role   domain.MessageRole `json:"role"`
	Text   string             `json:"text"`
	SentAt time.Time          `json:"sent_at"`
}

func (s *server) listMessages(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.App.Messages(c.Request.Context(), caller(c), id, app.QueryOf(c.Request.URL.Query()))
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]messageJSON, len(page.Items))
	for i, m := range page.Items {
		items[i] = messageJSON{ID: m.ID, Role: m.Role, Text: m.Text, SentAt: m.SentAt.UTC()}
	}
	writePage(c, items, page.NextCursor)
}

type auditJSON struct {
	ID     uuid.UUID          `json:"id"`
	At     time.Time          `json:"at"`
	Actor  *domain.Actor      `json:"actor"`
	Action domain.AuditAction `json:"action"`
	Before map[string]any     `json:"before"`
	After  map[string]any     `json:"after"`
}

func (s *server) listAudit(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.App.Audit(c.Request.Context(), caller(c), id, app.QueryOf(c.Request.URL.Query()))
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]auditJSON, len(page.Items))
	for i, e := range page.Items {
		items[i] = auditJSON{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Before: e.Before, After: e.After}
	}
	writePage(c, items, page.NextCursor)
}
