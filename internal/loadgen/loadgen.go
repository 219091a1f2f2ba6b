// Package loadgen drives a running inbox over HTTP for the load tools and the lifecycle
// benchmark: a small JSON client, a closed-loop runner (each client waits for its answer
// before it sends again) with its latency statistics, the open<->pending transition loop,
// and a chat-completions endpoint that answers at once (or after a fixed delay).
//
// Everything here is meant for loopback: nothing retries for long, every loop is bounded by
// a deadline and a client count that the callers cap.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Client posts JSON to one inbox API.
type Client struct {
	Base string // e.g. http://127.0.0.1:8080
	HC   *http.Client
}

// NewClient returns a client that keeps up to conns idle connections to base.
func NewClient(base string, conns int) *Client {
	return &Client{Base: base, HC: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns},
	}}
}

// Do sends method path with a JSON body (nil: none) and one auth header, and returns the
// status and the whole answer. A 429's Retry-After seconds are returned in retryAfter.
func (c *Client) Do(ctx context.Context, method, path, header, value string, body any) (code int, out []byte, retryAfter int, err error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set(header, value)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.HC.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer res.Body.Close()
	out, err = io.ReadAll(res.Body)
	if res.StatusCode == http.StatusTooManyRequests {
		retryAfter, _ = strconv.Atoi(res.Header.Get("Retry-After"))
	}
	return res.StatusCode, out, retryAfter, err
}

