package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/live"
)

// livePath is the section path of a workspace's event stream: /w/<id>/events.
const livePath = "events"

// liveURL is the event stream a page of the workspace listens to; "" when the process has
// no listener, and the page then updates on reload only.
func (s *Site) liveURL(workspaceID string) string {
	if s.Live == nil {
		return ""
	}
	return WorkspacePath(workspaceID, livePath)
}

// events streams the changes of the workspace in the path to a page as Server-Sent
// Events. The session and the membership were checked like any page's, on connect and on
// every reconnect, and are checked again on every heartbeat, so signing out or being
// removed ends an open stream too. The stream carries only ids and kinds, and the page
// re-fetches what changed through the pages, which check again. One session may hold
// live.DefaultMaxPerOwner streams (tabs) at once; the next is refused with 429, and
// that tab updates on reload only.
func (s *Site) events(c *gin.Context) {
	if s.Live == nil {
		// 204 tells EventSource to stop reconnecting.
		c.Status(http.StatusNoContent)
		return
	}
	sess, _ := sessionOf(c)
	wsID := callerOf(c).WorkspaceID
	token, _ := c.Cookie(SessionCookie)
	live.ServeStream(c.Writer, c.Request, s.Live, live.Stream{
		Workspaces: []uuid.UUID{wsID},
		User:       sess.UserID,
		Owner:      sess.ID,
		Allowed:    func(ctx context.Context) bool { return s.stillMember(ctx, token, wsID) },
	})
}

// stillMember says whether the session of token is still signed in and its person still a
// member of the workspace. An error says no too: the browser reconnects, and that request
// is checked afresh.
func (s *Site) stillMember(ctx context.Context, token string, wsID uuid.UUID) bool {
	sess, err := s.App.Session(ctx, token)
	if err != nil {
		return false
	}
	_, err = s.App.Member(ctx, wsID, sess.UserID)
	return err == nil
}
