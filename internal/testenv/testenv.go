// Package testenv builds real environments for integration tests: a fresh Postgres
// database with the schema, an in-process Temporal server with the search attributes, the
// worker with the real activities, a local chat-completions server, and the API router.
// Nothing in it is a mock.
package testenv

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun/driver/pgdriver"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"
	"golang.org/x/crypto/bcrypt"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/activities"
	"github.com/bestai/inbox/api"
	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/internal/openaitest"
	"github.com/bestai/inbox/live"
	"github.com/bestai/inbox/migrations"
	"github.com/bestai/inbox/policies"
	"github.com/bestai/inbox/secretbox"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/summarizer"
	"github.com/bestai/inbox/web"
	"github.com/bestai/inbox/webhooks"
	"github.com/bestai/inbox/worker"
	"github.com/bestai/inbox/workflows"
)

// AdminURL is the Postgres server tests create their databases on; TEST_DATABASE_URL overrides it.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// TestStoreConns bounds each test store's pool.
const TestStoreConns = 10

// NewStore creates a fresh database with the schema, dropped when the test ends.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	admin, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	name := fmt.Sprintf("inbox_test_%d_%d", time.Now().UnixNano(), rand.IntN(1_000_000))
	u := *admin
	u.Path = "/" + name
	ctx := context.Background()
	s, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatalf("Postgres is not reachable at %s (start it, or set TEST_DATABASE_URL): %v", admin.Redacted(), err)
	}
	// A share of the server's connections: make test runs packages side by side, and a
	// fault test's processes need theirs (faults: connectionShare).
	s.LimitConnections(TestStoreConns)
	if _, err := migrations.Up(ctx, s.DB); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(admin.String())))
		defer db.Close()
		if _, err := db.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	return s
}

// Options adjusts an Env.
type Options struct {
	// SummaryTimeout bounds each model call; default 5s.
	SummaryTimeout time.Duration
	// PlatformKey is OPENAI_API_KEY; "" means none.
	PlatformKey string
	// NoWorker leaves the worker stopped; StartWorker starts one.
	NoWorker bool
	// IngestRate and IngestBurst set the per-key limit; default effectively unlimited.
	IngestRate  float64
	IngestBurst int
	// ConversationRate and ConversationBurst set the per-conversation limit; default
	// effectively unlimited.
	ConversationRate  float64
	ConversationBurst int
	// UpdateTimeout is api.Deps.UpdateTimeout; 0 keeps the API's default.
	UpdateTimeout time.Duration
	// MaxUpdatesInFlight is app.Service.MaxUpdatesInFlight; 0 keeps the default.
	MaxUpdatesInFlight int
	// WebhookRetry is the webhook retry schedule; the zero value is a short one for tests
	// (50ms, at most 200ms apart), not production's.
	WebhookRetry workflows.WebhookRetry
	// WebhookDenyPrivate makes the worker refuse private addresses (production's default);
	// by default tests allow them, so receivers on loopback work. URLs with a literal
	// private IP are refused at creation too then.
	WebhookDenyPrivate bool
	// LiveHeartbeat is how often the pages' event streams write a heartbeat (and check
	// their session and membership again); 0 is live's default.
	LiveHeartbeat time.Duration
	// BulkRate bounds a bulk action's changes per second; 0 is app's default.
	BulkRate float64
	// Log receives the text logs of the API, the application layer and the pages; nil
	// discards them.
	Log io.Writer
	// Queries, when set, records every query of the store (added before anything runs).
	Queries *QueryLog
}

// Env is one complete inbox: Postgres, Temporal, worker, model server and API.
type Env struct {
	T        testing.TB
	Store    *store.Store
	Temporal *temporaltest.TestServer
	Client   client.Client
	OpenAI   *openaitest.Server
	Secrets  *secretbox.Box
	Router   *gin.Engine
	Acts     *activities.Activities
	// App is the application layer the API (and, after Serve, the pages) call.
	App *app.Service
	// Accounts signs people in to the pages; bcrypt runs at its cheapest here.
	Accounts *accounts.Accounts
	// Site is the web admin, once Serve has mounted it.
	Site *web.Site
	// Live is the listener of the pages' live updates, running once Serve has started it.
	Live *live.Listener
	// Registry holds the API's HTTP metrics; api.MetricsHandler serves it, as the
	// metrics listener of cmd/inbox does.
	Registry *prometheus.Registry

	stopLive func()
	logger   *slog.Logger
	liveOpts live.Options

	worker sdkworker.Worker

	stopDispatcher func()
	webhookRetry   workflows.WebhookRetry
}

