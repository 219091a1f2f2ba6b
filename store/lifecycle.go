package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// ApplyLifecycleChange writes the change and its audit rows. Applying the same RequestID
// of the same run again changes nothing and is not an error. A numbered change (Seq > 0)
// sets the conversation's lifecycle to its After only if no newer change is applied yet;
// its audit row, webhook event and notices are written either way, once.
func (s *Store) ApplyLifecycleChange(ctx context.Context, ch domain.LifecycleChange) error {
	_, err := s.applyLifecycleChange(ctx, ch, false)
	return err
}

// ApplyLifecycleChangeView is ApplyLifecycleChange that also returns the conversation as the
// write left it, read by the write's own statement, so that the answer to a change costs no
// read of its own; a change with nothing else to write is that statement alone, with no
// transaction around it (applyAlone). The view is nil when there was nothing to write (the
// change was written before): the caller reads the conversation apart.
func (s *Store) ApplyLifecycleChangeView(ctx context.Context, ch domain.LifecycleChange) (*ConversationView, error) {
	return s.applyLifecycleChange(ctx, ch, true)
}

// writtenView is the row of a write that returns its conversation: the view, and what the
// write's statement says about itself.
type writtenView struct {
	ConversationView `bun:",extend"`

	HasWebhooks bool `bun:"has_webhooks,scanonly"`
	Audited     int  `bun:"audited,scanonly"`
	Announced   bool `bun:"announced,scanonly"` // read only so that the notification is sent
}

func (s *Store) applyLifecycleChange(ctx context.Context, ch domain.LifecycleChange, withView bool) (*ConversationView, error) {
	if ch.RequestID == "" {
		return nil, errors.New("lifecycle change without request id")
	}
	if ch.Seq > 0 && ch.After == nil {
		return nil, fmt.Errorf("lifecycle change %s: numbered without the state after it", ch.RequestID)
	}
	if withView && (!ch.AssigneeChanged || ch.ToAssignee == nil) {
		if _, hooked := s.hooked.Load(ch.WorkspaceID); !hooked {
			if view, err := s.applyAlone(ctx, ch); err != nil || view != nil {
				return view, err
			}
			// Not written: the transaction below decides (webhooks, written before, or not
			// found).
		}
	}
	var view *ConversationView
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		view = nil
		entries, upd, notice, err := lifecycleWrite(tx, ch)
		if err != nil {
			return err
		}
		// One statement records the audit rows, updates the conversation only if they are
		// new (a request id seen before was applied before) and announces it to the pages
		// (the notification leaves with the commit). The workspace's webhooks flag comes
		// back with it: no endpoint, no SELECT.
		newAudit := tx.NewInsert().Model(&entries).On("CONFLICT (conversation_id, request_id) DO NOTHING").Returning("1")
		upd = upd.Where("EXISTS (SELECT 1 FROM new_audit)")
		var audited, updated int
		var hasWebhooks, announced bool
		if !withView {
			err = tx.NewRaw(`WITH new_audit AS (?), changed AS (?)
				SELECT (SELECT count(*) FROM new_audit), coalesce((SELECT has_webhooks FROM changed), false),
					(SELECT count(*) FROM changed), (SELECT pg_notify(?, ?) FROM changed) IS NOT NULL`,
				newAudit, upd.Returning(hasWebhooksColumn), ChangesChannel, string(notice),
			).Scan(ctx, &audited, &hasWebhooks, &updated, &announced)
		} else {
			// The same statement, reading the detail's view of the updated row (as
			// GetConversation does) instead of counting it.
			var rows []writtenView
			err = s.writtenViewQuery(tx, &rows, notice).
				With("new_audit", newAudit).With("changed", upd.Returning("conversations.*, "+hasWebhooksColumn)).
				Scan(ctx)
			if err == nil && len(rows) == 0 {
				// Nothing updated: every audit row was there before, or there is no such
				// conversation.
				exists, err := tx.NewSelect().Table("conversations").
					Where("id = ? AND workspace_id = ?", ch.ConversationID, ch.WorkspaceID).Exists(ctx)
				switch {
				case err != nil:
					return fmt.Errorf("find conversation: %w", err)
				case exists:
					return errDuplicateRequest
				default:
					return ErrNotFound
				}
			}
			if err == nil && len(rows) == 1 {
				audited, hasWebhooks, updated = rows[0].Audited, rows[0].HasWebhooks, 1
				view = &rows[0].ConversationView
				err = view.readLabels()
			}
		}
		switch {
		case err != nil:
			return fmt.Errorf("update conversation: %w", err)
		case audited < len(entries):
			return errDuplicateRequest // applied by an earlier attempt: this one changes nothing
		case updated == 0:
			return ErrNotFound
		}
		if hasWebhooks {
			s.hooked.Store(ch.WorkspaceID, true)
		} else {
			s.hooked.Delete(ch.WorkspaceID)
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
		return nil
	})
	if errors.Is(err, errDuplicateRequest) {
		return nil, nil // applied by an earlier attempt
	}
	if err != nil {
		return nil, err
	}
	return view, nil
}

