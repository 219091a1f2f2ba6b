package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// NewSecret returns a random token with a readable prefix, e.g. "inbox_tok_...".
// Only its Hash is ever stored.
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Hash is the SHA-256 of a token or ingest key, the form kept in Postgres.
func Hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

const (
	tokenPrefix     = "inbox_tok_"
	ingestKeyPrefix = "inbox_key_"
)
