package web

import (
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
)

// registerWorkspacePages mounts the pages of one workspace (/w/<id>/...). Every handler
// here runs after requireSession and member, so callerOf(c) is the member acting.
func (s *Site) registerWorkspacePages(ws *gin.RouterGroup) {
	ws.GET("/", s.inbox)
	s.registerConversationPages(ws)
	s.registerLivePages(ws)
	s.registerAdminPages(ws)
	s.registerWebhookPages(ws)
	s.registerAccountPages(ws)
}

// pageQuery asks a list for the page after cursor ("" for the first).
func pageQuery(cursor string) app.Query {
	v := url.Values{}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return app.QueryOf(v)
}
