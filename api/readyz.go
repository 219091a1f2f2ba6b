package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

const (
	// readyTimeout bounds one round of checks; they run side by side.
	readyTimeout = 2 * time.Second
	// readyCacheFor lets a burst of unauthenticated /readyz calls share one round of checks
	// instead of each reaching Postgres and Temporal.
	readyCacheFor = time.Second
)

// readiness answers /readyz: 200 only when a conversation's workflow could run now
// (app.Service.Readiness says what is probed). The body carries one word per dependency;
// the errors, which name hosts and ports, go to the log only.
type readiness struct {
	deps Deps

	mu     sync.Mutex
	at     time.Time
	status int
	checks map[string]string
}

func newReadiness(d Deps) *readiness { return &readiness{deps: d} }

func (r *readiness) serve(c *gin.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.at) > readyCacheFor {
		r.status, r.checks = r.check()
		r.at = time.Now()
	}
	c.JSON(r.status, r.checks)
}

func (r *readiness) check() (int, map[string]string) {
	// Not the request's context: the result is shared with other callers for a moment, so
	// one caller hanging up must not turn it into "unavailable".
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	status, checks := http.StatusOK, map[string]string{}
	for name, err := range r.deps.App.Readiness(ctx) {
		checks[name] = "ok"
		if err != nil {
			checks[name], status = "unavailable", http.StatusServiceUnavailable
			r.deps.Logger.Warn("not ready", "dependency", name, "error", err)
		}
	}
	return status, checks
}
