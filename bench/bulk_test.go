package bench

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/internal/testenv"
)

// TestBulkCloseBench measures a bulk close (make bench-bulk): it seeds N open conversations
// through the ingest API (none has a workflow yet: each item's close starts it, the lazy
// start), then closes them all in one batch by filter and reports how long the batch took,
// its rate, and its progress as the API showed it every half second. It runs on the test environment's in-process Temporal server and a
// fresh Postgres database, with the app's default bulk pace.
//
//	INBOX_BENCH_BULK=5000   conversations (unset: the test is skipped)
func TestBulkCloseBench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("INBOX_BENCH_BULK"))
	if n <= 0 {
		t.Skip("set INBOX_BENCH_BULK=<conversations> (make bench-bulk)")
	}
	if n > app.MaxBulk {
		t.Fatalf("INBOX_BENCH_BULK: at most %d", app.MaxBulk)
	}
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Bulk Bench")

	seedStart := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				res := env.Ingest(ws.IngestKey, map[string]any{
					"conversation_ref": fmt.Sprintf("bulk-%d", i), "channel": "chat",
					"visitor": map[string]any{"name": "Bench"},
					"message": map[string]any{"role": "visitor", "text": "Hello"},
				})
				if res.Code != http.StatusCreated {
					t.Errorf("ingest %d: %d %s", i, res.Code, res.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	fmt.Printf("seeded %d conversations in %s\n", n, time.Since(seedStart).Round(time.Millisecond))

	path := fmt.Sprintf("/api/v1/workspaces/%s/conversations/bulk", ws.WorkspaceID)
	start := time.Now()
	res := env.As(ws.OwnerToken, http.MethodPost, path, map[string]any{"filter": map[string]any{"state": "open"}, "action": "state", "state": "closed"})
	if res.Code != http.StatusAccepted {
		t.Fatalf("bulk: %d %s", res.Code, res.Body)
	}
	var b struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Total   int    `json:"total"`
		Done    int    `json:"done"`
		Applied int    `json:"applied"`
		Refused int    `json:"refused"`
		Skipped int    `json:"skipped"`
		Failed  int    `json:"failed"`
	}
	res.JSON(t, &b)
	accepted := time.Since(start)
	for b.Status == "running" {
		time.Sleep(500 * time.Millisecond)
		env.As(ws.OwnerToken, http.MethodGet, path+"/"+b.ID+"?limit=1", nil).JSON(t, &b)
		fmt.Printf("  %6.1fs  %d/%d done\n", time.Since(start).Seconds(), b.Done, b.Total)
		if time.Since(start) > 15*time.Minute {
			t.Fatal("the batch did not finish in 15 minutes")
		}
	}
	took := time.Since(start)
	fmt.Printf("bulk close of %d: %s (202 in %s), %.0f conversations/s; applied %d, refused %d, skipped %d, failed %d; status %s\n",
		b.Total, took.Round(time.Millisecond), accepted.Round(time.Millisecond), float64(b.Total)/took.Seconds(),
		b.Applied, b.Refused, b.Skipped, b.Failed, b.Status)
	if b.Failed > 0 {
		fmt.Printf("why items failed: %v\n", failureReasons(t, env, ws.OwnerToken, path+"/"+b.ID))
	}
	if b.Applied != n {
		t.Errorf("applied %d of %d", b.Applied, n)
	}
}

// failureReasons pages through a batch's items and counts the reasons of those that failed.
func failureReasons(t *testing.T, env *testenv.Env, token, path string) map[string]int {
	reasons := map[string]int{}
	cursor := ""
	for {
		var page struct {
			Items []struct {
				Result *string `json:"result"`
				Reason *string `json:"reason"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		env.As(token, http.MethodGet, path+"?limit=100&cursor="+url.QueryEscape(cursor), nil).JSON(t, &page)
		for _, it := range page.Items {
			if it.Result != nil && *it.Result == "failed" {
				reason := "(none given)"
				if it.Reason != nil {
					reason = *it.Reason
				}
				reasons[reason]++
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return reasons
		}
		cursor = *page.NextCursor
	}
}
