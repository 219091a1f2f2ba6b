package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// inboxFilters are the list's filters as the form shows them: the URL's own values, dates
// as the date inputs hold them.
type inboxFilters struct {
	Unread          bool
	IncludeArchived bool
	State           string
	Assignee        string
	Channel         string
	CreatedAfter    string
	CreatedBefore   string
	Q               string
	Label           string
	WakesToday      bool
	SLA             string // "due_soon" or "breached": the SLA filter and order
	TZ              string // the viewer's time zone "wakes today" was computed in, if known
}

// Any reports whether a filter narrows the list.
func (f inboxFilters) Any() bool {
	return f.Unread || f.IncludeArchived || f.State != "" || f.Assignee != "" || f.Channel != "" ||
		f.CreatedAfter != "" || f.CreatedBefore != "" || f.Q != "" || f.Label != "" || f.WakesToday || f.SLA != ""
}

// inboxPage is the Data of templates/inbox.html.
type inboxPage struct {
	Workspace string
	Filters   inboxFilters
	Items     []app.ConversationView
	// Error is a refused filter, shown above the list; the form stays as typed.
	Error     string
	Paged     bool   // this is not the first page
	OlderURL  string // the next page, "" on the last one
	NewestURL string
	ClearURL  string
	// ListURL is what a live refresh re-fetches: this very page.
	ListURL  string
	LiveURL  string
	States   []domain.State
	Channels []domain.Channel
	Members  []app.Member
	Labels   []app.Label
	// Views is the side list of saved views; ViewName the one shown, if any.
	Views    viewsPanel
	ViewName string
	// SaveFilters is the list's filters as "Save this view" sends them (the URL's query);
	// Save the form as it was refused; CanShare offers "Shared with the workspace".
	SaveFilters string
	Save        inboxSave
	CanShare    bool
	// CanBulk shows the rows' checkboxes and the bulk actions (a viewer sees none);
	// BulkURL is where the form posts, BulkFilter the list's filters it sends for "all
	// matching", BulkCount how many match (up to app.MaxBulk+1; -1 when not counted).
	CanBulk    bool
	BulkURL    string
	BulkFilter string
	BulkCount  int
	BulkMax    int
	// AssignMe is the caller's user id when they may take conversations: what the list's
	// "a" key assigns to.
	AssignMe string
}

// dateInput is what an <input type=date> sends.
const dateInput = "2006-01-02"

// inboxQuery turns the page's URL into the list's query in the API's terms: empty fields
// are no filter, a checkbox is "true", and a date of the date inputs becomes an RFC 3339
// time in UTC (created_before includes the day it names). Anything else passes as given, so
// the application layer words what is wrong with it.
func inboxQuery(values url.Values) (url.Values, inboxFilters) {
	q := url.Values{}
	var f inboxFilters
	for name, vs := range values {
		for _, v := range vs {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			switch name {
			case "wakes_today":
				// The box's value is the viewer's time zone (app.js fills it in), or "true"
				// without JavaScript: today is then the UTC day.
				q.Set("wakes_before", endOfToday(time.Now(), viewerZone(v)).Format(time.RFC3339))
			case "created_after", "created_before":
				if d, err := time.Parse(dateInput, v); err == nil {
					if name == "created_before" {
						d = d.AddDate(0, 0, 1)
					}
					q.Add(name, d.Format(time.RFC3339))
				} else {
					q.Add(name, v)
				}
			default:
				q.Add(name, v)
			}
		}
	}
	f.Unread = q.Get("unread") == "true"
	f.IncludeArchived = q.Get("include_archived") == "true"
	f.State, f.Assignee, f.Channel, f.Q = q.Get("state"), q.Get("assignee"), q.Get("channel"), values.Get("q")
	f.Label, f.SLA = q.Get("label"), q.Get("sla")
	f.CreatedAfter, f.CreatedBefore = strings.TrimSpace(values.Get("created_after")), strings.TrimSpace(values.Get("created_before"))
	if v := strings.TrimSpace(values.Get("wakes_today")); v != "" {
		f.WakesToday = true
		if v != "true" {
			f.TZ = v
		}
	}
	return q, f
}

// inboxSave is the "Save this view" form as the person left it, when saving was refused.
type inboxSave struct {
	Error  string
	Name   string
	Shared bool
}

