package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/activities"
	"github.com/bestai/inbox/api"
	application "github.com/bestai/inbox/app"
	"github.com/bestai/inbox/config"
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

// app is what every long-running command shares.
type app struct {
	cfg      config.Config
	logger   *slog.Logger
	store    *store.Store
	temporal client.Client
	secrets  *secretbox.Box
	// secretKey is INBOX_SECRET_KEY; the pages' CSRF key is derived from it, so every
	// replica agrees on it.
	secretKey []byte
	registry  *prometheus.Registry
	scope     tally.Scope
	// authz is the Casbin authorizer the API and the bulk actions' runner share.
	authz   *policies.Authorizer
	closers []func()
}

func loadConfig() (config.Config, error) {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return cfg, fmt.Errorf("bad configuration:\n%w", err)
	}
	return cfg, nil
}

// newApp connects to Postgres (migrating it when asked) and to Temporal.
func newApp(ctx context.Context, cfg config.Config, secretKey []byte, migrate bool) (*app, error) {
	a := &app{cfg: cfg, logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	slog.SetDefault(a.logger) // serveUntilDone logs through the default logger
	a.registry = prometheus.NewRegistry()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	box, err := secretbox.New(secretKey)
	if err != nil {
		return nil, fmt.Errorf("INBOX_SECRET_KEY: %w", err)
	}
	a.secrets, a.secretKey = box, secretKey
	if a.authz, err = policies.New(); err != nil {
		return nil, err
	}
	if a.store, err = store.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	a.store.TokenLifetime = cfg.TokenLifetime
	a.store.LimitConnections(cfg.DBMaxConns)
	a.closers = append(a.closers, func() { _ = a.store.Close() })
	if migrate {
		if _, err := migrations.Up(ctx, a.store.DB); err != nil {
			a.close()
			return nil, err
		}
	}
	// Temporal SDK metrics (workflow and activity latencies, task queue polls), served with
	// the rest on INBOX_METRICS_ADDR.
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: a.registry})
	scope, scopeCloser := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		Prefix:          "temporal",
	}, time.Second)
	a.scope = sdktally.NewPrometheusNamingScope(scope)
	a.closers = append(a.closers, func() { _ = scopeCloser.Close() })
	if a.temporal, err = dialTemporal(ctx, cfg, a.scope); err != nil {
		a.close()
		return nil, err
	}
	a.closers = append(a.closers, a.temporal.Close)
	// Workflows upsert these on every change; without them each workflow task would fail
	// over and over, so refuse to start rather than run half-broken.
	checkCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := worker.CheckSearchAttributes(checkCtx, a.temporal, cfg.TemporalNamespace); err != nil {
		a.close()
		return nil, err
	}
	if cfg.PprofAddr != "" {
		stop, addr, err := startPprof(cfg.PprofAddr)
		if err != nil {
			a.close()
			return nil, err
		}
		a.closers = append(a.closers, stop)
		a.logger.Info("pprof listening", "addr", addr)
	}
	if cfg.MetricsAddr != "" {
		stop, addr, err := startMetrics(cfg.MetricsAddr, a.registry)
		if err != nil {
			a.close()
			return nil, err
		}
		a.closers = append(a.closers, stop)
		a.logger.Info("metrics listening", "addr", addr, "path", "/metrics")
	}
	return a, nil
}

// dialTemporal connects, retrying for a while: the frontend may still be starting.
func dialTemporal(ctx context.Context, cfg config.Config, scope tally.Scope) (client.Client, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		opts := client.Options{
			HostPort:       cfg.TemporalAddress,
			Namespace:      cfg.TemporalNamespace,
			MetricsHandler: sdktally.NewMetricsHandler(scope),
			Logger:         quietLogger(),
		}
		if loopback(cfg.TemporalAddress) {
			// The SDK gzips every request by default: on loopback (inbox dev's own server,
			// or a frontend on the same machine) that is CPU spent for no bandwidth saved.
			opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
		}
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w", cfg.TemporalAddress, cfg.TemporalNamespace, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// loopback reports whether addr (host:port) names this machine's loopback interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// quietLogger passes the SDK's warnings and errors on, not its chatter.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

func (a *app) activities(changes *application.Service) *activities.Activities {
	return &activities.Activities{
		Store:       a.store,
		Summarizer:  summarizer.New(summarizer.Config{BaseURL: a.cfg.OpenAIBaseURL, Model: a.cfg.SummaryModel, Concurrency: a.cfg.SummaryConcurrency}),
		Secrets:     a.secrets,
		PlatformKey: a.cfg.OpenAIAPIKey,
		Model:       a.cfg.SummaryModel,

		WebhookClient: webhooks.NewClient(a.cfg.WebhookAllowPrivate),
		// Bulk actions apply each item through the application layer, as the API would.
		Bulk: changes,
	}
}

// startWorker starts the worker; stop it with the returned function, which returns once
// in-flight activities have finished or INBOX_WORKER_STOP_TIMEOUT has passed.
func (a *app) startWorker() (func(), error) {
	// The worker's application layer: it runs the bulk actions and sends the queued changes.
	changes := application.New(application.Service{
		Store: a.store, Lifecycle: workflows.Lifecycle{Client: a.temporal}, Authorizer: a.authz,
		Secrets: a.secrets, Logger: a.logger,
	})
	w := worker.New(a.temporal, a.activities(changes), worker.Options{
		StopTimeout: a.cfg.WorkerStopTimeout, WorkflowPollers: a.cfg.WorkflowPollers, ActivityPollers: a.cfg.ActivityPollers,
	})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	stopDispatcher := a.startWebhookDispatcher()
	registerQueueMetrics(a.registry, a.store)
	stopQueue := runUntilStopped(changes.RunQueue)
	return func() { stopQueue(); stopDispatcher(); w.Stop() }, nil
}

// runUntilStopped runs run in the background; the returned function stops it and waits.
func runUntilStopped(run func(context.Context)) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); run(ctx) }()
	return func() { cancel(); <-done }
}

