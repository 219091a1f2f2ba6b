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

// ApplyLifecycleChange writes the change and its audit rows. Applying the same RequestID
// of the same run again changes nothing and is not an error.
func (s *Store) ApplyLifecycleChange(ctx context.Context, ch domain.LifecycleChange) error {
	if ch.RequestID == "" {
		return errors.New("lifecycle change without request id")
	}
	// Temporal deduplicates an Update id within one workflow run only, so the stored id is
	// scoped to the run: a request sent again after continue-as-new is a new change in the
	// history, and must not be mistaken here for the one it named before.
	requestID := ch.RequestID
	if ch.WorkflowRunID != "" {
		requestID += "@" + ch.WorkflowRunID
	}
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		entry := &AuditEntry{
			WorkspaceID:    ch.WorkspaceID,
			ConversationID: uuid.NullUUID{UUID: ch.ConversationID, Valid: true},
			Actor:          ch.Actor,
			At:             ch.At,
			RequestID:      &requestID,
		}
		upd := tx.NewUpdate().Table("conversations").
			Where("id = ? AND workspace_id = ?", ch.ConversationID, ch.WorkspaceID)
		if ch.WorkflowRunID != "" {
			upd = upd.Set("workflow_run_id = ?", ch.WorkflowRunID)
		}
		switch {
		case ch.ToState != "":
			entry.Action = domain.AuditStateChanged
			entry.Before = map[string]any{"state": ch.FromState, "closed_at": ch.FromClosedAt}
			entry.After = map[string]any{"state": ch.ToState, "closed_at": ch.ToClosedAt}
			upd = upd.Set("state = ?", ch.ToState).Set("closed_at = ?", ch.ToClosedAt)
			snoozeChange(entry, &upd, ch)
		case ch.AssigneeChanged:
			entry.Action = domain.AuditAssigneeChanged
			entry.Before = map[string]any{"assignee": ch.FromAssignee}
			entry.After = map[string]any{"assignee": ch.ToAssignee}
			var to uuid.NullUUID
			if ch.ToAssignee != nil {
				to = uuid.NullUUID{UUID: ch.ToAssignee.UserID, Valid: true}
			}
			upd = upd.Set("assignee_id = ?", to)
			if to.Valid {
				// The first assignment is kept for the reports; the audit entry says the same.
				if entry.At.IsZero() {
					entry.At = time.Now().UTC()
				}
				upd = upd.Set("first_assigned_at = COALESCE(first_assigned_at, ?)", entry.At)
			}
		case ch.SummaryGeneration > 0:
			entry = nil // a summary retry is audited below on its own
		default:
			return fmt.Errorf("lifecycle change %s changes nothing", ch.RequestID)
		}
		if entry != nil {
			if err := insertAudit(ctx, tx, entry); err != nil {
				return err
			}
		}
		if ch.SummaryGeneration > 0 {
			summaryRequestID := requestID + "/summary"
			if err := insertAudit(ctx, tx, &AuditEntry{
				WorkspaceID:    ch.WorkspaceID,
				ConversationID: uuid.NullUUID{UUID: ch.ConversationID, Valid: true},
				Actor:          ch.Actor,
				At:             ch.At,
				Action:         domain.AuditSummaryRequested,
				After:          map[string]any{"summary_status": domain.SummaryPending, "generation": ch.SummaryGeneration},
				RequestID:      &summaryRequestID,
			}); err != nil {
				return err
			}
			upd = upd.Set("summary_status = ?", domain.SummaryPending).
				Set("summary_generation = ?", ch.SummaryGeneration).
				Set("summary_error = ''").Set("summary_attempts = 0")
		}
		// The workspace's webhooks flag comes back with the update: no endpoint, no SELECT.
		var hasWebhooks bool
		err := upd.Returning("(SELECT has_webhooks FROM workspaces WHERE id = conversations.workspace_id)").
			Scan(ctx, &hasWebhooks)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("update conversation: %w", err)
		}
		if err := lifecycleEvent(ctx, tx, ch, hasWebhooks); err != nil {
			return err
		}
		if ch.AssigneeChanged && ch.ToAssignee != nil {
			if err := notifyPeople(ctx, tx, Notice{WorkspaceID: ch.WorkspaceID, ConversationID: ch.ConversationID,
				Kind: domain.NotifyAssigned, Actor: ch.Actor, At: ch.At}, ch.ToAssignee.UserID); err != nil {
				return err
			}
		}
		return notifyChange(ctx, tx, Change{WorkspaceID: ch.WorkspaceID, ConversationID: ch.ConversationID, Kind: lifecycleKind(ch)})
	})
	if errors.Is(err, errDuplicateRequest) {
		return nil // applied by an earlier attempt
	}
	return err
}
