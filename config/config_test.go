package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.TemporalNamespace != "default" || c.SummaryModel != "gpt-4o-mini" || c.WorkerStopTimeout != 30*time.Second {
		t.Errorf("defaults not applied: %+v", c)
	}
	// Shards 0 lets the store choose: 4 for Postgres, 1 for SQLite (devserver).
	if c.TemporalStore != "postgres" || c.TemporalShards != 0 {
		t.Errorf("Temporal store defaults: %q with %d shards", c.TemporalStore, c.TemporalShards)
	}
	if c.SecretKey != nil || len(c.TrustedProxies) != 0 {
		t.Errorf("unexpected optional values: %+v", c)
	}
}

// SQLite stays an option, for a machine without Postgres connections to spare.
func TestTemporalStoreSQLiteIsAccepted(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"INBOX_TEMPORAL_STORE": "sqlite"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TemporalStore != "sqlite" || c.TemporalShards != 0 {
		t.Errorf("INBOX_TEMPORAL_STORE=sqlite: %q with %d shards", c.TemporalStore, c.TemporalShards)
	}
}

func TestEveryBadValueIsNamed(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"DATABASE_URL":              "mysql://x",
		"INBOX_HTTP_ADDR":           "8080",
		"OPENAI_BASE_URL":           "ftp://x",
		"INBOX_SECRET_KEY":          "c2hvcnQ=",
		"INBOX_TRUSTED_PROXIES":     "10.0.0.0/8, nonsense",
		"INBOX_WORKER_STOP_TIMEOUT": "-5s",
		"INBOX_API_TOKEN_TTL":       "5m",
		"INBOX_TEMPORAL_STORE":      "mysql",
		"INBOX_TEMPORAL_SHARDS":     "0",
	}))
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for _, name := range []string{"DATABASE_URL", "INBOX_HTTP_ADDR", "OPENAI_BASE_URL", "INBOX_SECRET_KEY", `"nonsense"`, "INBOX_WORKER_STOP_TIMEOUT", "INBOX_API_TOKEN_TTL", "INBOX_TEMPORAL_STORE", "INBOX_TEMPORAL_SHARDS"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestTrustedProxiesAndDevKey(t *testing.T) {
	dir := t.TempDir()
	c, err := FromEnv(env(map[string]string{"INBOX_TRUSTED_PROXIES": "10.1.2.3/8,192.168.0.1", "INBOX_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[0].String() != "10.0.0.0/8" || c.TrustedProxies[1].String() != "192.168.0.1/32" {
		t.Errorf("proxies = %v", c.TrustedProxies)
	}
	if c.RequireSecretKey() == nil {
		t.Error("missing secret key accepted outside dev")
	}
	k1, err := c.DevSecretKey()
	if err != nil || len(k1) != 32 {
		t.Fatalf("dev key: %v", err)
	}
	k2, _ := c.DevSecretKey()
	if string(k1) != string(k2) {
		t.Error("dev key is not stable across starts")
	}
}

func TestPublicURL(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "http://127.0.0.1:8080"},
		{map[string]string{"INBOX_HTTP_ADDR": "0.0.0.0:9000"}, "http://localhost:9000"},
		{map[string]string{"INBOX_HTTP_ADDR": ":9000"}, "http://localhost:9000"},
		{map[string]string{"INBOX_HTTP_ADDR": "[::]:9000"}, "http://localhost:9000"},
		{map[string]string{"INBOX_PUBLIC_URL": "https://inbox.example.com/"}, "https://inbox.example.com"},
		{map[string]string{"INBOX_PUBLIC_URL": "https://example.com/inbox"}, "https://example.com/inbox"},
	} {
		c, err := FromEnv(env(tc.env))
		if err != nil || c.PublicURL != tc.want {
			t.Errorf("%v: PublicURL = %q, %v; want %q", tc.env, c.PublicURL, err, tc.want)
		}
	}
	for _, bad := range []string{"inbox.example.com", "ftp://x", "https://x/?a=b", "http://"} {
		if _, err := FromEnv(env(map[string]string{"INBOX_PUBLIC_URL": bad})); err == nil || !strings.Contains(err.Error(), "INBOX_PUBLIC_URL") {
			t.Errorf("INBOX_PUBLIC_URL=%q: %v", bad, err)
		}
	}
}

func TestTemporalUIURL(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil || c.TemporalUIURL != "" {
		t.Errorf("unset: %q, %v; want no link", c.TemporalUIURL, err)
	}
	c, err = FromEnv(env(map[string]string{"INBOX_TEMPORAL_UI_URL": "https://temporal.example.com/"}))
	if err != nil || c.TemporalUIURL != "https://temporal.example.com" {
		t.Errorf("set: %q, %v", c.TemporalUIURL, err)
	}
	for _, bad := range []string{"temporal.example.com", "javascript:alert(1)", "http://"} {
		if _, err := FromEnv(env(map[string]string{"INBOX_TEMPORAL_UI_URL": bad})); err == nil || !strings.Contains(err.Error(), "INBOX_TEMPORAL_UI_URL") {
			t.Errorf("INBOX_TEMPORAL_UI_URL=%q: %v", bad, err)
		}
	}
}
