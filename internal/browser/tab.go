package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Tab is one page of the browser with its own chromedp context. Its helpers
// fail the test on error, so a test reads as the steps a person takes.
type Tab struct {
	b      *Browser
	t      testing.TB
	ctx    context.Context
	cancel context.CancelFunc
	// Timeout bounds each helper call; DefaultTimeout unless changed.
	Timeout time.Duration

	mu        sync.Mutex
	requests  map[string]string // request id -> "METHOD url"
	downloads map[string]bool   // request ids that turned into downloads
	judged    map[string]bool   // request ids already reported or expected
	expected  []expectation
	problems  []string
}

type expectation struct {
	url    string
	status int
}

// Context is the tab's chromedp context, for actions the helpers lack. Runs
// on it should carry their own timeout (context.WithTimeout).
func (tab *Tab) Context() context.Context { return tab.ctx }

// Expect declares that a response with status from a URL containing url is
// part of the test, not a problem (a 403 the test provokes, for example).
func (tab *Tab) Expect(url string, status int) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.expected = append(tab.expected, expectation{url: url, status: status})
}

// htmxError is how htmx logs a response it will not swap.
var htmxError = regexp.MustCompile(`Response Status Error Code (\d{3}) from (\S+?),?(\s|$)`)

// expectedHTMXError reports whether a console error is htmx's own report of
// a status the test declared with Expect: it is the same event, told twice.
func (tab *Tab) expectedHTMXError(text string) bool {
	m := htmxError.FindStringSubmatch(text)
	if m == nil {
		return false
	}
	for _, e := range tab.expected {
		if strconv.Itoa(e.status) == m[1] && (strings.Contains(e.url, m[2]) || strings.Contains(m[2], e.url)) {
			return true
		}
	}
	return false
}

// record runs on the tab's event loop for every event: it must be quick and
// must not call the browser.
func (tab *Tab) record(ev any) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	if tab.judged == nil {
		tab.judged = map[string]bool{}
	}
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		tab.requests[string(ev.RequestID)] = ev.Request.Method + " " + ev.Request.URL
	case *network.EventResponseReceived:
		id := string(ev.RequestID)
		if d := ev.Response.Headers["Content-Disposition"]; d != nil && strings.HasPrefix(fmt.Sprint(d), "attachment") {
			tab.downloads[id] = true
		} else if d := ev.Response.Headers["content-disposition"]; d != nil && strings.HasPrefix(fmt.Sprint(d), "attachment") {
			tab.downloads[id] = true
		}
		if ev.Response.Status < 400 {
			return
		}
		tab.judged[id] = true
		for _, e := range tab.expected {
			if int64(e.status) == ev.Response.Status && strings.Contains(ev.Response.URL, e.url) {
				return
			}
		}
		tab.problems = append(tab.problems, fmt.Sprintf("response %d %s: %s", ev.Response.Status, ev.Response.StatusText, ev.Response.URL))
	case *network.EventLoadingFailed:
		id := string(ev.RequestID)
		if tab.downloads[id] || tab.judged[id] {
			return
		}
		if ev.Canceled && ev.BlockedReason == "" {
			// Left behind by a navigation or closed on purpose (an
			// EventSource on unload): nobody waits for it.
			return
		}
		tab.judged[id] = true
		what := tab.requests[id]
		if what == "" {
			what = string(ev.Type) + " request " + id
		}
		p := fmt.Sprintf("request failed: %s: %s", what, ev.ErrorText)
		if ev.BlockedReason != "" {
			p += " (blocked: " + string(ev.BlockedReason) + ")"
		}
		tab.problems = append(tab.problems, p)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			var str string
			switch {
			case a.Type == runtime.RemoteObjectTypeString && json.Unmarshal([]byte(a.Value), &str) == nil:
				parts = append(parts, str)
			case a.Description != "":
				parts = append(parts, a.Description)
			default:
				parts = append(parts, string(a.Value))
			}
		}
		text := strings.Join(parts, " ")
		if tab.expectedHTMXError(text) {
			return
		}
		tab.problems = append(tab.problems, "console."+string(ev.Type)+": "+short(text, 500))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		tab.problems = append(tab.problems, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, short(text, 500)))
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		if e.Level != cdplog.EntryLevelError {
			return
		}
		if e.Source == cdplog.EntrySourceNetwork && e.NetworkRequestID != "" {
			id := string(e.NetworkRequestID)
			if tab.judged[id] || tab.downloads[id] {
				return // the response or failure itself was judged above
			}
		}
		tab.problems = append(tab.problems, fmt.Sprintf("browser log (%s): %s %s", e.Source, short(e.Text, 500), e.URL))
	}
}

// Problems returns what the tab recorded so far.
func (tab *Tab) Problems() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.problems...)
}

