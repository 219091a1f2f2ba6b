package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/openaitest"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

const (
	firstSummary  = "Ana asked whether the shop ships to New Zealand. The assistant said it does, within five days. Ana said she would order today."
	secondSummary = "A fresh summary: Ana wants shipping to New Zealand and will order today once she has the price."
)

// markNoReload sets a marker on the page's window; stillLoaded reports whether it is still
// there, which it is only if the page was not reloaded or left meanwhile.
func markNoReload(tab *browser.Tab) { browser.Eval[bool](tab, `(window.__sameDocument = true)`) }

// focus moves the keyboard focus to the first element matching selector.
func focus(t *testing.T, tab *browser.Tab, selector string) {
	t.Helper()
	if !browser.Eval[bool](tab, `(function(){var e=document.querySelector(`+jsQuote(selector)+`); if(!e){return false} e.focus(); return document.activeElement===e})()`) {
		t.Fatalf("browser: cannot focus %s", selector)
	}
}

func stillLoaded(tab *browser.Tab) bool {
	return browser.Eval[bool](tab, `window.__sameDocument === true`)
}

// TestSmallTeamFlowInBrowser walks the guide's "simple flow for a small team" in Chromium:
// the unread badge, Unread only (in the URL, back button), opening marks read, assign to
// yourself, Pending, Closed, the summary appearing without a reload, Retry summary
// overwriting it, Archive hiding it, Include archived showing it, the direct URL. Then, with
// the list open, a message ingested through the API appears without a reload.
func TestSmallTeamFlowInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{PlatformKey: "sk-platform-test"})
	ws := e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("http://127.0.0.1:8233")
	inbox := base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox)

	ana := ingest(t, e, ws.IngestKey, "ref-ana", "Ana", "Hi, do you ship to New Zealand?")
	if r := e.Ingest(ws.IngestKey, map[string]any{"conversation_ref": "ref-ana", "channel": "chat",
		"message": map[string]any{"role": "assistant", "text": "Yes, we ship to New Zealand within five days."}}); r.Code != http.StatusOK {
		t.Fatalf("assistant message: %d %s", r.Code, r.Body)
	}
	bo := ingest(t, e, ws.IngestKey, "ref-bo", "Bo", "What are your opening hours?")
	cy := ingest(t, e, ws.IngestKey, "ref-cy", "Cy", "Can I change my booking to Friday?")
	// Bo's conversation was read by someone through the API already.
	apiConversation(t, e, ws, bo)
	// The visitor writes again: Ana's conversation is the newest.
	ingest(t, e, ws.IngestKey, "ref-ana", "Ana", "I mean to Auckland, by the way.")

	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("Acme"), password)
	row := func(id string) string { return `tr.conversation-row[data-id="` + id + `"]` }

	// 1. Triage: the unread badge; Unread only narrows the list, in the URL.
	// (Waited for: a live update of the list that the ingests above set off can replace its
	// rows just after the page loads.)
	tab.WaitTrue(`document.querySelector('`+row(ana)+` .badge-unread') !== null && document.querySelector('`+row(bo)+`') !== null &&
		document.querySelector('`+row(bo)+` .badge-unread') === null`, "Ana's conversation unread and Bo's read", 5*time.Second)
	// From the keyboard: Space ticks the box, and ticking it applies the filter at once,
	// without pressing Filter.
	focus(t, tab, "#f-unread")
	tab.Press(" ")
	// The old page's rows vanish before the filtered page's arrive: wait for the new page.
	tab.WaitTrue(`location.search.includes("unread=true") && document.readyState === "complete" &&
		document.querySelector('`+row(ana)+`') !== null`, "the list filtered to unread, with Ana's conversation", 5*time.Second)
	if tab.Exists(row(bo)) {
		t.Fatal("Unread only still lists Bo's read conversation")
	}
	// The back button brings the whole list back.
	// (history.back, not chromedp.NavigateBack: a page restored from the back-forward cache
	// fires no load event to wait for.)
	browser.Eval[bool](tab, `(history.back(), true)`)
	tab.WaitText(row(bo), "Bo", 5*time.Second)
	if loc := tab.Location(); strings.Contains(loc, "unread=true") {
		t.Fatalf("after Back the URL is still %s", loc)
	}
	if browser.Eval[bool](tab, `document.querySelector("#f-unread").checked`) {
		t.Error("after Back, Unread only is still ticked")
	}

	// Open the conversation: it becomes read.
	tab.Click(row(ana) + " .visitor a")
	tab.WaitText("h1", "Ana", 5*time.Second)
	tab.WaitText(".conv-read", "Read", 5*time.Second)
	tab.WaitText(".transcript", "I mean to Auckland", 5*time.Second)
	if got := apiConversation(t, e, ws, ana)["unread"]; got != false {
		t.Errorf("after opening, unread = %v", got)
	}
	markNoReload(tab)
	// Mark as unread, and read again, in place.
	tab.Click("#mark-unread")
	tab.WaitText(".conv-unread", "unread", 5*time.Second)
	// (Through the list: the API's detail would mark it read again.)
	if r := e.As(ws.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations?unread=true", nil); !strings.Contains(string(r.Body), ana) {
		t.Errorf("after Mark as unread, the unread list is %s", r.Body)
	}
	tab.Click("#mark-read")
	tab.WaitText(".conv-read", "Read", 5*time.Second)

	// 2. Claim it.
	tab.Select("#assignee", ws.OwnerUserID.String())
	tab.WaitText("#audit", "assignee changed", 10*time.Second)
	if got := apiConversation(t, e, ws, ana)["assignee"]; got == nil {
		t.Fatal("not assigned after choosing myself")
	}
	// Pending, then Closed.
	focus(t, tab, `button[data-state="pending"]`) // a real button: Enter presses it
	tab.Press("\r")
	tab.WaitText(".conv-state", "pending", 10*time.Second)
	e.OpenAI.SetDefault(openaitest.Response{Body: firstSummary})
	tab.Click(`button[data-state="closed"]`)
	tab.WaitText(".conv-state", "closed", 10*time.Second)
	// The summary appears in the right-hand panel without a reload.
	tab.WaitText("#summary .summary-text", "New Zealand", 20*time.Second)
	if !stillLoaded(tab) {
		t.Fatal("the page reloaded on its way to the summary")
	}
	tab.WaitText("#summary .summary-status", "ready", 5*time.Second)

	// Retry summary overwrites it.
	e.OpenAI.SetDefault(openaitest.Response{Body: secondSummary})
	tab.Click("#retry-summary")
	tab.WaitText("#summary .summary-text", "A fresh summary", 20*time.Second)
	if strings.Contains(tab.Text("#summary"), "within five days") {
		t.Error("the old summary is still shown after the retry")
	}
	screenshot(t, tab, "conversation")

	// 5. Archive hides it from the list.
	tab.Click(`button[data-state="archived"]`)
	tab.WaitText(".conv-state", "archived", 10*time.Second)
	if !stillLoaded(tab) {
		t.Fatal("a change reloaded the page")
	}
	tab.Navigate(inbox)
	tab.WaitText("#conversation-list", "Bo", 5*time.Second)
	if tab.Exists(row(ana)) {
		t.Fatal("the archived conversation is still in the default list")
	}
	// Include archived shows it again, as soon as it is ticked.
	tab.Click("#f-archived")
	tab.WaitText(row(ana), "Ana", 5*time.Second)
	if loc := tab.Location(); !strings.Contains(loc, "include_archived=true") {
		t.Errorf("Include archived is not in the URL: %s", loc)
	}
	// The direct URL still opens it.
	tab.Navigate(inbox + "c/" + ana)
	tab.WaitText(".conv-state", "archived", 5*time.Second)

	// Live: with the list open, a new conversation arrives without a reload.
	tab.Navigate(inbox)
	tab.WaitText("#conversation-list", "Cy", 5*time.Second)
	markNoReload(tab)
	time.Sleep(300 * time.Millisecond) // the event stream connects
	start := time.Now()
	ingest(t, e, ws.IngestKey, "ref-dee", "Dee", "Do you have gift cards?")
	tab.WaitText("#conversation-list", "Dee", 2*time.Second)
	t.Logf("the new conversation showed %s after its ingest", time.Since(start).Round(time.Millisecond))
	if !stillLoaded(tab) {
		t.Fatal("the list reloaded instead of updating")
	}
	screenshot(t, tab, "inbox")

	// A move refused because the page was stale is shown inline, and the page stays usable.
	tab.Navigate(inbox + "c/" + cy)
	tab.WaitText(".conv-state", "open", 5*time.Second)
	// This page misses the live refresh, as one would whose event stream is slow.
	browser.Eval[bool](tab, `(document.querySelector("#conversation").removeAttribute("data-live-refresh"), true)`)
	if r := e.As(ws.OwnerToken, http.MethodPost, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations/"+cy+"/state",
		map[string]any{"state": "closed"}); r.Code != http.StatusOK {
		t.Fatalf("close through the API: %d %s", r.Code, r.Body)
	}
	tab.Expect("/c/"+cy+"/state", http.StatusConflict)
	tab.Click(`button[data-state="pending"]`)
	tab.WaitText("#control-state .error", "Cannot move a conversation from closed to pending", 10*time.Second)
	tab.WaitText(".conv-state", "closed", 5*time.Second)
	tab.Click(`button[data-state="open"]`)
	tab.WaitText(".conv-state", "open", 10*time.Second)
	if tab.Exists("#control-state .error") {
		t.Error("the refusal stayed after a move that worked")
	}
	b.AssertClean(t)
}

