package app

import (
	"context"
	"time"

	"github.com/bestai/inbox/activities"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// SLA reads the workspace's SLA policy (every role).
func (s *Service) SLA(ctx context.Context, c *Caller) (domain.SLAPolicy, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return domain.SLAPolicy{}, err
	}
	return s.Store.SLAPolicy(ctx, c.WorkspaceID)
}

// ParseSLAPolicy reads the two durations as written (nil or "" is off); a bad one is a 422
// naming its field.
func ParseSLAPolicy(firstResponse, resolution *string) (domain.SLAPolicy, error) {
	var p domain.SLAPolicy
	for _, f := range []struct {
		name string
		in   *string
		out  **time.Duration
	}{{domain.SLAFirstResponse, firstResponse, &p.FirstResponse}, {domain.SLAResolution, resolution, &p.Resolution}} {
		if f.in == nil || *f.in == "" {
			continue
		}
		d, err := domain.ParseSLADuration(*f.in)
		if err != nil {
			return p, Invalid("%s: %v, or null to turn it off; not %q", f.name, err, domain.Clip(*f.in, 40))
		}
		*f.out = &d
	}
	return p, nil
}

// SetSLA stores the workspace's SLA policy (owners and admins; audited sla_changed) and
// tells its open and pending conversations, whose workflows move their clocks. A bad
// duration is a 422 naming its field and changes nothing.
func (s *Service) SetSLA(ctx context.Context, c *Caller, firstResponse, resolution *string) (domain.SLAPolicy, error) {
	if err := s.Authorize(c, domain.ManageSLA); err != nil {
		return domain.SLAPolicy{}, err
	}
	p, err := ParseSLAPolicy(firstResponse, resolution)
	if err != nil {
		return domain.SLAPolicy{}, err
	}
	changed, err := s.Store.SetSLAPolicy(ctx, c.WorkspaceID, p, c.Actor())
	if err != nil {
		return domain.SLAPolicy{}, err
	}
	if changed {
		if err := s.fanOutSLA(ctx, c); err != nil {
			return domain.SLAPolicy{}, err
		}
	}
	return p, nil
}

// fanOutSLA sends the workspace's current SLA setting to its open and pending conversations.
func (s *Service) fanOutSLA(ctx context.Context, c *Caller) error {
	setting, err := s.Store.SLASetting(ctx, c.WorkspaceID)
	if err != nil {
		return err
	}
	return s.Lifecycle.FanOutSLA(ctx, c.WorkspaceID, activities.SLASetting(setting))
}

// SLAOf is a conversation's SLA as lists and the detail show it: its running clocks' due
// times, the clocks that breached, whether resolution is paused; nil when no clock of it
// ran under a policy.
func SLAOf(v *store.ConversationView) *domain.SLAStatus {
	st := &domain.SLAStatus{Breached: []string{}, Paused: v.SLAResolutionPaused}
	if v.SLAFirstResponseDue.Valid {
		t := v.SLAFirstResponseDue.Time.UTC()
		st.FirstResponseDue = &t
	}
	if v.SLAResolutionDue.Valid {
		t := v.SLAResolutionDue.Time.UTC()
		st.ResolutionDue = &t
	}
	if v.SLAFirstResponseBreachedAt.Valid {
		st.Breached = append(st.Breached, domain.SLAFirstResponse)
	}
	if v.SLAResolutionBreachedAt.Valid {
		st.Breached = append(st.Breached, domain.SLAResolution)
	}
	if st.FirstResponseDue == nil && st.ResolutionDue == nil && len(st.Breached) == 0 && !st.Paused &&
		!v.SLAFirstResponseMetAt.Valid && !v.SLAResolutionMetAt.Valid {
		return nil
	}
	return st
}
