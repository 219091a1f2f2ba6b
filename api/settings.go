package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func (s *server) getSettings(c *gin.Context) {
	setting, err := s.App.Settings(c.Request.Context(), caller(c))
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
	setting, err := s.App.SetOpenAIKey(c.Request.Context(), caller(c), body.APIKey)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"openai_key": setting})
}

func (s *server) deleteOpenAIKey(c *gin.Context) {
	if err := s.App.DeleteOpenAIKey(c.Request.Context(), caller(c)); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
