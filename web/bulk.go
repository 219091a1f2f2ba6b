package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// bulkPath is the page of a bulk action: /w/<id>/bulk/<bulk id>.
func bulkPath(workspaceID, bulkID string) string {
	return WorkspacePath(workspaceID, "bulk") + "/" + url.PathEscape(bulkID)
}

// bulkRequest reads the inbox's bulk form: the ticked rows (ids) or, with scope=filter,
// every conversation the list's filters match (filter: the list's query), and the chosen
// action ("do").
func bulkRequest(c *gin.Context) (app.BulkRequest, error) {
	var req app.BulkRequest
	if c.PostForm("scope") == "filter" {
		f, err := url.ParseQuery(c.PostForm("filter"))
		if err != nil {
			return req, app.BadRequest("filter: not the list's filters")
		}
		query, _ := inboxQuery(f)
		query.Del("cursor")
		req.Filter, req.ByFilter = query, true
	} else {
		for _, raw := range c.PostFormArray("ids") {
			id, err := uuid.Parse(raw)
			if err != nil {
				return req, app.BadRequest("ids: not a conversation id")
			}
			req.IDs = append(req.IDs, id)
		}
		if len(req.IDs) == 0 {
			return req, app.BadRequest("ids: tick at least one conversation, or choose all matching these filters")
		}
	}
	do := c.PostForm("do")
	switch {
	case do == "close" || do == "archive" || do == "reopen":
		req.Action = app.BulkState
		req.State = map[string]domain.State{"close": domain.Closed, "archive": domain.Archived, "reopen": domain.Open}[do]
	case do == "snooze":
		req.Action, req.State = app.BulkState, domain.Pending
		until, err := snoozeUntil(presetTomorrowMorning, "", viewerZone(c.PostForm("tz")), time.Now())
		if err != nil {
			return req, err
		}
		req.Until = &until
	case do == "read" || do == "unread":
		req.Action = do
	case do == "unassign":
		req.Action = app.BulkAssign
	case strings.HasPrefix(do, "assign:"):
		id, err := uuid.Parse(strings.TrimPrefix(do, "assign:"))
		if err != nil {
			return req, app.BadRequest("do: not a member to assign to")
		}
		req.Action, req.Assignee = app.BulkAssign, &id
	default:
		return req, app.BadRequest("do: choose what to do with the selected conversations")
	}
	return req, nil
}

// startBulk is the inbox's bulk form: it starts the batch and shows its page.
func (s *Site) startBulk(c *gin.Context) {
	req, err := bulkRequest(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	b, err := s.App.StartBulk(c.Request.Context(), callerOf(c), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, bulkPath(b.WorkspaceID.String(), b.ID.String()))
}

// bulkPage is the Data of templates/bulk.html.
type bulkPage struct {
	Workspace string
	Bulk      *app.BulkAction
	// What the batch does, in words ("Close", "Assign to Ana").
	What string
	// NotApplied are the first items refused, skipped or failed, with their reasons.
	NotApplied []app.BulkItem
	More       bool
	Percent    int
	LiveURL    string
	RefreshURL string
	InboxURL   string
	CanCancel  bool
}

// ConversationURL is the page of an item's conversation.
func (d bulkPage) ConversationURL(id uuid.UUID) string {
	return conversationPath(d.Workspace, id.String())
}

// bulk shows a batch's progress (GET /w/<id>/bulk/<bulk id>); an htmx request (a live
// refresh, on each of the batch's progress events) gets the progress part alone.
func (s *Site) bulk(c *gin.Context) {
	id, err := uuid.Parse(c.Param("bulk_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	caller := callerOf(c)
	ctx := c.Request.Context()
	b, err := s.App.Bulk(ctx, caller, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.App.BulkItems(ctx, caller, id, true, app.QueryOf(url.Values{"limit": {"100"}}))
	if err != nil {
		s.fail(c, err)
		return
	}
	ws := caller.WorkspaceID.String()
	d := bulkPage{Workspace: ws, Bulk: b, NotApplied: page.Items, More: page.NextCursor != "",
		What: s.bulkWhat(c, b), LiveURL: s.liveURL(ws), RefreshURL: bulkPath(ws, b.ID.String()),
		InboxURL: WorkspacePath(ws, SectionInbox)}
	if b.Total > 0 {
		d.Percent = b.Done() * 100 / b.Total
	}
	d.CanCancel = !b.Finished() && b.Status != app.BulkCancelling && s.App.CanBulk(caller)
	SetTitle(c, "Bulk action")
	SetSection(c, SectionInbox)
	s.web.Render.Fragment(c, http.StatusOK, "bulk", "bulk-progress", d)
}

// bulkWhat words a batch's action.
func (s *Site) bulkWhat(c *gin.Context, b *app.BulkAction) string {
	param := func(name string) string { v, _ := b.Params[name].(string); return v }
	switch b.Action {
	case app.BulkState:
		switch domain.State(param("state")) {
		case domain.Closed:
			return "Close"
		case domain.Archived:
			return "Archive"
		case domain.Open:
			return "Reopen"
		case domain.Pending:
			if param("until") != "" {
				return "Snooze"
			}
			return "Move to pending"
		}
	case app.BulkAssign:
		if param("assignee") == "" {
			return "Unassign"
		}
		if members, err := s.App.Assignable(c.Request.Context(), callerOf(c)); err == nil {
			for _, m := range members {
				if m.UserID.String() == param("assignee") {
					return "Assign to " + displayName(m.Name, m.Email)
				}
			}
		}
		return "Assign"
	case app.BulkRead:
		return "Mark read"
	case app.BulkUnread:
		return "Mark unread"
	case app.BulkLabels:
		return "Set labels"
	}
	return b.Action
}

// cancelBulk stops a batch (its page's Cancel button).
func (s *Site) cancelBulk(c *gin.Context) {
	id, err := uuid.Parse(c.Param("bulk_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	b, err := s.App.CancelBulk(c.Request.Context(), callerOf(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, bulkPath(b.WorkspaceID.String(), b.ID.String()))
}
