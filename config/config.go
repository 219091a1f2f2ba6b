// Package config reads the inbox's settings once, from environment variables, with a
// working default for `inbox dev` wherever one exists, and says clearly what is wrong.
package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bestai/inbox/secretbox"
)

// Config is every setting of the inbox.
type Config struct {
	DatabaseURL       string
	HTTPAddr          string
	TemporalAddress   string
	TemporalNamespace string
	TemporalUIAddr    string
	DataDir           string
	OpenAIAPIKey      string
	OpenAIBaseURL     string
	SummaryModel      string
	SecretKey         []byte // nil when not set; `inbox dev` then generates one under DataDir
	TrustedProxies    []netip.Prefix
	// WorkerStopTimeout is how long a stopping worker lets in-flight activities run on.
	WorkerStopTimeout time.Duration
	// TokenLifetime is how long a new API token works.
	TokenLifetime time.Duration

	// IngestRate and IngestBurst bound each ingest key (messages a second, and at once),
	// across every replica; the conversation pair bounds one conversation_ref, per process.
	IngestRate              float64
	IngestBurst             int
	IngestConversationRate  float64
	IngestConversationBurst int
	// PprofAddr serves net/http/pprof when set; only a loopback address is accepted.
	PprofAddr string
	// MetricsAddr serves GET /metrics (Prometheus) on a listener of its own, never on the
	// public one: the metrics need no sign-in and name routes, rates and errors. Loopback by
	// default; any address the operator sets is honoured (a scraper on another host needs
	// one); "" when INBOX_METRICS_ADDR=off.
	MetricsAddr string
	// TemporalStore is where the embedded Temporal of `inbox dev` and `inbox temporal` keeps
	// its data: "postgres" (the default: databases next to DATABASE_URL's, measured faster
	// wherever there is concurrency) or "sqlite" (under DataDir, for a machine without the
	// connections to spare).
	TemporalStore string
	// TemporalShards is its number of history shards; 0 lets the store choose.
	TemporalShards int
	// PublicURL (INBOX_PUBLIC_URL) is the base URL people open the inbox at, for the links
	// the inbox prints or sends (invite links, the sign-in page): behind a proxy or a load
	// balancer it is not INBOX_HTTP_ADDR. Default: http:// and INBOX_HTTP_ADDR, with
	// localhost for a listener on all interfaces. No trailing slash.
	PublicURL string
	// TemporalUIURL (INBOX_TEMPORAL_UI_URL) is the Temporal Web UI's base URL, for the link
	// from a conversation's page to its workflow. Empty hides the link; `inbox dev` links
	// to its own UI (INBOX_TEMPORAL_UI_ADDR).
	TemporalUIURL string
	// WebhookAllowPrivate (INBOX_WEBHOOK_ALLOW_PRIVATE=true) lets webhooks reach private,
	// loopback and other non-public addresses: tests and local setups only.
	WebhookAllowPrivate bool
	// WebhookRetryInitial and WebhookRetryMax shape a webhook's retries: the first retry
	// after Initial, each next one 4 times later, at most Max apart, for up to 3 days.
	WebhookRetryInitial time.Duration
	WebhookRetryMax     time.Duration
	// MaxUpdatesInFlight bounds the lifecycle Updates a process has sent and no workflow
	// has accepted yet; the rest queue (INBOX_MAX_UPDATES_IN_FLIGHT).
	MaxUpdatesInFlight int
	// SummaryConcurrency bounds the summaries a worker asks one model endpoint for at once
	// (INBOX_SUMMARY_CONCURRENCY).
	SummaryConcurrency int
	// WorkflowPollers and ActivityPollers are the worker's long polls for workflow and
	// activity tasks (INBOX_WORKER_WORKFLOW_POLLERS, INBOX_WORKER_ACTIVITY_POLLERS).
	WorkflowPollers int
	ActivityPollers int
	// TemporalSynchronousCommit is Postgres's synchronous_commit for the embedded Temporal's
	// own two databases (INBOX_TEMPORAL_SYNCHRONOUS_COMMIT); the inbox's database always
	// commits synchronously.
	TemporalSynchronousCommit string
	// DBMaxConns bounds the connections a process opens to the inbox's database
	// (INBOX_DB_MAX_CONNS); the embedded Temporal's own pools come on top.
	DBMaxConns int
	// TemporalDBMaxConns bounds each service's pool of the embedded Temporal on Postgres
	// (INBOX_TEMPORAL_DB_MAX_CONNS; its four services open one each, and half as many for
	// visibility).
	TemporalDBMaxConns int
}

