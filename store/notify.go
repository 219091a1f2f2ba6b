package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// ChangesChannel is the Postgres NOTIFY channel on which every write that a page shows is
// announced. The live package listens on it and fans the changes out to open pages.
const ChangesChannel = "inbox_changes"

// Kinds of Change: what part of a conversation a page should re-fetch.
const (
	ChangeMessage  = "message"  // a message arrived (also the first one, which opens the conversation)
	ChangeState    = "state"    // the lifecycle state changed
	ChangeAssignee = "assignee" // the assignee changed
	ChangeSummary  = "summary"  // the summary became pending, ready or failed
	ChangeLead     = "lead"     // the lead's status changed
	ChangeRead     = "read"     // the conversation was marked read or unread
	ChangeLabels   = "labels"   // the conversation's labels changed (or a label it carries)
	ChangeNote     = "note"     // an internal note was written or deleted
)

// Change is the payload of a notification on ChangesChannel. It is deliberately thin: it
// says where to look, never what changed, so a page re-fetches through the API (and its
// authorization) and a payload can never outgrow NOTIFY's 8000-byte limit.
type Change struct {
	WorkspaceID    uuid.UUID `json:"w"`
	ConversationID uuid.UUID `json:"c"`
	Kind           string    `json:"k"`
	// UserID, when set, says the change is one person's own (ChangeNotification): it
	// reaches only that person's pages in the workspace, never their teammates'.
	UserID uuid.UUID `json:"u,omitzero"`
}

// notifyChange queues ch on ChangesChannel. It must run inside the transaction of the write
// it announces: Postgres delivers the notification only when that transaction commits, so a
// rolled-back write announces nothing and a listener never re-fetches before the data is
// visible.
func notifyChange(ctx context.Context, tx bun.Tx, ch Change) error {
	payload, err := json.Marshal(ch)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", ChangesChannel, string(payload)); err != nil {
		return fmt.Errorf("notify %s: %w", ch.Kind, err)
	}
	return nil
}

// lifecycleKind names the part of the conversation a lifecycle change touches. A close that
// also starts a summary is announced as a state change: the page re-fetches the whole
// conversation either way.
func lifecycleKind(ch domain.LifecycleChange) string {
	switch {
	case ch.ToState != "":
		return ChangeState
	case ch.AssigneeChanged:
		return ChangeAssignee
	default:
		return ChangeSummary
	}
}

// NotifyPing sends an empty notification on channel. The live listener pings a channel of
// its own this way to learn that its LISTEN connection still delivers.
func (s *Store) NotifyPing(ctx context.Context, channel string) error {
	_, err := s.DB.ExecContext(ctx, "SELECT pg_notify(?, '')", channel)
	return err
}
