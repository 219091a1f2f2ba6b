package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// ConversationListParams are what the inbox list accepts: its filters and paging.
var ConversationListParams = append(ConversationFilterParams[:len(ConversationFilterParams):len(ConversationFilterParams)], "limit", "cursor")

// ListConversations is the inbox list: the query's filters, newest activity first, keyset
// pages.
func (s *Service) ListConversations(ctx context.Context, c *Caller, q Query) (store.ConversationPage, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return store.ConversationPage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return store.ConversationPage{}, err
	}
	f, err := q.ConversationFilter(c.UserID)
	if err != nil {
		return store.ConversationPage{}, err
	}
	return s.Store.ListConversations(ctx, c.WorkspaceID, f, limit, cursor)
}

// OpenConversation is the detail as its reader sees it: opening it marks it read.
func (s *Service) OpenConversation(ctx context.Context, c *Caller, id uuid.UUID) (*store.ConversationView, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return nil, err
	}
	if err := s.Store.SetRead(ctx, c.WorkspaceID, id, true, c.Actor()); err != nil {
		return nil, err
	}
	return s.Store.GetConversation(ctx, c.WorkspaceID, id)
}

// Conversation is the detail, without marking it read: what a live refresh shows.
func (s *Service) Conversation(ctx context.Context, c *Caller, id uuid.UUID) (*store.ConversationView, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return nil, err
	}
	return s.Store.GetConversation(ctx, c.WorkspaceID, id)
}

// SetRead marks the conversation read or unread; it is not a lifecycle change and costs no
// workflow round trip.
func (s *Service) SetRead(ctx context.Context, c *Caller, id uuid.UUID, read bool) error {
	if err := s.Authorize(c, domain.MarkRead); err != nil {
		return err
	}
	return s.Store.SetRead(ctx, c.WorkspaceID, id, read, c.Actor())
}

// Messages is a page of the transcript, oldest first.
func (s *Service) Messages(ctx context.Context, c *Caller, id uuid.UUID, q Query) (store.MessagePage, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return store.MessagePage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return store.MessagePage{}, err
	}
	return s.Store.ListMessages(ctx, c.WorkspaceID, id, limit, cursor)
}

// RecentMessages is the transcript as a reader opens it: the page ending at the newest
// message, or with before (a cursor it handed out) the page before that, shown oldest
// first; earlier is the cursor of the page before this one, "" at the first message.
func (s *Service) RecentMessages(ctx context.Context, c *Caller, id uuid.UUID, limit int, before string) (items []store.Message, earlier string, err error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return nil, "", err
	}
	if limit < 1 || limit > MaxLimit {
		return nil, "", BadRequest("limit: want a whole number from 1 to %d", MaxLimit)
	}
	return s.Store.RecentMessages(ctx, c.WorkspaceID, id, limit, before)
}

// Audit is a page of the conversation's audit log (owner and admin).
func (s *Service) Audit(ctx context.Context, c *Caller, id uuid.UUID, q Query) (store.AuditPage, error) {
	if err := s.Authorize(c, domain.ReadAudit); err != nil {
		return store.AuditPage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return store.AuditPage{}, err
	}
	return s.Store.ListAudit(ctx, c.WorkspaceID, id, limit, cursor)
}
