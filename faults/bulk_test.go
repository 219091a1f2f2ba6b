package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/openaitest"
	"github.com/bestai/inbox/internal/testenv"
)

// bulkStatus is what GET .../conversations/bulk/{id} answers, without the items.
type bulkStatus struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Total   int    `json:"total"`
	Done    int    `json:"done"`
	Failed  int    `json:"failed"`
	Applied int    `json:"applied"`
	Refused int    `json:"refused"`
	Skipped int    `json:"skipped"`
}

func (c *apiClient) bulk(ctx context.Context, id string) (bulkStatus, answer) {
	a := c.admin(ctx, http.MethodGet, "/conversations/bulk/"+id+"?limit=1", nil, nil)
	var b bulkStatus
	if a.Code == http.StatusOK {
		_ = json.Unmarshal(a.Body, &b)
	}
	return b, a
}

// TestKillDuringBulkBatch kills the process (and the Temporal server it embeds) while a bulk
// close of a few hundred conversations is half done. The conversations are untouched, so
// the batch starts each one's workflow with its close made (app.bulkStarter); the kill
// leaves items started and not yet written or recorded. After a restart the batch goes on
// from what it recorded and finishes: every conversation is closed exactly once, in
// Postgres and in its workflow, and every item says applied.
func TestKillDuringBulkBatch(t *testing.T) {
	suite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	in := newInbox(t, testenv.AdminURL(), openaitest.New(t).URL)
	t.Logf("first start: ready in %.1fs", in.start(ctx).Seconds())
	api := newAPIClient(in)

	n := envInt("FAULTS_BULK", 500) // enough that the batch is still running when it is killed
	ids := make([]string, n)
	run := rand.IntN(1e9)
	for i := range ids {
		ids[i] = api.createConversation(ctx, t, fmt.Sprintf("bulk-%d-%d", run, i))
	}

	a := api.admin(ctx, http.MethodPost, "/conversations/bulk", nil, map[string]any{"ids": ids, "action": "state", "state": "closed"})
	if a.Code != http.StatusAccepted {
		t.Fatalf("start the bulk close: %s %s", a, a.Body)
	}
	var started bulkStatus
	if err := json.Unmarshal(a.Body, &started); err != nil || started.ID == "" || started.Total != n {
		t.Fatalf("the bulk close's answer %s (%v), want an id and total %d", a.Body, err, n)
	}
	var before bulkStatus
	if !waitFor(ctx, 2*time.Minute, func() bool {
		before, _ = api.bulk(ctx, started.ID)
		return before.Done >= n/10
	}) {
		t.Fatalf("the batch did not get a tenth of the way in 2 minutes: %+v", before)
	}
	in.kill9()
	if before.Done >= n {
		t.Fatalf("the batch finished before the kill (%+v): nothing was tested", before)
	}
	db := in.db()
	var closedAtKill int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM conversations WHERE id = ANY($1::uuid[]) AND state = 'closed'`,
		"{"+strings.Join(ids, ",")+"}").Scan(&closedAtKill); err != nil {
		t.Fatal(err)
	}
	// Items applied but not yet recorded (in flight at the kill) are sent again after it.
	t.Logf("killed with %d of %d items recorded and %d conversations closed in Postgres", before.Done, n, closedAtKill)

	in.start(ctx)
	var after bulkStatus
	if !waitFor(ctx, 4*time.Minute, func() bool {
		after, _ = api.bulk(ctx, started.ID)
		return after.Status == "done" || after.Status == "cancelled" || after.Status == "failed"
	}) {
		t.Fatalf("the batch did not finish within 4 minutes of the restart: %+v", after)
	}
	if after.Status != "done" || after.Applied != n || after.Done != n || after.Failed != 0 {
		t.Errorf("after the restart the batch ended %+v, want done with all %d applied", after, n)
	}

	tc := in.temporal(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var doubled, missing, divergent int
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				changes, err := stateChanges(ctx, db, ids[i])
				state, qerr := workflowState(ctx, tc, ids[i])
				var stored string
				serr := db.QueryRowContext(ctx, `SELECT state FROM conversations WHERE id = $1`, ids[i]).Scan(&stored)
				mu.Lock()
				switch {
				case err != nil || qerr != nil || serr != nil:
					t.Errorf("conversation %s: audit %v, workflow %v, row %v", ids[i], err, qerr, serr)
				case len(changes) == 0:
					missing++
				case len(changes) > 1:
					doubled++
					t.Errorf("conversation %s changed state %d times: %+v", ids[i], len(changes), changes)
				case changes[0].After != "closed" || stored != "closed" || state != "closed":
					divergent++
					t.Errorf("conversation %s: audit to %s, Postgres %s, workflow %s; want closed", ids[i], changes[0].After, stored, state)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("bulk close of %d, killed at %d: %d closed once, %d missing, %d doubled, %d divergent",
		n, before.Done, n-missing-doubled-divergent, missing, doubled, divergent)
	if missing > 0 {
		t.Errorf("%d conversations of the batch were never closed", missing)
	}
}
