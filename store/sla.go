package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// SLASetting is a workspace's SLA policy with its calendar, as a conversation's workflow
// needs it; Stamp orders settings (Unix microseconds of the last change to either).
type SLASetting struct {
	Policy domain.SLAPolicy
	Hours  *domain.BusinessHoursSpec
	Stamp  int64
}

type slaRow struct {
	FirstResponse sql.NullInt64 `bun:"sla_first_response_seconds"`
	Resolution    sql.NullInt64 `bun:"sla_resolution_seconds"`
	UpdatedAt     sql.NullTime  `bun:"updated_at"`
}

func (r slaRow) policy() domain.SLAPolicy {
	var p domain.SLAPolicy
	if r.FirstResponse.Valid {
		d := time.Duration(r.FirstResponse.Int64) * time.Second
		p.FirstResponse = &d
	}
	if r.Resolution.Valid {
		d := time.Duration(r.Resolution.Int64) * time.Second
		p.Resolution = &d
	}
	return p
}

func slaPolicy(ctx context.Context, db bun.IDB, workspaceID uuid.UUID, lock bool) (slaRow, error) {
	q := `SELECT sla_first_response_seconds, sla_resolution_seconds, updated_at FROM workspace_settings WHERE workspace_id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var row slaRow
	err := db.NewRaw(q, workspaceID).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return slaRow{}, nil
	}
	if err != nil {
		return slaRow{}, fmt.Errorf("read SLA policy: %w", err)
	}
	return row, nil
}

// SLAPolicy returns the workspace's SLA policy (both clocks off until it is set).
func (s *Store) SLAPolicy(ctx context.Context, workspaceID uuid.UUID) (domain.SLAPolicy, error) {
	row, err := slaPolicy(ctx, s.DB, workspaceID, false)
	return row.policy(), err
}

// SLASetting returns the workspace's SLA policy and business hours, stamped.
func (s *Store) SLASetting(ctx context.Context, workspaceID uuid.UUID) (SLASetting, error) {
	row, err := slaPolicy(ctx, s.DB, workspaceID, false)
	if err != nil {
		return SLASetting{}, err
	}
	hours, err := s.BusinessHours(ctx, workspaceID)
	if err != nil {
		return SLASetting{}, err
	}
	out := SLASetting{Policy: row.policy(), Hours: hours}
	if row.UpdatedAt.Valid {
		out.Stamp = row.UpdatedAt.Time.UnixMicro()
	}
	return out, nil
}

func seconds(d *time.Duration) any {
	if d == nil {
		return nil
	}
	return int64(*d / time.Second)
}

func policyJSON(p domain.SLAPolicy) map[string]any {
	out := map[string]any{"first_response": nil, "resolution": nil}
	if p.FirstResponse != nil {
		out["first_response"] = domain.FormatSLADuration(*p.FirstResponse)
	}
	if p.Resolution != nil {
		out["resolution"] = domain.FormatSLADuration(*p.Resolution)
	}
	return out
}

// SetSLAPolicy stores the workspace's SLA policy and audits the change (before and after)
// in one transaction; the same policy again writes nothing. It reports whether it changed.
func (s *Store) SetSLAPolicy(ctx context.Context, workspaceID uuid.UUID, p domain.SLAPolicy, actor *domain.Actor) (bool, error) {
	changed := false
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO workspace_settings (workspace_id) VALUES (?) ON CONFLICT DO NOTHING`, workspaceID).Exec(ctx); err != nil {
			return fmt.Errorf("settings row: %w", err)
		}
		row, err := slaPolicy(ctx, tx, workspaceID, true)
		if err != nil {
			return err
		}
		before, after := policyJSON(row.policy()), policyJSON(p)
		if before["first_response"] == after["first_response"] && before["resolution"] == after["resolution"] {
			return nil
		}
		if _, err := tx.NewRaw(`UPDATE workspace_settings SET sla_first_response_seconds = ?, sla_resolution_seconds = ?,
			updated_at = clock_timestamp() WHERE workspace_id = ?`, seconds(p.FirstResponse), seconds(p.Resolution), workspaceID).Exec(ctx); err != nil {
			return fmt.Errorf("store SLA policy: %w", err)
		}
		changed = true
		return insertAudit(ctx, tx, &AuditEntry{WorkspaceID: workspaceID, Actor: actor, Action: domain.AuditSLAChanged,
			Before: before, After: after})
	})
	return changed, err
}

// LiveConversationIDs pages through the workspace's conversations whose SLA clocks may run
// (Open or Pending) in id order, after the id after (uuid.Nil: from the start).
func (s *Store) LiveConversationIDs(ctx context.Context, workspaceID, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.DB.NewSelect().Table("conversations").Column("id").
		Where("workspace_id = ? AND state IN (?, ?) AND id > ?", workspaceID, domain.Open, domain.Pending, after).
		OrderExpr("id").Limit(limit).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("open conversations: %w", err)
	}
	return ids, nil
}

// untouchedSQL is the rule for a conversation nobody has changed: no workflow run recorded
// and no lifecycle change written (its workflow starts lazily).
const untouchedSQL = "workflow_run_id = '' AND lifecycle_seq = 0"

