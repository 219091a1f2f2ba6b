package store

import (
	"context"
	"math"
	"time"

	"github.com/google/uuid"
)

// TakeIngestToken takes one token from the workspace's ingest bucket (perSecond tokens a
// second, at most burst saved up), shared by every replica through one row per workspace.
// When it is refused, retryAfter is how long until a token is there.
//
// One statement: the row lock orders concurrent callers, the refill is computed from
// Postgres's clock, and `allowed` records whether this call consumed a token, since a
// refused call leaves fewer than one token and an allowed one may leave fewer than one too.
func (s *Store) TakeIngestToken(ctx context.Context, workspaceID uuid.UUID, perSecond float64, burst int) (allowed bool, retryAfter time.Duration, err error) {
	const refilled = `LEAST(?2::float8, l.tokens + GREATEST(0, extract(epoch FROM now() - l.at)::float8) * ?1::float8)`
	var tokens float64
	err = s.DB.NewRaw(`
		INSERT INTO ingest_rate_limits AS l (workspace_id, tokens, at, allowed)
		VALUES (?0, ?2::float8 - 1, now(), true)
		ON CONFLICT (workspace_id) DO UPDATE SET
			allowed = `+refilled+` >= 1,
			tokens = `+refilled+` - CASE WHEN `+refilled+` >= 1 THEN 1 ELSE 0 END,
			at = GREATEST(l.at, now())
		RETURNING allowed, tokens`,
		workspaceID, perSecond, burst,
	).Scan(ctx, &allowed, &tokens)
	if err != nil || allowed {
		return allowed, 0, err
	}
	return false, time.Duration(math.Ceil((1 - tokens) / perSecond * float64(time.Second))), nil
}