// NewTemporal starts an in-process Temporal server for t, stopped when t ends. Its client
// waits up to a minute for the server to answer (the SDK's default is 5 s), because a
// server starting on a busy machine, under the race detector most of all, can take longer.
func NewTemporal(t *testing.T) *temporaltest.TestServer {
	t.Helper()
	return temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{
		ConnectionOptions: client.ConnectionOptions{GetSystemInfoTimeout: time.Minute},
	}))
}

// New builds an Env for t; everything is torn down when t ends.
func New(t *testing.T, opts Options) *Env {
	t.Helper()
	if opts.SummaryTimeout == 0 {
		opts.SummaryTimeout = 5 * time.Second
	}
	if opts.IngestRate == 0 {
		opts.IngestRate, opts.IngestBurst = 1000, 1000
	}
	if opts.ConversationRate == 0 {
		opts.ConversationRate, opts.ConversationBurst = 1000, 1000
	}
	e := &Env{T: t, Store: NewStore(t), OpenAI: openaitest.New(t), Registry: prometheus.NewRegistry()}
	if opts.Queries != nil {
		e.Store.DB.AddQueryHook(opts.Queries)
	}
	key, _ := secretbox.ParseKey(secretbox.NewKey())
	e.Secrets, _ = secretbox.New(key)
	e.Temporal = NewTemporal(t)
	e.Client = e.Temporal.GetDefaultClient()
	RegisterSearchAttributes(t, e.Client, e.Temporal.GetDefaultNamespace())
	e.Acts = &activities.Activities{
		Store:       e.Store,
		Summarizer:  summarizer.New(summarizer.Config{BaseURL: e.OpenAI.URL, Model: "test-model", Timeout: opts.SummaryTimeout}),
		Secrets:     e.Secrets,
		PlatformKey: opts.PlatformKey,
		Model:       "test-model",

		WebhookClient: webhooks.NewClient(!opts.WebhookDenyPrivate),
	}
	e.webhookRetry = opts.WebhookRetry
	if e.webhookRetry == (workflows.WebhookRetry{}) {
		e.webhookRetry = workflows.WebhookRetry{Initial: 50 * time.Millisecond, Maximum: 200 * time.Millisecond}
	}
	authz, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	updateTimeout := opts.UpdateTimeout
	if updateTimeout == 0 {
		updateTimeout = api.DefaultUpdateTimeout * Slowdown
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	logger := slog.New(slog.NewTextHandler(opts.Log, nil))
	e.logger = logger
	e.liveOpts = live.Options{Heartbeat: opts.LiveHeartbeat}
	e.Accounts = &accounts.Accounts{Store: e.Store, BcryptCost: bcrypt.MinCost}
	e.App = app.New(app.Service{
		Store: e.Store, Lifecycle: workflows.Lifecycle{Client: e.Client}, Authorizer: authz,
		Secrets: e.Secrets, Logger: logger, UpdateTimeout: updateTimeout, MaxUpdatesInFlight: opts.MaxUpdatesInFlight,
		// Invite links point here until Serve gives the inbox a real address.
		Accounts: e.Accounts, PublicURL: "http://inbox.test",
		WebhookAllowPrivate: !opts.WebhookDenyPrivate,
		BulkRate:            opts.BulkRate,
	})
	// The worker's bulk runner is the same application layer.
	e.Acts.Bulk = e.App
	if !opts.NoWorker {
		e.StartWorker()
	}
	e.Router = api.NewRouter(api.Deps{
		App: e.App, Logger: logger, Registry: e.Registry,
		IngestRate: opts.IngestRate, IngestBurst: opts.IngestBurst,
		IngestConversationRate: opts.ConversationRate, IngestConversationBurst: opts.ConversationBurst,
	})
	return e
}

// Serve mounts the web admin on the router (once) and serves both on a loopback port
// until the test ends; it returns the base URL. temporalUI, when not "", is the Temporal
// UI address the pages link to.
func (e *Env) Serve(temporalUI string) string {
	e.T.Helper()
	if e.Site == nil {
		secret := make([]byte, 32)
		_, _ = crand.Read(secret)
		// The pages' live updates: one listener, as the process has, stopped when the test
		// ends (before the server closes: see below).
		liveOpts := e.liveOpts
		liveOpts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		e.Live = live.New(e.Store, liveOpts)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = e.Live.Run(ctx) }()
		e.stopLive = func() { stop(); <-done }
		site, err := web.NewSite(web.SiteDeps{
			App: e.App, Secret: secret,
			TemporalUIURL: temporalUI, TemporalNamespace: e.Temporal.GetDefaultNamespace(),
			Logger: e.logger, Live: e.Live,
		})
		if err != nil {
			e.T.Fatalf("web: %v", err)
		}
		site.Register(e.Router, api.NotFound)
		e.Site = site
	}
	srv := httptest.NewServer(e.Router)
	e.T.Cleanup(srv.Close)
	e.App.PublicURL = srv.URL // invite links from now on open on this server
	// Cleanups run last-in first-out: the listener stops first, which ends the open event
	// streams, so Close does not wait for pages that are still listening.
	e.T.Cleanup(e.stopLive)
	return srv.URL
}

