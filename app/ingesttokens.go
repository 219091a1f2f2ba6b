package app

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
)

// An ingest key's tokens are shared by every replica through one row per workspace
// (store.TakeIngestTokens). Taken one per message, a busy key's messages all queue on that
// row, each holding its lock through a commit: at 32 clients over four keys that statement
// was the most expensive one of a follow-up. So a replica takes a few tokens at a time, a
// lease, and spends them on the key's next messages itself.
//
// The limit is never exceeded: a token is taken from the shared bucket before it is spent.
// A lease is small (a fortieth of the burst, the most a key may spend at once) and lasts
// leaseLifetime; tokens a replica leased and did not spend in time are dropped, so a quiet
// replica holds back at most that from the others, for that long.
const (
	leaseBurstShare = 40
	maxLease        = 50
	leaseLifetime   = time.Second
)

// leaseSize is how many tokens a replica takes at a time under limit: 10 for the default
// burst of 400, and one for a burst under 80, so that small limits behave exactly.
func leaseSize(limit IngestLimit) int {
	return min(maxLease, max(1, limit.Burst/leaseBurstShare))
}

// tokenLeases holds the tokens this process has taken from each workspace's bucket and not
// spent yet. An entry always holds at least one token (keep adds none, spend deletes the
// last); one past its time is deleted when next looked at.
type tokenLeases struct {
	mu   sync.Mutex
	held map[uuid.UUID]tokenLease
}

type tokenLease struct {
	tokens int
	until  time.Time
}

// spend takes one token of the workspace's lease, when it holds a live one.
func (l *tokenLeases) spend(workspaceID uuid.UUID, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lease, ok := l.held[workspaceID]
	if !ok {
		return false
	}
	if now.After(lease.until) {
		delete(l.held, workspaceID)
		return false
	}
	if lease.tokens--; lease.tokens == 0 {
		delete(l.held, workspaceID)
	} else {
		l.held[workspaceID] = lease
	}
	return true
}

// keep adds tokens to the workspace's lease, which lasts leaseLifetime from now.
func (l *tokenLeases) keep(workspaceID uuid.UUID, tokens int, now time.Time) {
	if tokens < 1 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = make(map[uuid.UUID]tokenLease)
	}
	lease := l.held[workspaceID]
	if now.After(lease.until) {
		lease.tokens = 0
	}
	l.held[workspaceID] = tokenLease{tokens: lease.tokens + tokens, until: now.Add(leaseLifetime)}
}

// takeIngestToken takes one of the workspace's ingest tokens under limit: from this
// process's lease, or with a new lease from the shared bucket. When there is none, wait is
// how long until the bucket has one.
func (s *Service) takeIngestToken(ctx context.Context, workspaceID uuid.UUID, limit IngestLimit) (ok bool, wait time.Duration, err error) {
	if s.ingestTokens.spend(workspaceID, time.Now()) {
		return true, 0, nil
	}
	granted, wait, err := s.Store.TakeIngestTokens(ctx, workspaceID, limit.Rate, limit.Burst, leaseSize(limit))
	if err != nil || granted == 0 {
		return false, wait, err
	}
	s.ingestTokens.keep(workspaceID, granted-1, time.Now())
	return true, 0, nil
}
