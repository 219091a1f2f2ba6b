package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// Controls of the detail page whose refusals are shown next to them.
const (
	ctlState    = "state"
	ctlAssignee = "assignee"
	ctlRead     = "read"
	ctlSummary  = "summary"
	ctlLead     = "lead"
	ctlLabels   = "labels"
)

// idempotencyField is the hidden input of every lifecycle form: a random key made when
// the form is rendered, so the same form sent twice is applied once.
const idempotencyField = "idempotency_key"

// auditRow is one audit entry in words.
type auditRow struct {
	At     time.Time
	Actor  string
	Action string
	Change string
}

// conversationPage is the Data of templates/conversation.html.
type conversationPage struct {
	Conv      *app.ConversationView
	Workspace string
	Path      string // the detail page
	InboxURL  string
	// DetailURL is what a live refresh re-fetches: the detail without marking it read,
	// on the same page of the transcript.
	DetailURL string
	LiveURL   string

	Moves       []domain.State
	CanSnooze   bool // Pending with a wake-up is allowed from here
	CanChange   bool
	CanMarkRead bool
	CanLeads    bool
	CanAudit    bool
	CanRetry    bool

	Assignable []app.Member
	// AssignMe is the caller's user id when "Assign to me" applies: they may be assigned and
	// the conversation is not theirs yet.
	AssignMe     string
	Labels       []app.Label // the workspace's, for the picker
	LeadStatuses []domain.LeadStatus
	Messages     []app.Message
	Transcript   []transcriptEntry // the messages and, among them, the internal notes
	CanNote      bool              // may write internal notes
	EarlierURL   string            // the page of the transcript before this one
	LatestURL    string            // back to its newest messages, when not on them
	Audit        []auditRow
	MaskedIP     string
	WorkflowURL  string
	// NoWorkflowYet: nobody has changed the conversation, so its workflow has not started.
	NoWorkflowYet bool
	// Errors holds a refusal in words under the name of the control that caused it.
	Errors map[string]string
}

// NewKey is a fresh Idempotency-Key for one form.
func (conversationPage) NewKey() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HasLabel reports whether the conversation carries the label: its box starts ticked.
func (p conversationPage) HasLabel(id uuid.UUID) bool {
	return slices.ContainsFunc(p.Conv.Labels, func(l app.LabelRef) bool { return l.ID == id })
}

// MoveLabel is the button text of a move to st.
func (p conversationPage) MoveLabel(st domain.State) string {
	switch st {
	case domain.Open:
		return "Reopen"
	case domain.Pending:
		return "Pending"
	case domain.Closed:
		if p.Conv.State == domain.Archived {
			return "Unarchive (closed)"
		}
		return "Close"
	case domain.Archived:
		return "Archive"
	}
	return string(st)
}

// conversationID reads the :id of the path; a malformed one is the 404 page.
func (s *Site) conversationID(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return uuid.Nil, false
	}
	return id, true
}

// conversation is the detail page; opening it marks it read.
func (s *Site) conversation(c *gin.Context) { s.showConversation(c, s.App.OpenConversation) }

// conversationDetail is the detail without marking it read: what a live refresh fetches.
func (s *Site) conversationDetail(c *gin.Context) { s.showConversation(c, s.App.Conversation) }

