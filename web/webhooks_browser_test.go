package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// receiver is a webhook endpoint on loopback that answers 500 to the first failFirst
// requests and 204 after, and keeps each request's webhook-id and event type.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	ids       []string
	types     []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body bytes.Buffer
	_, _ = body.ReadFrom(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, req.Header.Get("webhook-id"))
	typ := ""
	if i := strings.Index(body.String(), `"type":"`); i >= 0 {
		typ, _, _ = strings.Cut(body.String()[i+len(`"type":"`):], `"`)
	}
	r.types = append(r.types, typ)
	if len(r.ids) <= r.failFirst {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) seen() (ids, types []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...), append([]string(nil), r.types...)
}

// TestWebhooksPageInBrowser: an owner adds a webhook on the page and sees its secret once;
// a visitor's message is delivered after a failed attempt, and the delivery log shows both
// attempts; Redeliver sends the same webhook-id again; the owner disables, rotates and
// deletes it, each checked through the API. A support member is refused the page in words,
// and their forged posts change nothing.
func TestWebhooksPageInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Hooks Co")
	e.SetPassword(testenv.OwnerEmail("Hooks Co"), password)
	addMember(t, e, ws, "sam@hooks.example", "Sam", "support")
	base := e.Serve("")
	recv := &receiver{failFirst: 1}
	target := httptest.NewServer(recv)
	t.Cleanup(target.Close)
	wsID := ws.WorkspaceID.String()
	list := base + web.WorkspacePath(wsID, web.SectionWebhooks)

	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("Hooks Co"), password)
	tab.Click(`nav.nav a[href$="/webhooks"]`)
	tab.WaitText(".empty", "No webhooks yet", 10*time.Second)

	// No event ticked: refused next to the form, nothing added.
	tab.Expect("/webhooks", http.StatusBadRequest)
	tab.Fill(`#webhook-url`, target.URL+"/hook")
	tab.Submit(`#webhook-url`)
	tab.WaitText(".webhook-form .error", "Events: give at least one", 10*time.Second)
	if got := tab.Text(".empty"); !strings.Contains(got, "No webhooks yet") {
		t.Errorf("after a refused add the list shows %q", got)
	}

	tab.Click(`input[name=events][value="message.created"]`)
	tab.Click(`input[name=events][value="conversation.state_changed"]`)
	tab.Submit(`#webhook-url`)
	tab.WaitText("#created-heading", "Webhook added", 10*time.Second)
	secret := browser.Eval[string](tab, `document.getElementById("webhook-secret").value`)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown: %q, want whsec_...", secret)
	}
	screenshot(t, tab, "webhooks")
	tab.Navigate(list)
	tab.WaitText("table.webhooks", target.URL, 10*time.Second)
	if page := browser.Eval[string](tab, `document.documentElement.outerHTML`); strings.Contains(page, secret) {
		t.Fatalf("the secret is shown again after a reload")
	}

	// A visitor's message: the first attempt gets a 500, the retry a 204.
	ingest(t, e, ws.IngestKey, "ref-hook", "Hana", "Hello hooks")
	tab.Click(`table.webhooks a`)
	tab.WaitText("h1", "Webhook", 10*time.Second)
	hookPage := tab.Location()
	deadline := time.Now().Add(20 * time.Second)
	for !tab.Exists(`tr[data-status=succeeded]`) {
		if time.Now().After(deadline) {
			t.Fatalf("no succeeded delivery on the page; it shows %q", tab.Text("main"))
		}
		time.Sleep(300 * time.Millisecond)
		tab.Navigate(hookPage)
		tab.WaitText("h1", "Webhook", 10*time.Second)
	}
	row := tab.Text(`tr[data-status=succeeded]`)
	if !strings.Contains(row, "message.created") || !strings.Contains(row, "HTTP 204") {
		t.Errorf("delivery row: %q, want message.created, last answer HTTP 204", row)
	}
	tab.Click(`tr[data-status=succeeded] a`)
	tab.WaitText(".attempts", "Attempts of", 10*time.Second)
	attempts := tab.Text(".attempts tbody")
	if !strings.Contains(attempts, "HTTP 500") || !strings.Contains(attempts, "HTTP 204") {
		t.Errorf("attempts: %q, want a 500 and then a 204", attempts)
	}
	screenshot(t, tab, "webhook-deliveries")

	// Redeliver: the same webhook-id once more.
	tab.Click(`tr[data-status=succeeded] form button`)
	tab.WaitText(".notice", "Redelivery queued", 10*time.Second)
	deadline = time.Now().Add(20 * time.Second)
	for {
		ids, types := recv.seen()
		if len(ids) >= 3 {
			if ids[0] == "" || ids[1] != ids[0] || ids[2] != ids[0] {
				t.Errorf("webhook-ids of the attempts and the redelivery: %q, want one id", ids)
			}
			for _, typ := range types {
				if typ != "message.created" {
					t.Errorf("event types received: %q, want only message.created (the conversation.created event was not ticked)", types)
					break
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the redelivery did not arrive: %q", ids)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Disable, rotate, delete; each seen through the API.
	tab.Navigate(hookPage)
	tab.Click(`#webhook-enabled`)
	tab.Submit(`#webhook-url`)
	tab.WaitText(".notice", "Saved", 10*time.Second)
	hookID := hookPage[strings.LastIndex(hookPage, "/")+1:]
	res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/webhooks/"+hookID), nil)
	if !bytes.Contains(res.Body, []byte(`"enabled":false`)) {
		t.Errorf("API after disabling on the page: %d %s", res.Code, res.Body)
	}
	tab.Click(`#rotate-secret`)
	tab.WaitText(".confirm", "Rotate the signing secret?", 10*time.Second)
	tab.Click(`.confirm button.primary`)
	tab.WaitText("#secret-heading", "New signing secret", 10*time.Second)
	if rotated := browser.Eval[string](tab, `document.getElementById("webhook-secret").value`); !strings.HasPrefix(rotated, "whsec_") || rotated == secret {
		t.Errorf("rotated secret %q: want a new whsec_ secret", rotated)
	}
	tab.Navigate(hookPage)
	tab.Click(`#delete-webhook`)
	tab.WaitText(".confirm", "Delete this webhook?", 10*time.Second)
	tab.Click(`.confirm button.danger`)
	tab.WaitText(".notice", "Webhook deleted", 10*time.Second)
	tab.WaitText(".empty", "No webhooks yet", 10*time.Second)
	if res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/webhooks/"+hookID), nil); res.Code != http.StatusNotFound {
		t.Errorf("API after deleting on the page: %d, want 404", res.Code)
	}
	b.AssertClean(t)

	// A support member: the page explains the refusal; forged posts change nothing.
	sb := browser.New(t)
	stab := signInTab(t, sb, base, "sam@hooks.example", password)
	stab.Expect("/webhooks", http.StatusForbidden)
	stab.Navigate(list)
	stab.WaitText("h1", "Webhooks are for owners and admins", 10*time.Second)
	if stab.Exists("#webhook-url") {
		t.Errorf("a support member sees the webhook form")
	}
	sb.AssertClean(t)
	v := newVisitor(t, base)
	if code, _, _ := v.signIn("sam@hooks.example", password); code != http.StatusSeeOther {
		t.Fatalf("support sign-in: %d", code)
	}
	v.get(web.WorkspacePath(wsID, web.SectionInbox))
	form := url.Values{"url": {target.URL + "/forged"}, "events": {"message.created"}}
	if code, _, _ := v.post(web.WorkspacePath(wsID, web.SectionWebhooks), form, true); code != http.StatusForbidden {
		t.Errorf("support POST webhooks: %d, want 403", code)
	}
	if res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/webhooks"), nil); bytes.Contains(res.Body, []byte("forged")) {
		t.Errorf("webhooks after a forged post: %s", res.Body)
	}
}
