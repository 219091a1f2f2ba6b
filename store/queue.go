package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// QueuedChange is a lifecycle change waiting to be sent to its conversation's workflow
// (app/queue.go): a burst left it no time to be sent within its request.
type QueuedChange struct {
	ID             int64           `bun:"id"`
	WorkspaceID    uuid.UUID       `bun:"workspace_id"`
	ConversationID uuid.UUID       `bun:"conversation_id"`
	UpdateID       string          `bun:"update_id"`
	UpdateName     string          `bun:"update_name"`
	UpdateArg      json.RawMessage `bun:"update_arg,type:jsonb"`
	// UserID and IdempotencyKey are the request's key, when it had one.
	UserID         uuid.NullUUID  `bun:"user_id"`
	IdempotencyKey sql.NullString `bun:"idempotency_key"`
	CreatedAt      time.Time      `bun:"created_at"`
	Attempts       int            `bun:"attempts"`
}

// QueueChange writes a change to be sent later. The same Update id queued again (a retry of
// the request) is one row.
func (s *Store) QueueChange(ctx context.Context, q QueuedChange) error {
	_, err := s.DB.NewRaw(`
		INSERT INTO queued_changes (workspace_id, conversation_id, update_id, update_name, update_arg, user_id, idempotency_key)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (update_id) DO NOTHING`,
		q.WorkspaceID, q.ConversationID, q.UpdateID, q.UpdateName, string(q.UpdateArg), q.UserID, q.IdempotencyKey).Exec(ctx)
	if err != nil {
		return fmt.Errorf("queue change: %w", err)
	}
	return nil
}

// ClaimQueuedChanges leases up to n changes that are due for lease: only the oldest of each
// conversation, so a conversation's changes are sent in the order they were queued. A
// runner that dies with a lease leaves its changes to be claimed again when it runs out.
func (s *Store) ClaimQueuedChanges(ctx context.Context, n int, lease time.Duration) ([]QueuedChange, error) {
	var claimed []QueuedChange
	err := s.DB.NewRaw(`
		UPDATE queued_changes AS q
		SET not_before = now() + ? * interval '1 millisecond', attempts = q.attempts + 1
		WHERE q.id IN (
			SELECT d.id FROM queued_changes AS d
			WHERE d.not_before <= now()
			  AND NOT EXISTS (SELECT 1 FROM queued_changes AS e WHERE e.conversation_id = d.conversation_id AND e.id < d.id)
			ORDER BY d.id
			LIMIT ?
			FOR UPDATE SKIP LOCKED)
		RETURNING q.id, q.workspace_id, q.conversation_id, q.update_id, q.update_name, q.update_arg,
			q.user_id, q.idempotency_key, q.created_at, q.attempts`,
		lease.Milliseconds(), n).Scan(ctx, &claimed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim queued changes: %w", err)
	}
	return claimed, nil
}

// DropQueuedChange removes a change its workflow has answered (applied or refused).
func (s *Store) DropQueuedChange(ctx context.Context, id int64) error {
	_, err := s.DB.NewDelete().Table("queued_changes").Where("id = ?", id).Exec(ctx)
	return err
}

// PostponeQueuedChange leaves a change for another try after wait, noting why.
func (s *Store) PostponeQueuedChange(ctx context.Context, id int64, wait time.Duration, why string) error {
	_, err := s.DB.NewUpdate().Table("queued_changes").
		Set("not_before = now() + ? * interval '1 millisecond'", wait.Milliseconds()).
		Set("last_error = ?", why).
		Where("id = ?", id).Exec(ctx)
	return err
}

// QueuedChanges counts the changes waiting, and how long the oldest has waited.
func (s *Store) QueuedChanges(ctx context.Context) (n int, oldest time.Duration, err error) {
	var row struct {
		N      int     `bun:"n"`
		Oldest float64 `bun:"oldest"`
	}
	err = s.DB.NewRaw(`SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest FROM queued_changes`).
		Scan(ctx, &row)
	return row.N, time.Duration(row.Oldest * float64(time.Second)), err
}