// Defaults are the values used when a variable is unset.
var Defaults = map[string]string{
	"DATABASE_URL":                      "postgres://postgres@127.0.0.1:5432/inbox?sslmode=disable",
	"INBOX_HTTP_ADDR":                   "127.0.0.1:8080",
	"TEMPORAL_ADDRESS":                  "127.0.0.1:7233",
	"TEMPORAL_NAMESPACE":                "default",
	"INBOX_TEMPORAL_UI_ADDR":            "127.0.0.1:8233",
	"INBOX_DATA_DIR":                    ".data",
	"INBOX_SUMMARY_MODEL":               "gpt-4o-mini",
	"INBOX_WORKER_STOP_TIMEOUT":         "30s",
	"INBOX_API_TOKEN_TTL":               "2160h",
	"INBOX_INGEST_RATE":                 "200",
	"INBOX_INGEST_BURST":                "400",
	"INBOX_INGEST_CONVERSATION_RATE":    "5",
	"INBOX_INGEST_CONVERSATION_BURST":   "20",
	"INBOX_TEMPORAL_STORE":              "postgres",
	"INBOX_METRICS_ADDR":                DefaultMetricsAddr,
	"INBOX_WEBHOOK_RETRY_INITIAL":       "30s",
	"INBOX_WEBHOOK_RETRY_MAX":           "24h",
	"INBOX_MAX_UPDATES_IN_FLIGHT":       "256",
	"INBOX_SUMMARY_CONCURRENCY":         "8",
	"INBOX_WORKER_WORKFLOW_POLLERS":     "8", // measured: BENCHMARKS.md, "Pollers and synchronous_commit"
	"INBOX_WORKER_ACTIVITY_POLLERS":     "8",
	"INBOX_TEMPORAL_SYNCHRONOUS_COMMIT": "on",
	"INBOX_DB_MAX_CONNS":                "32",
	"INBOX_TEMPORAL_DB_MAX_CONNS":       "10",
}

// DefaultMetricsAddr is where /metrics is served unless INBOX_METRICS_ADDR says otherwise:
// loopback only, and not 9090, which a Prometheus server on the same host listens on.
const DefaultMetricsAddr = "127.0.0.1:9464"

