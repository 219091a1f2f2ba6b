package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
)

// asTokenMember makes the token's member the caller of a path without a workspace
// (/api/v1/me/...): the person in the workspace the token was made in.
func (s *server) asTokenMember() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(ctxCaller, tokenMember(c))
		c.Next()
	}
}

// listTokens pages through the caller's own live tokens in the token's workspace.
func (s *server) listTokens(c *gin.Context) {
	page, err := s.App.ListTokens(c.Request.Context(), caller(c), app.QueryOf(c.Request.URL.Query()))
	if err != nil {
		respond(c, err)
		return
	}
	writePage(c, page.Items, page.NextCursor)
}

// createToken makes another token for the caller in the same workspace; its secret is in
// this answer only.
func (s *server) createToken(c *gin.Context) {
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	made, err := s.App.CreateToken(c.Request.Context(), caller(c), body.Name)
	if err != nil {
		respond(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, made)
}

// revokeToken deletes one of the caller's tokens, the one in use included.
func (s *server) revokeToken(c *gin.Context) {
	id, err := pathID(c, "token_id")
	if err != nil {
		respond(c, err)
		return
	}
	if err := s.App.RevokeToken(c.Request.Context(), caller(c), id); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
