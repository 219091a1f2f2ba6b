package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// labelItem is a label as the labels list shows it.
type labelItem struct {
	ID        uuid.UUID         `json:"id"`
	Name      string            `json:"name"`
	Color     domain.LabelColor `json:"color"`
	CreatedAt time.Time         `json:"created_at"`
}

// labelRef is a label as a conversation carries it.
type labelRef struct {
	ID    uuid.UUID         `json:"id"`
	Name  string            `json:"name"`
	Color domain.LabelColor `json:"color"`
}

func toLabel(l *app.Label) labelItem {
	return labelItem{ID: l.ID, Name: l.Name, Color: l.Color, CreatedAt: l.CreatedAt.UTC()}
}

func toLabelRefs(in []app.LabelRef) []labelRef {
	out := make([]labelRef, len(in))
	for i, l := range in {
		out[i] = labelRef{ID: l.ID, Name: l.Name, Color: l.Color}
	}
	return out
}

func (s *server) listLabels(c *gin.Context) {
	q, err := app.ReadQuery(c.Request.URL.Query(), "limit", "cursor")
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.App.ListLabels(c.Request.Context(), caller(c), q)
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]labelItem, len(page.Items))
	for i := range page.Items {
		items[i] = toLabel(&page.Items[i])
	}
	writePage(c, items, page.NextCursor)
}

func (s *server) createLabel(c *gin.Context) {
	var body struct {
		Name  *string `json:"name"`
		Color string  `json:"color"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	if body.Name == nil {
		respond(c, badRequest("name: required"))
		return
	}
	l, err := s.App.CreateLabel(c.Request.Context(), caller(c), *body.Name, body.Color)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusCreated, toLabel(l))
}

func (s *server) patchLabel(c *gin.Context) {
	id, err := pathID(c, "label_id")
	if err != nil {
		respond(c, err)
		return
	}
	var body struct {
		Name  *string `json:"name"`
		Color *string `json:"color"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	l, err := s.App.UpdateLabel(c.Request.Context(), caller(c), id, app.LabelChanges{Name: body.Name, Color: body.Color})
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toLabel(l))
}

func (s *server) deleteLabel(c *gin.Context) {
	id, err := pathID(c, "label_id")
	if err != nil {
		respond(c, err)
		return
	}
	if err := s.App.DeleteLabel(c.Request.Context(), caller(c), id); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// putConversationLabels replaces the conversation's labels and answers its item.
func (s *server) putConversationLabels(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	var body struct {
		Labels *[]string `json:"labels"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	if body.Labels == nil {
		respond(c, badRequest("labels: required, a list of label ids (empty to clear)"))
		return
	}
	ids := make([]uuid.UUID, len(*body.Labels))
	for i, raw := range *body.Labels {
		if ids[i], err = uuid.Parse(raw); err != nil {
			respond(c, badRequest("labels: %q is not a label id", domain.Clip(raw, 64)))
			return
		}
	}
	v, err := s.App.SetConversationLabels(c.Request.Context(), caller(c), id, ids)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toItem(v))
}