func (s *Site) showConversation(c *gin.Context, read func(context.Context, *app.Caller, uuid.UUID) (*app.ConversationView, error)) {
	id, ok := s.conversationID(c)
	if !ok {
		return
	}
	v, err := read(c.Request.Context(), callerOf(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderConversation(c, http.StatusOK, v, nil)
}

// renderConversation answers the detail page, or for htmx its #conversation block.
func (s *Site) renderConversation(c *gin.Context, status int, v *app.ConversationView, errs map[string]string) {
	caller := callerOf(c)
	ctx := c.Request.Context()
	wsID, id := caller.WorkspaceID.String(), v.ID.String()
	d := conversationPage{
		Conv: v, Workspace: wsID, Path: conversationPath(wsID, id),
		InboxURL:     WorkspacePath(wsID, SectionInbox),
		LiveURL:      s.liveURL(wsID),
		Moves:        app.Moves(v.State),
		CanSnooze:    v.State.CanSnooze(),
		CanChange:    s.App.Can(caller, domain.ChangeConversations),
		CanMarkRead:  s.App.Can(caller, domain.MarkRead),
		CanLeads:     s.App.Can(caller, domain.ChangeLeads),
		CanAudit:     s.App.Can(caller, domain.ReadAudit),
		CanNote:      s.App.Can(caller, domain.WriteNotes),
		LeadStatuses: domain.LeadStatuses,
		MaskedIP:     app.MaskedIP(v),
		Errors:       errs,
	}
	d.CanRetry = d.CanChange && v.State.CanSummarize()
	// The Temporal UI's /namespaces/<ns>/workflows/<id> opens the workflow's latest run,
	// which stays right after a restart of a missing workflow.
	d.NoWorkflowYet = v.WorkflowRunID == ""
	if s.TemporalUIURL != "" && v.WorkflowID != "" && !d.NoWorkflowYet {
		d.WorkflowURL = strings.TrimRight(s.TemporalUIURL, "/") + "/namespaces/" +
			url.PathEscape(s.TemporalNamespace) + "/workflows/" + url.PathEscape(v.WorkflowID)
	}
	if d.CanChange {
		members, err := s.App.Assignable(ctx, caller)
		if err != nil {
			s.fail(c, err)
			return
		}
		d.Assignable = members
		for _, m := range members {
			if m.UserID == caller.UserID && (!v.AssigneeID.Valid || v.AssigneeID.UUID != caller.UserID) {
				d.AssignMe = caller.UserID.String()
			}
		}
		if d.Labels, err = s.App.AllLabels(ctx, caller); err != nil {
			s.fail(c, err)
			return
		}
	}
	// The transcript opens on its newest messages; "Earlier messages" walks back a page at
	// a time, "Latest messages" returns.
	before := c.Query("before")
	msgs, earlier, err := s.App.RecentMessages(ctx, caller, v.ID, app.DefaultLimit, before)
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Messages = msgs
	if d.Transcript, err = s.transcript(c, caller, v.ID, msgs, earlier == "", before == ""); err != nil {
		s.fail(c, err)
		return
	}
	d.DetailURL = d.Path + "/detail"
	if before != "" {
		d.DetailURL += "?before=" + url.QueryEscape(before)
		d.LatestURL = d.Path
	}
	if earlier != "" {
		d.EarlierURL = d.Path + "?before=" + url.QueryEscape(earlier)
	}
	if d.CanAudit {
		page, err := s.App.Audit(ctx, caller, v.ID, app.QueryOf(url.Values{"limit": {fmt.Sprint(app.MaxLimit)}}))
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, e := range page.Items {
			row := auditRow{At: e.At, Actor: "System", Action: strings.ReplaceAll(string(e.Action), "_", " "), Change: auditChange(e)}
			if e.ActorName != "" {
				row.Actor = e.ActorName
			} else if e.ActorID.Valid {
				row.Actor = "A former member"
			}
			d.Audit = append(d.Audit, row)
		}
	}
	title := v.VisitorName
	if title == "" {
		title = "Conversation"
	}
	SetTitle(c, title)
	SetSection(c, SectionInbox)
	s.web.Render.Fragment(c, status, "conversation", "conversation", d)
}

// auditChange words an entry's before and after: "state: open → pending".
func auditChange(e app.AuditEntry) string {
	keys := make([]string, 0, len(e.Before)+len(e.After))
	for k := range e.Before {
		keys = append(keys, k)
	}
	for k := range e.After {
		if _, ok := e.Before[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		b, inB := e.Before[k]
		a, inA := e.After[k]
		label := strings.ReplaceAll(k, "_", " ")
		switch {
		case inB && inA && auditValue(b) == auditValue(a):
			continue // unchanged: nothing to say
		case inB && inA:
			parts = append(parts, fmt.Sprintf("%s: %s → %s", label, auditValue(b), auditValue(a)))
		case inA:
			parts = append(parts, fmt.Sprintf("%s: %s", label, auditValue(a)))
		default:
			parts = append(parts, fmt.Sprintf("%s was %s", label, auditValue(b)))
		}
	}
	return strings.Join(parts, "; ")
}

// auditValue words one value of an audit entry: a person by name, a time in UTC (the
// entry's own time, beside it, is in the viewer's zone), anything else as it is.
func auditValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case []any: // a set of labels: their names
		if len(v) == 0 {
			return "none"
		}
		names := make([]string, len(v))
		for i, x := range v {
			names[i] = auditValue(x)
		}
		return strings.Join(names, ", ")
	case map[string]any:
		if name, ok := v["name"].(string); ok && name != "" {
			return name
		}
		if id, ok := v["user_id"]; ok {
			return fmt.Sprint(id)
		}
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC().Format(timeLayout)
		}
		if v == "" {
			return "none"
		}
	}
	return fmt.Sprint(v)
}

// written answers a successful write: the refreshed detail for htmx, and for a plain form
// a redirect to the page (post, redirect, get).
func (s *Site) written(c *gin.Context, id uuid.UUID, next string) {
	if !IsHTMX(c) {
		SeeOther(c, next)
		return
	}
	v, err := s.App.Conversation(c.Request.Context(), callerOf(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderConversation(c, http.StatusOK, v, nil)
}

// changed answers a successful lifecycle change like written, showing the conversation as
// the change returned it (app reads it once after the Update) instead of reading it again.
func (s *Site) changed(c *gin.Context, v *app.ConversationView, next string) {
	if !IsHTMX(c) {
		SeeOther(c, next)
		return
	}
	s.renderConversation(c, http.StatusOK, v, nil)
}

// refused shows a 409 or 422 next to the control that caused it, on the page as it is
// now, and so a 202 (the change is accepted and shows in a moment, over the live stream);
// any other error is s.fail's.
func (s *Site) refused(c *gin.Context, id uuid.UUID, control string, err error) {
	var e *app.Error
	if !errors.As(err, &e) || (e.Status != http.StatusConflict && e.Status != http.StatusUnprocessableEntity && e.Status != http.StatusBadRequest && e.Status != http.StatusAccepted) {
		s.fail(c, err)
		return
	}
	v, verr := s.App.Conversation(c.Request.Context(), callerOf(c), id)
	if verr != nil {
		s.fail(c, verr)
		return
	}
	msg := e.Message
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:] + "."
	}
	s.renderConversation(c, e.Status, v, map[string]string{control: msg})
}

