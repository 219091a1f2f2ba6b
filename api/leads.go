package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
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

func toLeadItem(v *store.LeadView) leadItem {
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

var (
	leadFilterParams = []string{"status", "created_after", "created_before"}
	leadListParams   = append(leadFilterParams[:len(leadFilterParams):len(leadFilterParams)], "limit", "cursor")
)

// leadFilter reads the filters the lead list and the export share.
func leadFilter(q listQuery) (store.LeadFilter, error) {
	var f store.LeadFilter
	for _, v := range q.list("status") {
		st, err := domain.ParseLeadStatus(v)
		if err != nil {
			return f, badRequest("status: %v", err)
		}
		f.Statuses = append(f.Statuses, st)
	}
	var err error
	f.CreatedAfter, f.CreatedBefore, err = q.createdRange()
	return f, err
}

func (s *server) listLeads(c *gin.Context) {
	q, err := readListQuery(c, leadListParams...)
	if err != nil {
		respond(c, err)
		return
	}
	limit, cursor, err := pageParams(c)
	if err != nil {
		respond(c, err)
		return
	}
	f, err := leadFilter(q)
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.Store.ListLeads(c.Request.Context(), workspaceID(c), f, limit, cursor)
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
	v, err := s.Store.SetLeadStatus(c.Request.Context(), workspaceID(c), id, status, actor(c))
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toLeadItem(v))
}
