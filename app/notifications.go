package app

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// ListNotifications pages through the caller's own notifications in the caller's
// workspace, newest first; unreadOnly keeps the unread ones. Nobody sees another's.
func (s *Service) ListNotifications(ctx context.Context, c *Caller, unreadOnly bool, q Query) (NotificationPage, error) {
	if err := s.Authorize(c, domain.ReadOwnNotifications); err != nil {
		return NotificationPage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return NotificationPage{}, err
	}
	return s.Store.ListNotifications(ctx, c.WorkspaceID, c.UserID, unreadOnly, limit, cursor)
}

// UnreadNotifications counts the caller's unread notifications in the workspace: the
// bell's number.
func (s *Service) UnreadNotifications(ctx context.Context, c *Caller) (int, error) {
	if err := s.Authorize(c, domain.ReadOwnNotifications); err != nil {
		return 0, err
	}
	return s.Store.UnreadNotifications(ctx, c.WorkspaceID, c.UserID)
}

// MarkNotificationsRead marks the caller's notifications read: those of ids (at most
// store.MaxReadIDs), or all of them. An id that is not one of the caller's in this
// workspace is a 404 and marks nothing.
func (s *Service) MarkNotificationsRead(ctx context.Context, c *Caller, ids []uuid.UUID, all bool) error {
	if err := s.Authorize(c, domain.ReadOwnNotifications); err != nil {
		return err
	}
	switch {
	case all && len(ids) > 0:
		return BadRequest("body: give either ids or all, not both")
	case !all && len(ids) == 0:
		return BadRequest("ids: required (1 to %d notification ids), or all: true", store.MaxReadIDs)
	case len(ids) > store.MaxReadIDs:
		return BadRequest("ids: at most %d at once, not %d", store.MaxReadIDs, len(ids))
	}
	return s.Store.MarkNotificationsRead(ctx, c.WorkspaceID, c.UserID, ids, all)
}

// OpenNotification marks one of the caller's notifications read and returns it, so the
// page can go on to its conversation.
func (s *Service) OpenNotification(ctx context.Context, c *Caller, id uuid.UUID) (*Notification, error) {
	if err := s.Authorize(c, domain.ReadOwnNotifications); err != nil {
		return nil, err
	}
	n, err := s.Store.GetNotification(ctx, c.WorkspaceID, c.UserID, id)
	if err != nil {
		return nil, err
	}
	if err := s.Store.MarkNotificationsRead(ctx, c.WorkspaceID, c.UserID, []uuid.UUID{id}, false); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return n, nil
}
