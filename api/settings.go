package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/domain"
)

// getSettings shows the workspace's settings: auto_archive_days to owners and admins, the
// BYOK key's openai_key to owners only.
func (s *server) getSettings(c *gin.Context) {
	s.writeSettings(c)
}

func (s *server) writeSettings(c *gin.Context) {
	days, err := s.App.AutoArchiveSetting(c.Request.Context(), caller(c))
	if err != nil {
		respond(c, err)
		return
	}
	out := settingsAnswer{AutoArchiveDays: days}
	if s.App.Can(caller(c), domain.ManageSettings) {
		setting, err := s.App.Settings(c.Request.Context(), caller(c))
		if err != nil {
			respond(c, err)
			return
		}
		out.OpenAIKey = toOpenAIKey(setting)
	}
	c.JSON(http.StatusOK, out)
}

// patchSettings changes the settings owners and admins may change: auto_archive_days
// (1 to 3650, or null to turn auto-archive off).
func (s *server) patchSettings(c *gin.Context) {
	var body map[string]json.RawMessage
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	raw, ok := body["auto_archive_days"]
	for k := range body {
		if k != "auto_archive_days" {
			respond(c, badRequest("body: unknown field %q", domain.Clip(k, 100)))
			return
		}
	}
	if !ok {
		respond(c, badRequest("auto_archive_days: required (days from 1 to 3650, or null to turn auto-archive off)"))
		return
	}
	var days *int
	if err := json.Unmarshal(raw, &days); err != nil {
		respond(c, badRequest("auto_archive_days: want a whole number of days from 1 to 3650, or null"))
		return
	}
	if _, err := s.App.SetAutoArchive(c.Request.Context(), caller(c), days); err != nil {
		respond(c, err)
		return
	}
	s.writeSettings(c)
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
	c.JSON(http.StatusOK, openAIKeyAnswer{OpenAIKey: toOpenAIKey(setting)})
}

func (s *server) deleteOpenAIKey(c *gin.Context) {
	if err := s.App.DeleteOpenAIKey(c.Request.Context(), caller(c)); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
