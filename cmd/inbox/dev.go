package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bestai/inbox/accounts"
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

	if cfg.TemporalUIURL == "" {
		cfg.TemporalUIURL = "http://" + cfg.TemporalUIAddr // the UI this process serves
	}
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
	printBanner(ln.Addr().String(), cfg.TemporalUIAddr, cfg.TemporalNamespace, ts.LogFile, cfg.PublicURL, demo)
	err = <-served
	fmt.Println("\ninbox dev: stopping (in-flight requests finish, then the worker and Temporal) ...")
	return err
}

// demoCredentials are kept under the data directory so every start can print them; this is
// a development convenience, never done by `inbox workspace create`.
type demoCredentials struct {
	store.NewWorkspace
	ConversationID string `json:"conversation_id,omitempty"`
	// OwnerPassword signs the demo owner in to the web admin. It is random, made on the first
	// start, rather than a fixed documented one: INBOX_HTTP_ADDR may be a public interface
	// (the Dockerfile listens on 0.0.0.0), and a password printed in the README would open
	// every such inbox to anyone who read it.
	OwnerPassword string `json:"owner_password,omitempty"`
}

// demoOwnerEmail is the demo owner's sign-in email.
const demoOwnerEmail = "owner@demo.example"

func seedDemo(ctx context.Context, a *app, dataDir, apiURL string) (demoCredentials, error) {
	path := filepath.Join(dataDir, "demo.json")
	var demo demoCredentials
	seeded, renewed := false, false
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &demo) == nil {
		_, err := a.store.MemberOf(ctx, demo.WorkspaceID, demo.OwnerUserID)
		seeded = err == nil // seeded before, and the database still has it
	}
	if seeded {
		// API tokens expire (INBOX_API_TOKEN_TTL), and a revoked one is gone: give the demo
		// owner a new one rather than print a token that does not work.
		if _, err := a.store.MemberByToken(ctx, demo.OwnerToken, time.Now()); errors.Is(err, store.ErrNotFound) {
			token, _, err := a.store.CreateToken(ctx, demo.WorkspaceID, demo.OwnerUserID, "demo owner token")
			if err != nil {
				return demo, fmt.Errorf("renew the demo owner's API token: %w", err)
			}
			demo.OwnerToken, renewed = token, true
		}
	}
	if !seeded {
		ws, err := a.store.CreateWorkspace(ctx, "Demo workspace", demoOwnerEmail, "Demo Owner")
		if err != nil {
			return demo, fmt.Errorf("seed demo workspace: %w", err)
		}
		demo = demoCredentials{NewWorkspace: ws}
		demo.ConversationID = ingestDemoConversation(ctx, apiURL, ws.IngestKey)
	}
	passwordSet, err := ensureDemoPassword(ctx, accounts.New(a.store), &demo)
	if err != nil {
		return demo, fmt.Errorf("set the demo owner's password: %w", err)
	}
	if seeded && !passwordSet && !renewed {
		return demo, nil
	}
	b, _ := json.MarshalIndent(demo, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return demo, fmt.Errorf("save demo credentials: %w", err)
	}
	return demo, nil
}

// ingestDemoConversation posts a first conversation through the real ingest API, so the
// inbox and the Temporal UI have something to show, and returns its id ("" if it failed).
func ingestDemoConversation(ctx context.Context, apiURL, ingestKey string) string {
	body := `{"conversation_ref":"demo-visit-1","channel":"chat",
		"visitor":{"name":"Ana Demo","email":"ana@example.com","phone":"+64211234567"},
		"message":{"id":"demo-m1","role":"visitor","text":"Hi! Do you ship to New Zealand, and how long does it take?"},
		"source":{"page_url":"https://shop.example/pricing","referrer":"https://www.google.com/","user_agent":"Mozilla/5.0 (demo)"}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"/api/v1/ingest/messages", bytes.NewBufferString(body))
	req.Header.Set("X-Inbox-Key", ingestKey)
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Timeout: 30 * time.Second}
	res, err := hc.Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var out struct {
		ConversationID string `json:"conversation_id"`
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return out.ConversationID
}

// ensureDemoPassword makes demo.OwnerPassword the demo owner's password, generating one on
// the first start, and says whether it had to set it. A password that no longer matches
// (changed in the web admin, or a database reset) is set again, so that the banner never
// prints one that does not work.
func ensureDemoPassword(ctx context.Context, acc *accounts.Accounts, demo *demoCredentials) (bool, error) {
	if demo.OwnerPassword != "" && acc.VerifyPassword(ctx, demo.OwnerUserID, demo.OwnerPassword) == nil {
		return false, nil
	}
	if demo.OwnerPassword == "" {
		b := make([]byte, 10)
		_, _ = rand.Read(b)                                                        // crypto/rand.Read never fails on supported platforms
		demo.OwnerPassword = strings.ToLower(base32.StdEncoding.EncodeToString(b)) // 16 characters, easy to type
	}
	return true, acc.SetPassword(ctx, demo.OwnerUserID, demo.OwnerPassword)
}

func printBanner(apiAddr, uiAddr, namespace, temporalLog, publicURL string, demo demoCredentials) {
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

Web admin sign-in %[8]s
  email        %[9]s
  password     %[10]s
  Open the sign-in URL, sign in, and the demo conversation is at the top of the inbox.

Try it:
  export INBOX_TOKEN=%[6]s
  curl -s -H "Authorization: Bearer $INBOX_TOKEN" %[1]s/api/v1/workspaces/%[5]s/conversations

  curl -s -X POST %[1]s/api/v1/ingest/messages -H "X-Inbox-Key: %[7]s" -H "Content-Type: application/json" \
    -d '{"conversation_ref":"my-first-chat","channel":"chat","visitor":{"name":"Sam"},"message":{"role":"visitor","text":"Hello!"}}'
`, api, uiAddr, namespace, temporalLog, ws, demo.OwnerToken, demo.IngestKey,
		accounts.SignInURL(publicURL), demoOwnerEmail, demo.OwnerPassword)
	if demo.ConversationID != "" {
		fmt.Printf(`
  curl -s -X POST -H "Authorization: Bearer $INBOX_TOKEN" -H "Content-Type: application/json" \
    %[1]s/api/v1/workspaces/%[2]s/conversations/%[3]s/state -d '{"state":"closed"}'
`, api, ws, demo.ConversationID)
	}
}
