package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/bestai/inbox/internal/loadgen"
)

// maxBulk is the most conversations -bulk takes: the most one batch takes.
const maxBulk = 10000

// bulkRun is one bulk close: how long the batch took, and its progress as the API showed it.
type bulkRun struct {
	n                                 int
	accepted, took                    time.Duration
	applied, refused, skipped, failed int
	status                            string
	progress                          []bulkProgress
	// summariesEnded is how many of the batch's summaries had ended (ready or failed) when
	// the watch after the batch stopped, and summariesAfter how long after the bulk request
	// the last one ended (0 if not all did within the watch).
	summariesEnded  int
	summariesAfter  time.Duration
	summariesFailed int
}

type bulkProgress struct {
	at   time.Duration
	done int
}

// bulkClose seeds n new conversations in the demo workspace (not timed), then closes them
// all in one batch by their ids and polls the batch every half second until it finishes,
// for at most 10 minutes.
func bulkClose(ctx context.Context, c *loadgen.Client, in *inbox, prefix string, n int) (bulkRun, error) {
	r := bulkRun{n: n}
	ids, err := ingestMany(ctx, c, []creds{in.demo}, prefix, n)
	if err != nil {
		return r, err
	}
	auth := "Bearer " + in.demo.OwnerToken
	path := fmt.Sprintf("/api/v1/workspaces/%s/conversations/bulk", in.demo.WorkspaceID)
	var b struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Done    int    `json:"done"`
		Applied int    `json:"applied"`
		Refused int    `json:"refused"`
		Skipped int    `json:"skipped"`
		Failed  int    `json:"failed"`
	}
	start := time.Now()
	code, body, _, err := c.Do(ctx, http.MethodPost, path, "Authorization", auth,
		map[string]any{"ids": ids, "action": "state", "state": "closed"})
	if err != nil || code != http.StatusAccepted {
		return r, fmt.Errorf("bulk close: %d %s %v", code, body, err)
	}
	r.accepted = time.Since(start)
	if err := json.Unmarshal(body, &b); err != nil {
		return r, fmt.Errorf("bulk close: %w", err)
	}
	for b.Status == "running" || b.Status == "cancelling" {
		if time.Since(start) > 10*time.Minute {
			return r, fmt.Errorf("bulk close: not finished after 10 minutes (%d/%d done)", b.Done, n)
		}
		time.Sleep(500 * time.Millisecond)
		code, body, _, err := c.Do(ctx, http.MethodGet, path+"/"+b.ID+"?limit=1", "Authorization", auth, nil)
		if err != nil || code != http.StatusOK {
			log.Printf("bulk: poll: %d %v", code, err) // polled again
			continue
		}
		if err := json.Unmarshal(body, &b); err != nil {
			return r, fmt.Errorf("bulk poll: %w", err)
		}
		r.progress = append(r.progress, bulkProgress{time.Since(start), b.Done})
	}
	r.took = time.Since(start)
	r.applied, r.refused, r.skipped, r.failed, r.status = b.Applied, b.Refused, b.Skipped, b.Failed, b.Status
	watchBulkSummaries(ctx, in, ids, start, &r)
	return r, nil
}

// watchBulkSummaries polls the database every second, for at most 10 minutes, until every
// conversation of the batch has its summary ended: each close starts one in the
// conversation's workflow, which runs after the batch.
func watchBulkSummaries(ctx context.Context, in *inbox, ids []string, start time.Time, r *bulkRun) {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(in.dbURL)))
	defer db.Close()
	list := "{" + strings.Join(ids, ",") + "}"
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		err := db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE summary_status IN ('ready', 'failed')),
			count(*) FILTER (WHERE summary_status = 'failed') FROM conversations WHERE id = ANY($1::uuid[])`, list).
			Scan(&r.summariesEnded, &r.summariesFailed)
		if err != nil {
			log.Printf("bulk: watch the summaries: %v", err) // polled again
			continue
		}
		if r.summariesEnded == len(ids) {
			r.summariesAfter = time.Since(start)
			return
		}
	}
	log.Printf("bulk: %d of %d summaries ended after 10 minutes", r.summariesEnded, len(ids))
}

// rate is the batch's conversations a second.
func (r bulkRun) rate() float64 {
	if r.took <= 0 {
		return 0
	}
	return float64(r.n) / r.took.Seconds()
}

// String is the batch in one line, with its progress every tenth of the way.
func (r bulkRun) String() string {
	s := fmt.Sprintf("bulk close of %d: %s (202 in %s), %.0f/s; applied %d, refused %d, skipped %d, failed %d; %s; done at",
		r.n, r.took.Round(time.Millisecond), r.accepted.Round(time.Millisecond), r.rate(), r.applied, r.refused, r.skipped, r.failed, r.status)
	step := max(1, len(r.progress)/10)
	for i := 0; i < len(r.progress); i += step {
		s += fmt.Sprintf(" %.0fs:%d", r.progress[i].at.Seconds(), r.progress[i].done)
	}
	return s + fmt.Sprintf("; summaries ended %d (failed %d) after %s", r.summariesEnded, r.summariesFailed, r.summariesAfter.Round(time.Second))
}

// doneAt is how many items the batch had done by at (the last poll before it).
func (r bulkRun) doneAt(at time.Duration) int {
	done := 0
	for _, p := range r.progress {
		if p.at > at {
			break
		}
		done = p.done
	}
	return done
}
