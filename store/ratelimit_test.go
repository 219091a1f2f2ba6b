package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/testenv"
)

// The bucket refills from Postgres's clock up to the burst, and a refusal says how long to
// wait. The refill rate is so slow (one token every 100s) that a busy machine cannot refill
// a token between calls; time is moved by rewinding the row instead of sleeping.
func TestIngestTokenBucket(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, "Bucket Co", "bucket@example.com", "Bucket")
	if err != nil {
		t.Fatal(err)
	}
	take := func() (bool, time.Duration) {
		t.Helper()
		ok, wait, err := s.TakeIngestToken(ctx, ws.WorkspaceID, 0.01, 2)
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	for i := range 2 {
		if ok, _ := take(); !ok {
			t.Fatalf("take %d within the burst refused", i)
		}
	}
	ok, wait := take()
	if ok || wait <= 90*time.Second || wait > 100*time.Second {
		t.Fatalf("past the burst: ok=%v wait=%s, want refused with about 100s to wait", ok, wait)
	}
	// A long idle time refills to the burst, no further.
	if _, err := s.DB.ExecContext(ctx, "UPDATE ingest_rate_limits SET at = at - interval '1 hour'"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if ok, _ := take(); !ok {
			t.Fatalf("take %d after the refill refused", i)
		}
	}
	if ok, _ := take(); ok {
		t.Fatal("the bucket refilled past its burst")
	}
}

// Concurrent callers (as several replicas would be) take exactly the burst between them.
func TestIngestTokensUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, "Race Co", "race@example.com", "Race")
	if err != nil {
		t.Fatal(err)
	}
	const callers, burst = 8, 10
	var mu sync.Mutex
	var wg sync.WaitGroup
	granted := 0
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				ok, _, err := s.TakeIngestToken(ctx, ws.WorkspaceID, 0.001, burst)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					granted++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if granted != burst {
		t.Errorf("%d tokens granted to %d concurrent callers, want exactly the burst %d", granted, callers, burst)
	}
}
