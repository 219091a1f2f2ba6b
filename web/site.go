package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/live"
)

// SiteDeps is what the pages need: the application layer they render (which also signs
// people in: its Accounts must be set), and the settings of the foundation.
type SiteDeps struct {
	App *app.Service
	// Secret keys the CSRF tokens: at least 32 bytes, the same on every replica.
	Secret []byte
	// SecureCookies marks the cookies Secure; set it when the inbox is served over TLS.
	SecureCookies bool
	// TemporalUIURL is the Temporal Web UI's base address, for the link to a
	// conversation's workflow; empty hides the link.
	TemporalUIURL string
	// TemporalNamespace is the namespace of the workflows, for that link.
	TemporalNamespace string
	// TrustedProxies are the peers whose X-Forwarded-For names the client, for the
	// sign-in throttle.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	// Live carries the store's change notifications to open pages (GET /w/<id>/events);
	// nil serves no events and the pages update on reload only. Its Run is started by
	// whoever builds the site.
	Live *live.Listener
}

// Site is the web admin: every page, mounted on the engine that also serves the API.
type Site struct {
	SiteDeps
	web *Web
}

// NewSite builds the web admin; an error is a broken build or configuration.
func NewSite(d SiteDeps) (*Site, error) {
	if d.App == nil || d.App.Accounts == nil {
		return nil, errors.New("web: the pages need App with its Accounts, to sign people in")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	s := &Site{SiteDeps: d}
	w, err := New(Deps{
		Secret: d.Secret, SecureCookies: d.SecureCookies, Log: d.Logger,
		Session: s.sessionKey, Chrome: s.chrome,
	})
	if err != nil {
		return nil, err
	}
	s.web = w
	return s, nil
}

// Keys of what the middleware puts in the request's context.
const (
	ctxSession    = "web.session"
	ctxCaller     = "web.caller"
	ctxWorkspaces = "web.workspaces"
)

// SessionCookie holds the session token; only its hash is stored.
const SessionCookie = "inbox_session"

// loadSession reads the session cookie, when there is one, into the context. A cookie of a
// session that ended is cleared.
func (s *Site) loadSession() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := c.Get(ctxSession); ok {
			return
		}
		token, err := c.Cookie(SessionCookie)
		if err != nil || token == "" {
			c.Next()
			return
		}
		sess, err := s.App.Session(c.Request.Context(), token)
		switch {
		case errors.Is(err, app.ErrNoSession):
			s.clearSessionCookie(c)
		case err != nil:
			s.fail(c, err)
			return
		default:
			c.Set(ctxSession, sess)
		}
		c.Next()
	}
}

func sessionOf(c *gin.Context) (*app.Session, bool) {
	v, ok := c.Get(ctxSession)
	if !ok {
		return nil, false
	}
	return v.(*app.Session), true
}

// sessionKey is the CSRF protection's view of the session: its id, which only the server
// can turn into a token.
func (s *Site) sessionKey(c *gin.Context) (string, bool) {
	sess, ok := sessionOf(c)
	if !ok {
		return "", false
	}
	return sess.ID, true
}

// requireSession sends a person who is not signed in (or whose session expired) to the
// sign-in page.
func (s *Site) requireSession() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := sessionOf(c); !ok {
			s.web.Render.Unauthorized(c)
			return
		}
		c.Next()
	}
}

// member looks up the signed-in person's membership of the workspace in the path through
// the application layer, on every request: the same lookup the API makes, so a removed or
// demoted member loses access on the next request. Another workspace is the 404 page.
func (s *Site) member() gin.HandlerFunc {
	return func(c *gin.Context) {
		wsID, err := uuid.Parse(c.Param("workspace_id"))
		if err != nil {
			s.web.Render.NotFound(c)
			return
		}
		sess, _ := sessionOf(c)
		caller, err := s.App.Member(c.Request.Context(), wsID, sess.UserID)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Set(ctxCaller, caller)
		c.Next()
	}
}

// callerOf is the member acting on a workspace page.
func callerOf(c *gin.Context) *app.Caller { return c.MustGet(ctxCaller).(*app.Caller) }

// workspaces lists the signed-in person's workspaces, once per request.
func (s *Site) workspaces(c *gin.Context) ([]app.WorkspaceMembership, error) {
	if v, ok := c.Get(ctxWorkspaces); ok {
		return v.([]app.WorkspaceMembership), nil
	}
	sess, ok := sessionOf(c)
	if !ok {
		return nil, nil
	}
	list, err := s.App.Workspaces(c.Request.Context(), sess.UserID)
	if err != nil {
		return nil, err
	}
	c.Set(ctxWorkspaces, list)
	return list, nil
}

// chrome is what the layout shows around a page: the person, the workspace of the page and
// the workspaces to switch to.
func (s *Site) chrome(c *gin.Context) Chrome {
	sess, ok := sessionOf(c)
	if !ok {
		return Chrome{}
	}
	ch := Chrome{Person: &Person{Name: displayName(sess.Name, sess.Email), Email: sess.Email}}
	list, err := s.workspaces(c)
	if err != nil {
		s.Logger.Warn("web: list workspaces for the header", "error", err)
	}
	var current string
	if v, ok := c.Get(ctxCaller); ok {
		caller := v.(*app.Caller)
		current = caller.WorkspaceID.String()
		ch.Bell = s.bell(c, caller)
		ch.LiveURL = s.liveURL(current)
	}
	for _, w := range list {
		item := Workspace{ID: w.ID.String(), Name: w.Name}
		ch.Workspaces = append(ch.Workspaces, item)
		if item.ID == current {
			ch.Workspace = &item
		}
	}
	return ch
}

func displayName(name, email string) string {
	if strings.TrimSpace(name) != "" {
		return name
	}
	return email
}

// fail answers an operation's error as a page: 404 and 403 pages, a 503 or 429 that says
// when to try again, an inline message for a refusal of the request, and a logged 500 for
// anything else. Pages that show a refusal next to its control handle 409 and 422 first.
func (s *Site) fail(c *gin.Context, err error) {
	if errors.Is(c.Request.Context().Err(), context.Canceled) && app.Canceled(err) {
		c.AbortWithStatus(499) // the browser went away; nobody reads the answer
		return
	}
	e, fault := app.Classify(err)
	switch {
	case e.Status == http.StatusNotFound:
		s.web.Render.NotFound(c)
	case e.Status == http.StatusForbidden:
		s.web.Render.Forbidden(c)
	case e.Status == http.StatusInternalServerError:
		s.web.Render.ServerError(c, err)
	default:
		if fault {
			s.Logger.Error("web: request failed", "path", logPath(c), "error", err)
		}
		if e.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
		}
		s.web.Render.errorPage(c, e.Status, headingFor(e.Status), e.Message)
	}
}

func headingFor(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Slow down"
	case http.StatusServiceUnavailable:
		return "Try again in a moment"
	case http.StatusConflict, http.StatusUnprocessableEntity:
		return "That change was refused"
	}
	return "That request was refused"
}