// FromEnv reads the configuration through getenv (os.Getenv in production) and validates
// every value, reporting all problems at once, one per line.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return Defaults[name]
	}
	c := Config{
		DatabaseURL:       get("DATABASE_URL"),
		HTTPAddr:          get("INBOX_HTTP_ADDR"),
		TemporalAddress:   get("TEMPORAL_ADDRESS"),
		TemporalNamespace: get("TEMPORAL_NAMESPACE"),
		TemporalUIAddr:    get("INBOX_TEMPORAL_UI_ADDR"),
		DataDir:           get("INBOX_DATA_DIR"),
		OpenAIAPIKey:      get("OPENAI_API_KEY"),
		OpenAIBaseURL:     get("OPENAI_BASE_URL"),
		SummaryModel:      get("INBOX_SUMMARY_MODEL"),
		TemporalStore:     get("INBOX_TEMPORAL_STORE"),
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		bad("DATABASE_URL", "want a postgres://user@host:port/db URL")
	}
	for name, addr := range map[string]string{"INBOX_HTTP_ADDR": c.HTTPAddr, "TEMPORAL_ADDRESS": c.TemporalAddress, "INBOX_TEMPORAL_UI_ADDR": c.TemporalUIAddr} {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			bad(name, "want host:port, got %q", addr)
		}
	}
	if raw := strings.TrimSpace(getenv("INBOX_PUBLIC_URL")); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad("INBOX_PUBLIC_URL", "want an http(s) base URL such as https://inbox.example.com, got %q", raw)
		}
		c.PublicURL = strings.TrimRight(raw, "/")
	} else {
		c.PublicURL = defaultPublicURL(c.HTTPAddr)
	}
	if raw := strings.TrimSpace(getenv("INBOX_TEMPORAL_UI_URL")); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("INBOX_TEMPORAL_UI_URL", "want an http(s) URL such as https://temporal.example.com, got %q", raw)
		}
		c.TemporalUIURL = strings.TrimRight(raw, "/")
	}
	if c.OpenAIBaseURL != "" {
		if u, err := url.Parse(c.OpenAIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("OPENAI_BASE_URL", "want an http(s) URL, got %q", c.OpenAIBaseURL)
		}
	}
	if d, err := time.ParseDuration(get("INBOX_WORKER_STOP_TIMEOUT")); err != nil || d <= 0 {
		bad("INBOX_WORKER_STOP_TIMEOUT", "want a positive duration such as 30s, got %q", get("INBOX_WORKER_STOP_TIMEOUT"))
	} else {
		c.WorkerStopTimeout = d
	}
	if d, err := time.ParseDuration(get("INBOX_API_TOKEN_TTL")); err != nil || d < time.Hour || d > 10*365*24*time.Hour {
		bad("INBOX_API_TOKEN_TTL", "want a duration from 1h to 87600h (10 years) such as 2160h (90 days), got %q", get("INBOX_API_TOKEN_TTL"))
	} else {
		c.TokenLifetime = d
	}
	if c.TemporalStore != "sqlite" && c.TemporalStore != "postgres" {
		bad("INBOX_TEMPORAL_STORE", "want postgres or sqlite, got %q", c.TemporalStore)
	}
	if raw := strings.TrimSpace(getenv("INBOX_TEMPORAL_SHARDS")); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 1024 {
			bad("INBOX_TEMPORAL_SHARDS", "want a number from 1 to 1024, got %q", raw)
		}
		c.TemporalShards = n
	}
	upTo := func(name string, max int) int {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < 1 || n > max {
			bad(name, "want a whole number from 1 to %d, got %q", max, get(name))
		}
		return n
	}
	c.MaxUpdatesInFlight = upTo("INBOX_MAX_UPDATES_IN_FLIGHT", 100000)
	c.SummaryConcurrency = upTo("INBOX_SUMMARY_CONCURRENCY", 1000)
	c.WorkflowPollers = upTo("INBOX_WORKER_WORKFLOW_POLLERS", 64)
	c.ActivityPollers = upTo("INBOX_WORKER_ACTIVITY_POLLERS", 64)
	c.DBMaxConns = upTo("INBOX_DB_MAX_CONNS", 1000)
	c.TemporalDBMaxConns = upTo("INBOX_TEMPORAL_DB_MAX_CONNS", 100)
	switch c.TemporalSynchronousCommit = get("INBOX_TEMPORAL_SYNCHRONOUS_COMMIT"); c.TemporalSynchronousCommit {
	case "on", "off", "local", "remote_write", "remote_apply":
	default:
		bad("INBOX_TEMPORAL_SYNCHRONOUS_COMMIT", "want on, off, local, remote_write or remote_apply, got %q", c.TemporalSynchronousCommit)
	}
	if raw := getenv("INBOX_SECRET_KEY"); raw != "" {
		key, err := secretbox.ParseKey(strings.TrimSpace(raw))
		if err != nil {
			bad("INBOX_SECRET_KEY", "want 32 bytes, base64-encoded (openssl rand -base64 32): %v", err)
		}
		c.SecretKey = key
	}
	for _, cidr := range strings.FieldsFunc(getenv("INBOX_TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			if a, aerr := netip.ParseAddr(cidr); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				bad("INBOX_TRUSTED_PROXIES", "%q is not a CIDR", cidr)
				continue
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p.Masked())
	}
	positive := func(name string) float64 {
		v, err := strconv.ParseFloat(get(name), 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			bad(name, "want a positive number of messages a second, got %q", get(name))
		}
		return v
	}
	count := func(name string) int {
		v, err := strconv.Atoi(get(name))
		if err != nil || v < 1 {
			bad(name, "want a whole number of messages, at least 1, got %q", get(name))
		}
		return v
	}
	c.IngestRate, c.IngestBurst = positive("INBOX_INGEST_RATE"), count("INBOX_INGEST_BURST")
	c.IngestConversationRate, c.IngestConversationBurst = positive("INBOX_INGEST_CONVERSATION_RATE"), count("INBOX_INGEST_CONVERSATION_BURST")
	switch v := strings.ToLower(get("INBOX_WEBHOOK_ALLOW_PRIVATE")); v {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		c.WebhookAllowPrivate = true
	default:
		bad("INBOX_WEBHOOK_ALLOW_PRIVATE", "want true or false, got %q", v)
	}
	for name, dst := range map[string]*time.Duration{"INBOX_WEBHOOK_RETRY_INITIAL": &c.WebhookRetryInitial, "INBOX_WEBHOOK_RETRY_MAX": &c.WebhookRetryMax} {
		if d, err := time.ParseDuration(get(name)); err != nil || d <= 0 || d > 24*time.Hour {
			bad(name, "want a duration from 1ms to 24h such as 30s, got %q", get(name))
		} else {
			*dst = d
		}
	}
	if c.PprofAddr = get("INBOX_PPROF_ADDR"); c.PprofAddr != "" {
		if err := checkLoopback(c.PprofAddr); err != nil {
			bad("INBOX_PPROF_ADDR", "%v", err)
		}
	}
	if c.MetricsAddr = get("INBOX_METRICS_ADDR"); strings.EqualFold(c.MetricsAddr, "off") {
		c.MetricsAddr = ""
	} else if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
		bad("INBOX_METRICS_ADDR", "want host:port such as %s, or off, got %q", DefaultMetricsAddr, c.MetricsAddr)
	}
	return c, errors.Join(errs...)
}

