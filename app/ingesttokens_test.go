package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

// Two replicas sharing an ingest key's bucket take its tokens a lease at a time, and never
// more than the bucket holds between them: with a burst of 400 (leases of 10) and a refill
// too slow to count, messages sent in turn through both are accepted exactly 400 times, in
// a tenth of the statements one token at a time would take, and each refusal says when to
// come back.
func TestIngestTokensLeasedByReplicasNeverExceedTheBucket(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, "Lease Co", "lease-owner@example.com", "Lease Owner")
	if err != nil {
		t.Fatal(err)
	}
	queries := &testenv.QueryLog{}
	s.DB.AddQueryHook(queries)
	replicas := []*app.Service{app.New(app.Service{Store: s}), app.New(app.Service{Store: s})}
	limit := app.IngestLimit{Rate: 0.01, Burst: 400}
	const sent, refusedAfter = 450, 400
	accepted := 0
	for i := range sent {
		_, err := replicas[i%2].Ingest(ctx, app.IngestMessage{WorkspaceID: ws.WorkspaceID, Ref: fmt.Sprintf("lease-%d", i%7),
			Channel: domain.Chat, Role: domain.VisitorMessage, Text: "hello", SentAt: time.Now().UTC()}, limit)
		var appErr *app.Error
		switch {
		case err == nil:
			accepted++
		case errors.As(err, &appErr) && appErr.Status == http.StatusTooManyRequests:
			if appErr.RetryAfter < 1 {
				t.Fatalf("message %d refused without a Retry-After: %+v", i, appErr)
			}
		default:
			t.Fatal(err)
		}
	}
	if accepted != refusedAfter {
		t.Fatalf("%d of %d messages accepted through two replicas, want exactly the burst %d", accepted, sent, refusedAfter)
	}
	if n := len(queries.Matching("ingest_rate_limits")); n > refusedAfter/10+(sent-refusedAfter) {
		t.Fatalf("%d statements on the bucket for %d messages, want at most %d: a lease of 10 for every 10 accepted, one per refusal",
			n, sent, refusedAfter/10+(sent-refusedAfter))
	}
}
