package api_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/bestai/inbox/api"
	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/policies"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/workflows"
)

// routerWith rebuilds env's router on another store or Temporal client, logging into the
// returned buffer.
func routerWith(t *testing.T, env *testenv.Env, s *store.Store, tc client.Client, updateTimeout time.Duration) *testenv.LogBuffer {
	t.Helper()
	return routerOn(t, env, app.Service{Store: s, Lifecycle: workflows.Lifecycle{Client: tc}, UpdateTimeout: updateTimeout})
}

// routerOn rebuilds env's router on the application layer svc (with env's secrets, an
// authorizer, and a logger into the returned buffer).
func routerOn(t *testing.T, env *testenv.Env, svc app.Service) *testenv.LogBuffer {
	t.Helper()
	authz, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	svc.Authorizer, svc.Secrets, svc.Logger = authz, env.Secrets, logger
	env.Router = api.NewRouter(api.Deps{App: app.New(svc), Logger: logger, IngestRate: 1000, IngestBurst: 1000})
	return logs
}

// wantUnavailable checks a 503 `unavailable` with Retry-After whose message names what is down.
func wantUnavailable(t *testing.T, what string, res testenv.Response, inMessage string) {
	t.Helper()
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	res.JSON(t, &body)
	if res.Code != http.StatusServiceUnavailable || body.Error.Code != "unavailable" {
		t.Fatalf("%s: %d %s, want 503 unavailable", what, res.Code, res.Body)
	}
	if res.Header.Get("Retry-After") == "" {
		t.Fatalf("%s: 503 without Retry-After", what)
	}
	if !strings.Contains(body.Error.Message, inMessage) {
		t.Fatalf("%s: message %q does not say %q", what, body.Error.Message, inMessage)
	}
}

// With Postgres gone (pooled connections broken, new ones refused) every kind of call
// answers 503 saying the database is down, not 500, and the outage is logged.
func TestPostgresUnavailable(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Outage")
	id := newConversation(t, env, ws, "pg-outage-1")

	p := testenv.NewProxy(t, testenv.PostgresAddr(t))
	logs := routerWith(t, env, testenv.StoreThrough(t, env.Store, p), env.Client, 0)
	list := "/api/v1/workspaces/" + ws.WorkspaceID.String() + "/conversations"
	if res := env.As(ws.OwnerToken, http.MethodGet, list, nil); res.Code != http.StatusOK {
		t.Fatalf("list before the outage: %d %s", res.Code, res.Body)
	}
	p.Cut()

	for range 2 { // the first round meets the pool's broken connections, the second refused ones
		wantUnavailable(t, "list", env.As(ws.OwnerToken, http.MethodGet, list, nil), "database")
		wantUnavailable(t, "detail", env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil), "database")
		wantUnavailable(t, "state change", setState(env, ws, id, "closed", "Idempotency-Key", "pg-outage"), "database")
		wantUnavailable(t, "ingest", env.Ingest(ws.IngestKey, ingestBody("pg-outage-2", "Anyone there?")), "database")
	}
	if !strings.Contains(logs.String(), "request failed") {
		t.Fatalf("the outage was not logged: %q", logs.String())
	}
}

// A caller that went away is not a server fault: it is not logged, and not answered 5xx.
func TestClientWentAwayIsNotLogged(t *testing.T) {
	env := testenv.New(t, testenv.Options{NoWorker: true})
	ws := env.NewWorkspace("Gone")
	logs := routerWith(t, env, env.Store, env.Client, 0)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations", nil)
	req.Header.Set("Authorization", "Bearer "+ws.OwnerToken)
	rec := httptest.NewRecorder()
	env.Router.ServeHTTP(rec, req)
	if rec.Code < 400 || rec.Code >= 500 {
		t.Fatalf("canceled request answered %d %s, want a 4xx", rec.Code, rec.Body)
	}
	if logs.String() != "" {
		t.Fatalf("a canceled request was logged as a fault: %q", logs.String())
	}
}

