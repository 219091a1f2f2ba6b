package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

// received is one request a test receiver got, and what it answered.
type received struct {
	ID, Timestamp, Signature string
	Header                   http.Header
	Body                     []byte
	At                       time.Time
	Answered                 int
}

// receiver is a webhook endpoint on loopback. answer decides the status of its n-th
// request (0-based) and may set headers; nil answers 200.
type receiver struct {
	mu     sync.Mutex
	got    []received
	answer func(n int, h http.Header) int
	srv    *httptest.Server
}

func newReceiver(t *testing.T, answer func(n int, h http.Header) int) *receiver {
	r := &receiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		code := http.StatusOK
		if r.answer != nil {
			code = r.answer(n, w.Header())
		}
		r.got = append(r.got, received{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
			Signature: req.Header.Get("webhook-signature"), Header: req.Header.Clone(), Body: body, At: time.Now(), Answered: code})
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// verify checks a request's signature with the Svix library, independent of the
// Standard Webhooks library that signed it.
func verify(t *testing.T, secret string, got received) {
	t.Helper()
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got.Body, got.Header); err != nil {
		t.Errorf("signature of %s does not verify with %s...: %v (header %q)", got.ID, secret[:10], err, got.Signature)
	}
}

type webhookJSON struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Events         []string `json:"events"`
	Enabled        bool     `json:"enabled"`
	DisabledReason *string  `json:"disabled_reason"`
	CreatedAt      string   `json:"created_at"`
}