// Ingest posts one visitor message to conversation ref with ingest key and returns the
// status and, on 200 or 201, the conversation id.
func (c *Client) Ingest(ctx context.Context, key, ref, text string) (code int, conversationID string, err error) {
	code, body, _, err := c.Do(ctx, http.MethodPost, "/api/v1/ingest/messages", "X-Inbox-Key", key, map[string]any{
		"conversation_ref": ref, "channel": "chat",
		"message": map[string]any{"role": "visitor", "text": text},
	})
	if err != nil {
		return code, "", err
	}
	if code == http.StatusOK || code == http.StatusCreated {
		var r struct {
			ConversationID string `json:"conversation_id"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.ConversationID == "" {
			return code, "", fmt.Errorf("ingest answer %d without a conversation id: %s", code, body)
		}
		return code, r.ConversationID, nil
	}
	return code, "", nil
}

// MustIngest is Ingest for set-up before a clock starts: a 429 waits for its Retry-After
// (at most 10 times), anything but 200/201 is an error.
func (c *Client) MustIngest(ctx context.Context, key, ref, text string) (string, error) {
	for attempt := 0; ; attempt++ {
		code, body, retry, err := c.Do(ctx, http.MethodPost, "/api/v1/ingest/messages", "X-Inbox-Key", key, map[string]any{
			"conversation_ref": ref, "channel": "chat",
			"message": map[string]any{"role": "visitor", "text": text},
		})
		if err != nil {
			return "", err
		}
		if code == http.StatusTooManyRequests && attempt < 10 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(max(retry, 1)) * time.Second):
			}
			continue
		}
		var r struct {
			ConversationID string `json:"conversation_id"`
		}
		if (code != http.StatusOK && code != http.StatusCreated) || json.Unmarshal(body, &r) != nil || r.ConversationID == "" {
			return "", fmt.Errorf("ingest %s: %d %s", ref, code, body)
		}
		return r.ConversationID, nil
	}
}

// Outcome is what one request of a closed loop came to: OK with its latency, or an error
// key ("transport", or the HTTP status) and whether to back off before the next request.
type Outcome struct {
	OK      bool
	Took    time.Duration
	Err     string
	Backoff bool
}

// Stats are the results of a closed-loop run.
type Stats struct {
	Clients int
	Elapsed time.Duration
	OK      []time.Duration // sorted
	Errors  map[string]int
}

// Rate is the successful requests per second.
func (s Stats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(len(s.OK)) / s.Elapsed.Seconds()
}

// Quantile is the q-quantile (0..1) of the successful requests' latency, 0 without any.
func (s Stats) Quantile(q float64) time.Duration {
	return Quantile(s.OK, q)
}

// Quantile is the q-quantile of sorted (nearest rank below), 0 when it is empty.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)-1))]
}

// ErrorCount is the number of failed requests.
func (s Stats) ErrorCount() int {
	n := 0
	for _, v := range s.Errors {
		n += v
	}
	return n
}

// String is one line: rate, p50, p99, max and the errors by kind.
func (s Stats) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	return fmt.Sprintf("clients %d  elapsed %s  ok %d  %.1f/s  p50 %s  p99 %s  max %s  errors %d %v",
		s.Clients, s.Elapsed.Round(time.Millisecond), len(s.OK), s.Rate(),
		r(s.Quantile(0.5)), r(s.Quantile(0.99)), r(s.Quantile(1)), s.ErrorCount(), s.Errors)
}

// Run starts clients goroutines that each call step(ctx, client, iteration) in a loop until
// d has passed (or ctx ends), and gathers the outcomes. A step that asks for a backoff is
// followed by a 10 ms pause.
func Run(ctx context.Context, clients int, d time.Duration, step func(ctx context.Context, client, iter int) Outcome) Stats {
	type result struct {
		ok     []time.Duration
		errors map[string]int
	}
	results := make([]result, clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := result{errors: map[string]int{}}
			for iter := 0; time.Now().Before(deadline) && ctx.Err() == nil; iter++ {
				o := step(ctx, i, iter)
				if o.OK {
					r.ok = append(r.ok, o.Took)
				} else {
					r.errors[o.Err]++
				}
				if o.Backoff {
					time.Sleep(10 * time.Millisecond)
				}
			}
			results[i] = r
		}()
	}
	wg.Wait()
	s := Stats{Clients: clients, Elapsed: time.Since(start), Errors: map[string]int{}}
	for _, r := range results {
		s.OK = append(s.OK, r.ok...)
		for k, v := range r.errors {
			s.Errors[k] += v
		}
	}
	slices.Sort(s.OK)
	return s
}

// FirstChanges sends each conversation of ids (all open, never changed) its first change,
// all at once: to pending, then back to open. Only the first is timed: with lazy workflow
// start it is the one that starts the conversation's workflow. Afterwards the conversations
// are open again, with their workflows running, as Transitions expects them.
func FirstChanges(ctx context.Context, c *Client, token, workspace string, ids []string) Stats {
	start := time.Now()
	s := Stats{Clients: len(ids), Errors: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/api/v1/workspaces/%s/conversations/%s/state", workspace, id)
			t0 := time.Now()
			code, _, _, err := c.Do(ctx, http.MethodPost, path, "Authorization", "Bearer "+token, map[string]any{"state": "pending"})
			o := Classify(code, err, time.Since(t0), http.StatusOK)
			if o.OK {
				code, _, _, err = c.Do(ctx, http.MethodPost, path, "Authorization", "Bearer "+token, map[string]any{"state": "open"})
				if back := Classify(code, err, 0, http.StatusOK); !back.OK {
					o = Outcome{Err: "back to open: " + back.Err}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if o.OK {
				s.OK = append(s.OK, o.Took)
			} else {
				s.Errors[o.Err]++
			}
		}()
	}
	wg.Wait()
	s.Elapsed = time.Since(start)
	slices.Sort(s.OK)
	return s
}

// Transitions toggles each conversation of ids (one client each, starting open) between
// pending and open with POST .../state for d. A 409 (already in that state, after an error
// left it unknown) counts as an error and the next move fixes it.
func Transitions(ctx context.Context, c *Client, token, workspace string, ids []string, d time.Duration) Stats {
	return Run(ctx, len(ids), d, func(ctx context.Context, i, iter int) Outcome {
		to := "pending"
		if iter%2 == 1 {
			to = "open"
		}
		path := fmt.Sprintf("/api/v1/workspaces/%s/conversations/%s/state", workspace, ids[i])
		t0 := time.Now()
		code, _, _, err := c.Do(ctx, http.MethodPost, path, "Authorization", "Bearer "+token, map[string]any{"state": to})
		return Classify(code, err, time.Since(t0), http.StatusOK)
	})
}

// Classify turns an answer into an Outcome: OK when code is one of want; a 409 asks for no
// backoff, any other status or a transport error does.
func Classify(code int, err error, took time.Duration, want ...int) Outcome {
	switch {
	case err != nil:
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return Outcome{Err: "canceled"}
		}
		return Outcome{Err: "transport", Backoff: true}
	case slices.Contains(want, code):
		return Outcome{OK: true, Took: took}
	case code == http.StatusConflict:
		return Outcome{Err: strconv.Itoa(code)}
	default:
		return Outcome{Err: strconv.Itoa(code), Backoff: true}
	}
}
