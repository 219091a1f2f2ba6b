package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"
)

// OpenAIKeySetting is what may be shown of a workspace's BYOK key: never the key itself.
type OpenAIKeySetting struct {
	Configured bool   `json:"configured"`
	Last4      string `json:"last4,omitempty"`
}

// SetOpenAIKey stores a sealed BYOK key and its last four characters.
func (s *Store) SetOpenAIKey(ctx context.Context, workspaceID uuid.UUID, sealed []byte, last4 string) error {
	_, err := s.DB.NewRaw(`INSERT INTO workspace_settings (workspace_id, openai_key_sealed, openai_key_last4, updated_at)
		VALUES (?, ?, ?, now())
		ON CONFLICT (workspace_id) DO UPDATE SET openai_key_sealed = EXCLUDED.openai_key_sealed,
			openai_key_last4 = EXCLUDED.openai_key_last4, updated_at = now()`,
		workspaceID, sealed, last4).Exec(ctx)
	return err
}

// DeleteOpenAIKey forgets the BYOK key; summaries fall back to the platform key.
func (s *Store) DeleteOpenAIKey(ctx context.Context, workspaceID uuid.UUID) error {
	_, err := s.DB.NewRaw(`UPDATE workspace_settings SET openai_key_sealed = NULL, openai_key_last4 = '', updated_at = now()
		WHERE workspace_id = ?`, workspaceID).Exec(ctx)
	return err
}

// OpenAIKey returns the sealed BYOK key, or nil when none is configured.
func (s *Store) OpenAIKey(ctx context.Context, workspaceID uuid.UUID) ([]byte, OpenAIKeySetting, error) {
	var row struct {
		Sealed []byte `bun:"openai_key_sealed"`
		Last4  string `bun:"openai_key_last4"`
	}
	err := s.DB.NewRaw(`SELECT openai_key_sealed, openai_key_last4 FROM workspace_settings WHERE workspace_id = ?`,
		workspaceID).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && len(row.Sealed) == 0) {
		return nil, OpenAIKeySetting{}, nil
	}
	if err != nil {
		return nil, OpenAIKeySetting{}, err
	}
	return row.Sealed, OpenAIKeySetting{Configured: true, Last4: row.Last4}, nil
}
