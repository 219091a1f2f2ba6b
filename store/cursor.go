package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
)

// ErrBadCursor is returned for a cursor this server did not hand out.
var ErrBadCursor = errors.New("cursor is not valid")

// timeIDCursor is the keyset position after a row ordered by (time, id).
type timeIDCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v) // plain structs always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, v any) error {
	if len(s) > 512 {
		return ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return ErrBadCursor
	}
	if err := json.Unmarshal(b, v); err != nil {
		return ErrBadCursor
	}
	return nil
}