func (s *Site) changeState(c *gin.Context) {
	id, ok := s.conversationID(c)
	if !ok {
		return
	}
	to, err := domain.ParseState(c.PostForm("state"))
	if err != nil {
		s.fail(c, app.BadRequest("state: %v", err))
		return
	}
	var until *time.Time
	if c.PostForm("snooze") != "" {
		t, err := snoozeUntil(c.PostForm("preset"), c.PostForm("until_local"), viewerZone(c.PostForm("tz")), time.Now())
		if err != nil {
			s.refused(c, id, ctlState, err)
			return
		}
		until = &t
	}
	v, err := s.App.ChangeState(c.Request.Context(), callerOf(c), id, to, until, c.PostForm(idempotencyField))
	if err != nil {
		s.refused(c, id, ctlState, err)
		return
	}
	s.changed(c, v, conversationPath(callerOf(c).WorkspaceID.String(), id.String()))
}

func (s *Site) assign(c *gin.Context) {
	id, ok := s.conversationID(c)
	if !ok {
		return
	}
	var assignee *uuid.UUID
	if v := c.PostForm("assignee"); v != "" && v != "none" {
		u, err := uuid.Parse(v)
		if err != nil {
			s.fail(c, app.BadRequest("assignee: want a member or none"))
			return
		}
		assignee = &u
	}
	v, err := s.App.Assign(c.Request.Context(), callerOf(c), id, assignee, c.PostForm(idempotencyField))
	if err != nil {
		s.refused(c, id, ctlAssignee, err)
		return
	}
	s.changed(c, v, conversationPath(callerOf(c).WorkspaceID.String(), id.String()))
}

// markRead marks the conversation read or unread. Without JavaScript, "Mark as unread"
// goes back to the inbox: showing the detail again would mark it read.
func (s *Site) markRead(read bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := s.conversationID(c)
		if !ok {
			return
		}
		caller := callerOf(c)
		if err := s.App.SetRead(c.Request.Context(), caller, id, read); err != nil {
			s.refused(c, id, ctlRead, err)
			return
		}
		next := conversationPath(caller.WorkspaceID.String(), id.String())
		if !read {
			next = WorkspacePath(caller.WorkspaceID.String(), SectionInbox)
		}
		s.written(c, id, next)
	}
}

func (s *Site) retrySummary(c *gin.Context) {
	id, ok := s.conversationID(c)
	if !ok {
		return
	}
	v, err := s.App.RetrySummary(c.Request.Context(), callerOf(c), id, c.PostForm(idempotencyField))
	if err != nil {
		s.refused(c, id, ctlSummary, err)
		return
	}
	s.changed(c, v, conversationPath(callerOf(c).WorkspaceID.String(), id.String()))
}

// setLead changes the status of the conversation's lead.
func (s *Site) setLead(c *gin.Context) {
	id, ok := s.conversationID(c)
	if !ok {
		return
	}
	caller := callerOf(c)
	status, err := domain.ParseLeadStatus(c.PostForm("status"))
	if err != nil {
		s.fail(c, app.BadRequest("status: %v", err))
		return
	}
	v, err := s.App.Conversation(c.Request.Context(), caller, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.App.SetLeadStatus(c.Request.Context(), caller, v.LeadID, status); err != nil {
		s.refused(c, id, ctlLead, err)
		return
	}
	s.written(c, id, conversationPath(caller.WorkspaceID.String(), id.String()))
}

// setLabels makes the ticked boxes the conversation's labels: the picker's plain form.
func (s *Site) setLabels(c *gin.Context) {
	id, ok := s.conversationID(c)
	if !ok {
		return
	}
	var ids []uuid.UUID
	for _, v := range c.PostFormArray("label") {
		l, err := uuid.Parse(v)
		if err != nil {
			s.fail(c, app.BadRequest("label: not a label id"))
			return
		}
		ids = append(ids, l)
	}
	caller := callerOf(c)
	if _, err := s.App.SetConversationLabels(c.Request.Context(), caller, id, ids); err != nil {
		s.refused(c, id, ctlLabels, err)
		return
	}
	s.written(c, id, conversationPath(caller.WorkspaceID.String(), id.String()))
}
