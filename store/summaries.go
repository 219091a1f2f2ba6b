package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// ErrStaleSummary is returned when a newer summary generation has started: the older
// attempt must not overwrite it.
var ErrStaleSummary = errors.New("a newer summary has been requested")

// RecordSummaryAttempt counts an attempt of the current generation.
func (s *Store) RecordSummaryAttempt(ctx context.Context, conversationID uuid.UUID, generation int64, attempt int) error {
	res, err := s.DB.NewUpdate().Table("conversations").
		Set("summary_attempts = greatest(summary_attempts, ?)", attempt).
		Where("id = ? AND summary_generation = ? AND summary_status = ?", conversationID, generation, domain.SummaryPending).
		Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrStaleSummary
	}
	return nil
}

// RecordSummaryResult stores the outcome of a generation and audits it, unless a newer
// generation has started (ErrStaleSummary) or this one was already recorded (no-op).
func (s *Store) RecordSummaryResult(ctx context.Context, r domain.SummaryResult) error {
	if r.Status != domain.SummaryReady && r.Status != domain.SummaryFailed {
		return fmt.Errorf("summary result with status %q", r.Status)
	}
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var cur struct {
			Generation int64                `bun:"summary_generation"`
			Status     domain.SummaryStatus `bun:"summary_status"`
			Assignee   uuid.NullUUID        `bun:"assignee_id"`
		}
		err := tx.NewSelect().Table("conversations").Column("summary_generation", "summary_status", "assignee_id").
			Where("id = ?", r.ConversationID).For("UPDATE").Scan(ctx, &cur)
		if err != nil {
			return fmt.Errorf("read summary: %w", err)
		}
		if cur.Generation != r.Generation {
			return ErrStaleSummary
		}
		if cur.Status != domain.SummaryPending {
			return nil // recorded by an earlier attempt of this activity
		}
		upd := tx.NewUpdate().Table("conversations").Where("id = ?", r.ConversationID).
			Set("summary_status = ?", r.Status)
		action := domain.AuditSummaryFailed
		after := map[string]any{"summary_status": r.Status, "generation": r.Generation}
		if r.Status == domain.SummaryReady {
			action = domain.AuditSummaryReady
			upd = upd.Set("summary_text = ?", r.Text).Set("summary_model = ?", r.Model).
				Set("summary_key_kind = ?", r.KeyKind).Set("summary_generated_at = ?", r.At).
				Set("summary_error = ''")
		} else {
			upd = upd.Set("summary_error = ?", r.Error)
			after["error"] = r.Error
		}
		if _, err := upd.Exec(ctx); err != nil {
			return fmt.Errorf("store summary: %w", err)
		}
		if err := notifyChange(ctx, tx, Change{WorkspaceID: r.WorkspaceID, ConversationID: r.ConversationID, Kind: ChangeSummary}); err != nil {
			return err
		}
		if err := summaryEvent(ctx, tx, r); err != nil {
			return err
		}
		if r.Status == domain.SummaryFailed && cur.Assignee.Valid {
			if err := notifyPeople(ctx, tx, Notice{WorkspaceID: r.WorkspaceID, ConversationID: r.ConversationID,
				Kind: domain.NotifySummaryFailed, At: r.At}, cur.Assignee.UUID); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, &AuditEntry{
			WorkspaceID: r.WorkspaceID, ConversationID: uuid.NullUUID{UUID: r.ConversationID, Valid: true},
			Action: action, At: r.At,
			Before: map[string]any{"summary_status": domain.SummaryPending}, After: after,
		})
	})
}