// AssertClean fails t when the tab recorded console errors, exceptions or
// failed requests, listing them all.
func (tab *Tab) AssertClean(t testing.TB) {
	t.Helper()
	// Events of the last action may still be on their way.
	_, _ = run(tab, chromedp.Evaluate[chromedp.Void]("0"))
	if p := tab.Problems(); len(p) > 0 {
		t.Errorf("the browser saw %d problem(s):\n  %s", len(p), strings.Join(p, "\n  "))
	}
}

func (tab *Tab) fatal(what string, err error) {
	tab.t.Helper()
	tab.t.Fatalf("browser: %s: %v\nproblems so far: %q", what, err, tab.Problems())
}

// Do runs chromedp actions on the tab with its timeout.
func (tab *Tab) Do(steps ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	if _, err := run(tab, chromedp.Steps(steps...)); err != nil {
		tab.fatal("actions", err)
	}
}

// Navigate loads url and waits for its load event.
func (tab *Tab) Navigate(url string) {
	tab.t.Helper()
	if _, err := run(tab, chromedp.Navigate(url)); err != nil {
		tab.fatal("navigate to "+url, err)
	}
}

// Location is the URL the tab shows.
func (tab *Tab) Location() string {
	tab.t.Helper()
	v, err := run(tab, chromedp.Location())
	if err != nil {
		tab.fatal("location", err)
	}
	return v
}

// Eval evaluates a JavaScript expression in the tab and decodes its value;
// a promise is awaited.
func Eval[T any](tab *Tab, expr string) T {
	tab.t.Helper()
	v, err := run(tab, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tab.fatal("evaluate "+short(expr, 200), err)
	}
	return v
}

