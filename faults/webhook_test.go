package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/testenv"
)

// TestKillDuringWebhookBackoff: a receiver fails the first attempts of a webhook; the
// process is killed with SIGKILL while the delivery waits to retry, and restarted on the
// same data directory and database. The retry is Temporal's durable timer, so the webhook
// still arrives, once accepted, under the same webhook-id.
func TestKillDuringWebhookBackoff(t *testing.T) {
	suite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	type hit struct {
		id   string
		code int
		at   time.Time
	}
	var (
		mu   sync.Mutex
		hits []hit
	)
	const failures = 2
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		code := http.StatusOK
		if len(hits) < failures {
			code = http.StatusServiceUnavailable
		}
		hits = append(hits, hit{id: r.Header.Get("webhook-id"), code: code, at: time.Now()})
		mu.Unlock()
		w.WriteHeader(code)
	}))
	defer receiver.Close()
	seen := func() []hit { mu.Lock(); defer mu.Unlock(); return append([]hit(nil), hits...) }

	in := newInbox(t, testenv.AdminURL(), "http://127.0.0.1:9/v1")
	// Retries after 2s, then 5s apart: the back-off is long enough to kill the process in.
	in.env = []string{"INBOX_WEBHOOK_ALLOW_PRIVATE=true", "INBOX_WEBHOOK_RETRY_INITIAL=2s", "INBOX_WEBHOOK_RETRY_MAX=5s"}
	t.Logf("first start: ready in %.1fs", in.start(ctx).Seconds())
	api := newAPIClient(in)
	if a := api.admin(ctx, http.MethodPost, "/webhooks", nil, map[string]any{
		"url": receiver.URL + "/hook", "events": []string{"conversation.created"},
	}); a.Code != http.StatusCreated {
		t.Fatalf("create webhook: %s", a)
	}
	api.createConversation(ctx, t, fmt.Sprintf("webhook-kill-%d", rand.IntN(1e9)))

	if !waitFor(ctx, 60*time.Second, func() bool { return len(seen()) >= failures }) {
		t.Fatalf("the receiver got %d attempts in 60s, want %d", len(seen()), failures)
	}
	// Back-off begins once the failed attempt is recorded (under load that can come a moment
	// after the receiver answered; a kill in between is another seam).
	db := in.db()
	if !waitFor(ctx, 30*time.Second, func() bool {
		var attempts int
		err := db.QueryRowContext(ctx, "SELECT attempts FROM webhook_deliveries WHERE id = $1", seen()[0].id).Scan(&attempts)
		return err == nil && attempts == failures
	}) {
		t.Fatalf("the %d failed attempts were not recorded within 30s", failures)
	}
	in.kill9()
	killedAt := time.Now()
	if n := len(seen()); n != failures {
		t.Fatalf("the kill came too late: %d attempts already", n)
	}
	t.Logf("kill -9 %.1fs after the last failed attempt (the next retry is due 5s after it)", killedAt.Sub(seen()[failures-1].at).Seconds())

	readyIn := in.start(ctx)
	if !waitFor(ctx, 90*time.Second, func() bool { return len(seen()) > failures }) {
		t.Fatalf("no attempt within 90s of the restart")
	}
	sleepCtx(ctx, 3*time.Second) // nothing more should come
	got := seen()
	ok := 0
	for _, h := range got {
		if h.id == "" || h.id != got[0].id {
			t.Errorf("webhook-id %q, want %q on every attempt", h.id, got[0].id)
		}
		if h.code == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d accepted attempts, want exactly 1 (%d attempts in all)", ok, len(got))
	}
	var status string
	var attempts int
	if err := db.QueryRowContext(ctx, "SELECT status, attempts FROM webhook_deliveries WHERE id = $1", got[0].id).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != "succeeded" || attempts != len(got) {
		t.Errorf("delivery %s: status %s, %d attempts recorded; want succeeded and %d", got[0].id, status, attempts, len(got))
	}
	t.Logf("FIGURES kill -9 during webhook back-off: restart ready in %.1fs, delivered %.1fs after the kill, %d attempts, one webhook-id",
		readyIn.Seconds(), got[len(got)-1].at.Sub(killedAt).Seconds(), len(got))
}