// startWebhookDispatcher starts the worker's webhook dispatcher (outbox rows to
// WebhookDelivery workflows); the returned function stops it and waits for it.
func (a *app) startWebhookDispatcher() func() {
	d := &webhooks.Dispatcher{Store: a.store, Temporal: a.temporal, Logger: a.logger,
		Retry: workflows.WebhookRetry{Initial: a.cfg.WebhookRetryInitial, Maximum: a.cfg.WebhookRetryMax}}
	return runUntilStopped(d.Run)
}

// listenAPI binds the API's address and returns a server ready to Serve.
func (a *app) listenAPI() (*http.Server, net.Listener, error) {
	authz := a.authz
	people := accounts.New(a.store)
	service := application.New(application.Service{
		Store: a.store, Lifecycle: workflows.Lifecycle{Client: a.temporal}, Authorizer: authz,
		Secrets: a.secrets, Logger: a.logger,
		Accounts: people, PublicURL: a.cfg.PublicURL,
		WebhookAllowPrivate: a.cfg.WebhookAllowPrivate,
		MaxUpdatesInFlight:  a.cfg.MaxUpdatesInFlight,
	})
	router := api.NewRouter(api.Deps{
		App:            service,
		TrustedProxies: a.cfg.TrustedProxies, Logger: a.logger,
		Registry:   a.registry,
		IngestRate: a.cfg.IngestRate, IngestBurst: a.cfg.IngestBurst,
		IngestConversationRate: a.cfg.IngestConversationRate, IngestConversationBurst: a.cfg.IngestConversationBurst,
	})
	// One LISTEN connection per process feeds every open page's event stream.
	listener := live.New(a.store, live.Options{Logger: a.logger})
	liveCtx, stopLive := context.WithCancel(context.Background())
	go func() { _ = listener.Run(liveCtx) }()
	a.closers = append(a.closers, stopLive)
	site, err := web.NewSite(web.SiteDeps{
		Live: listener, App: service,
		Secret:        secretbox.Derive(a.secretKey, "csrf"),
		SecureCookies: strings.HasPrefix(a.cfg.PublicURL, "https://"),
		TemporalUIURL: a.cfg.TemporalUIURL, TemporalNamespace: a.cfg.TemporalNamespace,
		TrustedProxies: a.cfg.TrustedProxies, Logger: a.logger,
	})
	if err != nil {
		return nil, nil, err
	}
	site.Register(router, api.NotFound)
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("INBOX_HTTP_ADDR %s: %w", a.cfg.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	// Event streams never finish on their own: stopping the listener ends them, so a
	// shutdown waits only for ordinary requests.
	srv.RegisterOnShutdown(stopLive)
	return srv, ln, nil
}

// shutdownTimeout bounds how long a stopping API waits for in-flight requests. It is above
// the API's 15s lifecycle UpdateTimeout, so those answer rather than get cut.
const shutdownTimeout = 20 * time.Second

// serveUntilDone serves until ctx ends, then stops accepting connections and lets in-flight
// requests finish, for up to shutdownTimeout; past that they are cut. A stop asked for by ctx
// is not an error, cut or not: the process should exit 0 on SIGTERM.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("inbox API stopping: no new connections, finishing in-flight requests", "bound", shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		slog.Warn("inbox API: in-flight requests cut at the shutdown bound", "bound", shutdownTimeout, "error", err)
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	slog.Info("inbox API stopped")
	return nil
}

// startPprof serves net/http/pprof on addr (config has checked it is loopback), on its own
// mux so the API's router never exposes it. It returns a stop function and the bound address.
func startPprof(addr string) (func(), string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("INBOX_PPROF_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // and every named profile: heap, goroutine, ...
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No write timeout: a CPU profile or trace streams for as long as ?seconds= asks.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, ln.Addr().String(), nil
}

// registerQueueMetrics adds the queue of changes (app/queue.go) to the worker's metrics: how
// many changes wait, and for how long the oldest has, read from Postgres once per scrape.
func registerQueueMetrics(reg prometheus.Registerer, s *store.Store) {
	reg.MustRegister(&queueCollector{store: s,
		count: prometheus.NewDesc("inbox_queued_changes",
			"Lifecycle changes waiting in the queue of changes to be sent (-1: the database did not answer).", nil, nil),
		oldest: prometheus.NewDesc("inbox_queued_changes_oldest_seconds",
			"How long the oldest change in the queue of changes has waited (0 when none; -1: the database did not answer).", nil, nil),
	})
}

// queueCollector reads both figures of the queue of changes with one query.
type queueCollector struct {
	store         *store.Store
	count, oldest *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.count; ch <- c.oldest }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, oldest, err := c.store.QueuedChanges(ctx)
	count, age := float64(n), oldest.Seconds()
	if err != nil {
		count, age = -1, -1 // unknown: the database did not answer
	}
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, count)
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}

// startMetrics serves GET /metrics on addr, a listener of its own: the API's public one
// never serves them. It returns a stop function and the bound address.
func startMetrics(addr string, g prometheus.Gatherer) (func(), string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("INBOX_METRICS_ADDR %s: %w (set another address, or off)", addr, err)
	}
	srv := &http.Server{Handler: api.MetricsHandler(g), ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, ln.Addr().String(), nil
}
