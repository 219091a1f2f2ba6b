package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/live"
)

// livePath is the section path of a workspace's event stream: /w/<id>/events.
const livePath = "events"

// registerLivePages mounts the event stream of a workspace's pages.
func (s *Site) registerLivePages(ws *gin.RouterGroup) {
	ws.GET("/"+livePath, s.events)
}

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
// every reconnect; the stream carries only ids and kinds, and the page re-fetches what
// changed through the pages, which check again.
func (s *Site) events(c *gin.Context) {
	if s.Live == nil {
		// 204 tells EventSource to stop reconnecting.
		c.Status(http.StatusNoContent)
		return
	}
	live.ServeSSE(c.Writer, c.Request, s.Live, []uuid.UUID{callerOf(c).WorkspaceID})
}
