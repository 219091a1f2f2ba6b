package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
)

// registerWorkspacePages mounts the pages of one workspace (/w/<id>/...). Every handler
// here runs after requireSession and member, so callerOf(c) is the member acting.
func (s *Site) registerWorkspacePages(ws *gin.RouterGroup) {
	ws.GET("/", s.inbox)
	s.registerAdminPages(ws)
}

// inbox is the inbox list.
func (s *Site) inbox(c *gin.Context) {
	caller := callerOf(c)
	page, err := s.App.ListConversations(c.Request.Context(), caller, app.QueryOf(c.Request.URL.Query()))
	if err != nil {
		s.fail(c, err)
		return
	}
	SetTitle(c, "Inbox")
	SetSection(c, SectionInbox)
	s.web.Render.Page(c, http.StatusOK, "inbox", page)
}