// TestViewerInBrowser signs a viewer in: the list and the detail show no action controls,
// forged posts from the page are 403 and change nothing, and a summary that becomes ready
// while the viewer looks at a closed conversation appears without a reload.
func TestViewerInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{PlatformKey: "sk-platform-test"})
	ws := e.NewWorkspace("Acme")
	base := e.Serve("")
	inbox := base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox)
	addMember(t, e, ws, "vic@example.com", "Vic Viewer", "viewer")
	id := ingest(t, e, ws.IngestKey, "ref-ana", "Ana", "Hi, do you ship to New Zealand?")

	b := browser.New(t)
	tab := signInTab(t, b, base, "vic@example.com", password)
	tab.WaitText("#conversation-list", "Ana", 5*time.Second)
	// A viewer keeps views of their own (Save this view), and nothing more.
	for _, sel := range []string{"main form[method=post]:not(.save-view-form)", "main button[data-state]", "#view-shared"} {
		if tab.Exists(sel) {
			t.Errorf("the viewer's list shows %s", sel)
		}
	}
	tab.Navigate(inbox + "c/" + id)
	tab.WaitText("h1", "Ana", 5*time.Second)
	for _, sel := range []string{"button[data-state]", "#assignee", "#retry-summary", "#lead-status"} {
		if tab.Exists(sel) {
			t.Errorf("the viewer's detail shows %s", sel)
		}
	}
	markNoReload(tab)

	// The owner closes it through the API: the viewer sees it closed, then the summary.
	e.OpenAI.SetDefault(openaitest.Response{Body: firstSummary})
	path := "/api/v1/workspaces/" + ws.WorkspaceID.String() + "/conversations/" + id
	if r := e.As(ws.OwnerToken, http.MethodPost, path+"/state", map[string]any{"state": "closed"}); r.Code != http.StatusOK {
		t.Fatalf("close: %d %s", r.Code, r.Body)
	}
	tab.WaitText(".conv-state", "closed", 5*time.Second)
	tab.WaitText("#summary .summary-text", "New Zealand", 20*time.Second)
	if !stillLoaded(tab) {
		t.Fatal("the detail reloaded")
	}
	if tab.Exists("#retry-summary") {
		t.Error("the viewer sees Retry summary")
	}

	// Forged posts from the page, with the page's own CSRF token: 403, nothing changes.
	forged := map[string]string{
		"/state":         "state=open&idempotency_key=f1",
		"/assignee":      "assignee=" + ws.OwnerUserID.String() + "&idempotency_key=f2",
		"/summary/retry": "idempotency_key=f3",
		"/lead":          "status=won",
	}
	detail := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox) + "c/" + id
	for suffix, body := range forged {
		tab.Expect(detail+suffix, http.StatusForbidden)
		got := browser.Eval[int](tab, `fetch(`+jsQuote(detail+suffix)+`, {method: "POST",
			headers: {"Content-Type": "application/x-www-form-urlencoded",
			          "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content},
			body: `+jsQuote(body)+`}).then(function (r) { return r.status })`)
		if got != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", suffix, got)
		}
	}
	after := apiConversation(t, e, ws, id)
	if after["state"] != "closed" || after["assignee"] != nil || after["lead"].(map[string]any)["status"] != "new" {
		t.Errorf("the viewer's forged posts changed the conversation: %v", after)
	}
	if summary, _ := after["summary"].(map[string]any); summary["status"] != "ready" {
		t.Errorf("after the viewer's forged posts the summary is %v, want it still ready", after["summary"])
	}
	// The model was asked once about this conversation: no retry from the viewer. (Requests
	// are told apart by the transcript they carry. The server is this test's own: another
	// request would be another test's client on a port it once had, logged but not counted.)
	reqs := e.OpenAI.Requests()
	about := 0
	for _, r := range reqs {
		mine := false
		for _, m := range r.Messages {
			mine = mine || strings.Contains(m.Content, "ship to New Zealand")
		}
		if mine {
			about++
		}
		t.Logf("model request %s %s at %s (retry count %q, about this conversation: %v)", r.Method, r.Path,
			r.Received.Format("15:04:05.000"), r.Header.Get("X-Stainless-Retry-Count"), mine)
	}
	if about != 1 {
		t.Errorf("the model was asked %d times about this conversation and %d times in all, want once (no retry from the viewer)", about, len(reqs))
		audit := e.As(ws.OwnerToken, http.MethodGet, path+"/audit?limit=50", nil)
		t.Logf("its summary %v, its audit: %s", after["summary"], audit.Body)
	}
	b.AssertClean(t)
}

func jsQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