// SetPassword gives a user a password for the pages, as accepting an invite does.
func (e *Env) SetPassword(email, password string) {
	e.T.Helper()
	u, err := e.Store.SignInUserByEmail(context.Background(), email)
	if err != nil {
		e.T.Fatalf("user %s: %v", email, err)
	}
	if err := e.Accounts.SetPassword(context.Background(), u.ID, password); err != nil {
		e.T.Fatalf("set password of %s: %v", email, err)
	}
}

// StartWorker starts a worker on the inbox task queue (again, after StopWorker).
func (e *Env) StartWorker() {
	e.T.Helper()
	w := sdkworker.New(e.Client, workflows.TaskQueue, sdkworker.Options{})
	worker.Register(w, e.Acts)
	if err := w.Start(); err != nil {
		e.T.Fatalf("start worker: %v", err)
	}
	e.worker = w
	e.T.Cleanup(w.Stop)
	// The worker process's webhook dispatcher, as `inbox worker` runs it.
	d := &webhooks.Dispatcher{Store: e.Store, Temporal: e.Client, Retry: e.webhookRetry,
		Sweep: 500 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	// And its queue runner: the changes a burst queued (app/queue.go).
	queueDone := make(chan struct{})
	go func() { defer close(queueDone); e.App.RunQueue(ctx) }()
	var once sync.Once
	e.stopDispatcher = func() { once.Do(func() { cancel(); <-done; <-queueDone }) }
	e.T.Cleanup(e.stopDispatcher)
}

// StopWorker stops the running worker, as a crash of the worker process would.
func (e *Env) StopWorker() {
	if e.stopDispatcher != nil {
		e.stopDispatcher()
		e.stopDispatcher = nil
	}
	if e.worker != nil {
		e.worker.Stop()
		e.worker = nil
	}
}

// RegisterSearchAttributes adds the inbox's Keyword search attributes to a namespace.
func RegisterSearchAttributes(t testing.TB, c client.Client, namespace string) {
	t.Helper()
	attrs := map[string]enums.IndexedValueType{}
	for _, name := range workflows.SearchAttributeNames {
		attrs[name] = enums.INDEXED_VALUE_TYPE_KEYWORD
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: attrs,
	}); err != nil {
		t.Fatalf("register search attributes: %v", err)
	}
}

// Workspace is a bootstrapped workspace with its owner's credentials.
type Workspace = store.NewWorkspace

// NewWorkspace bootstraps a workspace as `inbox workspace create` does.
func (e *Env) NewWorkspace(name string) Workspace {
	e.T.Helper()
	ws, err := e.Store.CreateWorkspace(context.Background(), name, OwnerEmail(name), name+" Owner")
	if err != nil {
		e.T.Fatalf("create workspace: %v", err)
	}
	return ws
}

// OwnerEmail is the email NewWorkspace gives the owner of the workspace named name.
func OwnerEmail(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, " ", "-")) + "-owner@example.com"
}

// Response is a recorded HTTP answer.
type Response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ErrorCode is the "error.code" of an error body, or "".
func (r Response) ErrorCode() string {
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &body)
	return body.Error.Code
}

// Do sends a request through the router. body may be nil, a string or a value to encode.
// headers alternate name, value.
func (e *Env) Do(method, path string, body any, headers ...string) Response {
	e.T.Helper()
	var rd io.Reader
	var sent []byte
	switch b := body.(type) {
	case nil:
	case string:
		sent = []byte(b)
	case []byte:
		sent = b
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		sent = buf
	}
	if body != nil {
		rd = bytes.NewReader(sent)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "203.0.113.7:41000"
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.Router.ServeHTTP(rec, req)
	if err := CheckContract(req.Clone(context.Background()), sent, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		e.T.Errorf("contract: %v", err)
	}
	return Response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// As returns Do with the bearer token set.
func (e *Env) As(token, method, path string, body any, headers ...string) Response {
	e.T.Helper()
	return e.Do(method, path, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
}

// Ingest posts one message with the workspace's ingest key.
func (e *Env) Ingest(ingestKey string, body any) Response {
	e.T.Helper()
	return e.Do(http.MethodPost, "/api/v1/ingest/messages", body, "X-Inbox-Key", ingestKey)
}

// Eventually polls cond every 50ms until it holds or timeout (times Slowdown) passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout *= Slowdown // under the race detector everything a test waits for is slower
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
