package store_test

import (
	"context"
	"slices"
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

// A caller taking several tokens at once gets what it asks for while the bucket holds it,
// then only the whole tokens left, then none, with the wait for the next one.
func TestIngestTokensTakenSeveralAtOnce(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, "Lease Co", "lease@example.com", "Lease")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 4 {
		n, wait, err := s.TakeIngestTokens(ctx, ws.WorkspaceID, 0.01, 25, 10)
		if err != nil {
			t.Fatal(err)
		}
		if (n == 0) != (wait > 0) {
			t.Fatalf("took %d tokens with a wait of %s: a wait only comes with none taken", n, wait)
		}
		got = append(got, n)
	}
	if want := []int{10, 10, 5, 0}; !slices.Equal(got, want) {
		t.Fatalf("took %v from a burst of 25 ten at a time, want %v", got, want)
	}
	if ok, _, err := s.TakeIngestToken(ctx, ws.WorkspaceID, 0.01, 25); err != nil || ok {
		t.Fatalf("a single token from the emptied bucket: ok=%v err=%v, want refused", ok, err)
	}
}
