package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/internal/openaitest"

	"github.com/bestai/inbox/internal/testenv"
)

// TestModelErrorsThenHang: the model API answers 429 (with Retry-After) and 500, then hangs
// for a minute (no answer at all), then is healthy. Every summary must end ready, with one
// summary_ready per generation, within the activity's bounds (10 attempts in 15 minutes).
func TestModelErrorsThenHang(t *testing.T) {
	suite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	model := openaitest.New(t)
	n := envInt("FAULTS_SUMMARIES", 4)
	for range n {
		model.Enqueue(openaitest.Response{Status: http.StatusTooManyRequests, ErrorCode: "rate_limit_exceeded",
			Headers: map[string]string{"Retry-After": "1"}})
	}
	for range n {
		model.Enqueue(openaitest.Response{Status: http.StatusInternalServerError})
	}
	model.SetDefault(openaitest.Response{Hang: true})
	in := newInbox(t, testenv.AdminURL(), model.URL)
	t.Logf("first start: ready in %.1fs", in.start(ctx).Seconds())
	api := newAPIClient(in)

	ids := make([]string, n)
	for i := range ids {
		ids[i] = api.createConversation(ctx, t, fmt.Sprintf("model-%d-%d", i, rand.IntN(1e9)))
		if code := changeUntilKnown(ctx, api, ids[i], "closed", uuid.NewString(), 90*time.Second); code != http.StatusOK {
			t.Fatalf("close %s: %d", ids[i], code)
		}
	}
	// The hang starts once the scripted errors are used up.
	if !waitFor(ctx, 2*time.Minute, func() bool { return model.Count() > 2*n }) {
		t.Fatalf("the model got %d calls in 2 minutes, want more than %d (the errors, then a hang)", model.Count(), 2*n)
	}
	hangFrom := time.Now()
	t.Logf("model: %d errors answered, hanging for a minute", 2*n)
	sleepCtx(ctx, time.Minute)
	model.SetDefault(openaitest.Response{Body: openaitest.DefaultReply})
	healed := time.Now()
	t.Logf("model healthy again after %.0fs of hanging (%d calls so far)", healed.Sub(hangFrom).Seconds(), model.Count())

	db := in.db()
	took, notReady := waitSummariesReady(ctx, db, ids, 5*time.Minute)
	for id, s := range notReady {
		t.Errorf("conversation %s: summary not ready %.0fs after the model healed: %s", id, took.Seconds(), s)
	}
	doubled, bad := checkSummaries(ctx, t, api, db, ids)
	var attempts []int
	for _, id := range ids {
		d, _ := api.detail(ctx, id)
		attempts = append(attempts, d.Summary.Attempts)
	}
	t.Logf("FIGURES model 429/500 then 60s hang: summaries %d, not ready %d, doubled summary_ready %d, seconds to ready after the model healed %.1f, attempts %v, model calls %d",
		n, bad, doubled, took.Seconds(), attempts, model.Count())
	if !in.alive() {
		t.Errorf("inbox dev exited during the test")
	}
}
