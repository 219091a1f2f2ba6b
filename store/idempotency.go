package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
)

// ErrKeyReused is returned when an Idempotency-Key is presented again with a request that
// differs from the one it first named.
var ErrKeyReused = errors.New("idempotency key reused with a different request")

// IdempotencyKey scopes a client's Idempotency-Key: one caller, one conversation.
type IdempotencyKey struct {
	WorkspaceID    uuid.UUID
	UserID         uuid.UUID
	ConversationID uuid.UUID
	Key            string
}

// ClaimIdempotencyKey records the key with the request's fingerprint the first time it is
// seen. Seen before with the same fingerprint, it reports whether that request completed;
// with another fingerprint, it returns ErrKeyReused and records nothing.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, k IdempotencyKey, fingerprint []byte) (completed bool, err error) {
	var stored []byte
	var completedAt sql.NullTime
	// A concurrent first claim of the same key commits after this statement's snapshot was
	// taken: the insert then does nothing and the select sees nothing. Asking again sees it.
	for range 3 {
		err = s.claimKey(ctx, k, fingerprint, &stored, &completedAt)
		if !errors.Is(err, sql.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return false, err
	}
	if !bytes.Equal(stored, fingerprint) {
		return false, ErrKeyReused
	}
	return completedAt.Valid, nil
}

func (s *Store) claimKey(ctx context.Context, k IdempotencyKey, fingerprint []byte, stored *[]byte, completedAt *sql.NullTime) error {
	return s.DB.NewRaw(`
		WITH claimed AS (
			INSERT INTO idempotency_keys (workspace_id, user_id, conversation_id, key, fingerprint)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (conversation_id, user_id, key) DO NOTHING
			RETURNING fingerprint, completed_at)
		SELECT fingerprint, completed_at FROM claimed
		UNION ALL
		SELECT fingerprint, completed_at FROM idempotency_keys
		WHERE conversation_id = ? AND user_id = ? AND key = ? AND workspace_id = ?
		LIMIT 1`,
		k.WorkspaceID, k.UserID, k.ConversationID, k.Key, fingerprint,
		k.ConversationID, k.UserID, k.Key, k.WorkspaceID,
	).Scan(ctx, stored, completedAt)
}

// CompleteIdempotencyKey marks the key's request as done, so a later retry answers with the
// conversation as it is instead of sending the change again.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, k IdempotencyKey) error {
	_, err := s.DB.NewUpdate().Table("idempotency_keys").
		Set("completed_at = ?", time.Now().UTC()).
		Where("conversation_id = ? AND user_id = ? AND key = ? AND completed_at IS NULL", k.ConversationID, k.UserID, k.Key).
		Exec(ctx)
	return err
}