// Untouched is a conversation nobody has changed, whose workflow has not been started.
type Untouched struct {
	ID        uuid.UUID `bun:"id"`
	CreatedAt time.Time `bun:"created_at"`
}

// UntouchedSince is when the conversation's first message came, when nobody has changed it
// and no workflow run is recorded for it (its workflow starts lazily); ok is false for any
// other conversation of the workspace, and ErrNotFound for none.
func (s *Store) UntouchedSince(ctx context.Context, workspaceID, id uuid.UUID) (since time.Time, ok bool, err error) {
	var row struct {
		CreatedAt time.Time `bun:"created_at"`
		Untouched bool      `bun:"untouched"`
	}
	err = s.DB.NewSelect().Table("conversations").Column("created_at").
		ColumnExpr(untouchedSQL+" AS untouched").
		Where("workspace_id = ? AND id = ?", workspaceID, id).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, ErrNotFound
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("conversation's workflow start: %w", err)
	}
	return row.CreatedAt, row.Untouched, nil
}

// UntouchedConversations returns those of ids in the workspace that have no workflow run
// recorded and no lifecycle change written: their workflow starts lazily.
func (s *Store) UntouchedConversations(ctx context.Context, workspaceID uuid.UUID, ids []uuid.UUID) ([]Untouched, error) {
	var out []Untouched
	if len(ids) == 0 {
		return out, nil
	}
	err := s.DB.NewSelect().Table("conversations").Column("id", "created_at").
		Where("workspace_id = ? AND id IN (?) AND "+untouchedSQL, workspaceID, bun.In(ids)).
		OrderExpr("id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("untouched conversations: %w", err)
	}
	return out, nil
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// WriteSLA writes a conversation's clocks as its workflow holds them. A breach is recorded
// in the same transaction, once: the breached-at column, an audit entry by the system
// (sla_breached: clock, due) and a sla.breached webhook event; a retried write whose breach
// the row already holds records nothing again.
func (s *Store) WriteSLA(ctx context.Context, w domain.SLAWrite) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var old struct {
			FirstResponse sql.NullTime  `bun:"sla_first_response_breached_at"`
			Resolution    sql.NullTime  `bun:"sla_resolution_breached_at"`
			AssigneeID    uuid.NullUUID `bun:"assignee_id"`
		}
		err := tx.NewRaw(`SELECT sla_first_response_breached_at, sla_resolution_breached_at, assignee_id FROM conversations
			WHERE id = ? AND workspace_id = ? FOR UPDATE`, w.ConversationID, w.WorkspaceID).Scan(ctx, &old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read SLA clocks: %w", err)
		}
		if _, err := tx.NewRaw(`UPDATE conversations SET
			sla_first_response_due = ?, sla_first_response_met_at = ?, sla_first_response_breached_at = ?,
			sla_resolution_due = ?, sla_resolution_met_at = ?, sla_resolution_breached_at = ?, sla_resolution_paused = ?
			WHERE id = ?`,
			nullTime(w.FirstResponseDue), nullTime(w.FirstResponseMetAt), nullTime(w.FirstResponseBreachedAt),
			nullTime(w.ResolutionDue), nullTime(w.ResolutionMetAt), nullTime(w.ResolutionBreachedAt), w.ResolutionPaused,
			w.ConversationID).Exec(ctx); err != nil {
			return fmt.Errorf("write SLA clocks: %w", err)
		}
		if w.Breach == nil {
			return nil
		}
		held := old.FirstResponse
		if w.Breach.Clock == domain.SLAResolution {
			held = old.Resolution
		}
		if held.Valid {
			return nil // recorded before: a retried write
		}
		due := w.Breach.Due.UTC()
		if err := insertAudit(ctx, tx, &AuditEntry{WorkspaceID: w.WorkspaceID,
			ConversationID: uuid.NullUUID{UUID: w.ConversationID, Valid: true}, Action: domain.AuditSLABreached,
			After: map[string]any{"clock": w.Breach.Clock, "due": due}}); err != nil {
			return err
		}
		if err := notifyOfBreach(ctx, tx, w, old.AssigneeID); err != nil {
			return err
		}
		return enqueueWebhookEvent(ctx, tx, w.WorkspaceID, domain.EventSLABreached, map[string]any{
			"conversation_id": w.ConversationID, "clock": w.Breach.Clock, "due": due,
		})
	})
}

// notifyOfBreach tells the conversation's assignee of a breach, or, when nobody is assigned,
// the workspace's owners and admins, in the breach's own transaction (so it is written once,
// with the breach).
func notifyOfBreach(ctx context.Context, tx bun.Tx, w domain.SLAWrite, assignee uuid.NullUUID) error {
	people := []uuid.UUID{assignee.UUID}
	if !assignee.Valid {
		people = nil
		if err := tx.NewRaw(`SELECT user_id FROM memberships WHERE workspace_id = ? AND role IN (?, ?) ORDER BY user_id`,
			w.WorkspaceID, domain.Owner, domain.Admin).Scan(ctx, &people); err != nil {
			return fmt.Errorf("read who hears of an SLA breach: %w", err)
		}
	}
	return notifyPeople(ctx, tx, Notice{WorkspaceID: w.WorkspaceID, ConversationID: w.ConversationID,
		Kind: domain.NotifySLABreached, At: w.Breach.Due}, people...)
}
