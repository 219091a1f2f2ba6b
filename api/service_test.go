package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/bestai/inbox/api"
	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/policies"
	"github.com/bestai/inbox/workflows"
)

// waitReady polls /readyz until it answers 200, and returns that body.
func waitReady(t *testing.T, env *testenv.Env) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res := env.Do(http.MethodGet, "/readyz", nil)
		if res.Code == http.StatusOK {
			return strings.TrimSpace(string(res.Body))
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never said 200: %d %s", res.Code, res.Body)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// readyOnceTemporalAnswers asks /readyz until its Temporal check says ok (at most 60 s) and
// returns that answer. Each round of checks is bounded at 2 s, so on a busy machine (the race
// detector, other suites) the in-process server's first answers can come too late, and the
// probe rightly says unavailable; what the tests look at is the round after.
func readyOnceTemporalAnswers(t *testing.T, env *testenv.Env) (testenv.Response, map[string]string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res := env.Do(http.MethodGet, "/readyz", nil)
		words := readyWords(t, res.Body)
		if words["temporal"] == "ok" || time.Now().After(deadline) {
			return res, words
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// readyWords decodes a /readyz body, failing unless every value is one word: an error text
// (hosts, ports, driver messages) must never reach an unauthenticated caller.
func readyWords(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var words map[string]string
	if err := json.Unmarshal(body, &words); err != nil {
		t.Fatalf("readyz body %s: %v", body, err)
	}
	for name, w := range words {
		if w != "ok" && w != "unavailable" {
			t.Errorf("readyz says %q for %s; want ok or unavailable", w, name)
		}
	}
	return words
}

func TestServiceEndpoints(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	if res := env.Do(http.MethodGet, "/healthz", nil); res.Code != http.StatusOK {
		t.Errorf("healthz: %d", res.Code)
	}
	if body := waitReady(t, env); body != `{"postgres":"ok","temporal":"ok","worker":"ok"}` {
		t.Errorf("readyz: %s", body)
	}
	// /metrics is not on the public listener, whether or not the pages are mounted: its own
	// listener serves it (INBOX_METRICS_ADDR).
	if res := env.Do(http.MethodGet, "/metrics", nil); res.Code != http.StatusNotFound || res.ErrorCode() != "not_found" {
		t.Errorf("API router /metrics: %d %.200s, want the JSON 404", res.Code, res.Body)
	}
	public := env.Serve("")
	if res, err := http.Get(public + "/metrics"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("public listener /metrics: %v %v, want 404", res.StatusCode, err)
	} else {
		res.Body.Close()
	}
	metrics := httptest.NewServer(api.MetricsHandler(env.Registry))
	defer metrics.Close()
	res, err := http.Get(metrics.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `inbox_http_requests_total{method="GET",route="/readyz",status="200"} 1`) {
		t.Errorf("the metrics listener does not count the readyz request: %d\n%s", res.StatusCode, body)
	}
	if res := env.Do(http.MethodGet, "/api/v1/nothing-here", nil); res.Code != http.StatusNotFound || res.ErrorCode() != "not_found" {
		t.Errorf("unknown path: %d %s", res.Code, res.Body)
	}
	if res := env.Do(http.MethodDelete, "/healthz", nil); res.Code != http.StatusMethodNotAllowed {
		t.Errorf("wrong method: %d %s", res.Code, res.Body)
	}
}

// readyz must say which dependency is down, in a word, and answer 503.
func TestReadyzReportsPostgresDown(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	if err := env.Store.Close(); err != nil {
		t.Fatal(err)
	}
	res, words := readyOnceTemporalAnswers(t, env)
	if res.Code != http.StatusServiceUnavailable || words["postgres"] != "unavailable" || words["temporal"] != "ok" {
		t.Errorf("readyz with Postgres closed: %d %s", res.Code, res.Body)
	}
}

// Workflows cannot run while nobody polls the task queue: readyz waits for a worker.
func TestReadyzWaitsForAWorker(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{NoWorker: true})
	res, words := readyOnceTemporalAnswers(t, env)
	if res.Code != http.StatusServiceUnavailable || words["worker"] != "unavailable" || words["postgres"] != "ok" || words["temporal"] != "ok" {
		t.Errorf("readyz with no worker: %d %s", res.Code, res.Body)
	}
	env.StartWorker()
	if body := waitReady(t, env); body != `{"postgres":"ok","temporal":"ok","worker":"ok"}` {
		t.Errorf("readyz with the worker up: %s", body)
	}
}

// With Temporal unreachable the caller gets a word, and the log gets the error with its
// address.
func TestReadyzHidesTemporalErrorsAndLogsThem(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()
	tc, err := client.NewLazyClient(client.Options{HostPort: deadAddr, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	authz, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	router := api.NewRouter(api.Deps{
		App: app.New(app.Service{Store: testenv.NewStore(t), Lifecycle: workflows.Lifecycle{Client: tc},
			Authorizer: authz, Logger: logger}),
		Logger: logger,
	})
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	body := rec.Body.Bytes()
	words := readyWords(t, body)
	if rec.Code != http.StatusServiceUnavailable || words["temporal"] != "unavailable" || words["worker"] != "unavailable" || words["postgres"] != "ok" {
		t.Errorf("readyz with Temporal down: %d %s", rec.Code, body)
	}
	_, port, _ := net.SplitHostPort(deadAddr)
	if strings.Contains(string(body), port) || strings.Contains(string(body), "127.0.0.1") {
		t.Errorf("readyz shows the address: %s", body)
	}
	if !strings.Contains(logs.String(), "dependency=temporal") || !strings.Contains(logs.String(), port) {
		t.Errorf("the log lacks the detail:\n%s", logs.String())
	}
}
