package web

import "github.com/gin-gonic/gin"

// registerAdminPages mounts the workspace's Leads, Team and Settings pages. The handlers
// ask the application layer for everything, which authorises each operation; the pages
// ask it only which controls to show (App.Can).
func (s *Site) registerAdminPages(ws *gin.RouterGroup) {
	ws.GET("/leads", s.leads)
	ws.GET("/leads/export.csv", s.exportLeads)
	ws.POST("/leads/:lead_id/status", s.setLeadStatus)

	ws.GET("/team", s.team)
	ws.POST("/team/invite", s.invite)
	ws.POST("/team/:user_id/role", s.changeRole)
	ws.POST("/team/:user_id/invite", s.newInvite)
	ws.GET("/team/:user_id/remove", s.confirmRemove)
	ws.POST("/team/:user_id/remove", s.removeMember)

	ws.GET("/settings", s.settings)
	ws.POST("/settings/openai-key", s.setOpenAIKey)
	ws.POST("/settings/openai-key/delete", s.deleteOpenAIKey)
	ws.POST("/settings/auto-archive", s.setAutoArchive)
}