// Click clicks the first element matching the CSS selector, once visible, with the mouse.
// A page that swaps parts of itself (htmx, live updates) can replace the element between
// chromedp finding it and clicking it; chromedp then waits on the detached node for ever.
// So each attempt is short, and a new attempt looks the selector up again: an attempt that
// timed out never clicked, so trying again cannot click twice.
func (tab *Tab) Click(selector string) {
	tab.t.Helper()
	const attempt = 2 * time.Second
	deadline := time.Now().Add(tab.Timeout)
	for {
		ctx, cancel := context.WithTimeout(tab.ctx, attempt)
		_, err := chromedp.Run(ctx, chromedp.Click(chromedp.CSS(selector)))
		cancel()
		if err == nil {
			return
		}
		// A live update can swap the element out between finding it and clicking it (CDP:
		// "Could not find node with given id"): find it again, as a person's next click would.
		swapped := strings.Contains(err.Error(), "Could not find node with given id")
		if !(errors.Is(err, context.DeadlineExceeded) || swapped) || time.Now().After(deadline) {
			tab.fatal("click "+selector, err)
		}
		if swapped {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Fill replaces the value of an input or textarea by typing value.
func (tab *Tab) Fill(selector, value string) {
	tab.t.Helper()
	// Cleared in JavaScript: chromedp.SetValue refuses some input types (email).
	clear := fmt.Sprintf(`(function(){var e=document.querySelector(%s); if(!e){return false} e.value=""; return true})()`, jsString(selector))
	if !Eval[bool](tab, clear) {
		tab.t.Fatalf("browser: fill %s: no such element", selector)
	}
	if _, err := run(tab, chromedp.SendKeys(chromedp.CSS(selector), value)); err != nil {
		tab.fatal("fill "+selector, err)
	}
}

// Select chooses the option with value in a <select> and fires "change",
// as a person picking it does.
func (tab *Tab) Select(selector, value string) {
	tab.t.Helper()
	js := fmt.Sprintf(`(function(){var s=document.querySelector(%s); if(!s){return false}
		s.value=%s; s.dispatchEvent(new Event("input",{bubbles:true})); s.dispatchEvent(new Event("change",{bubbles:true})); return s.value===%s})()`,
		jsString(selector), jsString(value), jsString(value))
	if !Eval[bool](tab, js) {
		tab.t.Fatalf("browser: select %q in %s: no such element or option", value, selector)
	}
}

// Submit submits the form of the first element matching the selector.
func (tab *Tab) Submit(selector string) {
	tab.t.Helper()
	if _, err := run(tab, chromedp.Submit(chromedp.CSS(selector))); err != nil {
		tab.fatal("submit "+selector, err)
	}
}

// Text is the text content of the first element matching the selector.
func (tab *Tab) Text(selector string) string {
	tab.t.Helper()
	return Eval[string](tab, fmt.Sprintf(`(function(){var e=document.querySelector(%s); return e ? e.textContent : ""})()`, jsString(selector)))
}

// Exists reports whether an element matches the selector now.
func (tab *Tab) Exists(selector string) bool {
	tab.t.Helper()
	return Eval[bool](tab, fmt.Sprintf(`document.querySelector(%s) !== null`, jsString(selector)))
}

// WaitText waits until the first element matching the selector contains
// text, polling every 100 ms, and fails with what it holds after timeout. It also waits
// for the document to finish loading: a click that navigates returns at once, and the new
// page's heading can be parsed while the rest of it (a table's rows) is still arriving.
func (tab *Tab) WaitText(selector, text string, timeout time.Duration) {
	tab.t.Helper()
	js := fmt.Sprintf(`(function(){var e=document.querySelector(%s); return e && document.readyState === "complete" ? e.textContent : null})()`, jsString(selector))
	deadline := time.Now().Add(timeout)
	var last *string
	for {
		v, err := run(tab, chromedp.Evaluate[*string](js))
		if err == nil && v != nil && strings.Contains(*v, text) {
			return
		}
		last = v
		if time.Now().After(deadline) {
			got := "no such element (or the page still loading)"
			if last != nil {
				got = fmt.Sprintf("%q", short(*last, 300))
			}
			if err != nil {
				got += fmt.Sprintf(" (last error: %v)", err)
			}
			tab.t.Fatalf("browser: waited %s for %s to contain %q: %s\nproblems so far: %q", timeout, selector, text, got, tab.Problems())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitTrue waits until the JavaScript expression is true, polling every 100 ms, and fails
// with what as the condition it waited for.
func (tab *Tab) WaitTrue(expr, what string, timeout time.Duration) {
	tab.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ok, err := run(tab, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tab.t.Fatalf("browser: waited %s for %s\nproblems so far: %q", timeout, what, tab.Problems())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitGone waits until no element matches the selector.
func (tab *Tab) WaitGone(selector string, timeout time.Duration) {
	tab.t.Helper()
	deadline := time.Now().Add(timeout)
	for tab.Exists(selector) {
		if time.Now().After(deadline) {
			tab.t.Fatalf("browser: %s still present after %s", selector, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SetTimezone makes the page see the IANA time zone id (for example
// "Asia/Tokyo"), as a viewer living there would.
func (tab *Tab) SetTimezone(id string) {
	tab.t.Helper()
	if _, err := call(tab, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: id}); err != nil {
		tab.fatal("set time zone "+id, err)
	}
}

// SetViewport resizes the page, to check a narrow layout for example.
func (tab *Tab) SetViewport(width, height int64) {
	tab.t.Helper()
	if _, err := call(tab, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: height, DeviceScaleFactor: 1,
	}); err != nil {
		tab.fatal("set viewport", err)
	}
}

// Screenshot writes a PNG of the whole page (beyond the viewport) to path,
// creating its directory.
func (tab *Tab) Screenshot(path string) {
	tab.t.Helper()
	png, err := run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		tab.fatal("screenshot", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tab.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tab.t.Fatal(err)
	}
}

// Download is one file the browser saved.
type Download struct {
	// Path is the file on disk.
	Path string
	// Name is the file name the server suggested (Content-Disposition).
	Name string
	// URL is where it came from.
	URL string
}

// Downloads lets the tab's browser context save downloads into dir.
type Downloads struct {
	tab  *Tab
	dir  string
	done chan Download
}

// Downloads makes the tab save downloads into dir (created if missing) and
// returns a handle to wait for them.
func (tab *Tab) Downloads(dir string) *Downloads {
	tab.t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		tab.t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		tab.t.Fatal(err)
	}
	d := &Downloads{tab: tab, dir: abs, done: make(chan Download, 16)}
	var mu sync.Mutex
	begun := map[string]cdpbrowser.EventDownloadWillBegin{}
	err = chromedp.ListenBrowser(tab.ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *cdpbrowser.EventDownloadWillBegin:
			begun[ev.GUID] = *ev
		case *cdpbrowser.EventDownloadProgress:
			if ev.State != cdpbrowser.DownloadProgressStateCompleted {
				return
			}
			b := begun[ev.GUID]
			dl := Download{Path: filepath.Join(abs, ev.GUID), Name: b.SuggestedFilename, URL: b.URL}
			select {
			case d.done <- dl:
			default: // nobody waits for this many; drop rather than block the browser
			}
		}
	})
	if err != nil {
		tab.fatal("listen for downloads", err)
	}
	ctxID := chromedp.FromContext(tab.ctx).BrowserContextID
	ctx, cancel := context.WithTimeout(tab.ctx, tab.Timeout)
	defer cancel()
	yes := true
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior:         cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName,
		BrowserContextID: ctxID,
		DownloadPath:     abs,
		EventsEnabled:    &yes,
	}); err != nil {
		tab.fatal("set download behaviour", err)
	}
	return d
}

// Wait returns the next completed download, or fails after timeout.
func (d *Downloads) Wait(timeout time.Duration) Download {
	d.tab.t.Helper()
	select {
	case dl := <-d.done:
		return dl
	case <-time.After(timeout):
		d.tab.t.Fatalf("browser: no download completed in %s within %s", d.dir, timeout)
		return Download{}
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Press types keys at the focused element, as a keyboard does: "\t" is Tab,
// "\r" is Enter (see chromedp/kb for the others).
func (tab *Tab) Press(keys string) {
	tab.t.Helper()
	if _, err := run(tab, chromedp.KeyEvent(keys)); err != nil {
		tab.fatal("press keys", err)
	}
}
