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

// snoozeChange adds a state change's wake-up time and wake-up unread mark to its update and
// audit entry. Every state change writes pending_until (nil clears it); the audit shows it
// only when the change set, cleared or replaced one, so older entries keep their shape.
func snoozeChange(entry *AuditEntry, upd **bun.UpdateQuery, ch domain.LifecycleChange) {
	deltas := ch.Seq == 0 // a numbered change sets its whole After (setAfter)
	if deltas {
		*upd = (*upd).Set("pending_until = ?", ch.ToPendingUntil)
	}
	if ch.FromPendingUntil != nil || ch.ToPendingUntil != nil {
		entry.Before["pending_until"] = ch.FromPendingUntil
		entry.After["pending_until"] = ch.ToPendingUntil
	}
	if ch.MarkUnread {
		if deltas {
			*upd = (*upd).Set("unread = true")
		}
		entry.After["unread"] = true
	}
}

// AutoArchive is a workspace's auto-archive setting: Days nil is off. ChangedAt orders
// changes (zero when never set).
type AutoArchive struct {
	Days      *int
	ChangedAt time.Time
}

// AutoArchive reads the workspace's auto-archive setting.
func (s *Store) AutoArchive(ctx context.Context, workspaceID uuid.UUID) (AutoArchive, error) {
	var row autoArchiveRow
	err := s.DB.NewRaw(`SELECT auto_archive_days, auto_archive_changed_at FROM workspace_settings WHERE workspace_id = ?`,
		workspaceID).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return AutoArchive{}, nil
	}
	if err != nil {
		return AutoArchive{}, fmt.Errorf("read auto-archive setting: %w", err)
	}
	return row.setting(), nil
}

// autoArchiveRow is the setting as workspace_settings holds it.
type autoArchiveRow struct {
	Days      sql.NullInt64 `bun:"auto_archive_days"`
	ChangedAt sql.NullTime  `bun:"auto_archive_changed_at"`
}

func (r autoArchiveRow) setting() AutoArchive {
	var out AutoArchive
	if r.Days.Valid {
		d := int(r.Days.Int64)
		out.Days = &d
	}
	if r.ChangedAt.Valid {
		out.ChangedAt = r.ChangedAt.Time.UTC()
	}
	return out
}

// SetAutoArchive sets (days non-nil) or turns off the workspace's auto-archive, and returns
// the setting as this write stored it (not as a concurrent one may have left it since).
// clock_timestamp() orders concurrent changes: the row lock serialises them, so the later
// one is stamped later.
func (s *Store) SetAutoArchive(ctx context.Context, workspaceID uuid.UUID, days *int) (AutoArchive, error) {
	var v sql.NullInt64
	if days != nil {
		v = sql.NullInt64{Int64: int64(*days), Valid: true}
	}
	var row autoArchiveRow
	err := s.DB.NewRaw(`INSERT INTO workspace_settings (workspace_id, auto_archive_days, auto_archive_changed_at, updated_at)
		VALUES (?, ?, clock_timestamp(), now())
		ON CONFLICT (workspace_id) DO UPDATE SET auto_archive_days = EXCLUDED.auto_archive_days,
			auto_archive_changed_at = clock_timestamp(), updated_at = now()
		RETURNING auto_archive_days, auto_archive_changed_at`,
		workspaceID, v).Scan(ctx, &row)
	if err != nil {
		return AutoArchive{}, fmt.Errorf("set auto-archive: %w", err)
	}
	return row.setting(), nil
}

// ClosedConversationIDs pages through the workspace's closed conversations in id order,
// after the id after (uuid.Nil: from the start).
func (s *Store) ClosedConversationIDs(ctx context.Context, workspaceID, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.DB.NewSelect().Table("conversations").Column("id").
		Where("workspace_id = ? AND state = ? AND id > ?", workspaceID, domain.Closed, after).
		OrderExpr("id").Limit(limit).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("closed conversations: %w", err)
	}
	return ids, nil
}

// ClosedSince is when the conversation last became Closed, from the audit log (the
// auto-archive clock's start, which the read model's closed_at is not for a conversation
// taken out of the archive); nil if it never was.
func (s *Store) ClosedSince(ctx context.Context, conversationID uuid.UUID) (*time.Time, error) {
	var at sql.NullTime
	err := s.DB.NewRaw(`SELECT max(at) FROM audit_log WHERE conversation_id = ? AND action = ? AND after->>'state' = ?`,
		conversationID, domain.AuditStateChanged, domain.Closed).Scan(ctx, &at)
	if err != nil {
		return nil, fmt.Errorf("read when the conversation was closed: %w", err)
	}
	if !at.Valid {
		return nil, nil
	}
	return &at.Time, nil
}
