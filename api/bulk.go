package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// maxBulkBody holds the largest ids list a batch takes (app.MaxBulk ids of 38 bytes each)
// with room to spare, so a list a little over the limit is answered with the limit's 422.
const maxBulkBody = 512 << 10

type bulkJSON struct {
	ID         uuid.UUID  `json:"id"`
	Status     string     `json:"status"`
	Action     string     `json:"action"`
	Total      int        `json:"total"`
	Done       int        `json:"done"`
	Failed     int        `json:"failed"`
	Applied    int        `json:"applied"`
	Refused    int        `json:"refused"`
	Skipped    int        `json:"skipped"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

type bulkItemJSON struct {
	ConversationID uuid.UUID `json:"conversation_id"`
	Result         *string   `json:"result"`
	Reason         *string   `json:"reason"`
}

type bulkDetailJSON struct {
	bulkJSON
	Items      []bulkItemJSON `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

func toBulk(b *app.BulkAction) bulkJSON {
	return bulkJSON{ID: b.ID, Status: b.Status, Action: b.Action, Total: b.Total, Done: b.Done(),
		Failed: b.Failed, Applied: b.Applied, Refused: b.Refused, Skipped: b.Skipped,
		CreatedAt: b.CreatedAt.UTC(), FinishedAt: timePtr(b.FinishedAt.Time, b.FinishedAt.Valid)}
}

// decodeBulk reads {"ids" | "filter", "action", ...the action's fields}.
func decodeBulk(c *gin.Context) (app.BulkRequest, error) {
	var req app.BulkRequest
	var body struct {
		IDs      *[]string                  `json:"ids"`
		Filter   map[string]json.RawMessage `json:"filter"`
		Action   *string                    `json:"action"`
		State    *string                    `json:"state"`
		Until    *string                    `json:"until"`
		Assignee json.RawMessage            `json:"assignee"`
		Labels   *[]string                  `json:"labels"`
	}
	if err := decodeBodyUpTo(c, &body, maxBulkBody); err != nil {
		return req, err
	}
	switch {
	case body.IDs != nil && body.Filter != nil:
		return req, badRequest("ids: give either ids or filter, not both")
	case body.IDs == nil && body.Filter == nil:
		return req, badRequest("ids: required (a list of conversation ids), or filter (the conversation list's filters)")
	case body.IDs != nil:
		if len(*body.IDs) > app.MaxBulk {
			return req, app.Invalid("ids: a batch takes at most %d conversations, not %d; split it into smaller batches", app.MaxBulk, len(*body.IDs))
		}
		req.IDs = make([]uuid.UUID, len(*body.IDs))
		for i, raw := range *body.IDs {
			id, err := uuid.Parse(raw)
			if err != nil {
				return req, badRequest("ids[%d]: not a conversation id (a UUID): %q", i, domain.Clip(raw, 64))
			}
			req.IDs[i] = id
		}
	default:
		f, err := filterValuesOf("filter", body.Filter)
		if err != nil {
			return req, err
		}
		req.Filter, req.ByFilter = f, true
	}
	if body.Action == nil {
		return req, badRequest("action: required (state, assign, read, unread or labels)")
	}
	req.Action = *body.Action
	only := func(field string, given bool, action string) error {
		if given && req.Action != action {
			return badRequest("%s: only with the %s action", field, action)
		}
		return nil
	}
	for _, err := range []error{
		only("state", body.State != nil, app.BulkState),
		only("until", body.Until != nil, app.BulkState),
		only("assignee", len(body.Assignee) > 0, app.BulkAssign),
		only("labels", body.Labels != nil, app.BulkLabels),
	} {
		if err != nil {
			return req, err
		}
	}
	switch req.Action {
	case app.BulkState:
		if body.State == nil {
			return req, badRequest("state: required with the state action")
		}
		to, err := domain.ParseState(*body.State)
		if err != nil {
			return req, badRequest("state: %v", err)
		}
		req.State = to
		if body.Until != nil {
			until, err := time.Parse(time.RFC3339, *body.Until)
			if err != nil {
				return req, badRequest("until: want an RFC 3339 time such as 2026-11-24T09:00:00Z, not %q", domain.Clip(*body.Until, 100))
			}
			req.Until = &until
		}
	case app.BulkAssign:
		if len(body.Assignee) == 0 {
			return req, badRequest(`assignee: required with the assign action (a user id, or null to unassign)`)
		}
		var raw *string
		if err := json.Unmarshal(body.Assignee, &raw); err != nil {
			return req, badRequest("assignee: must be a user id string or null")
		}
		if raw != nil {
			id, err := uuid.Parse(*raw)
			if err != nil {
				return req, badRequest("assignee: not a UUID")
			}
			req.Assignee = &id
		}
	case app.BulkLabels:
		if body.Labels == nil {
			return req, badRequest("labels: required with the labels action (a list of label ids, [] removes every label)")
		}
		for i, raw := range *body.Labels {
			id, err := uuid.Parse(raw)
			if err != nil {
				return req, badRequest("labels[%d]: not a label id", i)
			}
			req.Labels = append(req.Labels, id)
		}
	}
	return req, nil
}

func (s *server) startBulk(c *gin.Context) {
	req, err := decodeBulk(c)
	if err != nil {
		respond(c, err)
		return
	}
	b, err := s.App.StartBulk(c.Request.Context(), caller(c), req)
	if err != nil {
		respond(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/api/v1/workspaces/%s/conversations/bulk/%s", b.WorkspaceID, b.ID))
	c.JSON(http.StatusAccepted, toBulk(b))
}

func (s *server) getBulk(c *gin.Context) {
	id, err := pathID(c, "bulk_id")
	if err != nil {
		respond(c, err)
		return
	}
	q, err := app.ReadQuery(c.Request.URL.Query(), "limit", "cursor")
	if err != nil {
		respond(c, err)
		return
	}
	b, err := s.App.Bulk(c.Request.Context(), caller(c), id)
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.App.BulkItems(c.Request.Context(), caller(c), id, false, q)
	if err != nil {
		respond(c, err)
		return
	}
	d := bulkDetailJSON{bulkJSON: toBulk(b), Items: make([]bulkItemJSON, len(page.Items))}
	for i, it := range page.Items {
		d.Items[i] = bulkItemJSON{ConversationID: it.ConversationID, Result: it.Result}
		if it.Result != nil {
			d.Items[i].Reason = nonEmpty(it.Reason)
		}
	}
	if page.NextCursor != "" {
		d.NextCursor = &page.NextCursor
	}
	c.JSON(http.StatusOK, d)
}

func (s *server) cancelBulk(c *gin.Context) {
	id, err := pathID(c, "bulk_id")
	if err != nil {
		respond(c, err)
		return
	}
	b, err := s.App.CancelBulk(c.Request.Context(), caller(c), id)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusAccepted, toBulk(b))
}
