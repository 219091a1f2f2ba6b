package app

import (
	"context"

	"github.com/bestai/inbox/domain"
)

// BusinessHours is the workspace's calendar as owners and admins see and set it; Configured
// is false until one of them sets it.
type BusinessHours struct {
	domain.BusinessHoursSpec
	Configured bool
}

// BusinessHours reads the workspace's business hours (owners and admins).
func (s *Service) BusinessHours(ctx context.Context, c *Caller) (BusinessHours, error) {
	if err := s.Authorize(c, domain.ManageBusinessHours); err != nil {
		return BusinessHours{}, err
	}
	spec, err := s.Store.BusinessHours(ctx, c.WorkspaceID)
	if err != nil || spec == nil {
		return BusinessHours{BusinessHoursSpec: domain.BusinessHoursSpec{Weekly: map[string][]string{}, Holidays: []string{}}}, err
	}
	return BusinessHours{BusinessHoursSpec: *spec, Configured: true}, nil
}

// SetBusinessHours checks and stores the workspace's business hours (owners and admins); a
// bad zone, day, range or date is a 400 naming the field, and changes nothing.
func (s *Service) SetBusinessHours(ctx context.Context, c *Caller, spec domain.BusinessHoursSpec) (BusinessHours, error) {
	if err := s.Authorize(c, domain.ManageBusinessHours); err != nil {
		return BusinessHours{}, err
	}
	clean, err := spec.Normalize()
	if err != nil {
		return BusinessHours{}, BadRequest("%v", err)
	}
	if err := s.Store.SetBusinessHours(ctx, c.WorkspaceID, clean, c.Actor()); err != nil {
		return BusinessHours{}, err
	}
	// The SLA clocks count business time: open conversations learn the new calendar.
	if err := s.fanOutSLA(ctx, c); err != nil {
		return BusinessHours{}, err
	}
	return BusinessHours{BusinessHoursSpec: clean, Configured: true}, nil
}
