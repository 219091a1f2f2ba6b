package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/bestai/inbox/internal/testenv"
)

// A pool limited to n never holds more than n of the server's connections, however many
// queries wait: past max_connections Postgres refuses every client, the other processes
// and test packages on the same server included.
func TestLimitConnectionsBoundsTheServerSide(t *testing.T) {
	s := testenv.NewStore(t)
	const limit = 3
	s.LimitConnections(limit)
	ctx := context.Background()
	var dbName string
	if err := s.DB.QueryRowContext(ctx, `SELECT current_database()`).Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		peak int
	)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each holds its connection a while before counting the server's sessions on
			// this database, so every connection the pool opened is busy at the count.
			var n int
			err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.ExecContext(ctx, `SELECT pg_sleep(0.1)`); err != nil {
					return err
				}
				return tx.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = ?`, dbName).Scan(&n)
			})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			peak = max(peak, n)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if peak == 0 || peak > limit {
		t.Fatalf("Postgres counted up to %d sessions on the test database; want 1 to %d", peak, limit)
	}
	if got := s.DB.Stats().MaxOpenConnections; got != limit {
		t.Fatalf("pool allows %d connections, want %d", got, limit)
	}
}

// A pool under a steady load that uses all its connections keeps them: none is closed
// between requests only to be opened again for the next one. Each new connection is a new
// Postgres process with a cold catalog cache; a pool that kept half its limit idle closed
// and reopened connections continuously under 32 ingest clients.
func TestPoolKeepsItsConnectionsBetweenRequests(t *testing.T) {
	s := testenv.NewStore(t)
	const limit = 6
	s.LimitConnections(limit)
	ctx := context.Background()
	for range 5 { // rounds of a load that holds every connection at once, then lets go
		var wg sync.WaitGroup
		for range limit {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.DB.ExecContext(ctx, `SELECT pg_sleep(0.05)`); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	st := s.DB.Stats()
	if st.MaxIdleClosed != 0 || st.OpenConnections != limit {
		t.Fatalf("after 5 rounds of %d concurrent queries the pool closed %d idle connections and holds %d, want 0 closed and %d held",
			limit, st.MaxIdleClosed, st.OpenConnections, limit)
	}
}
