package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// The Reports page's reads. Each is scoped to one workspace and bounded by a range of
// instants [From, To); days and weeks are counted in Zone (an IANA name). Indexes:
// migrations/20261206000009_reports.up.sql.

// ReportRange is the span a report covers and the zone its days and weeks are counted in.
type ReportRange struct {
	From, To time.Time
	Zone     string
}

// ConversationTimes is what the report measures of one conversation: when it was created,
// first assigned (first_assigned_at: the first assignee_changed audit entry that names an
// assignee) and last closed, and its assignee now.
type ConversationTimes struct {
	Channel         domain.Channel `bun:"channel"`
	CreatedAt       time.Time      `bun:"created_at"`
	FirstAssignedAt sql.NullTime   `bun:"first_assigned_at"`
	ClosedAt        sql.NullTime   `bun:"closed_at"`
	AssigneeID      uuid.NullUUID  `bun:"assignee_id,type:uuid"`
}

// EachConversationTimes calls f with the channel and times of every conversation created in
// the range (the report counts them per day and measures them from one index-only scan),
// one row at a time (a year of a busy workspace is too many to hold).
func (s *Store) EachConversationTimes(ctx context.Context, workspaceID uuid.UUID, r ReportRange, f func(*ConversationTimes) error) error {
	rows, err := s.DB.QueryContext(ctx, `
		SELECT c.channel, c.created_at, c.first_assigned_at, c.closed_at, c.assignee_id
		FROM conversations AS c
		WHERE c.workspace_id = ? AND c.created_at >= ? AND c.created_at < ?`, workspaceID, r.From, r.To)
	if err != nil {
		return fmt.Errorf("conversation times: %w", err)
	}
	defer rows.Close()
	var t ConversationTimes
	for rows.Next() {
		if err := rows.Scan(&t.Channel, &t.CreatedAt, &t.FirstAssignedAt, &t.ClosedAt, &t.AssigneeID); err != nil {
			return fmt.Errorf("conversation times: %w", err)
		}
		if err := f(&t); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SLAWeekCount is how many clocks of one kind stopped in time (met) or breached in a week.
type SLAWeekCount struct {
	Week    time.Time `bun:"week"` // the Monday the week starts, as a date
	Clock   string    `bun:"clock"`
	Outcome string    `bun:"outcome"`
	Count   int       `bun:"n"`
}

// The clocks and outcomes of SLAWeekCount, as the SLA columns name them.
const (
	SLAFirstResponse = "first_response"
	SLAResolution    = "resolution"
	SLAMet           = "met"
	SLABreached      = "breached"
)

// SLAPerWeek counts, per local week (starting Monday), the SLA clocks that were met or
// breached at an instant in the range: a clock counts in the week its *_met_at or
// *_breached_at falls.
func (s *Store) SLAPerWeek(ctx context.Context, workspaceID uuid.UUID, r ReportRange) ([]SLAWeekCount, error) {
	var q string
	var args []any
	for _, clock := range []string{SLAFirstResponse, SLAResolution} {
		for _, outcome := range []string{SLAMet, SLABreached} {
			col := "sla_" + clock + "_" + outcome + "_at"
			if q != "" {
				q += " UNION ALL "
			}
			q += fmt.Sprintf(`SELECT date_trunc('week', c.%[1]s AT TIME ZONE ?) AS week, ? AS clock, ? AS outcome, count(*) AS n
				FROM conversations AS c
				WHERE c.workspace_id = ? AND c.%[1]s >= ? AND c.%[1]s < ?
				GROUP BY 1`, col)
			args = append(args, r.Zone, clock, outcome, workspaceID, r.From, r.To)
		}
	}
	var out []SLAWeekCount
	if err := s.DB.NewRaw(q+" ORDER BY 1, 2, 3", args...).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("sla per week: %w", err)
	}
	return out, nil
}

// LeadStatusCount is how many leads created in the range are in a status now.
type LeadStatusCount struct {
	Status domain.LeadStatus `bun:"status"`
	Count  int               `bun:"n"`
}

// LeadsByStatus counts the leads created in the range by their status now.
func (s *Store) LeadsByStatus(ctx context.Context, workspaceID uuid.UUID, r ReportRange) ([]LeadStatusCount, error) {
	var out []LeadStatusCount
	err := s.DB.NewRaw(`
		SELECT l.status, count(*) AS n FROM leads AS l
		WHERE l.workspace_id = ? AND l.created_at >= ? AND l.created_at < ?
		GROUP BY 1`, workspaceID, r.From, r.To).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("leads by status: %w", err)
	}
	return out, nil
}

// UserNames returns the names of the users, by id (for the report's per-member rows: an
// assignee may have left the workspace since, and is still named).
func (s *Store) UserNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := map[uuid.UUID]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID    uuid.UUID `bun:"id,type:uuid"`
		Name  string    `bun:"name"`
		Email string    `bun:"email"`
	}
	if err := s.DB.NewRaw(`SELECT id, name, email FROM users WHERE id IN (?)`, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("user names: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
		if r.Name == "" {
			out[r.ID] = r.Email
		}
	}
	return out, nil
}
