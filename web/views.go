package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// Saved views on the inbox: the side list (with unread counts), "Save this view" from the
// list's current filters, opening one (/w/<ws>/?view=<id>, a bookmark), deleting one.

// viewLink is a saved view as the inbox's side list shows it.
type viewLink struct {
	ID        string
	Name      string
	URL       string
	Shared    bool
	Unread    int
	Current   bool
	CanDelete bool
}

// UnreadText is the count as the list shows it: "999+" past where counting stops.
func (v viewLink) UnreadText() string {
	if v.Unread >= app.MaxViewUnreadCount {
		return strconv.Itoa(app.MaxViewUnreadCount-1) + "+"
	}
	return strconv.Itoa(v.Unread)
}

// viewsPanel is the Data of the "saved-views" block.
type viewsPanel struct {
	Workspace string
	Views     []viewLink
	// RefreshURL is what a live refresh of the list re-fetches.
	RefreshURL string
}

// viewPath is the bookmark of a saved view: the inbox with the view's filters.
func viewPath(workspaceID, id string) string {
	return WorkspacePath(workspaceID, SectionInbox) + "?view=" + url.QueryEscape(id)
}

// viewsOf builds the side list; current is the view the page shows, if any.
func (s *Site) viewsOf(c *gin.Context, current string) (viewsPanel, error) {
	caller := callerOf(c)
	ws := caller.WorkspaceID.String()
	p := viewsPanel{Workspace: ws, RefreshURL: WorkspacePath(ws, SectionInbox) + "views"}
	if current != "" {
		p.RefreshURL += "?view=" + url.QueryEscape(current)
	}
	views, err := s.App.AllViews(c.Request.Context(), caller)
	if err != nil {
		return p, err
	}
	canShared := s.App.Can(caller, domain.ManageSharedViews)
	for _, v := range views {
		id := v.ID.String()
		p.Views = append(p.Views, viewLink{ID: id, Name: v.Name, URL: viewPath(ws, id), Shared: v.Shared(),
			Unread: v.Unread, Current: id == current, CanDelete: !v.Shared() || canShared})
	}
	return p, nil
}

// savedViews is the side list alone: what a live refresh re-fetches (GET /w/<ws>/views). A
// plain request is sent to the inbox, which shows it.
func (s *Site) savedViews(c *gin.Context) {
	if !IsHTMX(c) {
		SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionInbox))
		return
	}
	p, err := s.viewsOf(c, c.Query("view"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.web.Render.Fragment(c, http.StatusOK, "inbox", "saved-views", inboxPage{Views: p})
}

// createView saves the list's current filters (the form's "filters", the inbox URL's query
// as the page had it) under a name, and opens the new view.
func (s *Site) createView(c *gin.Context) {
	raw, err := url.ParseQuery(c.PostForm("filters"))
	if err != nil {
		raw = url.Values{}
	}
	raw.Del("cursor")
	raw.Del("view")
	query, _ := inboxQuery(raw)
	caller := callerOf(c)
	v, err := s.App.CreateView(c.Request.Context(), caller, app.ViewInput{
		Name: c.PostForm("name"), Filters: query, Shared: c.PostForm("shared") == "true"})
	if err != nil {
		status, text, ok := refusal(err)
		if !ok {
			s.fail(c, err)
			return
		}
		if status == http.StatusForbidden {
			text = "Your role in this workspace may not share views with it: save it as your own."
		}
		s.renderInbox(c, raw, "", inboxSave{Error: text, Name: c.PostForm("name"), Shared: c.PostForm("shared") == "true"}, status)
		return
	}
	SeeOther(c, viewPath(caller.WorkspaceID.String(), v.ID.String()))
}

// deleteView deletes a view and shows the inbox without it.
func (s *Site) deleteView(c *gin.Context) {
	id, err := uuid.Parse(c.Param("view_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	caller := callerOf(c)
	if err := s.App.DeleteView(c.Request.Context(), caller, id); err != nil {
		s.fail(c, err)
		return
	}
	SeeOther(c, WorkspacePath(caller.WorkspaceID.String(), SectionInbox))
}

// pageFilters turns a view's filters (the list's query, as the API reads it) into the inbox
// URL's terms, so the filter form shows them: a created_after or created_before at midnight
// UTC becomes the date input's day (created_before names the day before, as the form
// includes the day it names). Anything else stays as it is.
func pageFilters(q url.Values) url.Values {
	out := url.Values{}
	for name, vs := range q {
		for _, v := range vs {
			if name == "created_after" || name == "created_before" {
				if t, err := time.Parse(time.RFC3339, v); err == nil && t.Equal(t.Truncate(24*time.Hour)) {
					if name == "created_before" {
						t = t.AddDate(0, 0, -1)
					}
					v = t.UTC().Format(dateInput)
				}
			}
			out.Add(name, v)
		}
	}
	return out
}
