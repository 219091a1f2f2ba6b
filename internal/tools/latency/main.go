// Command latency measures one state transition through a running inbox API (`inbox dev`)
// next to a bare Postgres UPDATE + INSERT transaction on the same database, in one run:
//
//	go run ./internal/tools/latency -api http://127.0.0.1:8080 -token T -workspace W -ingest-key K
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

	"github.com/bestai/inbox/store"
)

func main() {
	apiURL := flag.String("api", "http://127.0.0.1:8080", "inbox API")
	token := flag.String("token", "", "owner token")
	workspace := flag.String("workspace", "", "workspace id")
	ingestKey := flag.String("ingest-key", "", "ingest key")
	n := flag.Int("n", 200, "sequential calls")
	dsn := flag.String("db", "postgres://postgres@127.0.0.1:5432/inbox?sslmode=disable", "database of that inbox")
	flag.Parse()
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
	p := func(ds []time.Duration, q float64) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[int(q*float64(len(s)-1))]
	}
	fmt.Printf("transition through the API (%d sequential): p50 %s  p99 %s\n", *n, p(api, 0.5), p(api, 0.99))
	fmt.Printf("bare Postgres UPDATE + INSERT tx (%d):      p50 %s  p99 %s\n", *n, p(bare, 0.5), p(bare, 0.99))
}
