package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// BusinessHours returns the workspace's business hours, or nil when none are set.
func (s *Store) BusinessHours(ctx context.Context, workspaceID uuid.UUID) (*domain.BusinessHoursSpec, error) {
	return businessHours(ctx, s.DB, workspaceID, false)
}

func businessHours(ctx context.Context, db bun.IDB, workspaceID uuid.UUID, lock bool) (*domain.BusinessHoursSpec, error) {
	q := `SELECT business_hours FROM workspace_settings WHERE workspace_id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var raw []byte
	err := db.NewRaw(q, workspaceID).Scan(ctx, &raw)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && raw == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read business hours: %w", err)
	}
	spec := new(domain.BusinessHoursSpec)
	if err := json.Unmarshal(raw, spec); err != nil {
		return nil, fmt.Errorf("stored business hours: %w", err)
	}
	return spec, nil
}

// SetBusinessHours stores the workspace's business hours (already normalized) and audits
// the change at workspace level, before and after, in one transaction. Setting the same
// hours again writes nothing.
func (s *Store) SetBusinessHours(ctx context.Context, workspaceID uuid.UUID, spec domain.BusinessHoursSpec, actor *domain.Actor) error {
	after, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO workspace_settings (workspace_id) VALUES (?) ON CONFLICT DO NOTHING`, workspaceID).Exec(ctx); err != nil {
			return fmt.Errorf("settings row: %w", err)
		}
		before, err := businessHours(ctx, tx, workspaceID, true)
		if err != nil {
			return err
		}
		if before != nil {
			if old, _ := json.Marshal(before); string(old) == string(after) {
				return nil
			}
		}
		if _, err := tx.NewRaw(`UPDATE workspace_settings SET business_hours = ?, updated_at = now() WHERE workspace_id = ?`,
			string(after), workspaceID).Exec(ctx); err != nil {
			return fmt.Errorf("store business hours: %w", err)
		}
		e := &AuditEntry{WorkspaceID: workspaceID, Actor: actor, Action: domain.AuditBusinessHoursChanged,
			Before: map[string]any{"business_hours": before}, After: map[string]any{"business_hours": spec}}
		return insertAudit(ctx, tx, e)
	})
}
