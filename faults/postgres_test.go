package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/openaitest"
)

// TestPostgresDown stops the inbox's Postgres (a cluster of the test's own, never the
// machine's main one; on the default store it holds Temporal's databases too) for 20 s
// under load. While it is down every answer must be a 503
// with a reason and Retry-After (never a 500, never a dropped connection: the process stays
// up); afterwards every unknown outcome resolves, every 200 is in Postgres exactly once and
// the API agrees with the workflows.
func TestPostgresDown(t *testing.T) {
	suite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	pg := newCluster(t)
	model := openaitest.New(t)
	in := newInbox(t, pg.adminURL(), model.URL)
	t.Logf("first start: ready in %.1fs (Postgres cluster %s %s on port %d)", in.start(ctx).Seconds(), pg.version, pg.name, pg.port)
	api := newAPIClient(in)

	n := envInt("FAULTS_CLIENTS", 8)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = api.createConversation(ctx, t, fmt.Sprintf("pg-%d-%d", i, rand.IntN(1e9)))
	}
	newWork, stopNew := context.WithCancel(ctx)
	hard, stopHard := context.WithCancel(ctx)
	defer stopHard()
	l := startLoad(newWork, hard, api, ids)
	if !waitFor(ctx, 90*time.Second, func() bool { return l.count200() >= 3*n }) {
		t.Logf("only %d changes accepted in 90s before the outage", l.count200())
	}

	pg.stop()
	downFrom := time.Now()
	t.Logf("Postgres stopped after %d accepted changes", l.count200())
	// /readyz must say so while it is down (probed half-way through the outage).
	sleepCtx(ctx, 10*time.Second)
	if ready := api.do(ctx, http.MethodGet, "/readyz", nil, nil); ready.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Postgres down: %s %s", ready, ready.Body)
	}
	sleepCtx(ctx, 10*time.Second)
	downUntil := time.Now()
	pg.start()
	t.Logf("Postgres started again after %.0fs", time.Since(downFrom).Seconds())

	sleepCtx(ctx, 15*time.Second) // load on the recovered process too
	l.stop(stopNew, stopHard, 150*time.Second)

	// What the clients saw. During the outage: 503 + reason + Retry-After only (a 409 from a
	// validator, which needs no Postgres, is fine too). At any time: no 500, no lost connection.
	var during, good, bad500, noAnswer, other int
	for _, a := range api.allAnswers() {
		if !strings.HasPrefix(a.Path, "/api/") {
			continue // /readyz is meant to say 503 with its checks, not the API's error body
		}
		inOutage := !a.At.Before(downFrom) && a.At.Before(downUntil)
		if inOutage {
			during++
		}
		switch {
		case a.Code == 0:
			noAnswer++
			t.Errorf("no answer at %s: %s", a.At.Format(time.StampMilli), a)
		case a.Code >= 500 && a.Code != http.StatusServiceUnavailable:
			bad500++
			if bad500 <= 10 {
				t.Errorf("%d at %s (want 503 with a reason): %s", a.Code, a.At.Format(time.StampMilli), a)
			}
		case a.Code == http.StatusServiceUnavailable && (a.RetryAfter == "" || a.ErrCode == "" || a.ErrMsg == ""):
			other++
			t.Errorf("503 without a reason or Retry-After: %s", a)
		case inOutage && a.Code == http.StatusServiceUnavailable:
			good++
		case inOutage && a.Code != http.StatusConflict && a.Code != http.StatusOK:
			other++
			t.Errorf("during the outage: %s", a)
		}
	}
	if during == 0 {
		t.Errorf("no answers at all during the 20 s outage")
	}
	if !in.alive() {
		t.Errorf("inbox dev exited during the outage")
	}
	if bad500 > 10 {
		t.Errorf("... %d answers with a 5xx other than 503 in all", bad500)
	}

	tc := in.temporal(ctx)
	f := checkLifecycle(ctx, t, api, in.db(), tc, l)
	if f.Unknown > 0 {
		t.Errorf("%d changes still had an unknown outcome 150s after Postgres came back", f.Unknown)
	}
	t.Logf("FIGURES Postgres down 20s: answers during outage %d (503 with reason and Retry-After %d), non-503 5xx %d, no answer %d, other %d; %s; answers during outage %s",
		during, good, bad500, noAnswer, other, f, histogram(apiOnly(api.answersBetween(downFrom, downUntil))))
}
