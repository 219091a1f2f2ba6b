package web

import (
	"github.com/gin-gonic/gin"
)

// registerWorkspacePages mounts the pages of one workspace (/w/<id>/...). Every handler
// here runs after requireSession and member, so callerOf(c) is the member acting.
func (s *Site) registerWorkspacePages(ws *gin.RouterGroup) {
	ws.GET("/", s.inbox)
	s.registerConversationPages(ws)
	s.registerLivePages(ws)
	s.registerAdminPages(ws)
	s.registerWebhookPages(ws)
}
