package api

import (
	"errors"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/policies"
	"github.com/bestai/inbox/store"
)

const (
	ctxUser   = "inbox.user"
	ctxCaller = "inbox.caller"
)

// authenticate resolves the bearer token to its user, or answers 401.
func (s *server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 256 {
			respond(c, errUnauthenticated)
			return
		}
		user, err := s.Store.UserByToken(c.Request.Context(), token)
		if errors.Is(err, store.ErrNotFound) {
			respond(c, errUnauthenticated)
			return
		}
		if err != nil {
			respond(c, err)
			return
		}
		c.Set(ctxUser, user)
		c.Next()
	}
}

// member loads the caller's membership of the workspace in the path, through the
// application layer, on every request. A workspace the caller is not in is answered 404,
// like one that does not exist.
func (s *server) member() gin.HandlerFunc {
	return func(c *gin.Context) {
		wsID, err := uuid.Parse(c.Param("workspace_id"))
		if err != nil {
			respond(c, badRequest("workspace_id: not a UUID"))
			return
		}
		user := c.MustGet(ctxUser).(*store.User)
		m, err := s.App.Member(c.Request.Context(), wsID, user.ID)
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
func (s *server) can(perm policies.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.App.Authorize(caller(c), perm); err != nil {
			respond(c, err)
			return
		}
		c.Next()
	}
}

func caller(c *gin.Context) *app.Caller { return c.MustGet(ctxCaller).(*app.Caller) }

// pathID parses a UUID path parameter, answering 400 when it is not one.
func pathID(c *gin.Context, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil {
		return uuid.Nil, badRequest("%s: not a UUID", name)
	}
	return id, nil
}
