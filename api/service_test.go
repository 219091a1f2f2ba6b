package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
)

func TestServiceEndpoints(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	if res := env.Do(http.MethodGet, "/healthz", nil); res.Code != http.StatusOK {
		t.Errorf("healthz: %d", res.Code)
	}
	res := env.Do(http.MethodGet, "/readyz", nil)
	if res.Code != http.StatusOK || strings.TrimSpace(string(res.Body)) != `{"postgres":"ok","temporal":"ok"}` {
		t.Errorf("readyz: %d %s", res.Code, res.Body)
	}
	res = env.Do(http.MethodGet, "/metrics", nil)
	if res.Code != http.StatusOK || !strings.Contains(string(res.Body), `inbox_http_requests_total{method="GET",route="/readyz",status="200"} 1`) {
		t.Errorf("metrics do not count the readyz request: %d\n%s", res.Code, res.Body)
	}
	if res := env.Do(http.MethodGet, "/api/v1/nothing-here", nil); res.Code != http.StatusNotFound || res.ErrorCode() != "not_found" {
		t.Errorf("unknown path: %d %s", res.Code, res.Body)
	}
	if res := env.Do(http.MethodDelete, "/healthz", nil); res.Code != http.StatusMethodNotAllowed {
		t.Errorf("wrong method: %d %s", res.Code, res.Body)
	}
}

// readyz must say which dependency is down, and answer 503.
func TestReadyzReportsPostgresDown(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	if err := env.Store.Close(); err != nil {
		t.Fatal(err)
	}
	res := env.Do(http.MethodGet, "/readyz", nil)
	if res.Code != http.StatusServiceUnavailable || !strings.Contains(string(res.Body), `"temporal":"ok"`) || strings.Contains(string(res.Body), `"postgres":"ok"`) {
		t.Errorf("readyz with Postgres closed: %d %s", res.Code, res.Body)
	}
}
