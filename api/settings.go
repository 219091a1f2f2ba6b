package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

func (s *server) getSettings(c *gin.Context) {
	_, setting, err := s.Store.OpenAIKey(c.Request.Context(), workspaceID(c))
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"openai_key": setting})
}

// putOpenAIKey stores the workspace's own OpenAI key, sealed; it is never returned or logged.
func (s *server) putOpenAIKey(c *gin.Context) {
	var body struct {
		APIKey string `json:"api_key"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	key := strings.TrimSpace(body.APIKey)
	if len(key) < 8 || len(key) > 512 || strings.ContainsAny(key, " \t\r\n") {
		respond(c, badRequest("api_key: want an OpenAI API key (e.g. sk-...)"))
		return
	}
	if err := checkText("api_key", key, 512, true); err != nil {
		respond(c, err)
		return
	}
	ws := workspaceID(c)
	sealed := s.Secrets.Seal([]byte(key), ws[:])
	if err := s.Store.SetOpenAIKey(c.Request.Context(), ws, sealed, key[len(key)-4:]); err != nil {
		respond(c, err)
		return
	}
	s.getSettings(c)
}

func (s *server) deleteOpenAIKey(c *gin.Context) {
	if err := s.Store.DeleteOpenAIKey(c.Request.Context(), workspaceID(c)); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