// hasWebhooksColumn is what a change's update returns about its workspace: whether it has
// an enabled webhook endpoint (workspaces.has_webhooks).
const hasWebhooksColumn = "(SELECT has_webhooks FROM workspaces WHERE id = conversations.workspace_id) AS has_webhooks"

// writtenViewQuery reads, on db, the detail's view of the row a change's statement updates
// (its CTE "changed", after the audit rows' "new_audit"; the caller adds both), with what
// the statement says about itself, and announces the change to the pages.
func (s *Store) writtenViewQuery(db bun.IConn, rows *[]writtenView, notice []byte) *bun.SelectQuery {
	return s.viewOfUnordered(rows, s.DB.NewSelect().TableExpr("changed")).Conn(db).
		ColumnExpr(labelsColumn).
		ColumnExpr("(SELECT count(*) FROM new_audit) AS audited").
		ColumnExpr("(SELECT pg_notify(?, ?) FROM changed) IS NOT NULL AS announced", ChangesChannel, string(notice))
}

// auditColumns are the audit_log columns an AuditEntry writes, in its fields' order.
const auditColumns = "id, workspace_id, conversation_id, actor_id, actor_name, action, before, after, request_id, at"

// applyAlone writes a change as one statement outside a transaction (a statement is a
// transaction of its own): BEGIN and COMMIT were two round trips of a change's three. Only
// a change that needs nothing else written with it may: no notice to an assignee (the
// caller says), and no webhook event, which the statement makes sure of by writing nothing
// when the workspace has an enabled endpoint, in the snapshot it writes in (nor when the
// workspace has no such conversation: no transaction rolls its audit rows back). It
// returns the conversation as the write left it, or nil, having written nothing, when the
// workspace has webhooks, the change was written before, or there is no such conversation;
// the transaction then decides. Whether a workspace had webhooks at its last write is
// remembered (Store.hooked), so that its changes go to the transaction at once.
func (s *Store) applyAlone(ctx context.Context, ch domain.LifecycleChange) (*ConversationView, error) {
	entries, upd, notice, err := lifecycleWrite(s.DB, ch)
	if err != nil {
		return nil, err
	}
	var rows []writtenView
	err = s.writtenViewQuery(s.DB, &rows, notice).
		With("audit_rows", s.DB.NewValues(&entries)).
		With("new_audit", s.DB.NewRaw(`INSERT INTO audit_log (`+auditColumns+`) SELECT `+auditColumns+` FROM audit_rows
			WHERE NOT (SELECT has_webhooks FROM workspaces WHERE id = ?)
				AND EXISTS (SELECT 1 FROM conversations WHERE id = ? AND workspace_id = ?)
			ON CONFLICT (conversation_id, request_id) DO NOTHING RETURNING 1`, ch.WorkspaceID, ch.ConversationID, ch.WorkspaceID)).
		With("changed", upd.Where("EXISTS (SELECT 1 FROM new_audit)").Returning("conversations.*, "+hasWebhooksColumn)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("update conversation: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	view := &rows[0].ConversationView
	return view, view.readLabels()
}

// lifecycleWrite is what a change writes: its audit rows (completed), its conversation's
// update on db (not yet bound to the audit rows being new) and its notice to the pages.
func lifecycleWrite(db bun.IDB, ch domain.LifecycleChange) (entries []*AuditEntry, upd *bun.UpdateQuery, notice []byte, err error) {
	requestID := scopedRequestID(ch)
	entry := &AuditEntry{
		WorkspaceID:    ch.WorkspaceID,
		ConversationID: uuid.NullUUID{UUID: ch.ConversationID, Valid: true},
		Actor:          ch.Actor,
		At:             ch.At,
		RequestID:      &requestID,
	}
	upd = db.NewUpdate().Table("conversations").
		Where("id = ? AND workspace_id = ?", ch.ConversationID, ch.WorkspaceID)
	// An unnumbered change sets what it changes; a numbered one sets its whole After,
	// below, unless a newer change got there first.
	deltas := ch.Seq == 0
	if ch.WorkflowRunID != "" && deltas {
		upd = upd.Set("workflow_run_id = ?", ch.WorkflowRunID)
	}
	switch {
	case ch.ToState != "":
		entry.Action = domain.AuditStateChanged
		entry.Before = map[string]any{"state": ch.FromState, "closed_at": ch.FromClosedAt}
		entry.After = map[string]any{"state": ch.ToState, "closed_at": ch.ToClosedAt}
		if deltas {
			upd = upd.Set("state = ?", ch.ToState).Set("closed_at = ?", ch.ToClosedAt)
		}
		snoozeChange(entry, &upd, ch)
	case ch.AssigneeChanged:
		entry.Action = domain.AuditAssigneeChanged
		entry.Before = map[string]any{"assignee": ch.FromAssignee}
		entry.After = map[string]any{"assignee": ch.ToAssignee}
		var to uuid.NullUUID
		if ch.ToAssignee != nil {
			to = uuid.NullUUID{UUID: ch.ToAssignee.UserID, Valid: true}
		}
		if deltas {
			upd = upd.Set("assignee_id = ?", to)
		}
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
		return nil, nil, nil, fmt.Errorf("lifecycle change %s changes nothing", ch.RequestID)
	}
	if !deltas {
		upd = setAfter(upd, ch)
	}
	if entry != nil {
		entries = append(entries, entry)
	}
	if ch.SummaryGeneration > 0 {
		summaryRequestID := summaryAuditID(requestID)
		entries = append(entries, &AuditEntry{
			WorkspaceID:    ch.WorkspaceID,
			ConversationID: uuid.NullUUID{UUID: ch.ConversationID, Valid: true},
			Actor:          ch.Actor,
			At:             ch.At,
			Action:         domain.AuditSummaryRequested,
			After:          map[string]any{"summary_status": domain.SummaryPending, "generation": ch.SummaryGeneration},
			RequestID:      &summaryRequestID,
		})
		// Only over an older generation: a change written late must not turn a summary
		// of its own generation, ready meanwhile, back to pending.
		older := bun.Safe(fmt.Sprintf("summary_generation < %d", ch.SummaryGeneration))
		upd = upd.Set("summary_status = CASE WHEN ? THEN ? ELSE summary_status END", older, domain.SummaryPending).
			Set("summary_error = CASE WHEN ? THEN '' ELSE summary_error END", older).
			Set("summary_attempts = CASE WHEN ? THEN 0 ELSE summary_attempts END", older).
			Set("summary_generation = GREATEST(summary_generation, ?)", ch.SummaryGeneration)
	}
	for _, e := range entries {
		e.complete()
	}
	notice, err = json.Marshal(Change{WorkspaceID: ch.WorkspaceID, ConversationID: ch.ConversationID, Kind: lifecycleKind(ch)})
	return entries, upd, notice, err
}

// scopedRequestID is the request id a change's audit rows are stored under. Temporal
// deduplicates an Update id within one workflow run only, so the stored id is scoped to the
// run: a request sent again after continue-as-new is a new change in the history, and must
// not be mistaken here for the one it named before.
func scopedRequestID(ch domain.LifecycleChange) string {
	if ch.WorkflowRunID == "" {
		return ch.RequestID
	}
	return ch.RequestID + "@" + ch.WorkflowRunID
}

// summaryAuditID is the request id of the summary_requested entry of the change stored
// under requestID.
func summaryAuditID(requestID string) string { return requestID + "/summary" }

// ApplyLifecycleChanges writes one conversation's changes as ApplyLifecycleChange does, in
// order, first skipping with one query those already written: the workflow's write-back
// mostly finds its changes written by their callers.
func (s *Store) ApplyLifecycleChanges(ctx context.Context, changes []domain.LifecycleChange) error {
	if len(changes) == 0 {
		return nil
	}
	keys := make([]string, len(changes))
	for i, ch := range changes {
		if ch.ConversationID != changes[0].ConversationID {
			return fmt.Errorf("lifecycle change %s: changes of two conversations in one batch", ch.RequestID)
		}
		keys[i] = scopedRequestID(ch)
		if ch.ToState == "" && !ch.AssigneeChanged {
			keys[i] = summaryAuditID(keys[i]) // a summary retry is audited under that id only
		}
	}
	var written []string
	if err := s.DB.NewSelect().Table("audit_log").Column("request_id").
		Where("conversation_id = ? AND request_id IN (?)", changes[0].ConversationID, bun.In(keys)).
		Scan(ctx, &written); err != nil {
		return fmt.Errorf("find written changes: %w", err)
	}
	for i, ch := range changes {
		if slices.Contains(written, keys[i]) {
			continue
		}
		if err := s.ApplyLifecycleChange(ctx, ch); err != nil {
			return err
		}
	}
	return nil
}

// setAfter sets the lifecycle a numbered change leaves, if the row holds an older one. In
// an UPDATE every expression reads the row as it was, so each CASE sees the old
// lifecycle_seq.
func setAfter(upd *bun.UpdateQuery, ch domain.LifecycleChange) *bun.UpdateQuery {
	newer := bun.Safe(fmt.Sprintf("lifecycle_seq < %d", ch.Seq))
	after := ch.After
	var assignee uuid.NullUUID
	if after.Assignee != nil {
		assignee = uuid.NullUUID{UUID: after.Assignee.UserID, Valid: true}
	}
	upd = upd.Set("state = CASE WHEN ? THEN ? ELSE state END", newer, after.State).
		Set("closed_at = CASE WHEN ? THEN ?::timestamptz ELSE closed_at END", newer, after.ClosedAt).
		Set("pending_until = CASE WHEN ? THEN ?::timestamptz ELSE pending_until END", newer, after.PendingUntil).
		Set("assignee_id = CASE WHEN ? THEN ?::uuid ELSE assignee_id END", newer, assignee).
		Set("lifecycle_seq = GREATEST(lifecycle_seq, ?)", ch.Seq)
	if ch.WorkflowRunID != "" {
		upd = upd.Set("workflow_run_id = CASE WHEN ? THEN ? ELSE workflow_run_id END", newer, ch.WorkflowRunID)
	}
	if ch.MarkUnread {
		upd = upd.Set("unread = CASE WHEN ? THEN true ELSE unread END", newer)
	}
	return upd
}
