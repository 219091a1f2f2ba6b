package faults

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// figures are what the fault suite reports for lifecycle changes.
type figures struct {
	Checked    int // changes answered 200 (each must be in Postgres exactly once)
	Unknown    int // changes whose outcome stayed unknown to the client
	Lost       int // 200s with no audit row
	Doubled    int // extra audit rows for one key, or two identical changes in a row
	Divergent  int // conversations where API, workflow, read model and audit chain disagree
	Phantom    int // audit rows no client request explains (a 409'd key, or no key at all)
	ChainBreak int // audit rows whose before.state is not the previous after.state
	Other4xx   int // change requests answered with a 4xx other than 409
	NextFailed int // conversations where the next change from the shown state failed
}

func (f figures) String() string {
	return fmt.Sprintf("changes checked %d, lost %d, doubled %d, divergent %d, phantom %d, chain breaks %d, unknown %d, other 4xx %d, next-change failures %d",
		f.Checked, f.Lost, f.Doubled, f.Divergent, f.Phantom, f.ChainBreak, f.Unknown, f.Other4xx, f.NextFailed)
}

type auditRow struct {
	Before, After string
	RequestID     string
}

// keyOf is the Idempotency-Key inside a stored request id: "transition/<key>",
// "transition/<user uuid>/<key>", or either scoped to its workflow run ("...@<run id>").
// Our keys are UUIDs, without slashes or @.
func keyOf(requestID string) string {
	requestID, _, _ = strings.Cut(requestID, "@")
	if i := strings.LastIndexByte(requestID, '/'); i >= 0 {
		return requestID[i+1:]
	}
	return requestID
}

func stateChanges(ctx context.Context, db *sql.DB, conv string) ([]auditRow, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT coalesce(before->>'state', ''), coalesce(after->>'state', ''), coalesce(request_id, '')
		FROM audit_log WHERE conversation_id = $1 AND action = 'state_changed'
		ORDER BY at, id`, conv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.Before, &r.After, &r.RequestID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// errNoWorkflow: the conversation has no workflow; nobody has changed it (lazy start).
var errNoWorkflow = errors.New("no workflow")

// workflowState asks the conversation's workflow for its state (Query "state").
func workflowState(ctx context.Context, tc client.Client, conv string) (string, error) {
	var last error
	for i := 0; i < 20 && ctx.Err() == nil; i++ {
		qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		v, err := tc.QueryWorkflow(qctx, "conversation/"+conv, "", "state")
		cancel()
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return "", errNoWorkflow
		}
		if err == nil {
			var st struct {
				State string `json:"state"`
			}
			if err := v.Get(&st); err != nil {
				return "", err
			}
			return st.State, nil
		}
		last = err
		sleepCtx(ctx, time.Second)
	}
	return "", fmt.Errorf("query workflow conversation/%s: %v", conv, last)
}

// checkLifecycle checks, per conversation: the audit chain, every 200 exactly once, no row
// without a 200 or unknown request behind it, read model = API = workflow = end of the
// chain, and that the next change from the state the API shows succeeds.
func checkLifecycle(ctx context.Context, t *testing.T, api *apiClient, db *sql.DB, tc client.Client, l *load) figures {
	t.Helper()
	var f figures
	for _, c := range l.convs {
		reqs := c.requests()
		rows, err := stateChanges(ctx, db, c.ID)
		if err != nil {
			t.Fatalf("read audit of %s: %v", c.ID, err)
		}

		// The chain: starts open, each row continues the previous one and changes something.
		prev := "open"
		for i, r := range rows {
			if r.Before != prev || r.Before == r.After {
				f.ChainBreak++
				t.Errorf("conversation %s: audit row %d is %s->%s after %q (request %s)", c.ID, i, r.Before, r.After, prev, r.RequestID)
			}
			if i > 0 && r.Before == rows[i-1].Before && r.After == rows[i-1].After {
				f.Doubled++
				t.Errorf("conversation %s: audit rows %d and %d are the same change %s->%s", c.ID, i-1, i, r.Before, r.After)
			}
			prev = r.After
		}

		perKey := map[string]int{}
		for _, r := range rows {
			perKey[keyOf(r.RequestID)]++
		}
		explained := map[string]bool{}
		for _, r := range reqs {
			n := perKey[r.Key]
			switch r.Code {
			case http.StatusOK:
				f.Checked++
				explained[r.Key] = true
				if n == 0 {
					f.Lost++
					t.Errorf("conversation %s: change to %s (key %s) answered 200 but is not in audit_log", c.ID, r.To, r.Key)
				}
			case 0:
				f.Unknown++
				explained[r.Key] = true
			case http.StatusConflict:
			default:
				f.Other4xx++
				t.Errorf("conversation %s: change to %s (key %s) answered %d", c.ID, r.To, r.Key, r.Code)
			}
			if n > 1 {
				f.Doubled += n - 1
				t.Errorf("conversation %s: key %s is in audit_log %d times", c.ID, r.Key, n)
			}
		}
		for _, r := range rows {
			if !explained[keyOf(r.RequestID)] {
				f.Phantom++
				t.Errorf("conversation %s: audit row %s->%s (request %q) has no 200 or unknown request behind it", c.ID, r.Before, r.After, r.RequestID)
			}
		}

		// Read model, API, workflow and the end of the audit chain agree.
		var dbState string
		if err := db.QueryRowContext(ctx, `SELECT state FROM conversations WHERE id = $1`, c.ID).Scan(&dbState); err != nil {
			t.Fatalf("read conversation %s: %v", c.ID, err)
		}
		d, a := api.detail(ctx, c.ID)
		if a.Code != http.StatusOK {
			t.Errorf("conversation %s: GET detail: %s", c.ID, a)
		}
		wfState, err := workflowState(ctx, tc, c.ID)
		switch {
		case errors.Is(err, errNoWorkflow) && len(rows) == 0:
			wfState = "open" // never changed: no workflow yet, and the read model is its state
		case err != nil:
			t.Errorf("conversation %s: %v", c.ID, err)
		}
		if d.State != wfState || d.State != dbState || dbState != prev {
			f.Divergent++
			t.Errorf("conversation %s diverges: API %q, workflow %q, read model %q, end of audit chain %q", c.ID, d.State, wfState, dbState, prev)
		}

		// The next change from what the API shows must succeed (retrying an unknown outcome
		// with its key, as a client would, for a bounded time).
		if d.State == "open" || d.State == "pending" {
			if code := changeUntilKnown(ctx, api, c.ID, toggle(d.State), uuid.NewString(), 60*time.Second); code != http.StatusOK {
				f.NextFailed++
				t.Errorf("conversation %s: next change %s->%s answered %d", c.ID, d.State, toggle(d.State), code)
			}
		} else {
			f.NextFailed++
			t.Errorf("conversation %s: shows state %q, not open or pending", c.ID, d.State)
		}
	}
	return f
}

// changeUntilKnown sends one change, retrying with the same key while the outcome is
// unknown; it returns the final status (0 if still unknown when bound runs out).
func changeUntilKnown(ctx context.Context, api *apiClient, conv, to, key string, bound time.Duration) int {
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		a := api.transition(ctx, conv, to, key)
		if !a.unknown() {
			return a.Code
		}
		sleepCtx(ctx, retryDelay(a))
	}
	return 0
}

// summaryRows counts summary_ready audit rows per generation (the "generation" of after).
func summaryRows(ctx context.Context, db *sql.DB, conv, action string) (map[int64]int, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT coalesce((after->>'generation')::bigint, -1), count(*)
		FROM audit_log WHERE conversation_id = $1 AND action = $2 GROUP BY 1`, conv, action)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var g int64
		var n int
		if err := rows.Scan(&g, &n); err != nil {
			return nil, err
		}
		out[g] = n
	}
	return out, rows.Err()
}

