package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
)

// SectionNotifications is the person's notifications page: /w/<id>/notifications.
const SectionNotifications = "notifications"

// Bell is the top bar's notifications link: the unread count, and the newest unread
// notification so the page can raise a browser notification when it is new.
type Bell struct {
	URL     string // the notifications page
	Refresh string // the bell alone, for a live refresh
	Unread  int
	// The newest unread notification; LatestID is "" when there is none.
	LatestID    string
	LatestText  string
	LatestURL   string // opens it (marks it read, lands on the conversation)
	LatestAlert bool   // its kind may raise a browser notification
}

// bell reads the caller's Bell; nil when it cannot (the header then shows none).
func (s *Site) bell(c *gin.Context, caller *app.Caller) *Bell {
	ctx := c.Request.Context()
	ws := caller.WorkspaceID.String()
	n, err := s.App.UnreadNotifications(ctx, caller)
	if err != nil {
		s.Logger.Warn("web: count notifications for the header", "error", err)
		return nil
	}
	b := &Bell{URL: WorkspacePath(ws, SectionNotifications), Refresh: WorkspacePath(ws, SectionNotifications) + "/bell", Unread: n}
	if n > 0 {
		page, err := s.App.ListNotifications(ctx, caller, true, app.QueryOf(url.Values{"limit": {"1"}}))
		if err == nil && len(page.Items) > 0 {
			latest := page.Items[0]
			b.LatestID, b.LatestText, b.LatestAlert = latest.ID.String(), latest.Text(), latest.Kind.Alerts()
			b.LatestURL = openNotificationPath(ws, latest.ID.String())
		}
	}
	return b
}

func openNotificationPath(workspaceID, id string) string {
	return WorkspacePath(workspaceID, SectionNotifications) + "/" + url.PathEscape(id) + "/open"
}

// notificationRow is one notification as the page lists it.
type notificationRow struct {
	app.Notification
	Words   string
	OpenURL string
}

// notificationsData is the Data of templates/notifications.html.
type notificationsData struct {
	Items      []notificationRow
	UnreadOnly bool
	Unread     int
	AllURL     string // the list with the read ones too
	UnreadURL  string // the unread ones only
	OlderURL   string // the next page
	ReadAllURL string
}

// notifications is the person's notifications page, newest first (?unread=true for the
// unread ones, ?cursor= for older ones).
func (s *Site) notifications(c *gin.Context) {
	caller := callerOf(c)
	ctx := c.Request.Context()
	ws := caller.WorkspaceID.String()
	q, err := app.ReadQuery(c.Request.URL.Query(), "cursor", "unread")
	if err != nil {
		s.fail(c, err)
		return
	}
	unread, err := q.Bool("unread")
	if err != nil {
		s.fail(c, err)
		return
	}
	unreadOnly := unread != nil && *unread
	page, err := s.App.ListNotifications(ctx, caller, unreadOnly, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	count, err := s.App.UnreadNotifications(ctx, caller)
	if err != nil {
		s.fail(c, err)
		return
	}
	base := WorkspacePath(ws, SectionNotifications)
	d := notificationsData{UnreadOnly: unreadOnly, Unread: count, AllURL: base, UnreadURL: base + "?unread=true",
		ReadAllURL: base + "/read-all"}
	for _, n := range page.Items {
		d.Items = append(d.Items, notificationRow{Notification: n, Words: n.Text(), OpenURL: openNotificationPath(ws, n.ID.String())})
	}
	if page.NextCursor != "" {
		v := url.Values{"cursor": {page.NextCursor}}
		if unreadOnly {
			v.Set("unread", "true")
		}
		d.OlderURL = base + "?" + v.Encode()
	}
	SetTitle(c, "Notifications")
	SetSection(c, SectionNotifications)
	s.web.Render.Page(c, http.StatusOK, "notifications", d)
}

// bellFragment is the bell alone: what a page re-fetches when the person's
// notifications change.
func (s *Site) bellFragment(c *gin.Context) {
	b := s.bell(c, callerOf(c))
	if b == nil {
		c.Status(http.StatusServiceUnavailable)
		return
	}
	c.Header("Cache-Control", "no-store")
	// The bell alone, with or without HX-Request: it is never a page of its own.
	r := s.web.Render
	r.execute(c, http.StatusOK, "notifications", "bell-fragment", r.view(c, b, false))
}

// openNotification marks a notification read and lands on its conversation.
func (s *Site) openNotification(c *gin.Context) {
	id, err := uuid.Parse(c.Param("notification_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	caller := callerOf(c)
	n, err := s.App.OpenNotification(c.Request.Context(), caller, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	SeeOther(c, conversationPath(caller.WorkspaceID.String(), n.ConversationID.String()))
}

// readAllNotifications marks every notification read ("Mark all read").
func (s *Site) readAllNotifications(c *gin.Context) {
	caller := callerOf(c)
	if err := s.App.MarkNotificationsRead(c.Request.Context(), caller, nil, true); err != nil {
		s.fail(c, err)
		return
	}
	SeeOther(c, WorkspacePath(caller.WorkspaceID.String(), SectionNotifications))
}
