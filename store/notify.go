package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

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

// Announcing after the commit, in batches.
//
// A transaction that NOTIFYs takes one lock for the whole database at its commit and holds
// it through the commit's WAL flush, so notifying transactions commit one at a time, each
// with a flush of its own: under 32 ingest clients, 30 of 34 sessions waited on that lock.
// The most frequent writes, messages from the channels, are announced after their commit
// instead, many changes to a notification: one sender per process takes whatever has queued
// while the previous notification went out.
//
// The cost: a process that dies between a message's commit and its batch's notification
// (milliseconds) leaves that message unannounced, and pages show it at their next change or
// reload. Every other change is still announced by its own transaction.
const (
	// maxNoticesPerNotification keeps a batch well under NOTIFY's 8000-byte payload: a
	// Change is about 100 bytes of JSON.
	maxNoticesPerNotification = 50
	noticeQueue               = 4096
	noticeSendTimeout         = 5 * time.Second
)

// announcer is a Store's queue of changes to announce after their commit.
type announcer struct {
	once  sync.Once
	queue chan Change
}

// announceAfterCommit queues ch, whose write has committed, for the next notification. It
// does not wait for Postgres unless the queue is full.
func (s *Store) announceAfterCommit(ch Change) {
	s.announcer.once.Do(func() {
		s.announcer.queue = make(chan Change, noticeQueue)
		go s.sendAnnouncements()
	})
	select {
	case s.announcer.queue <- ch:
	default: // the sender is behind: this change goes on its own
		s.notifyBatch([]Change{ch})
	}
}

// sendAnnouncements sends the queued changes for the life of the process, as many to a
// notification as have queued, up to maxNoticesPerNotification.
func (s *Store) sendAnnouncements() {
	for ch := range s.announcer.queue {
		batch := []Change{ch}
	fill:
		for len(batch) < maxNoticesPerNotification {
			select {
			case next := <-s.announcer.queue:
				batch = append(batch, next)
			default:
				break fill
			}
		}
		s.notifyBatch(batch)
	}
}

// notifyBatch sends batch as one notification: a JSON array of Changes.
func (s *Store) notifyBatch(batch []Change) {
	payload, err := json.Marshal(batch)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), noticeSendTimeout)
		_, err = s.DB.ExecContext(ctx, "SELECT pg_notify(?, ?)", ChangesChannel, string(payload))
		cancel()
	}
	if err != nil {
		slog.Warn("live updates: could not announce changes", "changes", len(batch), "error", err)
	}
}

// DecodeChanges reads a notification on ChangesChannel: one Change, or a batch of them.
func DecodeChanges(payload string) ([]Change, error) {
	if len(payload) > 0 && payload[0] == '[' {
		var batch []Change
		err := json.Unmarshal([]byte(payload), &batch)
		return batch, err
	}
	var ch Change
	err := json.Unmarshal([]byte(payload), &ch)
	return []Change{ch}, err
}
