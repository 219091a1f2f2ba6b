// Command latency measures a running inbox (`inbox dev`) from the outside, for the figures
// the issues ask for:
//
//	# one state transition through the API next to a bare Postgres UPDATE + INSERT tx
//	go run ./internal/tools/latency -token T -workspace W -ingest-key K
//	# close -> summary ready, with inbox dev started with OPENAI_BASE_URL=http://127.0.0.1:9999/v1
//	go run ./internal/tools/latency -fake-openai 127.0.0.1:9999 &
//	go run ./internal/tools/latency -mode summary -n 50 -token T -workspace W -ingest-key K
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/internal/loadgen"
	"github.com/bestai/inbox/store"
)

func main() {
	apiURL := flag.String("api", "http://127.0.0.1:8080", "inbox API")
	token := flag.String("token", "", "owner token")
	workspace := flag.String("workspace", "", "workspace id")
	ingestKey := flag.String("ingest-key", "", "ingest key")
	n := flag.Int("n", 200, "sequential calls")
	dsn := flag.String("db", "postgres://postgres@127.0.0.1:5432/inbox?sslmode=disable", "database of that inbox")
	mode := flag.String("mode", "transition", "transition | summary")
	fakeAddr := flag.String("fake-openai", "", "serve a chat-completions endpoint that answers at once on this address, and nothing else")
	flag.Parse()
	if *fakeAddr != "" {
		log.Fatal(serveFakeOpenAI(*fakeAddr))
	}
	if *token == "" || *workspace == "" || *ingestKey == "" {
		flag.Usage()
		os.Exit(2)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	call := func(method, path, header, value string, body any) (int, []byte) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, *apiURL+path, bytes.NewReader(b))
		req.Header.Set(header, value)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		return res.StatusCode, buf.Bytes()
	}
	code, body := call(http.MethodPost, "/api/v1/ingest/messages", "X-Inbox-Key", *ingestKey, map[string]any{
		"conversation_ref": "latency-" + uuid.NewString(), "channel": "chat",
		"message": map[string]any{"role": "visitor", "text": "latency probe"},
	})
	var created struct {
		ConversationID string `json:"conversation_id"`
	}
	if err := json.Unmarshal(body, &created); err != nil || code != http.StatusCreated {
		log.Fatalf("ingest: %d %s", code, body)
	}
	if *mode == "summary" {
		measureSummaries(*n, func(ref string) string {
			code, body := call(http.MethodPost, "/api/v1/ingest/messages", "X-Inbox-Key", *ingestKey, map[string]any{
				"conversation_ref": ref, "channel": "chat",
				"message": map[string]any{"role": "visitor", "text": "Where is my order? It was due on Monday."},
			})
			var c struct {
				ConversationID string `json:"conversation_id"`
			}
			if json.Unmarshal(body, &c) != nil || code != http.StatusCreated {
				log.Fatalf("ingest: %d %s", code, body)
			}
			return c.ConversationID
		}, func(id string) {
			code, body := call(http.MethodPost, fmt.Sprintf("/api/v1/workspaces/%s/conversations/%s/state", *workspace, id),
				"Authorization", "Bearer "+*token, map[string]any{"state": "closed"})
			if code != http.StatusOK {
				log.Fatalf("close: %d %s", code, body)
			}
		}, func(id string) string {
			_, body := call(http.MethodGet, fmt.Sprintf("/api/v1/workspaces/%s/conversations/%s", *workspace, id),
				"Authorization", "Bearer "+*token, nil)
			var d struct {
				SummaryStatus string `json:"summary_status"`
			}
			_ = json.Unmarshal(body, &d)
			return d.SummaryStatus
		})
		return
	}
	path := fmt.Sprintf("/api/v1/workspaces/%s/conversations/%s/state", *workspace, created.ConversationID)
	var api []time.Duration
	for i := range *n {
		to := "pending"
		if i%2 == 1 {
			to = "open"
		}
		start := time.Now()
		code, body := call(http.MethodPost, path, "Authorization", "Bearer "+*token, map[string]any{"state": to})
		api = append(api, time.Since(start))
		if code != http.StatusOK {
			log.Fatalf("transition %d: %d %s", i, code, body)
		}
	}

	ctx := context.Background()
	s, err := store.Open(ctx, *dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var bare []time.Duration
	for i := range *n {
		start := time.Now()
		tx, err := s.DB.BeginTx(ctx, nil)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET state = 'open' WHERE id = ?`, created.ConversationID); err != nil {
			log.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (id, workspace_id, conversation_id, action, request_id)
			VALUES (?, ?, ?, 'latency_probe', ?)`, uuid.New(), *workspace, created.ConversationID, fmt.Sprintf("latency/%s/%d", created.ConversationID, i)); err != nil {
			log.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			log.Fatal(err)
		}
		bare = append(bare, time.Since(start))
	}
	// The probe rows are not part of the conversation's history.
	if _, err := s.DB.ExecContext(ctx, `DELETE FROM audit_log WHERE action = 'latency_probe'`); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("transition through the API (%d sequential): p50 %s  p99 %s\n", *n, p(api, 0.5), p(api, 0.99))
	fmt.Printf("bare Postgres UPDATE + INSERT tx (%d):      p50 %s  p99 %s\n", *n, p(bare, 0.5), p(bare, 0.99))
}

func p(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// measureSummaries closes n fresh conversations one at a time and times each from the
// close request to the detail showing summary_status "ready".
func measureSummaries(n int, ingest func(ref string) string, closeConv func(id string), status func(id string) string) {
	var took []time.Duration
	for i := range n {
		id := ingest(fmt.Sprintf("summary-latency-%d-%d", time.Now().UnixNano(), i))
		start := time.Now()
		closeConv(id)
		for {
			st := status(id)
			if st == "ready" {
				break
			}
			if st == "failed" || time.Since(start) > time.Minute {
				log.Fatalf("summary %s after %s", st, time.Since(start))
			}
			time.Sleep(2 * time.Millisecond)
		}
		took = append(took, time.Since(start))
	}
	fmt.Printf("close request -> summary ready (%d, polled every 2ms): p50 %s  p99 %s\n", n, p(took, 0.5), p(took, 0.99))
}

// serveFakeOpenAI answers every chat completion at once with three sentences.
func serveFakeOpenAI(addr string) error {
	return http.ListenAndServe(addr, loadgen.FakeOpenAI(0))
}
