package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/bestai/inbox/activities"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/workflows"
)

// WakeOnMessage tells a snoozed conversation's workflow that the visitor wrote: it reopens
// the conversation now. A conversation without a running workflow has no timer to cancel.
func (s *Service) WakeOnMessage(ctx context.Context, conversationID, messageID uuid.UUID) error {
	err := s.Lifecycle.TellVisitorMessage(ctx, conversationID, messageID)
	if workflows.IsMissing(err) {
		return nil
	}
	return err
}

// AutoArchiveSetting is the workspace's auto-archive setting: days, or nil when off.
func (s *Service) AutoArchiveSetting(ctx context.Context, c *Caller) (*int, error) {
	if err := s.Authorize(c, domain.ManageAutoArchive); err != nil {
		return nil, err
	}
	setting, err := s.Store.AutoArchive(ctx, c.WorkspaceID)
	return setting.Days, err
}

// SetAutoArchive sets the workspace's auto-archive (days 1..3650, or nil: off) and tells
// its closed conversations: the setting is stored first, then a fan-out workflow signals
// every closed conversation's workflow, which moves, arms or cancels its timer. Should the
// fan-out not start, the error says so; the same request sent again starts it again.
func (s *Service) SetAutoArchive(ctx context.Context, c *Caller, days *int) (*int, error) {
	if err := s.Authorize(c, domain.ManageAutoArchive); err != nil {
		return nil, err
	}
	if days != nil && (*days < domain.MinAutoArchiveDays || *days > domain.MaxAutoArchiveDays) {
		return nil, BadRequest("auto_archive_days: want a whole number of days from %d to %d, or null to turn it off",
			domain.MinAutoArchiveDays, domain.MaxAutoArchiveDays)
	}
	setting, err := s.Store.SetAutoArchive(ctx, c.WorkspaceID, days)
	if err != nil {
		return nil, err
	}
	err = s.Lifecycle.FanOutAutoArchive(ctx, c.WorkspaceID, workflows.AutoArchiveSetting{
		Days: setting.Days, Stamp: activities.AutoArchiveStamp(setting.ChangedAt),
	})
	if err != nil {
		return nil, err
	}
	return setting.Days, nil
}
