package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
)

// The Labels section of the Settings page: add, rename or recolour, delete (confirm step).

func (s *Site) labelsDone(c *gin.Context) {
	SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionSettings)+"?done=label#labels")
}

// labelRefused shows a refusal in words next to the labels, or the refusal page.
func (s *Site) labelRefused(c *gin.Context, err error) {
	s.refuseOnSettings(c, err, func(d *settingsData, _ int, text string) { d.LabelError = text })
}

func (s *Site) labelID(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("label_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return uuid.Nil, false
	}
	return id, true
}

func (s *Site) createLabel(c *gin.Context) {
	if _, err := s.App.CreateLabel(c.Request.Context(), callerOf(c), c.PostForm("name"), c.PostForm("color")); err != nil {
		s.labelRefused(c, err)
		return
	}
	s.labelsDone(c)
}

func (s *Site) updateLabel(c *gin.Context) {
	id, ok := s.labelID(c)
	if !ok {
		return
	}
	name, color := c.PostForm("name"), c.PostForm("color")
	if _, err := s.App.UpdateLabel(c.Request.Context(), callerOf(c), id, app.LabelChanges{Name: &name, Color: &color}); err != nil {
		s.labelRefused(c, err)
		return
	}
	s.labelsDone(c)
}

// confirmDeleteLabel is the confirm step: the Settings page asking about this label.
func (s *Site) confirmDeleteLabel(c *gin.Context) {
	id, ok := s.labelID(c)
	if !ok {
		return
	}
	s.settingsPage(c, http.StatusOK, settingsData{ConfirmDelete: id.String()})
}

func (s *Site) deleteLabel(c *gin.Context) {
	id, ok := s.labelID(c)
	if !ok {
		return
	}
	if err := s.App.DeleteLabel(c.Request.Context(), callerOf(c), id); err != nil {
		s.labelRefused(c, err)
		return
	}
	s.labelsDone(c)
}
