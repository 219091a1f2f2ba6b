package web

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
)

// Register mounts the static files and every page of the web admin on r: the one table of
// the pages' routes, as api/router.go is the API's. Paths under /api/ that match no route
// keep their JSON 404 (apiNotFound); any other unknown path gets the 404 page.
//
// The permission named beside a workspace page is the one its application call checks (a
// page without it gets the 403 page); the handlers only ask App.Can which controls to show.
func (s *Site) Register(r *gin.Engine, apiNotFound gin.HandlerFunc) {
	s.web.Mount(r) // GET /static/*name

	// Every page: the body bound comes before anything (the CSRF check) parses the form.
	pages := r.Group("/", SecurityHeaders(), s.web.LimitBody(), s.loadSession(), s.web.CSRF.Middleware(s.web.Render.Expired))

	// Anyone: home sends a signed-in person to their first inbox, others to sign in; the
	// invite link's token is its own key.
	pages.GET("/", s.home)
	pages.GET(SignInPath, s.signInPage)
	pages.POST(SignInPath, s.signIn)
	pages.POST(SignOutPath, s.signOut)
	pages.GET(app.InvitePath+":token", s.invitePage)
	pages.POST(app.InvitePath+":token", s.acceptInvite)

	// A workspace's pages need a session and a membership of it (member looks it up on
	// every request), so callerOf(c) is the member acting.
	ws := pages.Group("/w/:workspace_id", s.requireSession(), s.member())

	// Inbox and a conversation: ReadConversations; the forms ChangeConversations, read and
	// unread MarkRead, the lead ChangeLeads.
	ws.GET("/", s.inbox)
	ws.GET("/c/:id", s.conversation)
	ws.GET("/c/:id/detail", s.conversationDetail) // a live refresh: does not mark it read
	ws.POST("/c/:id/state", s.changeState)
	ws.POST("/c/:id/assignee", s.assign)
	ws.POST("/c/:id/read", s.markRead(true))
	ws.POST("/c/:id/unread", s.markRead(false))
	ws.POST("/c/:id/summary/retry", s.retrySummary)
	ws.POST("/c/:id/lead", s.setLead)
	ws.POST("/c/:id/labels", s.setLabels)

	// Bulk actions: the permission of the action (app decides, as for the single change);
	// the batch's page and its live progress ReadConversations.
	ws.POST("/bulk", s.startBulk)
	ws.GET("/bulk/:bulk_id", s.bulk)
	ws.POST("/bulk/:bulk_id/cancel", s.cancelBulk)

	// Saved views (ManageOwnViews; shared ones ManageSharedViews): the side list alone (a
	// live refresh), save the current filters, delete. Opening one is the inbox's ?view=.
	ws.GET("/views", s.savedViews)
	ws.POST("/views", s.createView)
	ws.POST("/views/:view_id/delete", s.deleteView)
	// Internal notes: WriteNotes; deleting, the author or DeleteAnyNote.
	ws.POST("/c/:id/notes", s.addNote)
	ws.POST("/c/:id/notes/:note_id/delete", s.deleteNote)

	// The person's own notifications: ReadOwnNotifications. Opening one marks it read and
	// lands on its conversation; the bell alone is what a live refresh fetches.
	ws.GET("/notifications", s.notifications)
	ws.GET("/notifications/bell", s.bellFragment)
	ws.POST("/notifications/read-all", s.readAllNotifications)
	ws.POST("/notifications/:notification_id/open", s.openNotification)

	// The live updates of the open pages (Server-Sent Events): any member.
	ws.GET("/"+livePath, s.events)

	// Leads: ReadLeads; the export ExportLeads, a status ChangeLeads.
	ws.GET("/leads", s.leads)
	ws.GET("/leads/export.csv", s.exportLeads)
	ws.POST("/leads/:lead_id/status", s.setLeadStatus)

	// Reports: ReadReports; format=csv downloads the same figures.
	ws.GET("/reports", s.reports)

	// Team: ReadMembers; the changes ManageMembers (and ManageOwners for owners).
	ws.GET("/team", s.team)
	ws.POST("/team/invite", s.invite)
	ws.POST("/team/:user_id/role", s.changeRole)
	ws.POST("/team/:user_id/invite", s.newInvite)
	ws.GET("/team/:user_id/remove", s.confirmRemove) // the confirm step
	ws.POST("/team/:user_id/remove", s.removeMember)

	// Settings: ManageAutoArchive; the OpenAI key ManageSettings (owners).
	ws.GET("/settings", s.settings)
	ws.POST("/settings/openai-key", s.setOpenAIKey)
	ws.POST("/settings/openai-key/delete", s.deleteOpenAIKey)
	ws.POST("/settings/auto-archive", s.setAutoArchive)
	ws.POST("/settings/business-hours", s.setBusinessHours) // ManageBusinessHours
	ws.POST("/settings/sla", s.setSLA)                      // ManageSLA
	// Labels: ManageLabels.
	ws.POST("/settings/labels", s.createLabel)
	ws.POST("/settings/labels/:label_id", s.updateLabel)
	ws.GET("/settings/labels/:label_id/delete", s.confirmDeleteLabel) // the confirm step
	ws.POST("/settings/labels/:label_id/delete", s.deleteLabel)

	// Webhooks: ManageWebhooks; an endpoint's page carries its delivery log.
	ws.GET("/webhooks", s.webhooks)
	ws.POST("/webhooks", s.createWebhook)
	ws.GET("/webhooks/:webhook_id", s.webhook)
	ws.POST("/webhooks/:webhook_id", s.updateWebhook)
	ws.POST("/webhooks/:webhook_id/rotate", s.rotateWebhookSecret)
	ws.POST("/webhooks/:webhook_id/delete", s.deleteWebhook)
	ws.POST("/webhooks/:webhook_id/deliveries/:delivery_id/redeliver", s.redeliverWebhook)

	// The person's own account in this workspace: ManageOwnTokens for the tokens; the
	// password is their own (its current one is checked).
	ws.GET("/account", s.account)
	ws.POST("/account/tokens", s.createToken)
	ws.POST("/account/tokens/:token_id/revoke", s.revokeToken)
	ws.POST("/account/password", s.changePassword)

	notFound := s.web.NotFoundHandler()
	r.NoRoute(func(c *gin.Context) {
		if strings.HasPrefix(c.Request.URL.Path, "/api/") && apiNotFound != nil {
			apiNotFound(c)
			return
		}
		s.loadSession()(c)
		if !c.IsAborted() {
			notFound(c)
		}
	})
}
