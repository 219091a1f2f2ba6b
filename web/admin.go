package web

import "github.com/gin-gonic/gin"

// registerAdminPages mounts the workspace's Leads, Team and Settings pages.
func (s *Site) registerAdminPages(ws *gin.RouterGroup) {
}