// An Update the workflow accepted but whose write is held up past UpdateTimeout (the audit
// table locked) answers 202 in about the timeout, with the detail as it is (the change is
// in the history and will show; it was a 503 before admission control); once the lock goes
// it is applied exactly once, and a retry with the same Idempotency-Key answers 200 with
// its result.
func TestUpdateNotConfirmedInTime(t *testing.T) {
	const timeout = 2 * time.Second
	env := testenv.New(t, testenv.Options{UpdateTimeout: timeout})
	ws := env.NewWorkspace("Locked")
	id := newConversation(t, env, ws, "locked-1")
	ctx := context.Background()

	lock, err := env.Store.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.ExecContext(ctx, "LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	res := setState(env, ws, id, "closed", "Idempotency-Key", "locked-close")
	took := time.Since(start)
	t.Logf("answered after %s: %d %s", took, res.Code, res.Body)
	var answered detail
	res.JSON(t, &answered)
	if res.Code != http.StatusAccepted || answered.State != "open" {
		t.Fatalf("state change behind a lock: %d state %q, want 202 with the detail as it is (open)", res.Code, answered.State)
	}
	if took < timeout || took > timeout+10*time.Second {
		t.Fatalf("answered after %s; want about the UpdateTimeout of %s", took, timeout)
	}
	// Read the row itself: GET detail marks the conversation read, which is audited too.
	v, err := env.Store.GetConversation(ctx, ws.WorkspaceID, uuid.MustParse(id))
	if err != nil {
		t.Fatal(err)
	}
	if v.State != "open" {
		t.Fatalf("state %q while the audit table is locked; want open", v.State)
	}

	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the change applied after the lock", func() bool {
		var d detail
		env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil).JSON(t, &d)
		return d.State == "closed"
	})
	res = setState(env, ws, id, "closed", "Idempotency-Key", "locked-close")
	if res.Code != http.StatusOK {
		t.Fatalf("retry with the same key: %d %s, want 200", res.Code, res.Body)
	}
	var d detail
	res.JSON(t, &d)
	if d.State != "closed" {
		t.Fatalf("retry answered state %q, want closed", d.State)
	}

	var audit struct {
		Items []auditItem `json:"items"`
	}
	env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, "/audit"), nil).JSON(t, &audit)
	changes := 0
	for _, it := range audit.Items {
		if it.Action == "state_changed" {
			changes++
		}
	}
	if changes != 1 {
		t.Fatalf("%d state changes audited, want exactly 1: %+v", changes, audit.Items)
	}
}

// With Temporal unreachable a lifecycle change answers 503 within the UpdateTimeout, and
// reads, which need only Postgres, still work.
func TestTemporalUnavailable(t *testing.T) {
	const timeout = 2 * time.Second
	env := testenv.New(t, testenv.Options{NoWorker: true})
	ws := env.NewWorkspace("No Temporal")
	id := newConversation(t, env, ws, "temporal-outage-1")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	tc, err := client.NewLazyClient(client.Options{
		HostPort: dead, Namespace: env.Temporal.GetDefaultNamespace(),
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(&testenv.LogBuffer{}, nil))),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	routerWith(t, env, env.Store, tc, timeout)

	start := time.Now()
	res := setState(env, ws, id, "closed", "Idempotency-Key", "temporal-outage")
	if took := time.Since(start); took > timeout+10*time.Second {
		t.Fatalf("answered after %s; want about the UpdateTimeout of %s", took, timeout)
	}
	// Whether the client gave up on the refused connection or on the deadline, the
	// answer is a 503 to retry.
	wantUnavailable(t, "state change", res, "")
	if res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil); res.Code != http.StatusOK {
		t.Fatalf("detail without Temporal: %d %s", res.Code, res.Body)
	}
}

// Every API call needs Postgres, so every one documents the 503 it answers when it is down.
func TestOpenAPIDocumentsUnavailable(t *testing.T) {
	_, _, doc := fetchOpenAPI(t)
	ops := operations(t, doc)
	for _, key := range sortedKeys(ops) {
		path := strings.SplitN(key, " ", 2)[1]
		if !strings.HasPrefix(path, "/api/v1/") || path == "/api/v1/openapi.json" {
			continue
		}
		if _, ok := ops[key].Responses["503"]; !ok {
			t.Errorf("%s: no 503 response", key)
		}
	}
}
