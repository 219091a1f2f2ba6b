package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bestai/inbox/api"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

// /metrics is served on its own listener (INBOX_METRICS_ADDR) from the registry the API
// records into, and no longer by the API's router.
func TestMetricsListener(t *testing.T) {
	reg := prometheus.NewRegistry()
	router := api.NewRouter(api.Deps{Registry: reg})
	serve := func(path string) int {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	if code := serve("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	if code := serve("/metrics"); code != http.StatusNotFound {
		t.Errorf("the API router serves /metrics: %d, want 404", code)
	}

	stop, addr, err := startMetrics("127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	want := `inbox_http_requests_total{method="GET",route="/healthz",status="200"} 1`
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), want) {
		t.Errorf("metrics listener: %d %s, want 200 text/plain with %s\n%.2000s", res.StatusCode, res.Header.Get("Content-Type"), want, body)
	}
	if res, err := http.Get("http://" + addr + "/healthz"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("the metrics listener serves more than /metrics: %v %v", res.StatusCode, err)
	}
	stop()
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("metrics still served after stop")
	}
	if _, _, err := startMetrics("nonsense", reg); err == nil || !strings.Contains(err.Error(), "INBOX_METRICS_ADDR") {
		t.Errorf("a bad address: %v", err)
	}
}

// The worker's metrics say how many changes wait in the queue of changes, and how long the
// oldest has.
func TestQueueMetrics(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, "Queue Metrics", "owner@queue-metrics.example", "Owner")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Ingest(ctx, store.IngestMessage{WorkspaceID: ws.WorkspaceID, Ref: "r", Channel: domain.Chat,
		Role: domain.VisitorMessage, Text: "hello", SentAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	registerQueueMetrics(reg, s)
	gauge := func(name string) float64 {
		t.Helper()
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() == name {
				return f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatalf("no metric %s", name)
		return 0
	}
	if n, age := gauge("inbox_queued_changes"), gauge("inbox_queued_changes_oldest_seconds"); n != 0 || age != 0 {
		t.Fatalf("empty queue: %v changes, oldest %vs; want 0 and 0", n, age)
	}
	for i := range 2 {
		if err := s.QueueChange(ctx, store.QueuedChange{WorkspaceID: ws.WorkspaceID, ConversationID: res.ConversationID,
			UpdateID: fmt.Sprintf("metrics-%d", i), UpdateName: "transition", UpdateArg: []byte(`{"to":"closed"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n, age := gauge("inbox_queued_changes"), gauge("inbox_queued_changes_oldest_seconds"); n != 2 || age <= 0 || age > 60 {
		t.Fatalf("two queued: %v changes, oldest %vs; want 2, and a few milliseconds", n, age)
	}
}