// waitSummariesReady polls the read model until every conversation's summary is ready (or
// the bound runs out) and returns how long that took and the ones still not ready.
func waitSummariesReady(ctx context.Context, db *sql.DB, convs []string, bound time.Duration) (time.Duration, map[string]string) {
	began := time.Now()
	deadline := began.Add(bound)
	for {
		notReady := map[string]string{}
		for _, id := range convs {
			var status, errText string
			var attempts int
			if err := db.QueryRowContext(ctx, `SELECT summary_status, summary_error, summary_attempts FROM conversations WHERE id = $1`, id).Scan(&status, &errText, &attempts); err != nil {
				notReady[id] = "read: " + err.Error()
				continue
			}
			if status != "ready" {
				notReady[id] = fmt.Sprintf("%s (attempts %d, error %q)", status, attempts, errText)
			}
		}
		if len(notReady) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return time.Since(began), notReady
		}
		sleepCtx(ctx, time.Second)
	}
}

// checkSummaries asserts that every summary is ready (read model and API) with exactly one
// summary_ready row for its generation and no generation with more than one.
func checkSummaries(ctx context.Context, t *testing.T, api *apiClient, db *sql.DB, convs []string) (doubled, notReady int) {
	t.Helper()
	for _, id := range convs {
		var gen int64
		var status string
		if err := db.QueryRowContext(ctx, `SELECT summary_generation, summary_status FROM conversations WHERE id = $1`, id).Scan(&gen, &status); err != nil {
			t.Fatalf("read conversation %s: %v", id, err)
		}
		ready, err := summaryRows(ctx, db, id, "summary_ready")
		if err != nil {
			t.Fatalf("read audit of %s: %v", id, err)
		}
		for g, n := range ready {
			if n > 1 {
				doubled += n - 1
				t.Errorf("conversation %s: %d summary_ready rows for generation %d", id, n, g)
			}
		}
		d, a := api.detail(ctx, id)
		if status != "ready" || d.Summary.Status != "ready" || ready[gen] != 1 {
			notReady++
			t.Errorf("conversation %s: summary generation %d is %q in Postgres, %q in the API (%s, attempts %d, error %q), %d summary_ready rows",
				id, gen, status, d.Summary.Status, a, d.Summary.Attempts, d.Summary.Error, ready[gen])
		}
	}
	return doubled, notReady
}
