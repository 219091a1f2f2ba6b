package faults

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/openaitest"
	"github.com/bestai/inbox/internal/testenv"
)

// TestKillWhileSLAClockRuns: with a one-minute first-response SLA, a conversation's clock
// is running when the process is killed with SIGKILL and restarted on the same data
// directory and database. The durable timer fires after the restart: the breach is in
// Postgres once (breached-at at the due time, one sla_breached audit entry), within a
// bounded time.
func TestKillWhileSLAClockRuns(t *testing.T) {
	suite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	model := openaitest.New(t)
	in := newInbox(t, testenv.AdminURL(), model.URL)
	t.Logf("first start: ready in %.1fs", in.start(ctx).Seconds())
	api := newAPIClient(in)
	if a := api.admin(ctx, http.MethodPut, "/sla", nil, map[string]any{"first_response": "PT1M"}); a.Code != http.StatusOK {
		t.Fatalf("PUT /sla: %s %s", a, a.Body)
	}
	conv := api.createConversation(ctx, t, fmt.Sprintf("sla-kill-%d", rand.IntN(1e9)))
	db := in.db()
	var due sql.NullTime
	if !waitFor(ctx, 30*time.Second, func() bool {
		_ = db.QueryRowContext(ctx, `SELECT sla_first_response_due FROM conversations WHERE id = $1`, conv).Scan(&due)
		return due.Valid
	}) {
		in.dumpLogs()
		t.Fatal("the first-response due time was not written within 30s")
	}
	// Kill while the clock runs, well before it is due.
	if left := time.Until(due.Time); left < 20*time.Second {
		t.Fatalf("only %s left on the clock before the kill", left)
	}
	sleepCtx(ctx, time.Duration(2000+rand.IntN(3000))*time.Millisecond)
	in.kill9()
	t.Logf("kill -9 with %.0fs left on the clock", time.Until(due.Time).Seconds())
	t.Logf("restart: ready in %.1fs", in.start(ctx).Seconds())

	var breachedAt sql.NullTime
	if !waitFor(ctx, 3*time.Minute, func() bool {
		_ = db.QueryRowContext(ctx, `SELECT sla_first_response_breached_at FROM conversations WHERE id = $1`, conv).Scan(&breachedAt)
		return breachedAt.Valid
	}) {
		in.dumpLogs()
		t.Fatalf("no breach within 3 minutes of the restart (due %v)", due.Time)
	}
	t.Logf("breached %.1fs after its due time", time.Since(due.Time).Seconds())
	if !breachedAt.Time.Equal(due.Time) {
		t.Errorf("breached at %v, want the due time %v", breachedAt.Time, due.Time)
	}
	sleepCtx(ctx, 5*time.Second) // a second firing would have landed by now
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE conversation_id = $1 AND action = 'sla_breached'`, conv).Scan(&n); err != nil || n != 1 {
		t.Errorf("sla_breached audit entries: %d (%v), want exactly 1", n, err)
	}
	d, a := api.detail(ctx, conv)
	if a.Code != http.StatusOK || d.State != "open" {
		t.Errorf("after the breach: %s %+v", a, d)
	}
}
