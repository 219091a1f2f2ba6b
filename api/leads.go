package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// leadItem is a lead as GET /leads and PATCH /leads/{id} show it. Empty text is null, as in
// the conversation's visitor and source.
type leadItem struct {
	ID             uuid.UUID         `json:"id"`
	ConversationID uuid.UUID         `json:"conversation_id"`
	Name           *string           `json:"name"`
	Email          *string           `json:"email"`
	Phone          *string           `json:"phone"`
	Status         domain.LeadStatus `json:"status"`
	CreatedAt      time.Time         `json:"created_at"`
	PageURL        *string           `json:"page_url"`
	Summary        *string           `json:"summary"`
	Assignee       *assigneeJSON     `json:"assignee"`
}

func toLeadItem(v *app.LeadView) leadItem {
	item := leadItem{
		ID: v.ID, ConversationID: v.ConversationID,
		Name: nonEmpty(v.Name), Email: nonEmpty(v.Email), Phone: nonEmpty(v.Phone),
		Status: v.Status, CreatedAt: v.CreatedAt.UTC(),
		PageURL: nonEmpty(v.PageURL), Summary: nonEmpty(v.Summary),
	}
	if v.AssigneeID.Valid {
		item.Assignee = &assigneeJSON{UserID: v.AssigneeID.UUID, Name: v.AssigneeName.String}
		if v.AssigneeRole.Valid {
			item.Assignee.Role = &v.AssigneeRole.String
		}
	}
	return item
}

func (s *server) listLeads(c *gin.Context) {
	q, err := app.ReadQuery(c.Request.URL.Query(), app.LeadListParams...)
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.App.ListLeads(c.Request.Context(), caller(c), q)
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]leadItem, len(page.Items))
	for i := range page.Items {
		items[i] = toLeadItem(&page.Items[i])
	}
	writePage(c, items, page.NextCursor)
}

// patchLead changes a lead's status; a change is audited on the lead's conversation,
// setting the status it already has is a 200 that records nothing.
func (s *server) patchLead(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	status, err := decodeChoice(c, "status", domain.ParseLeadStatus)
	if err != nil {
		respond(c, err)
		return
	}
	v, err := s.App.SetLeadStatus(c.Request.Context(), caller(c), id, status)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toLeadItem(v))
}

// exportLeads streams the leads that pass the filters as CSV (app.ExportLeads). An error
// before the first byte is an ordinary error answer; after it, the download is cut short.
func (s *server) exportLeads(c *gin.Context) {
	q, err := app.ReadQuery(c.Request.URL.Query(), app.LeadFilterParams...)
	if err != nil {
		respond(c, err)
		return
	}
	started, err := s.App.ExportLeads(c.Request.Context(), caller(c), q, c.Writer)
	switch {
	case started && err != nil:
		c.Abort()
	case err != nil && c.Request.Context().Err() != nil:
		c.Abort() // the client left before the first row: nobody to answer
	case err != nil:
		respond(c, err)
	}
}
