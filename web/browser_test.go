package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
)

// TestInBrowser loads the test page in headless Chromium: the page must load
// with no console error and no failed request under the real CSP, htmx must
// run and post with the CSRF header, a post without the token must get the
// 403 page, and <time> must show the viewer's own time zone.
func TestInBrowser(t *testing.T) {
	r, _, clicks := demoServer(t)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close) // after the browser's (cleanups run last first): no page outlives its server

	b := browser.New(t)
	tab := b.NewTab()
	tab.SetTimezone("Asia/Tokyo")
	tab.Navigate(srv.URL + "/demo") // starts the session, then redirects back

	if !browser.Eval[bool](tab, `typeof htmx === "object" && typeof htmx.version === "string"`) {
		t.Fatal("htmx did not load")
	}
	if !browser.Eval[bool](tab, `htmx.config.includeIndicatorStyles === false && htmx.config.allowEval === false`) {
		t.Fatal("htmx did not read its config from <meta name=htmx-config>")
	}
	if got := browser.Eval[string](tab, `Intl.DateTimeFormat().resolvedOptions().timeZone`); got != "Asia/Tokyo" {
		t.Fatalf("time zone override: %q", got)
	}

	// 03:04 UTC is 12:04 in Tokyo: app.js rewrote the server's UTC text.
	tab.WaitText("main time[data-local=datetime][data-localized]", "12:04", 5*time.Second)
	if got := tab.Text("main time[data-local=datetime]"); strings.Contains(got, "UTC") {
		t.Fatalf("time still in UTC: %q", got)
	}
	if got := browser.Eval[string](tab, `document.querySelector("main time[data-local=datetime]").title`); !strings.Contains(got, "Japan") && !strings.Contains(got, "GMT+9") {
		t.Errorf("time title lacks the zone: %q", got)
	}
	if got := tab.Text("main time[data-local=date]"); !strings.Contains(got, "Jan 2, 2026") {
		t.Errorf("date: %q", got)
	}

	// The htmx button posts with the X-CSRF-Token header and swaps the fragment.
	tab.Click("#bump")
	tab.WaitText("#result", "Clicked 1 time(s)", 5*time.Second)
	tab.WaitText("#result time[data-localized]", "12:04", 5*time.Second) // rewritten after the swap
	if browser.Eval[bool](tab, `document.querySelector("#result").innerHTML.includes("<!doctype")`) {
		t.Fatal("the fragment brought a whole page")
	}
	if n := clicks.Load(); n != 1 {
		t.Fatalf("server saw %d clicks, want 1", n)
	}

	screenshot(t, tab, "web-foundation.png")

	// A plain form with the token posts (no JavaScript involved).
	tab.Submit("#with-token button")
	tab.WaitText("#result", "Clicked 2 time(s)", 5*time.Second)

	// A POST without the token, by fetch and by a form, gets the 403 page.
	tab.Expect("/demo/click", 403)
	got := browser.Eval[string](tab, `fetch("/demo/click", {method: "POST"}).then(r => r.status + " " + r.headers.get("Content-Type"))`)
	if got != "403 text/html; charset=utf-8" {
		t.Fatalf("POST without the token: %q", got)
	}
	tab.Submit("#forged button")
	tab.WaitText("main h1", "This form has expired", 5*time.Second)
	tab.WaitText("main", "Reload the page and try again", time.Second)
	if n := clicks.Load(); n != 2 {
		t.Fatalf("server saw %d clicks, want 2 (the forged posts must not count)", n)
	}
	screenshot(t, tab, "web-foundation-403.png")
	tab.AssertClean(t)

	// The policy is really enforced: an injected inline script does not run,
	// and the recorder reports the refusal (so AssertClean would catch one).
	probe := b.NewTab()
	probe.Navigate(srv.URL + "/demo")
	ran := browser.Eval[bool](probe, `(function(){
		var s = document.createElement("script");
		s.textContent = "window.inlineRan = true";
		document.body.appendChild(s);
		return window.inlineRan === true })()`)
	if ran {
		t.Fatal("an inline script ran: the Content-Security-Policy is not enforced")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if p := strings.Join(probe.Problems(), "\n"); strings.Contains(p, "Content Security Policy") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CSP refusal was not recorded; problems: %q", probe.Problems())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestInBrowserNarrow checks the layout at a half laptop screen and below:
// no horizontal scrolling, and a keyboard focus that shows.
func TestInBrowserNarrow(t *testing.T) {
	r, _, _ := demoServer(t)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close) // after the browser's (cleanups run last first): no page outlives its server

	b := browser.New(t)
	tab := b.NewTab()
	tab.SetViewport(600, 800)
	tab.Navigate(srv.URL + "/demo")
	if w := browser.Eval[int](tab, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); w > 0 {
		t.Errorf("the page scrolls sideways by %dpx at 600px wide", w)
	}
	screenshot(t, tab, "web-foundation-narrow.png")
	// Tab to the first control: the skip link shows and has an outline.
	tab.Press("\t")
	if got := browser.Eval[string](tab, `document.activeElement.className + " " + getComputedStyle(document.activeElement).outlineStyle`); got != "skip solid" {
		t.Errorf("first Tab focuses %q, want the skip link with a solid outline", got)
	}
	tab.AssertClean(t)
}

// screenshot saves a full-page PNG into INBOX_SCREENSHOTS when set (for the
// README's docs/screenshots/), else into the test's temporary directory, so
// the capture itself is always exercised.
func screenshot(t *testing.T, tab *browser.Tab, name string) {
	dir := os.Getenv("INBOX_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	tab.Screenshot(filepath.Join(dir, name))
}

// TestInBrowserExpected: a status the test declared, from htmx too, is no
// problem; anything else still is.
func TestInBrowserExpected(t *testing.T) {
	r, _, _ := demoServer(t)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close) // after the browser's (cleanups run last first): no page outlives its server

	b := browser.New(t)
	tab := b.NewTab()
	tab.Navigate(srv.URL + "/demo")
	tab.Expect("/demo/click", 403)
	// Drop the token from the page, as an expired page would have a stale one.
	browser.Eval[bool](tab, `(function(){document.querySelector('meta[name="csrf-token"]').setAttribute("content", "stale"); return true})()`)
	tab.Click("#bump")
	tab.WaitText("#alerts", "This form has expired", 5*time.Second) // app.js shows the server's words
	tab.AssertClean(t)

	if p := tab.Problems(); len(p) != 0 {
		t.Fatalf("problems after expected 403: %q", p)
	}
	browser.Eval[int](tab, `fetch("/nowhere").then(r => r.status)`)
	deadline := time.Now().Add(5 * time.Second)
	for len(tab.Problems()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("an unexpected 404 was not recorded")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
