// Package api serves the inbox's HTTP surface (api.md): the admin API behind bearer tokens
// and Casbin, the ingest API behind workspace keys, and the service endpoints. Handlers are
// thin: decode and validate into a request type, call the application layer (package app),
// encode. What a member may do, and doing it, lives there, shared with the pages.
package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// Deps is what the API needs.
type Deps struct {
	// App is the application layer the handlers call, built by app.New: the one way in.
	App            *app.Service
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	// Registry receives the HTTP metrics (a fresh registry when nil). The router does not
	// serve them: MetricsHandler does, on a listener of its own (INBOX_METRICS_ADDR).
	Registry prometheus.Registerer
	// IngestRate and IngestBurst bound each ingest key's messages per second, across every
	// replica (a token bucket in Postgres). Zero means DefaultIngestRate and DefaultIngestBurst.
	IngestRate  float64
	IngestBurst int
	// IngestConversationRate and IngestConversationBurst bound one conversation's messages
	// per second, in this process. Zero means DefaultIngestConversationRate and ...Burst.
	IngestConversationRate  float64
	IngestConversationBurst int
}

type server struct {
	Deps
	convLimiter *lruLimiter
}

// NewRouter builds the Gin engine with every route of api.md.
func NewRouter(d Deps) *gin.Engine {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.IngestRate == 0 {
		d.IngestRate, d.IngestBurst = DefaultIngestRate, DefaultIngestBurst
	}
	if d.IngestConversationRate == 0 {
		d.IngestConversationRate, d.IngestConversationBurst = DefaultIngestConversationRate, DefaultIngestConversationBurst
	}
	s := &server{Deps: d, convLimiter: newLRULimiter(d.IngestConversationRate, d.IngestConversationBurst, maxConversationBuckets)}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.recoverer(), newHTTPMetrics(d.Registry).middleware(), s.logErrors())
	r.NoRoute(NotFound)
	r.NoMethod(func(c *gin.Context) {
		respond(c, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "this endpoint does not take that method"})
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", newReadiness(d).serve)
	r.GET("/api/v1/openapi.json", s.openapi)

	r.POST("/api/v1/ingest/messages", s.ingest)

	me := r.Group("/api/v1/me", s.authenticate(), s.asTokenMember())
	me.GET("/tokens", s.can(domain.ManageOwnTokens), s.listTokens)
	me.POST("/tokens", s.can(domain.ManageOwnTokens), s.createToken)
	me.DELETE("/tokens/:token_id", s.can(domain.ManageOwnTokens), s.revokeToken)
	me.GET("/notifications", s.can(domain.ReadOwnNotifications), s.listNotifications)
	me.POST("/notifications/read", s.can(domain.ReadOwnNotifications), s.markNotificationsRead)

	ws := r.Group("/api/v1/workspaces/:workspace_id", s.authenticate(), s.member())
	ws.GET("/conversations", s.can(domain.ReadConversations), s.listConversations)
	// Bulk actions: the permission of the action (state, assign, labels ChangeConversations;
	// read, unread MarkRead) is checked in app, as for the single change.
	ws.POST("/conversations/bulk", s.can(domain.ReadConversations), s.startBulk)
	ws.GET("/conversations/bulk/:bulk_id", s.can(domain.ReadConversations), s.getBulk)
	ws.POST("/conversations/bulk/:bulk_id/cancel", s.can(domain.ReadConversations), s.cancelBulk)
	ws.GET("/conversations/:id", s.can(domain.ReadConversations), s.getConversation)
	ws.GET("/conversations/:id/messages", s.can(domain.ReadConversations), s.listMessages)
	ws.POST("/conversations/:id/state", s.can(domain.ChangeConversations), s.changeState)
	ws.PUT("/conversations/:id/assignee", s.can(domain.ChangeConversations), s.changeAssignee)
	ws.POST("/conversations/:id/read", s.can(domain.MarkRead), s.markRead(true))
	ws.POST("/conversations/:id/unread", s.can(domain.MarkRead), s.markRead(false))
	ws.POST("/conversations/:id/summary/retry", s.can(domain.ChangeConversations), s.retrySummary)
	ws.GET("/conversations/:id/audit", s.can(domain.ReadAudit), s.listAudit)
	ws.PUT("/conversations/:id/labels", s.can(domain.ChangeConversations), s.putConversationLabels)
	ws.GET("/conversations/:id/notes", s.can(domain.ReadConversations), s.listNotes)
	ws.POST("/conversations/:id/notes", s.can(domain.WriteNotes), s.createNote)
	ws.DELETE("/conversations/:id/notes/:note_id", s.can(domain.WriteNotes), s.deleteNote) // author or owner: app decides

	ws.GET("/labels", s.can(domain.ReadConversations), s.listLabels)
	ws.POST("/labels", s.can(domain.ManageLabels), s.createLabel)
	ws.PATCH("/labels/:label_id", s.can(domain.ManageLabels), s.patchLabel)
	ws.DELETE("/labels/:label_id", s.can(domain.ManageLabels), s.deleteLabel)

	// Saved views: every member keeps their own; shared ones are checked in app (owners, admins).
	ws.GET("/views", s.can(domain.ManageOwnViews), s.listViews)
	ws.POST("/views", s.can(domain.ManageOwnViews), s.createView)
	ws.PATCH("/views/:view_id", s.can(domain.ManageOwnViews), s.patchView)
	ws.DELETE("/views/:view_id", s.can(domain.ManageOwnViews), s.deleteView)

	ws.GET("/leads", s.can(domain.ReadLeads), s.listLeads)
	ws.GET("/leads/export.csv", s.can(domain.ExportLeads), s.exportLeads)
	ws.PATCH("/leads/:id", s.can(domain.ChangeLeads), s.patchLead)

	ws.GET("/reports", s.can(domain.ReadReports), s.getReport)

	ws.GET("/members", s.can(domain.ReadMembers), s.listMembers)
	ws.POST("/members", s.can(domain.ManageMembers), s.addMember)
	ws.PATCH("/members/:user_id", s.can(domain.ManageMembers), s.changeMemberRole)
	ws.DELETE("/members/:user_id", s.can(domain.ManageMembers), s.removeMember)
	ws.POST("/members/:user_id/invite", s.can(domain.ManageMembers), s.newInvite)

	ws.GET("/settings", s.can(domain.ManageAutoArchive), s.getSettings) // the BYOK part for owners only
	ws.PATCH("/settings", s.can(domain.ManageAutoArchive), s.patchSettings)
	ws.GET("/business-hours", s.can(domain.ManageBusinessHours), s.getBusinessHours)
	ws.PUT("/business-hours", s.can(domain.ManageBusinessHours), s.putBusinessHours)
	ws.GET("/sla", s.can(domain.ReadConversations), s.getSLA)
	ws.PUT("/sla", s.can(domain.ManageSLA), s.putSLA)
	ws.PUT("/settings/openai-key", s.can(domain.ManageSettings), s.putOpenAIKey)
	ws.DELETE("/settings/openai-key", s.can(domain.ManageSettings), s.deleteOpenAIKey)

	ws.GET("/webhooks", s.can(domain.ManageWebhooks), s.listWebhooks)
	ws.POST("/webhooks", s.can(domain.ManageWebhooks), s.createWebhook)
	ws.GET("/webhooks/:id", s.can(domain.ManageWebhooks), s.getWebhook)
	ws.PATCH("/webhooks/:id", s.can(domain.ManageWebhooks), s.patchWebhook)
	ws.DELETE("/webhooks/:id", s.can(domain.ManageWebhooks), s.deleteWebhook)
	ws.POST("/webhooks/:id/rotate-secret", s.can(domain.ManageWebhooks), s.rotateWebhookSecret)
	ws.GET("/webhooks/:id/deliveries", s.can(domain.ManageWebhooks), s.listDeliveries)
	ws.GET("/webhooks/:id/deliveries/:delivery_id", s.can(domain.ManageWebhooks), s.getDelivery)
	ws.POST("/webhooks/:id/deliveries/:delivery_id/redeliver", s.can(domain.ManageWebhooks), s.redeliver)
	return r
}

// DefaultUpdateTimeout is how long a lifecycle request waits for its workflow by default.
const DefaultUpdateTimeout = app.DefaultUpdateTimeout

// NotFound answers a path no route matches with the API's JSON 404. The web admin, which
// owns the other unknown paths, sends it those under /api/.
func NotFound(c *gin.Context) {
	respond(c, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such endpoint"})
}

func (s *server) healthz(c *gin.Context) { c.JSON(http.StatusOK, healthAnswer{Status: "ok"}) }

// recoverer turns a panic into a logged 500 with the API's error body.
func (s *server) recoverer() gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, rec any) {
		s.Logger.Error("panic in handler", "path", c.FullPath(), "panic", rec)
		respond(c, &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "something went wrong on our side; it has been logged"})
	})
}

// logErrors logs the server faults handlers attached to the context.
func (s *server) logErrors() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		for _, e := range c.Errors {
			s.Logger.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "error", e.Err)
		}
	}
}
