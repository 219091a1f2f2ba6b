package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// LeadListParams are what the lead list accepts: its filters and paging.
var LeadListParams = append(LeadFilterParams[:len(LeadFilterParams):len(LeadFilterParams)], "limit", "cursor")

// ListLeads is a page of the workspace's leads that pass the query's filters, newest first.
func (s *Service) ListLeads(ctx context.Context, c *Caller, q Query) (store.LeadPage, error) {
	if err := s.Authorize(c, domain.ReadLeads); err != nil {
		return store.LeadPage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return store.LeadPage{}, err
	}
	f, err := q.LeadFilter()
	if err != nil {
		return store.LeadPage{}, err
	}
	return s.Store.ListLeads(ctx, c.WorkspaceID, f, limit, cursor)
}

// SetLeadStatus changes a lead's status; a change is audited on the lead's conversation,
// and setting the status it already has records nothing.
func (s *Service) SetLeadStatus(ctx context.Context, c *Caller, id uuid.UUID, status domain.LeadStatus) (*store.LeadView, error) {
	if err := s.Authorize(c, domain.ChangeLeads); err != nil {
		return nil, err
	}
	return s.Store.SetLeadStatus(ctx, c.WorkspaceID, id, status, c.Actor())
}
