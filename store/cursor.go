package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
)

// ErrBadCursor is returned for a cursor this server did not hand out, or one of another list.
var ErrBadCursor = errors.New("cursor is not valid")

// Every list pages by keyset: rows ordered by (time, id), and the position after the last
// row of a page kept in an opaque cursor. A keyset, unlike an offset, neither skips nor
// repeats a row because other rows were inserted meanwhile. The kind makes a cursor of one
// list refused by another instead of silently positioning it somewhere.
const (
	conversationCursorKind = "c"
	leadCursorKind         = "l"
	messageCursorKind      = "m"
	// earlierMessagesCursorKind walks a transcript back from its newest message.
	earlierMessagesCursorKind = "e"
	auditCursorKind           = "a"
	memberCursorKind          = "u"
	tokenCursorKind           = "t"
)

// listCursor is the keyset position after the last row of a page.
type listCursor struct {
	Kind string    `json:"k"`
	At   time.Time `json:"t"`
	ID   uuid.UUID `json:"i"`
}

func decodeListCursor(s, kind string) (listCursor, error) {
	var c listCursor
	if len(s) > 512 {
		return c, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Kind != kind || c.ID == uuid.Nil || c.At.IsZero() {
		return listCursor{}, ErrBadCursor
	}
	return c, nil
}

func encodeCursor(c listCursor) string {
	b, _ := json.Marshal(c) // a plain struct always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// cutPage trims the one extra row a query fetched (limit+1) to learn whether another page
// follows, and returns the cursor after the page's last row, or "" on the last page.
func cutPage[T any](items []T, limit int, kind string, key func(T) (time.Time, uuid.UUID)) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	at, id := key(items[limit-1])
	return items[:limit], encodeCursor(listCursor{Kind: kind, At: at, ID: id})
}
