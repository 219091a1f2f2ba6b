package store

import (
	"context"
	"math"
	"time"

	"github.com/google/uuid"
)

// TakeIngestToken takes one token from the workspace's ingest bucket (TakeIngestTokens).
func (s *Store) TakeIngestToken(ctx context.Context, workspaceID uuid.UUID, perSecond float64, burst int) (allowed bool, retryAfter time.Duration, err error) {
	granted, retryAfter, err := s.TakeIngestTokens(ctx, workspaceID, perSecond, burst, 1)
	return granted > 0, retryAfter, err
}

// TakeIngestTokens takes up to want whole tokens from the workspace's ingest bucket
// (perSecond tokens a second, at most burst saved up), shared by every replica through one
// row per workspace, and says how many it took. When it took none, retryAfter is how long
// until a token is there.
//
// One statement: the row lock orders concurrent callers, the refill is computed from
// Postgres's clock, and `granted` records what this call took (`allowed`, whether it took
// any, is kept for replicas that take one at a time).
func (s *Store) TakeIngestTokens(ctx context.Context, workspaceID uuid.UUID, perSecond float64, burst, want int) (granted int, retryAfter time.Duration, err error) {
	const refilled = `LEAST(?2::float8, l.tokens + GREATEST(0, extract(epoch FROM now() - l.at)::float8) * ?1::float8)`
	const taken = `GREATEST(0, LEAST(?3::float8, floor(` + refilled + `)))`
	var tokens float64
	err = s.DB.NewRaw(`
		INSERT INTO ingest_rate_limits AS l (workspace_id, tokens, at, allowed, granted)
		VALUES (?0, ?2::float8 - LEAST(?3, GREATEST(?2, 1)), now(), true, LEAST(?3, GREATEST(?2, 1)))
		ON CONFLICT (workspace_id) DO UPDATE SET
			allowed = `+taken+` >= 1,
			granted = `+taken+`,
			tokens = `+refilled+` - `+taken+`,
			at = GREATEST(l.at, now())
		RETURNING granted, tokens`,
		workspaceID, perSecond, burst, max(want, 1),
	).Scan(ctx, &granted, &tokens)
	if err != nil || granted > 0 {
		return granted, 0, err
	}
	return 0, time.Duration(math.Ceil((1 - tokens) / perSecond * float64(time.Second))), nil
}