// defaultPublicURL is where a browser on this machine reaches the API at addr: a listener
// on all interfaces (0.0.0.0, ::, or no host) is reached through localhost.
func defaultPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if a, err := netip.ParseAddr(host); host == "" || (err == nil && a.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// checkLoopback accepts host:port only when host is a loopback address or localhost:
// profiles and heap dumps reveal memory contents, so they are never served on a network.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("want host:port on a loopback address such as 127.0.0.1:6060, got %q", addr)
	}
	if host == "localhost" {
		return nil
	}
	if a, err := netip.ParseAddr(host); err != nil || !a.IsLoopback() {
		return fmt.Errorf("must be a loopback address such as 127.0.0.1:6060 (profiles expose memory), got %q", addr)
	}
	return nil
}

// RequireSecretKey fails when INBOX_SECRET_KEY is unset: outside `inbox dev` the BYOK keys
// must be readable by every replica, so the key cannot be generated per process.
func (c Config) RequireSecretKey() error {
	if c.SecretKey == nil {
		return errors.New("INBOX_SECRET_KEY: required outside `inbox dev` (openssl rand -base64 32)")
	}
	return nil
}

// DevSecretKey returns INBOX_SECRET_KEY, or the key kept under DataDir, creating it on first use.
func (c Config) DevSecretKey() ([]byte, error) {
	if c.SecretKey != nil {
		return c.SecretKey, nil
	}
	path := filepath.Join(c.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		key, err := secretbox.ParseKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return key, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	encoded := secretbox.NewKey()
	if err := os.WriteFile(path, []byte(encoded+"\n"), 0o600); err != nil {
		return nil, err
	}
	return secretbox.ParseKey(encoded)
}
