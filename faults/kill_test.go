package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/internal/openaitest"

	"github.com/bestai/inbox/internal/testenv"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// waitFor polls cond every 200 ms until it holds or bound runs out.
func waitFor(ctx context.Context, bound time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	return true
}

// firstChange measures how long until a change on conv succeeds: it toggles from state,
// retries an unknown outcome with the same key, and flips the target on a 409 (an earlier
// attempt did land). It returns the time taken and whether it succeeded within bound.
func firstChange(ctx context.Context, api *apiClient, conv, state string, bound time.Duration) (time.Duration, bool) {
	began := time.Now()
	deadline := began.Add(bound)
	to, key := toggle(state), uuid.NewString()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		a := api.transition(ctx, conv, to, key)
		switch {
		case a.Code == http.StatusOK:
			return time.Since(began), true
		case a.Code == http.StatusConflict:
			to, key = toggle(to), uuid.NewString()
		case !a.unknown():
			return time.Since(began), false
		default:
			sleepCtx(ctx, min(retryDelay(a), time.Second))
		}
	}
	return time.Since(began), false
}

// TestKillMidTransition: N clients toggle their conversations; the process is killed with
// SIGKILL mid-load and restarted on the same data directory and database. Every 200 must be
// in Postgres exactly once, API state = workflow state, and the next change must succeed.
// Temporal is on the default store (postgres) unless INBOX_TEMPORAL_STORE says otherwise.
func TestKillMidTransition(t *testing.T) {
	suite(t)
	killMidTransition(t, "")
}

// TestKillMidTransitionSQLite is the same with INBOX_TEMPORAL_STORE=sqlite: SQLite stays an
// option for machines without Postgres connections to spare, so its kill -9 restart stays
// tested end to end.
func TestKillMidTransitionSQLite(t *testing.T) {
	suite(t)
	killMidTransition(t, "sqlite")
}

// killMidTransition runs the test on Temporal store store ("" for the environment's).
func killMidTransition(t *testing.T, store string) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	model := openaitest.New(t)
	in := newInbox(t, testenv.AdminURL(), model.URL)
	if store != "" {
		in.env = append(in.env, "INBOX_TEMPORAL_STORE="+store)
	}
	t.Logf("first start: ready in %.1fs", in.start(ctx).Seconds())
	if store != "" && in.store() != store {
		t.Fatalf("inbox dev runs Temporal on %s, want %s", in.store(), store)
	}
	api := newAPIClient(in)

	n := envInt("FAULTS_CLIENTS", 12)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = api.createConversation(ctx, t, fmt.Sprintf("kill-%d-%d", i, rand.IntN(1e9)))
	}
	probe := api.createConversation(ctx, t, fmt.Sprintf("kill-probe-%d", rand.IntN(1e9)))

	newWork, stopNew := context.WithCancel(ctx)
	hard, stopHard := context.WithCancel(ctx)
	defer stopHard()
	l := startLoad(newWork, hard, api, ids)
	// Mid-load: after every client has had a few changes accepted, at a random moment.
	if !waitFor(ctx, 90*time.Second, func() bool { return l.count200() >= 3*n }) {
		t.Logf("only %d changes accepted in 90s before the kill", l.count200())
	}
	sleepCtx(ctx, time.Duration(rand.IntN(700))*time.Millisecond)
	before := l.count200()
	in.kill9()
	killedAt := time.Now()
	t.Logf("kill -9 after %d accepted changes", before)

	readyIn := in.start(ctx)
	tookChange, ok := firstChange(ctx, api, probe, "open", 4*time.Minute)
	toReady := time.Since(killedAt)
	t.Logf("restart: /readyz 200 after %.1fs; first change accepted %.1fs later; seconds to ready after kill -9: %.1f",
		readyIn.Seconds(), tookChange.Seconds(), toReady.Seconds())
	if !ok {
		t.Errorf("no change accepted within 4 minutes of the restart")
	}
	// /readyz 200 should mean ready: a change may take a moment longer (the worker polls,
	// the workflow reloads), not minutes.
	if slack := time.Duration(envInt("FAULTS_READY_SLACK_SECONDS", 30)) * time.Second; ok && tookChange > slack {
		t.Errorf("/readyz answered 200 but the first change took %.1fs more (want at most %s)", tookChange.Seconds(), slack)
	}

	sleepCtx(ctx, 10*time.Second) // some load on the restarted process too
	l.stop(stopNew, stopHard, 150*time.Second)

	tc := in.temporal(ctx)
	f := checkLifecycle(ctx, t, api, in.db(), tc, l)
	t.Logf("FIGURES kill -9 mid-transition (Temporal store %s): %s; seconds to ready after kill -9 %.1f (readyz %.1f + first change %.1f); answers %s",
		in.store(), f, toReady.Seconds(), readyIn.Seconds(), tookChange.Seconds(), histogram(api.allAnswers()))
	if f.Checked == 0 {
		t.Errorf("no change was accepted at all")
	}
}

// TestKillMidSummary: the model hangs, the process is killed while every summary call hangs,
// the model is healthy again and the process restarts: every summary must end ready, with
// one summary_ready per generation.
func TestKillMidSummary(t *testing.T) {
	suite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	model := openaitest.New(t)
	model.SetDefault(openaitest.Response{Hang: true})
	in := newInbox(t, testenv.AdminURL(), model.URL)
	t.Logf("first start: ready in %.1fs", in.start(ctx).Seconds())
	api := newAPIClient(in)

	n := envInt("FAULTS_SUMMARIES", 5)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = api.createConversation(ctx, t, fmt.Sprintf("sum-%d-%d", i, rand.IntN(1e9)))
		if code := changeUntilKnown(ctx, api, ids[i], "closed", uuid.NewString(), 90*time.Second); code != http.StatusOK {
			t.Fatalf("close %s: %d", ids[i], code)
		}
	}
	if !waitFor(ctx, 90*time.Second, func() bool { return model.Count() >= n }) {
		t.Fatalf("only %d of %d summary calls reached the model in 90s", model.Count(), n)
	}
	in.kill9()
	killedAt := time.Now()
	t.Logf("kill -9 with %d summary calls hanging", model.Count())
	model.SetDefault(openaitest.Response{Body: openaitest.DefaultReply})

	readyIn := in.start(ctx)
	db := in.db()
	took, notReady := waitSummariesReady(ctx, db, ids, 5*time.Minute)
	allReady := time.Since(killedAt)
	t.Logf("restart: /readyz 200 after %.1fs; all summaries ready %.1fs after the kill (%d model calls in all)",
		readyIn.Seconds(), allReady.Seconds(), model.Count())
	for id, s := range notReady {
		t.Errorf("conversation %s: summary not ready %.0fs after the restart: %s", id, took.Seconds(), s)
	}
	doubled, bad := checkSummaries(ctx, t, api, db, ids)
	t.Logf("FIGURES kill -9 mid-summary: summaries %d, not ready %d, doubled summary_ready %d, seconds to ready after kill -9 %.1f (readyz %.1f)",
		n, bad, doubled, allReady.Seconds(), readyIn.Seconds())
}
