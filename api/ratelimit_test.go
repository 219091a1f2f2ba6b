package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/api"
	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/policies"
	"github.com/bestai/inbox/workflows"
)

// wantRateLimited checks a 429 `rate_limited` with a Retry-After in seconds whose message
// names the limit.
func wantRateLimited(t *testing.T, res testenv.Response, limit string) {
	t.Helper()
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.Code != http.StatusTooManyRequests || res.ErrorCode() != "rate_limited" || err != nil || secs < 1 {
		t.Fatalf("want 429 rate_limited with Retry-After: %d %s Retry-After=%q", res.Code, res.Body, res.Header.Get("Retry-After"))
	}
	if !strings.Contains(string(res.Body), limit) {
		t.Errorf("the message does not name the %s limit: %s", limit, res.Body)
	}
}

// Two API replicas sharing one database share each key's bucket. The rate is so slow (one
// token every 1000s) that no refill can happen during the test, however busy the machine.
func TestIngestKeyLimitHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{IngestRate: 0.001, IngestBurst: 3})
	authz, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	replicaA := env.Router
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	replicaB := api.NewRouter(api.Deps{
		App: app.New(app.Service{Store: env.Store, Lifecycle: workflows.Lifecycle{Client: env.Client},
			Authorizer: authz, Secrets: env.Secrets, Logger: logger}),
		Logger:     logger,
		IngestRate: 0.001, IngestBurst: 3, IngestConversationRate: 1000, IngestConversationBurst: 1000,
	})
	ws := env.NewWorkspace("Replicas Co")
	other := env.NewWorkspace("Replicas Other")
	on := func(router *gin.Engine, key, ref string) testenv.Response {
		t.Helper()
		env.Router = router
		return env.Ingest(key, ingestBody(ref, "hello"))
	}
	// The burst of 3 is spent across both replicas, one conversation each so that only the
	// key's limit is in play.
	for i, r := range []*gin.Engine{replicaA, replicaB, replicaA} {
		if res := on(r, ws.IngestKey, fmt.Sprint("c", i)); res.Code != http.StatusCreated {
			t.Fatalf("message %d within the burst: %d %s", i, res.Code, res.Body)
		}
	}
	wantRateLimited(t, on(replicaB, ws.IngestKey, "c3"), "ingest key")
	wantRateLimited(t, on(replicaA, ws.IngestKey, "c4"), "ingest key")
	// Another workspace's key has its own bucket.
	if res := on(replicaB, other.IngestKey, "c0"); res.Code != http.StatusCreated {
		t.Fatalf("another key: %d %s", res.Code, res.Body)
	}
}

// One noisy conversation is refused while another conversation of the same key is still
// served, and the noisy one's refused messages do not spend the key's tokens.
func TestIngestConversationLimit(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{IngestRate: 0.001, IngestBurst: 4, ConversationRate: 0.001, ConversationBurst: 2})
	ws := env.NewWorkspace("Noisy Co")
	for i := range 2 {
		if res := env.Ingest(ws.IngestKey, ingestBody("noisy", fmt.Sprint("n", i))); res.Code >= 300 {
			t.Fatalf("noisy message %d within its burst: %d %s", i, res.Code, res.Body)
		}
	}
	for i := range 5 {
		wantRateLimited(t, env.Ingest(ws.IngestKey, ingestBody("noisy", fmt.Sprint("refused ", i))), "conversation")
	}
	// The key has spent 2 of its 4 tokens: the quiet conversation gets the other two.
	for i := range 2 {
		res := env.Ingest(ws.IngestKey, ingestBody("quiet", fmt.Sprint("q", i)))
		if want := []int{http.StatusCreated, http.StatusOK}[i]; res.Code != want {
			t.Fatalf("quiet message %d: %d %s, want %d", i, res.Code, res.Body, want)
		}
	}
	wantRateLimited(t, env.Ingest(ws.IngestKey, ingestBody("other", "past the key's burst")), "ingest key")
}
