// Command load measures the lifecycle-write throughput of a running inbox (`inbox dev`):
// -c clients, each on its own conversation created through the ingest API, toggle it
// between open and pending with POST .../conversations/{id}/state as fast as the answers
// come back, for -d. It prints the transitions per second, the p50/p99/max latency of the
// successful ones, and the errors by HTTP status (or "transport" when no answer came).
//
// Every client waits for each answer before sending its next request, so the load is
// bounded by -c requests in flight; -c and -d are capped. Run it against loopback only:
//
//	go run ./internal/tools/load -api http://127.0.0.1:8080 -token T -workspace W -ingest-key K -c 8 -d 10s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

const (
	maxClients  = 256
	maxDuration = 5 * time.Minute
)

func main() {
	apiURL := flag.String("api", "http://127.0.0.1:8080", "inbox API")
	token := flag.String("token", "", "owner token")
	workspace := flag.String("workspace", "", "workspace id")
	ingestKey := flag.String("ingest-key", "", "ingest key")
	clients := flag.Int("c", 8, "concurrent clients, each on its own conversation (at most 256)")
	duration := flag.Duration("d", 10*time.Second, "how long to send transitions (at most 5m)")
	flag.Parse()
	if *token == "" || *workspace == "" || *ingestKey == "" || *clients < 1 || *clients > maxClients ||
		*duration <= 0 || *duration > maxDuration {
		flag.Usage()
		os.Exit(2)
	}
	hc := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: *clients, MaxIdleConnsPerHost: *clients},
	}
	post := func(ctx context.Context, path, header, value string, body any) (int, []byte, error) {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, *apiURL+path, bytes.NewReader(b))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set(header, value)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		if res.StatusCode == http.StatusTooManyRequests {
			if s, _ := strconv.Atoi(res.Header.Get("Retry-After")); s > 0 {
				out = []byte(strconv.Itoa(s))
			}
		}
		return res.StatusCode, out, err
	}

	// Set up one conversation per client before the clock starts; ingest is rate limited per
	// key, so a 429 waits for its Retry-After.
	ctx := context.Background()
	run := uuid.NewString()
	ids := make([]string, *clients)
	for i := range ids {
		for attempt := 0; ; attempt++ {
			code, body, err := post(ctx, "/api/v1/ingest/messages", "X-Inbox-Key", *ingestKey, map[string]any{
				"conversation_ref": fmt.Sprintf("load-%s-%d", run, i), "channel": "chat",
				"message": map[string]any{"role": "visitor", "text": "load probe"},
			})
			if err != nil {
				log.Fatalf("ingest: %v", err)
			}
			if code == http.StatusTooManyRequests && attempt < 10 {
				s, _ := strconv.Atoi(string(body))
				time.Sleep(time.Duration(max(s, 1)) * time.Second)
				continue
			}
			var created struct {
				ConversationID string `json:"conversation_id"`
			}
			if json.Unmarshal(body, &created) != nil || code != http.StatusCreated {
				log.Fatalf("ingest: %d %s", code, body)
			}
			ids[i] = created.ConversationID
			break
		}
	}

	type result struct {
		ok     []time.Duration
		errors map[string]int
	}
	results := make([]result, *clients)
	start := time.Now()
	deadline := start.Add(*duration)
	var wg sync.WaitGroup
	for i := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := result{errors: map[string]int{}}
			path := fmt.Sprintf("/api/v1/workspaces/%s/conversations/%s/state", *workspace, ids[i])
			// The conversation starts open; the next move is to pending, then back. After an
			// error the state is unknown; a wrong guess answers 409 and the next move fixes it.
			to := "pending"
			for time.Now().Before(deadline) {
				t0 := time.Now()
				code, _, err := post(ctx, path, "Authorization", "Bearer "+*token, map[string]any{"state": to})
				took := time.Since(t0)
				switch {
				case err != nil:
					r.errors["transport"]++
					time.Sleep(10 * time.Millisecond)
				case code == http.StatusOK:
					r.ok = append(r.ok, took)
				case code == http.StatusConflict:
					r.errors[strconv.Itoa(code)]++ // already in that state: the flip below fixes it
				default:
					r.errors[strconv.Itoa(code)]++
					time.Sleep(10 * time.Millisecond)
				}
				if to == "pending" {
					to = "open"
				} else {
					to = "pending"
				}
			}
			results[i] = r
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all []time.Duration
	errs := map[string]int{}
	for _, r := range results {
		all = append(all, r.ok...)
		for k, v := range r.errors {
			errs[k] += v
		}
	}
	slices.Sort(all)
	q := func(f float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[int(f*float64(len(all)-1))].Round(100 * time.Microsecond)
	}
	nerr := 0
	for _, v := range errs {
		nerr += v
	}
	fmt.Printf("clients %d  elapsed %s  transitions %d  %.1f/s  p50 %s  p99 %s  max %s  errors %d %v\n",
		*clients, elapsed.Round(time.Millisecond), len(all), float64(len(all))/elapsed.Seconds(),
		q(0.5), q(0.99), q(1), nerr, errs)
}
