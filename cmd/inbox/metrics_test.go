package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bestai/inbox/api"
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
