package api

import (
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

const (
	ctxToken  = "inbox.token"
	ctxCaller = "inbox.caller"
)

// conversationRoutes is the prefix of the routes about one conversation, whose :id the
// token's query looks up too.
const conversationRoutes = "/api/v1/workspaces/:workspace_id/conversations/:id"

// authenticate resolves the bearer token, through the application layer, to the member it
// acts as (one workspace, one membership), or answers 401. On a route about one
// conversation the same query looks the conversation up in the token's workspace, for
// the operation's own check (a malformed id is left for the handler's 400).
func (s *server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			respond(c, errUnauthenticated)
			return
		}
		var conversationID uuid.UUID
		if p := c.FullPath(); p == conversationRoutes || strings.HasPrefix(p, conversationRoutes+"/") {
			conversationID, _ = uuid.Parse(c.Param("id"))
		}
		member, err := s.App.AuthenticateTokenFor(c.Request.Context(), token, conversationID)
		if err != nil {
			respond(c, err)
			return
		}
		c.Set(ctxToken, member)
		c.Next()
	}
}

// member makes the token's member the caller of a workspace path. A token acts only in the
// workspace it was made in: any other is answered 404, like one that does not exist, so a
// token cannot even tell which workspaces exist.
func (s *server) member() gin.HandlerFunc {
	return func(c *gin.Context) {
		wsID, err := uuid.Parse(c.Param("workspace_id"))
		if err != nil {
			respond(c, badRequest("workspace_id: not a UUID"))
			return
		}
		m, err := tokenMember(c).In(wsID)
		if err != nil {
			respond(c, err)
			return
		}
		c.Set(ctxCaller, m)
		c.Next()
	}
}

// can answers 403 unless the caller's role may have perm in this workspace. The operation
// asks again; checking here first keeps a refusal ahead of any complaint about the body.
func (s *server) can(perm domain.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.App.Authorize(caller(c), perm); err != nil {
			respond(c, err)
			return
		}
		c.Next()
	}
}

// tokenMember is the member the request's token acts as (after authenticate).
func tokenMember(c *gin.Context) *app.Caller { return c.MustGet(ctxToken).(*app.Caller) }

func caller(c *gin.Context) *app.Caller { return c.MustGet(ctxCaller).(*app.Caller) }

// pathID parses a UUID path parameter, answering 400 when it is not one.
func pathID(c *gin.Context, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil {
		return uuid.Nil, badRequest("%s: not a UUID", name)
	}
	return id, nil
}
