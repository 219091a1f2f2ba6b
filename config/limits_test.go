package config

import (
	"strings"
	"testing"
)

func TestIngestLimitDefaultsAndOverrides(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.IngestRate != 200 || c.IngestBurst != 400 || c.IngestConversationRate != 5 || c.IngestConversationBurst != 20 || c.PprofAddr != "" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = FromEnv(env(map[string]string{
		"INBOX_INGEST_RATE": "1000", "INBOX_INGEST_BURST": "2000",
		"INBOX_INGEST_CONVERSATION_RATE": "0.5", "INBOX_INGEST_CONVERSATION_BURST": "3",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.IngestRate != 1000 || c.IngestBurst != 2000 || c.IngestConversationRate != 0.5 || c.IngestConversationBurst != 3 {
		t.Errorf("overrides: %+v", c)
	}
}

func TestBadIngestLimitsAreNamed(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"INBOX_INGEST_RATE":               "0",
		"INBOX_INGEST_BURST":              "1.5",
		"INBOX_INGEST_CONVERSATION_RATE":  "NaN",
		"INBOX_INGEST_CONVERSATION_BURST": "-1",
	}))
	if err == nil {
		t.Fatal("bad limits accepted")
	}
	for _, name := range []string{"INBOX_INGEST_RATE:", "INBOX_INGEST_BURST:", "INBOX_INGEST_CONVERSATION_RATE:", "INBOX_INGEST_CONVERSATION_BURST:"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestPprofAddrMustBeLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true,
		"[::1]:6060":     true,
		"localhost:6060": true,
		"127.0.0.2:6060": true,
		":6060":          false, // every interface
		"0.0.0.0:6060":   false,
		"10.0.0.5:6060":  false,
		"[::]:6060":      false,
		"example.com:80": false,
		"6060":           false,
	} {
		c, err := FromEnv(env(map[string]string{"INBOX_PPROF_ADDR": addr}))
		if ok && (err != nil || c.PprofAddr != addr) {
			t.Errorf("%s refused: %v", addr, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "INBOX_PPROF_ADDR")) {
			t.Errorf("%s accepted, or the error does not name INBOX_PPROF_ADDR: %v", addr, err)
		}
	}
}

// /metrics has its own listener: loopback unless the operator names another address,
// which is honoured (a scraper on another host); off turns it off.
func TestMetricsAddr(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil || c.MetricsAddr != "127.0.0.1:9464" {
		t.Errorf("default INBOX_METRICS_ADDR = %q (%v), want 127.0.0.1:9464", c.MetricsAddr, err)
	}
	for raw, want := range map[string]string{
		"0.0.0.0:9464":   "0.0.0.0:9464",
		":9100":          ":9100",
		"[::1]:9464":     "[::1]:9464",
		"10.0.0.5:9464":  "10.0.0.5:9464",
		"off":            "",
		"OFF":            "",
		" 127.0.0.1:0 ":  "127.0.0.1:0",
		"metrics.lan:80": "metrics.lan:80",
	} {
		c, err := FromEnv(env(map[string]string{"INBOX_METRICS_ADDR": raw}))
		if err != nil || c.MetricsAddr != want {
			t.Errorf("INBOX_METRICS_ADDR=%q: %q (%v), want %q", raw, c.MetricsAddr, err, want)
		}
	}
	for _, raw := range []string{"9464", "127.0.0.1", "127.0.0.1:", "no"} {
		if _, err := FromEnv(env(map[string]string{"INBOX_METRICS_ADDR": raw})); err == nil || !strings.Contains(err.Error(), "INBOX_METRICS_ADDR") {
			t.Errorf("INBOX_METRICS_ADDR=%q accepted, or the error does not name it: %v", raw, err)
		}
	}
}

func TestConcurrencyLimitsDefaultsOverridesAndErrors(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxUpdatesInFlight != 256 || c.SummaryConcurrency != 8 || c.DBMaxConns != 32 || c.TemporalDBMaxConns != 10 {
		t.Errorf("defaults: in flight %d, summaries %d, database connections %d", c.MaxUpdatesInFlight, c.SummaryConcurrency, c.DBMaxConns)
	}
	c, err = FromEnv(env(map[string]string{"INBOX_MAX_UPDATES_IN_FLIGHT": "32", "INBOX_SUMMARY_CONCURRENCY": "2", "INBOX_DB_MAX_CONNS": "6", "INBOX_TEMPORAL_DB_MAX_CONNS": "3"}))
	if err != nil || c.MaxUpdatesInFlight != 32 || c.SummaryConcurrency != 2 || c.DBMaxConns != 6 || c.TemporalDBMaxConns != 3 {
		t.Errorf("overrides: %v, in flight %d, summaries %d, database connections %d", err, c.MaxUpdatesInFlight, c.SummaryConcurrency, c.DBMaxConns)
	}
	_, err = FromEnv(env(map[string]string{"INBOX_MAX_UPDATES_IN_FLIGHT": "0", "INBOX_SUMMARY_CONCURRENCY": "many", "INBOX_DB_MAX_CONNS": "0", "INBOX_TEMPORAL_DB_MAX_CONNS": "101"}))
	for _, name := range []string{"INBOX_MAX_UPDATES_IN_FLIGHT:", "INBOX_SUMMARY_CONCURRENCY:", "INBOX_DB_MAX_CONNS:", "INBOX_TEMPORAL_DB_MAX_CONNS:"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestWorkerPollersAndTemporalCommitSettings(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.WorkflowPollers != 8 || c.ActivityPollers != 8 || c.TemporalSynchronousCommit != "on" {
		t.Errorf("defaults: workflow pollers %d, activity pollers %d, synchronous_commit %q", c.WorkflowPollers, c.ActivityPollers, c.TemporalSynchronousCommit)
	}
	c, err = FromEnv(env(map[string]string{"INBOX_WORKER_WORKFLOW_POLLERS": "16", "INBOX_WORKER_ACTIVITY_POLLERS": "4", "INBOX_TEMPORAL_SYNCHRONOUS_COMMIT": "off"}))
	if err != nil || c.WorkflowPollers != 16 || c.ActivityPollers != 4 || c.TemporalSynchronousCommit != "off" {
		t.Errorf("overrides: %v, %d, %d, %q", err, c.WorkflowPollers, c.ActivityPollers, c.TemporalSynchronousCommit)
	}
	_, err = FromEnv(env(map[string]string{"INBOX_WORKER_WORKFLOW_POLLERS": "0", "INBOX_WORKER_ACTIVITY_POLLERS": "65", "INBOX_TEMPORAL_SYNCHRONOUS_COMMIT": "never"}))
	for _, name := range []string{"INBOX_WORKER_WORKFLOW_POLLERS:", "INBOX_WORKER_ACTIVITY_POLLERS:", "INBOX_TEMPORAL_SYNCHRONOUS_COMMIT:"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}
