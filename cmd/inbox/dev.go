package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/bestai/inbox/store"
)

// runDev runs everything in one process: embedded Temporal and its UI, migrations, the
// worker and the API, and a demo workspace seeded on the first start.
func runDev(ctx context.Context) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	secretKey, err := cfg.DevSecretKey()
	if err != nil {
		return fmt.Errorf("INBOX_SECRET_KEY: %w", err)
	}
	ts, err := startTemporal(cfg, "inbox dev")
	if err != nil {
		return err
	}
	defer ts.Stop()

	a, err := newApp(ctx, cfg, secretKey, true)
	if err != nil {
		return err
	}
	defer a.close()
	stopWorker, err := a.startWorker()
	if err != nil {
		return err
	}
	defer stopWorker()
	srv, ln, err := a.listenAPI()
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- serveUntilDone(ctx, srv, ln) }()

	demo, err := seedDemo(ctx, a, cfg.DataDir, "http://"+ln.Addr().String())
	if err != nil {
		return err
	}
	printBanner(ln.Addr().String(), cfg.TemporalUIAddr, cfg.TemporalNamespace, ts.LogFile, demo)
	err = <-served
	fmt.Println("\ninbox dev: stopping (in-flight requests finish, then the worker and Temporal) ...")
	return err
}

// demoCredentials are kept under the data directory so every start can print them; this is
// a development convenience, never done by `inbox workspace create`.
type demoCredentials struct {
	store.NewWorkspace
	ConversationID string `json:"conversation_id,omitempty"`
}

func seedDemo(ctx context.Context, a *app, dataDir, apiURL string) (demoCredentials, error) {
	path := filepath.Join(dataDir, "demo.json")
	var demo demoCredentials
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &demo) == nil {
		if _, err := a.store.UserByToken(ctx, demo.OwnerToken); err == nil {
			return demo, nil // seeded before, and the database still has it
		}
	}
	ws, err := a.store.CreateWorkspace(ctx, "Demo workspace", "owner@demo.example", "Demo Owner")
	if err != nil {
		return demo, fmt.Errorf("seed demo workspace: %w", err)
	}
	demo = demoCredentials{NewWorkspace: ws}
	// A first conversation, through the real ingest API, so the inbox and the Temporal UI
	// have something to show.
	body := `{"conversation_ref":"demo-visit-1","channel":"chat",
		"visitor":{"name":"Ana Demo","email":"ana@example.com","phone":"+64211234567"},
		"message":{"id":"demo-m1","role":"visitor","text":"Hi! Do you ship to New Zealand, and how long does it take?"},
		"source":{"page_url":"https://shop.example/pricing","referrer":"https://www.google.com/","user_agent":"Mozilla/5.0 (demo)"}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"/api/v1/ingest/messages", bytes.NewBufferString(body))
	req.Header.Set("X-Inbox-Key", ws.IngestKey)
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Timeout: 30 * time.Second}
	if res, err := hc.Do(req); err == nil {
		var out struct {
			ConversationID string `json:"conversation_id"`
		}
		_ = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		demo.ConversationID = out.ConversationID
	}
	b, _ := json.MarshalIndent(demo, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return demo, fmt.Errorf("save demo credentials: %w", err)
	}
	return demo, nil
}

func printBanner(apiAddr, uiAddr, namespace, temporalLog string, demo demoCredentials) {
	api := "http://" + apiAddr
	ws := demo.WorkspaceID.String()
	fmt.Printf(`
inbox dev is running. Ctrl-C stops it.

  API          %[1]s
  OpenAPI      %[1]s/api/v1/openapi.json
  Temporal UI  http://%[2]s/namespaces/%[3]s/workflows
  Temporal log %[4]s

Demo workspace %[5]s
  owner token  %[6]s
  ingest key   %[7]s

Try it:
  export INBOX_TOKEN=%[6]s
  curl -s -H "Authorization: Bearer $INBOX_TOKEN" %[1]s/api/v1/workspaces/%[5]s/conversations

  curl -s -X POST %[1]s/api/v1/ingest/messages -H "X-Inbox-Key: %[7]s" -H "Content-Type: application/json" \
    -d '{"conversation_ref":"my-first-chat","channel":"chat","visitor":{"name":"Sam"},"message":{"role":"visitor","text":"Hello!"}}'
`, api, uiAddr, namespace, temporalLog, ws, demo.OwnerToken, demo.IngestKey)
	if demo.ConversationID != "" {
		fmt.Printf(`
  curl -s -X POST -H "Authorization: Bearer $INBOX_TOKEN" -H "Content-Type: application/json" \
    %[1]s/api/v1/workspaces/%[2]s/conversations/%[3]s/state -d '{"state":"closed"}'
`, api, ws, demo.ConversationID)
	}
}
