package testenv

import (
	"context"
	"strings"
	"sync"

	"github.com/uptrace/bun"
)

// QueryLog records the SQL of every query an Env's store runs (Options.Queries), for tests
// that count round trips.
type QueryLog struct {
	mu      sync.Mutex
	queries []string
}

// BeforeQuery is part of bun.QueryHook.
func (l *QueryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery is part of bun.QueryHook.
func (l *QueryLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = append(l.queries, e.Query)
}

// Reset forgets the queries recorded so far.
func (l *QueryLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = nil
}

// Matching returns the queries recorded since the last Reset that contain every one of parts.
func (l *QueryLog) Matching(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
next:
	for _, q := range l.queries {
		for _, p := range parts {
			if !strings.Contains(q, p) {
				continue next
			}
		}
		out = append(out, q)
	}
	return out
}