type deliveryJSON struct {
	ID             string  `json:"id"`
	Event          string  `json:"event"`
	WebhookID      string  `json:"webhook_id"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	LastStatusCode *int    `json:"last_status_code"`
	LastError      *string `json:"last_error"`
	CreatedAt      string  `json:"created_at"`
	DeliveredAt    *string `json:"delivered_at"`
}

type eventJSON struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

func hooksPath(ws testenv.Workspace, suffix string) string {
	return fmt.Sprintf("/api/v1/workspaces/%s/webhooks%s", ws.WorkspaceID, suffix)
}

func createWebhook(t *testing.T, env *testenv.Env, ws testenv.Workspace, url string, events ...string) (webhookJSON, string) {
	t.Helper()
	if len(events) == 0 {
		for _, e := range domain.WebhookEvents {
			events = append(events, string(e))
		}
	}
	res := env.As(ws.OwnerToken, http.MethodPost, hooksPath(ws, ""), map[string]any{"url": url, "events": events})
	if res.Code != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", res.Code, res.Body)
	}
	var out struct {
		Webhook webhookJSON `json:"webhook"`
		Secret  string      `json:"secret"`
	}
	res.JSON(t, &out)
	return out.Webhook, out.Secret
}

func deliveries(t *testing.T, env *testenv.Env, ws testenv.Workspace, hook string) []deliveryJSON {
	t.Helper()
	res := env.As(ws.OwnerToken, http.MethodGet, hooksPath(ws, "/"+hook+"/deliveries?limit=200"), nil)
	if res.Code != http.StatusOK {
		t.Fatalf("deliveries: %d %s", res.Code, res.Body)
	}
	var page struct {
		Items []deliveryJSON `json:"items"`
	}
	res.JSON(t, &page)
	return page.Items
}

// waitDelivery waits until the webhook's only delivery has status want, and returns it.
func waitDelivery(t *testing.T, env *testenv.Env, ws testenv.Workspace, hook, want string, timeout time.Duration) deliveryJSON {
	t.Helper()
	var d deliveryJSON
	testenv.Eventually(t, timeout, "a delivery "+want, func() bool {
		items := deliveries(t, env, ws, hook)
		if len(items) == 0 {
			return false
		}
		d = items[0]
		return d.Status == want
	})
	return d
}

func TestWebhookCRUDRolesAndLimits(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	ws := env.NewWorkspace("Hooks Co")
	other := env.NewWorkspace("Other Hooks Co")
	_, support, _ := env.Store.AddMember(ctx, ws.WorkspaceID, "support@hooks.example", "S", domain.Support)
	_, viewer, _ := env.Store.AddMember(ctx, ws.WorkspaceID, "viewer@hooks.example", "V", domain.Viewer)
	_, admin, _ := env.Store.AddMember(ctx, ws.WorkspaceID, "admin@hooks.example", "A", domain.Admin)

	hook, secret := createWebhook(t, env, ws, "https://example.com/hooks/inbox", "message.created", "message.created", "lead.status_changed")
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Fatalf("secret %q", secret)
	}
	if !hook.Enabled || hook.URL != "https://example.com/hooks/inbox" || strings.Join(hook.Events, ",") != "message.created,lead.status_changed" {
		t.Fatalf("created %+v", hook)
	}
	// The secret is shown once: never again, and not stored in the clear.
	for _, path := range []string{hooksPath(ws, ""), hooksPath(ws, "/"+hook.ID)} {
		if res := env.As(ws.OwnerToken, http.MethodGet, path, nil); res.Code != 200 || strings.Contains(string(res.Body), secret) || strings.Contains(string(res.Body), "whsec_") {
			t.Errorf("GET %s: %d %s", path, res.Code, res.Body)
		}
	}
	var plain int
	if err := env.Store.DB.NewRaw("SELECT count(*) FROM webhooks WHERE position(? in encode(secret_sealed, 'escape')) > 0", secret[6:]).Scan(ctx, &plain); err != nil || plain != 0 {
		t.Errorf("the secret is stored in the clear (%d, %v)", plain, err)
	}

	// Support and viewer may not; admin may.
	for _, tok := range []string{support, viewer} {
		for _, req := range [][2]string{{"GET", hooksPath(ws, "")}, {"POST", hooksPath(ws, "")}, {"GET", hooksPath(ws, "/"+hook.ID)},
			{"PATCH", hooksPath(ws, "/"+hook.ID)}, {"DELETE", hooksPath(ws, "/"+hook.ID)}, {"GET", hooksPath(ws, "/"+hook.ID+"/deliveries")}} {
			if res := env.As(tok, req[0], req[1], map[string]any{"enabled": false}); res.Code != http.StatusForbidden {
				t.Errorf("%s %s as support/viewer: %d %s", req[0], req[1], res.Code, res.Body)
			}
		}
	}
	if res := env.As(admin, http.MethodGet, hooksPath(ws, "/"+hook.ID), nil); res.Code != http.StatusOK {
		t.Errorf("admin GET: %d %s", res.Code, res.Body)
	}
	// Another workspace's ids are 404, through our workspace or theirs.
	otherHook, _ := createWebhook(t, env, other, "https://example.org/x")
	for _, req := range [][2]string{{"GET", "/" + otherHook.ID}, {"PATCH", "/" + otherHook.ID}, {"DELETE", "/" + otherHook.ID},
		{"POST", "/" + otherHook.ID + "/rotate-secret"}, {"GET", "/" + otherHook.ID + "/deliveries"}} {
		if res := env.As(ws.OwnerToken, req[0], hooksPath(ws, req[1]), map[string]any{"enabled": false}); res.Code != http.StatusNotFound {
			t.Errorf("%s %s of another workspace: %d %s", req[0], req[1], res.Code, res.Body)
		}
	}
	if res := env.As(ws.OwnerToken, http.MethodGet, hooksPath(other, "/"+otherHook.ID), nil); res.Code != http.StatusNotFound {
		t.Errorf("GET in a workspace not ours: %d", res.Code)
	}

	// Bad input: 400, nothing stored.
	for _, body := range []any{
		map[string]any{"url": "ftp://example.com/x", "events": []string{"message.created"}},
		map[string]any{"url": "/relative", "events": []string{"message.created"}},
		map[string]any{"url": "https://user:pw@example.com/", "events": []string{"message.created"}},
		map[string]any{"url": "https://example.com/" + strings.Repeat("a", 3000), "events": []string{"message.created"}},
		map[string]any{"url": "https://example.com/", "events": []string{}},
		map[string]any{"url": "https://example.com/", "events": []string{"message.deleted"}},
		map[string]any{"url": "https://example.com/", "events": []string{"message.created"}, "secret": "mine"},
		`{"url": "https://example.com/", "events": "message.created"}`,
		`not json`,
	} {
		if res := env.As(ws.OwnerToken, http.MethodPost, hooksPath(ws, ""), body); res.Code != http.StatusBadRequest {
			t.Errorf("POST %v: want 400, got %d %s", body, res.Code, res.Body)
		}
	}
	for _, body := range []any{map[string]any{}, map[string]any{"url": "gopher://x"}, map[string]any{"events": []string{"nope"}}, map[string]any{"enabled": "yes"}} {
		if res := env.As(ws.OwnerToken, http.MethodPatch, hooksPath(ws, "/"+hook.ID), body); res.Code != http.StatusBadRequest {
			t.Errorf("PATCH %v: want 400, got %d %s", body, res.Code, res.Body)
		}
	}
	if res := env.As(ws.OwnerToken, http.MethodGet, hooksPath(ws, "/not-a-uuid"), nil); res.Code != http.StatusBadRequest {
		t.Errorf("bad id: %d", res.Code)
	}

	// PATCH each field.
	res := env.As(ws.OwnerToken, http.MethodPatch, hooksPath(ws, "/"+hook.ID),
		map[string]any{"url": "https://example.com/v2", "events": []string{"summary.ready"}, "enabled": false})
	var patched webhookJSON
	res.JSON(t, &patched)
	if res.Code != 200 || patched.URL != "https://example.com/v2" || patched.Enabled || strings.Join(patched.Events, ",") != "summary.ready" {
		t.Fatalf("patch: %d %s", res.Code, res.Body)
	}

	// Paged list, newest first; at most MaxWebhooks (10).
	for i := 0; i < 9; i++ {
		createWebhook(t, env, ws, fmt.Sprintf("https://example.com/%d", i), "message.created")
	}
	if res := env.As(ws.OwnerToken, http.MethodPost, hooksPath(ws, ""), map[string]any{"url": "https://example.com/11", "events": []string{"message.created"}}); res.Code != http.StatusConflict {
		t.Errorf("11th webhook: want 409, got %d %s", res.Code, res.Body)
	}
	seen := map[string]bool{}
	path := hooksPath(ws, "?limit=4")
	for pages := 0; path != ""; pages++ {
		res := env.As(ws.OwnerToken, http.MethodGet, path, nil)
		var page struct {
			Items      []webhookJSON `json:"items"`
			NextCursor *string       `json:"next_cursor"`
		}
		res.JSON(t, &page)
		for _, w := range page.Items {
			seen[w.ID] = true
		}
		path = ""
		if page.NextCursor != nil {
			path = hooksPath(ws, "?limit=4&cursor="+*page.NextCursor)
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 10 {
		t.Errorf("paged through %d webhooks, want 10", len(seen))
	}
	if res := env.As(ws.OwnerToken, http.MethodGet, hooksPath(ws, "?limit=500"), nil); res.Code != http.StatusBadRequest {
		t.Errorf("limit=500: %d", res.Code)
	}

	// Rotation returns a new secret; deletion is 204 then 404.
	res = env.As(ws.OwnerToken, http.MethodPost, hooksPath(ws, "/"+hook.ID+"/rotate-secret"), nil)
	var rotated struct {
		Secret string `json:"secret"`
	}
	res.JSON(t, &rotated)
	if res.Code != 200 || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == secret {
		t.Errorf("rotate: %d %s", res.Code, res.Body)
	}
	if res := env.As(ws.OwnerToken, http.MethodDelete, hooksPath(ws, "/"+hook.ID), nil); res.Code != http.StatusNoContent {
		t.Errorf("delete: %d %s", res.Code, res.Body)
	}
	if res := env.As(ws.OwnerToken, http.MethodGet, hooksPath(ws, "/"+hook.ID), nil); res.Code != http.StatusNotFound {
		t.Errorf("get after delete: %d", res.Code)
	}
	// The writes are audited at workspace level.
	var audited int
	if err := env.Store.DB.NewRaw("SELECT count(*) FROM audit_log WHERE workspace_id = ? AND action LIKE 'webhook_%'", ws.WorkspaceID).Scan(ctx, &audited); err != nil || audited != 1+1+9+1+1 {
		t.Errorf("audited webhook writes: %d (%v), want 13", audited, err)
	}
}

// TestEachEventIsEmittedByItsAction drives every action and checks the events that arrive,
// signed, once each; repeated (idempotent) writes emit nothing.
func TestEachEventIsEmittedByItsAction(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Events Co")
	rcv := newReceiver(t, nil)
	hook, secret := createWebhook(t, env, ws, rcv.srv.URL+"/hook")
	// Another workspace's events never reach this endpoint.
	other := env.NewWorkspace("Quiet Co")
	newConversation(t, env, other, "elsewhere")

	first := map[string]any{"conversation_ref": "ev-1", "channel": "chat", "message": map[string]any{"id": "m-1", "role": "visitor", "text": "Hello"}}
	res := env.Ingest(ws.IngestKey, first)
	var ing struct {
		ConversationID string `json:"conversation_id"`
	}
	res.JSON(t, &ing)
	conv := ing.ConversationID
	env.Ingest(ws.IngestKey, first) // the same message id again: nothing new
	env.Ingest(ws.IngestKey, map[string]any{"conversation_ref": "ev-1", "channel": "chat", "message": map[string]any{"role": "visitor", "text": "Anyone?"}})

	if res := setState(env, ws, conv, "pending"); res.Code != 200 {
		t.Fatalf("pending: %d %s", res.Code, res.Body)
	}
	owner, err := env.Store.MemberOf(context.Background(), ws.WorkspaceID, ws.OwnerUserID)
	if err != nil {
		t.Fatal(err)
	}
	if res := env.As(ws.OwnerToken, http.MethodPut, convPath(ws, conv, "/assignee"), map[string]any{"user_id": owner.UserID}); res.Code != 200 {
		t.Fatalf("assign: %d %s", res.Code, res.Body)
	}
	var detail struct {
		Lead struct {
			ID string `json:"id"`
		} `json:"lead"`
	}
	env.As(ws.OwnerToken, http.MethodGet, convPath(ws, conv, ""), nil).JSON(t, &detail)
	leadPath := fmt.Sprintf("/api/v1/workspaces/%s/leads/%s", ws.WorkspaceID, detail.Lead.ID)
	for range 2 { // the second sets the status it already has: no event
		if res := env.As(ws.OwnerToken, http.MethodPatch, leadPath, map[string]any{"status": "contacted"}); res.Code != 200 {
			t.Fatalf("lead: %d %s", res.Code, res.Body)
		}
	}
	// No key configured: closing starts a summary that fails.
	if res := setState(env, ws, conv, "closed"); res.Code != 200 {
		t.Fatalf("close: %d %s", res.Code, res.Body)
	}
	want := map[string]int{"conversation.created": 1, "message.created": 2, "conversation.state_changed": 2,
		"conversation.assigned": 1, "lead.status_changed": 1, "summary.failed": 1}
	count := func() map[string]int {
		got := map[string]int{}
		for _, r := range rcv.requests() {
			var ev eventJSON
			if err := json.Unmarshal(r.Body, &ev); err == nil {
				got[ev.Type]++
			}
		}
		return got
	}
	testenv.Eventually(t, 30*time.Second, "the events", func() bool { return fmt.Sprint(count()) == fmt.Sprint(want) })

	// With a key, a retried summary is ready.
	if res := env.As(ws.OwnerToken, http.MethodPut, fmt.Sprintf("/api/v1/workspaces/%s/settings/openai-key", ws.WorkspaceID),
		map[string]any{"api_key": "sk-test-events-1234"}); res.Code != 200 {
		t.Fatalf("byok: %d %s", res.Code, res.Body)
	}
	if res := env.As(ws.OwnerToken, http.MethodPost, convPath(ws, conv, "/summary/retry"), nil); res.Code != http.StatusAccepted {
		t.Fatalf("retry: %d %s", res.Code, res.Body)
	}
	want["summary.ready"] = 1
	testenv.Eventually(t, 30*time.Second, "summary.ready", func() bool { return fmt.Sprint(count()) == fmt.Sprint(want) })
	time.Sleep(time.Second) // nothing more arrives
	if got := count(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", got, want)
	}

	ids := map[string]bool{}
	for _, r := range rcv.requests() {
		verify(t, secret, r)
		if ids[r.ID] {
			t.Errorf("webhook-id %s delivered twice", r.ID)
		}
		ids[r.ID] = true
		var ev eventJSON
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Data["conversation_id"] != conv || ev.Data["workspace_id"] != ws.WorkspaceID.String() {
			t.Errorf("%s data %v: want conversation %s and workspace %s", ev.Type, ev.Data, conv, ws.WorkspaceID)
		}
		if _, err := time.Parse(time.RFC3339, ev.Timestamp); err != nil {
			t.Errorf("%s timestamp %q", ev.Type, ev.Timestamp)
		}
		switch ev.Type {
		case "conversation.state_changed":
			if ev.Data["to"] != "pending" && ev.Data["to"] != "closed" {
				t.Errorf("state_changed %v", ev.Data)
			}
		case "lead.status_changed":
			if ev.Data["from"] != "new" || ev.Data["to"] != "contacted" || ev.Data["lead_id"] != detail.Lead.ID {
				t.Errorf("lead.status_changed %v", ev.Data)
			}
		case "conversation.assigned":
			if a, _ := ev.Data["assignee"].(map[string]any); a["user_id"] != owner.UserID.String() {
				t.Errorf("assigned %v", ev.Data)
			}
		}
	}
	// Every delivery is recorded as succeeded.
	for _, d := range deliveries(t, env, ws, hook.ID) {
		if d.Status != "succeeded" || d.Attempts != 1 || d.LastStatusCode == nil || *d.LastStatusCode != 200 || d.DeliveredAt == nil || d.WebhookID != hook.ID {
			t.Errorf("delivery %+v", d)
		}
	}
}

// TestRetriesUntilAcceptedOnceWithTheSameID: a receiver that fails five times then succeeds
// gets the event accepted exactly once, under one webhook-id, every attempt recorded.
func TestRetriesUntilAcceptedOnceWithTheSameID(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Retry Co")
	rcv := newReceiver(t, func(n int, _ http.Header) int {
		if n < 5 {
			return []int{500, 502, 503, 404, 302}[n]
		}
		return http.StatusNoContent
	})
	hook, secret := createWebhook(t, env, ws, rcv.srv.URL, "conversation.created")
	newConversation(t, env, ws, "retry-1")
	d := waitDelivery(t, env, ws, hook.ID, "succeeded", 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	got := rcv.requests()
	if len(got) != 6 {
		t.Fatalf("receiver got %d requests, want 6", len(got))
	}
	ok := 0
	for _, r := range got {
		if r.ID != got[0].ID || r.ID != d.ID {
			t.Errorf("webhook-id %s, want %s on every attempt (delivery %s)", r.ID, got[0].ID, d.ID)
		}
		if r.Answered/100 == 2 {
			ok++
		}
		verify(t, secret, r)
		if string(r.Body) != string(got[0].Body) {
			t.Error("the body changed between attempts")
		}
	}
	if ok != 1 {
		t.Errorf("%d 2xx answers, want exactly 1", ok)
	}
	if d.Attempts != 6 || d.LastStatusCode == nil || *d.LastStatusCode != 204 || d.LastError != nil {
		t.Errorf("delivery %+v", d)
	}
	// Each attempt, with its status code, latency and error.
	res := env.As(ws.OwnerToken, http.MethodGet, hooksPath(ws, "/"+hook.ID+"/deliveries/"+d.ID), nil)
	var detail struct {
		Delivery   deliveryJSON `json:"delivery"`
		Body       eventJSON    `json:"body"`
		AttemptLog []struct {
			Attempt    int     `json:"attempt"`
			StatusCode *int    `json:"status_code"`
			LatencyMS  *int    `json:"latency_ms"`
			Error      *string `json:"error"`
		} `json:"attempt_log"`
	}
	res.JSON(t, &detail)
	if detail.Body.Type != "conversation.created" || detail.Delivery.ID != d.ID {
		t.Errorf("detail %s", res.Body)
	}
	if len(detail.AttemptLog) != 6 {
		t.Fatalf("attempt log %s", res.Body)
	}
	for i, a := range detail.AttemptLog {
		wantCode := []int{500, 502, 503, 404, 302, 204}[i]
		if a.Attempt != i+1 || a.StatusCode == nil || *a.StatusCode != wantCode || a.LatencyMS == nil || (i < 5) != (a.Error != nil) {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
	if !strings.Contains(*detail.AttemptLog[4].Error, "redirect") {
		t.Errorf("a 3xx is a failure, not followed: %q", *detail.AttemptLog[4].Error)
	}

	// Redeliver: the same webhook-id again, as a new run. It waits for the previous run to
	// end and the next 5 s sweep, which took over 30 s under the race detector in a CI run
	// that compiled other packages alongside.
	res = env.As(ws.OwnerToken, http.MethodPost, hooksPath(ws, "/"+hook.ID+"/deliveries/"+d.ID+"/redeliver"), nil)
	if res.Code != http.StatusAccepted {
		t.Fatalf("redeliver: %d %s", res.Code, res.Body)
	}
	testenv.Eventually(t, time.Minute, "the redelivery", func() bool { return len(rcv.requests()) == 7 })
	if r := rcv.requests()[6]; r.ID != d.ID {
		t.Errorf("redelivered under %s, want %s", r.ID, d.ID)
	}
	waitDelivery(t, env, ws, hook.ID, "succeeded", 10*time.Second)
}

// TestRedeliverIsRefusedWhileInFlight: 409 while retrying, 202 once given up.
func TestRedeliverIsRefusedWhileInFlight(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Flight Co")
	var mu sync.Mutex
	code := http.StatusInternalServerError
	rcv := newReceiver(t, func(int, http.Header) int { mu.Lock(); defer mu.Unlock(); return code })
	hook, _ := createWebhook(t, env, ws, rcv.srv.URL, "conversation.created")
	newConversation(t, env, ws, "flight-1")
	testenv.Eventually(t, 20*time.Second, "a few attempts", func() bool { return len(rcv.requests()) >= 2 })
	d := deliveries(t, env, ws, hook.ID)[0]
	path := hooksPath(ws, "/"+hook.ID+"/deliveries/"+d.ID+"/redeliver")
	if res := env.As(ws.OwnerToken, http.MethodPost, path, nil); res.Code != http.StatusConflict || res.ErrorCode() != "conflict" {
		t.Errorf("redeliver in flight: %d %s", res.Code, res.Body)
	}
	// 410: the endpoint is disabled, the delivery failed, nothing retried.
	mu.Lock()
	code = http.StatusGone
	mu.Unlock()
	failed := waitDelivery(t, env, ws, hook.ID, "failed", 20*time.Second)
	n := len(rcv.requests())
	var h webhookJSON
	env.As(ws.OwnerToken, http.MethodGet, hooksPath(ws, "/"+hook.ID), nil).JSON(t, &h)
	if h.Enabled || h.DisabledReason == nil || !strings.Contains(*h.DisabledReason, "410") {
		t.Errorf("after a 410: %+v", h)
	}
	if failed.LastStatusCode == nil || *failed.LastStatusCode != 410 {
		t.Errorf("failed delivery %+v", failed)
	}
	newConversation(t, env, ws, "flight-2") // a disabled endpoint gets no new deliveries
	time.Sleep(time.Second)
	if got := len(rcv.requests()); got != n {
		t.Errorf("%d more requests after the 410", got-n)
	}
	if got := len(deliveries(t, env, ws, hook.ID)); got != 1 {
		t.Errorf("%d deliveries, want 1", got)
	}
	// Enabled again, a redelivery of the failed one is accepted and arrives.
	mu.Lock()
	code = http.StatusOK
	mu.Unlock()
	env.As(ws.OwnerToken, http.MethodPatch, hooksPath(ws, "/"+hook.ID), map[string]any{"enabled": true})
	if res := env.As(ws.OwnerToken, http.MethodPost, path, nil); res.Code != http.StatusAccepted {
		t.Fatalf("redeliver failed: %d %s", res.Code, res.Body)
	}
	waitDelivery(t, env, ws, hook.ID, "succeeded", 20*time.Second)
	if last := rcv.requests()[len(rcv.requests())-1]; last.ID != d.ID || last.Answered != 200 {
		t.Errorf("redelivery %+v", last)
	}
}

// TestRetryAfterIsHonoured: the retry waits the receiver's Retry-After, not the (50ms)
// back-off of the test schedule.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Later Co")
	rcv := newReceiver(t, func(n int, h http.Header) int {
		if n == 0 {
			h.Set("Retry-After", "3")
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	})
	hook, _ := createWebhook(t, env, ws, rcv.srv.URL, "conversation.created")
	newConversation(t, env, ws, "later-1")
	waitDelivery(t, env, ws, hook.ID, "succeeded", 30*time.Second)
	got := rcv.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	if gap := got[1].At.Sub(got[0].At); gap < 2800*time.Millisecond || gap > 15*time.Second {
		t.Errorf("retried after %s, want about 3s (Retry-After)", gap)
	}
}

// TestPrivateAddressesAreRefused: with allow-private off, a literal private URL is a 400,
// and a name that resolves to loopback is refused when connecting, recorded as the error.
func TestPrivateAddressesAreRefused(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{WebhookDenyPrivate: true})
	ws := env.NewWorkspace("Private Co")
	rcv := newReceiver(t, nil)
	port := rcv.srv.URL[strings.LastIndex(rcv.srv.URL, ":"):]
	for _, u := range []string{rcv.srv.URL, "http://10.1.2.3/", "http://[::1]" + port, "http://169.254.169.254/latest/meta-data",
		"http://100.64.0.1/", "http://0.0.0.0" + port, "http://[fd00::1]/", "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/"} {
		res := env.As(ws.OwnerToken, http.MethodPost, hooksPath(ws, ""), map[string]any{"url": u, "events": []string{"conversation.created"}})
		if res.Code != http.StatusBadRequest || !strings.Contains(string(res.Body), "non-public") {
			t.Errorf("create %s: want 400, got %d %s", u, res.Code, res.Body)
		}
	}
	hook, _ := createWebhook(t, env, ws, "http://localhost"+port+"/hook", "conversation.created")
	newConversation(t, env, ws, "private-1")
	testenv.Eventually(t, 20*time.Second, "a refused attempt", func() bool {
		d := deliveries(t, env, ws, hook.ID)
		return len(d) == 1 && d[0].Attempts >= 2 && d[0].LastError != nil && strings.Contains(*d[0].LastError, "non-public")
	})
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("the receiver on loopback was reached %d times", n)
	}
	d := deliveries(t, env, ws, hook.ID)[0]
	if d.Status != "pending" || d.LastStatusCode != nil {
		t.Errorf("refused delivery %+v", d)
	}
}

// TestSecretRotationSignsWithBothSecrets: for a day after a rotation each webhook carries
// two signatures, and each secret verifies it.
func TestSecretRotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Rotate Co")
	rcv := newReceiver(t, nil)
	hook, oldSecret := createWebhook(t, env, ws, rcv.srv.URL, "conversation.created")
	res := env.As(ws.OwnerToken, http.MethodPost, hooksPath(ws, "/"+hook.ID+"/rotate-secret"), nil)
	var rotated struct {
		Webhook struct {
			SecretRotationEndsAt *time.Time `json:"secret_rotation_ends_at"`
		} `json:"webhook"`
		Secret string `json:"secret"`
	}
	res.JSON(t, &rotated)
	if res.Code != 200 || rotated.Webhook.SecretRotationEndsAt == nil ||
		time.Until(*rotated.Webhook.SecretRotationEndsAt) < 23*time.Hour {
		t.Fatalf("rotate: %d %s", res.Code, res.Body)
	}
	newConversation(t, env, ws, "rotate-1")
	testenv.Eventually(t, 20*time.Second, "the webhook", func() bool { return len(rcv.requests()) == 1 })
	got := rcv.requests()[0]
	sigs := strings.Fields(got.Signature)
	if len(sigs) != 2 || !strings.HasPrefix(sigs[0], "v1,") || !strings.HasPrefix(sigs[1], "v1,") {
		t.Fatalf("webhook-signature %q: want two v1 signatures", got.Signature)
	}
	verify(t, rotated.Secret, got)
	verify(t, oldSecret, got)
	// Only the new secret's signature verifies alone; the first signature is the new one.
	alone := got
	alone.Header = got.Header.Clone()
	alone.Header.Set("webhook-signature", sigs[0])
	verify(t, rotated.Secret, alone)
}

// TestEventsWaitInTheOutboxWhileTheWorkerIsDown: an event recorded while no worker (and so
// no dispatcher) runs stays in the outbox, undispatched, and is delivered once one starts.
func TestEventsWaitInTheOutboxWhileTheWorkerIsDown(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Outbox Co")
	rcv := newReceiver(t, nil)
	hook, _ := createWebhook(t, env, ws, rcv.srv.URL, "conversation.created")
	env.StopWorker()
	newConversation(t, env, ws, "outbox-1")
	time.Sleep(1500 * time.Millisecond) // three sweeps' worth, had a dispatcher been running
	var undispatched int
	if err := env.Store.DB.NewRaw("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = ? AND dispatched_at IS NULL",
		hook.ID).Scan(context.Background(), &undispatched); err != nil || undispatched != 1 {
		t.Fatalf("%d undispatched deliveries (%v), want 1", undispatched, err)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("%d requests with no worker", n)
	}
	env.StartWorker()
	waitDelivery(t, env, ws, hook.ID, "succeeded", 20*time.Second)
	if n := len(rcv.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestUnreadableSecretIsRetriedNotDropped: a worker that cannot open an endpoint's secret
// (here the sealed secret is damaged, as a replica with another INBOX_SECRET_KEY would see
// it) records each attempt with the reason and keeps retrying; once the secret can be
// opened again, the event is delivered, signed with it.
func TestUnreadableSecretIsRetriedNotDropped(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Sealed Co")
	rcv := newReceiver(t, nil)
	hook, secret := createWebhook(t, env, ws, rcv.srv.URL, "conversation.created")
	ctx := context.Background()
	var sealed []byte
	if err := env.Store.DB.NewRaw("SELECT secret_sealed FROM webhooks WHERE id = ?", hook.ID).Scan(ctx, &sealed); err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), sealed...)
	damaged[len(damaged)-1] ^= 0xff
	if _, err := env.Store.DB.ExecContext(ctx, "UPDATE webhooks SET secret_sealed = ? WHERE id = ?", damaged, hook.ID); err != nil {
		t.Fatal(err)
	}
	newConversation(t, env, ws, "sealed-1")
	var d deliveryJSON
	testenv.Eventually(t, 20*time.Second, "two failed attempts", func() bool {
		items := deliveries(t, env, ws, hook.ID)
		if len(items) == 0 {
			return false
		}
		d = items[0]
		return d.Attempts >= 2
	})
	if d.Status != "pending" || d.LastError == nil || !strings.Contains(*d.LastError, "cannot be decrypted") {
		t.Fatalf("delivery while the secret is unreadable: %+v (last error %v), want pending with the reason", d, d.LastError)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("%d requests sent without a readable secret", n)
	}
	if _, err := env.Store.DB.ExecContext(ctx, "UPDATE webhooks SET secret_sealed = ? WHERE id = ?", sealed, hook.ID); err != nil {
		t.Fatal(err)
	}
	waitDelivery(t, env, ws, hook.ID, "succeeded", 20*time.Second)
	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests after the secret was readable again, want 1", len(got))
	}
	verify(t, secret, got[0])
}