// inbox is the inbox list: GET /w/<id>/. Its filters live in the URL, in the API's names, or
// come from a saved view (?view=<id>, a bookmark). An htmx request (a live refresh) gets
// only the list.
func (s *Site) inbox(c *gin.Context) {
	values := c.Request.URL.Query()
	viewID := ""
	if raw := values.Get("view"); raw != "" {
		id, err := uuid.Parse(raw)
		if err != nil {
			s.web.Render.NotFound(c)
			return
		}
		v, err := s.App.View(c.Request.Context(), callerOf(c), id)
		if err != nil {
			s.fail(c, err)
			return
		}
		viewID = v.ID.String()
		cursor := values.Get("cursor")
		values = pageFilters(app.ViewQuery(v))
		if cursor != "" {
			values.Set("cursor", cursor)
		}
	}
	s.renderInbox(c, values, viewID, inboxSave{}, http.StatusOK)
}

// renderInbox shows the list filtered by values (the inbox URL's query); viewID names the
// saved view they come from, if any.
func (s *Site) renderInbox(c *gin.Context, values url.Values, viewID string, save inboxSave, status int) {
	caller := callerOf(c)
	ctx := c.Request.Context()
	base := WorkspacePath(caller.WorkspaceID.String(), SectionInbox)
	query, filters := inboxQuery(values)
	d := inboxPage{
		Workspace: caller.WorkspaceID.String(),
		Filters:   filters,
		ClearURL:  base,
		NewestURL: base,
		LiveURL:   s.liveURL(caller.WorkspaceID.String()),
		States:    domain.States,
		Channels:  domain.Channels,
		Paged:     values.Get("cursor") != "",
		Save:      save,
		CanShare:  s.App.Can(caller, domain.ManageSharedViews),
	}
	// The page's own links carry the filters as the person typed them, without empty ones;
	// a saved view's links carry the view.
	kept := url.Values{}
	for name, vs := range values {
		for _, v := range vs {
			if strings.TrimSpace(v) != "" && name != "cursor" {
				kept.Add(name, v)
			}
		}
	}
	d.SaveFilters = kept.Encode()
	links := kept
	if viewID != "" {
		links = url.Values{"view": {viewID}}
	}
	if len(links) > 0 {
		d.NewestURL = base + "?" + links.Encode()
	}
	d.ListURL = d.NewestURL
	if cursor := values.Get("cursor"); cursor != "" {
		at := url.Values{}
		for k, v := range links {
			at[k] = v
		}
		at.Set("cursor", cursor)
		d.ListURL = base + "?" + at.Encode()
	}
	members, err := s.App.Assignable(ctx, caller)
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Members = members
	if s.App.CanBulk(caller) {
		d.CanBulk, d.BulkURL, d.BulkMax = true, WorkspacePath(caller.WorkspaceID.String(), "bulk"), app.MaxBulk
		d.BulkFilter = kept.Encode()
		d.BulkCount = -1
		if q, err := app.ReadQuery(query, app.ConversationListParams...); err == nil {
			if n, err := s.App.BulkCount(ctx, caller, q); err == nil {
				d.BulkCount = n
			}
		}
	}
	if s.App.Can(caller, domain.ChangeConversations) {
		for _, m := range members {
			if m.UserID == caller.UserID {
				d.AssignMe = caller.UserID.String()
			}
		}
	}
	if d.Labels, err = s.App.AllLabels(ctx, caller); err != nil {
		s.fail(c, err)
		return
	}
	if d.Views, err = s.viewsOf(c, viewID); err != nil {
		s.fail(c, err)
		return
	}
	for _, v := range d.Views.Views {
		if v.Current {
			d.ViewName = v.Name
		}
	}

	page, err := func() (app.ConversationPage, error) {
		q, err := app.ReadQuery(query, app.ConversationListParams...)
		if err != nil {
			return app.ConversationPage{}, err
		}
		return s.App.ListConversations(ctx, caller, q)
	}()
	var refused *app.Error
	switch {
	case err == nil:
		d.Items = page.Items
		if page.NextCursor != "" {
			older := url.Values{}
			for k, v := range links {
				older[k] = v
			}
			older.Set("cursor", page.NextCursor)
			d.OlderURL = base + "?" + older.Encode()
		}
	case errors.As(err, &refused) && refused.Status == http.StatusBadRequest:
		if status == http.StatusOK {
			status = http.StatusBadRequest
		}
		d.Error = "That filter does not work: " + refused.Message + "."
	default:
		s.fail(c, err)
		return
	}
	SetTitle(c, "Inbox")
	if d.ViewName != "" {
		SetTitle(c, d.ViewName+" · Inbox")
	}
	SetSection(c, SectionInbox)
	s.web.Render.Fragment(c, status, "inbox", "conversation-list", d)
}

// conversationPath is the path of a conversation's detail page.
func conversationPath(workspaceID, id string) string {
	return WorkspacePath(workspaceID, SectionInbox) + "c/" + url.PathEscape(id)
}
