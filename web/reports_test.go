package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// seedReport makes two chat conversations, one assigned to a support member and closed.
func seedReport(t *testing.T, e *testenv.Env, ws testenv.Workspace) {
	t.Helper()
	agent, _ := addMember(t, e, ws, "agent@reports.example", "Agnes Agent", "support")
	a := newConversationVia(t, e, ws, "rep-1", "Ana Report")
	newConversationVia(t, e, ws, "rep-2", "Bo Report")
	if res := e.As(ws.OwnerToken, http.MethodPut, apiPath(ws, "/conversations/"+a+"/assignee"), map[string]any{"user_id": agent}); res.Code != http.StatusOK {
		t.Fatalf("assign: %d %s", res.Code, res.Body)
	}
	if res := e.As(ws.OwnerToken, http.MethodPost, apiPath(ws, "/conversations/"+a+"/state"), map[string]any{"state": "closed"}); res.Code != http.StatusOK {
		t.Fatalf("close: %d %s", res.Code, res.Body)
	}
}

// TestReportsPage: a viewer reads the Reports page (linked from the nav): its charts are SVG
// with bars, the tables carry the figures, the CSV link downloads them; a bad date is a 400
// in words on the page.
func TestReportsPage(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Reports Pages")
	seedReport(t, e, ws)
	addMember(t, e, ws, "viewer@reports.example", "Vic Viewer", "viewer")
	base := e.Serve("")
	v := newVisitor(t, base)
	if code, _, _ := v.signIn("viewer@reports.example", password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	path := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionReports)
	_, inbox, _ := v.get(web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox))
	if !strings.Contains(inbox, `href="`+path+`"`) {
		t.Error("the nav has no Reports link")
	}
	code, page, _ := v.get(path)
	if code != http.StatusOK {
		t.Fatalf("reports: %d\n%s", code, page)
	}
	if n := strings.Count(page, `<svg xmlns="http://www.w3.org/2000/svg" class="chart"`); n != 6 {
		t.Errorf("want 6 charts, got %d", n)
	}
	if !strings.Contains(page, `<title id="chart-created-title">Conversations created per day, by channel</title>`) {
		t.Error("the created chart has no title")
	}
	if !strings.Contains(page, `class="bar"`) {
		t.Error("no bars drawn")
	}
	// Today's row of the created table: two chats.
	today := time.Now().UTC().Format(time.DateOnly)
	if !regexp.MustCompile(`<tr><th scope="row">` + today + `</th><td class="num">2</td><td class="num">0</td><td class="num">0</td><td class="num">2</td></tr>`).MatchString(page) {
		t.Errorf("the created table has no row for today with two chats\n%s", page)
	}
	if !strings.Contains(page, `<th scope="row">Agnes Agent</th>`) {
		t.Error("the per-assignee table does not name the assignee")
	}
	if !strings.Contains(page, "wall-clock time") {
		t.Error("the page does not say durations are wall-clock time without business hours")
	}
	m := regexp.MustCompile(`href="([^"]*format=csv[^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSV link")
	}
	code, csv, hdr := v.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") ||
		!strings.Contains(csv, "created_per_day,"+today+",total,conversations,2") {
		t.Errorf("csv: %d %s\n%s", code, hdr.Get("Content-Type"), csv)
	}

	// Another workspace's Reports page reads as one that does not exist.
	other := e.NewWorkspace("Reports Elsewhere")
	if code, _, _ := v.get(web.WorkspacePath(other.WorkspaceID.String(), web.SectionReports)); code != http.StatusNotFound {
		t.Errorf("another workspace's Reports page: %d, want 404", code)
	}

	code, page, _ = v.get(path + "?from=2026-02-30")
	if code != http.StatusBadRequest || !strings.Contains(page, "from: want a date") {
		t.Errorf("a bad date: %d", code)
	}
	code, page, _ = v.get(path + "?from=2001-01-01&to=2001-01-31")
	if code != http.StatusOK || strings.Count(page, "No data in this range") != 6 {
		t.Errorf("an empty range: %d, %d charts say there is no data", code, strings.Count(page, "No data in this range"))
	}
}

// TestReportsPageInBrowser: the charts render as SVG with bars, the tables show the figures,
// and the page loads without console errors or failed requests.
func TestReportsPageInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Reports Browser")
	seedReport(t, e, ws)
	e.SetPassword(testenv.OwnerEmail("Reports Browser"), password)
	base := e.Serve("")

	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("Reports Browser"), password)
	tab.Navigate(base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox))
	tab.WaitText("h1", "Inbox", 10*time.Second)
	tab.Click(`nav.nav a[href$="/reports"]`)
	tab.WaitTrue(`location.pathname.endsWith("/reports") && document.readyState === "complete" && document.querySelector("#table-created") !== null`,
		"the Reports page", 10*time.Second)
	if n := browser.Eval[int](tab, `document.querySelectorAll("svg.chart").length`); n != 6 {
		t.Errorf("%d charts rendered, want 6", n)
	}
	if n := browser.Eval[int](tab, `document.querySelectorAll("svg[aria-labelledby^='chart-created'] rect.bar").length`); n < 1 {
		t.Errorf("the created chart has no bars")
	}
	// The bars are laid out: the browser gives them a real height.
	if h := browser.Eval[float64](tab, `document.querySelector("svg[aria-labelledby^='chart-created'] rect.bar").getBBox().height`); h <= 0 {
		t.Errorf("the first bar has height %v", h)
	}
	if n := browser.Eval[int](tab, `document.querySelectorAll("svg[aria-labelledby^='chart-first-assignment'] circle.point").length`); n != 2 {
		t.Errorf("the first-assignment chart has %d points, want 2 (median and p90 of one day)", n)
	}
	total := browser.Eval[int](tab, `[...document.querySelectorAll("#table-created tbody tr td:last-child")].reduce((s, td) => s + Number(td.textContent), 0)`)
	if total != 2 {
		t.Errorf("the created table sums to %d, want 2", total)
	}
	if got := browser.Eval[string](tab, `document.querySelector("#table-members tbody th").textContent`); got != "Agnes Agent" {
		t.Errorf("the per-assignee table names %q", got)
	}
	if cur := browser.Eval[string](tab, `document.querySelector('nav.nav a[aria-current="page"]').textContent`); cur != "Reports" {
		t.Errorf("the nav marks %q as current", cur)
	}
	screenshot(t, tab, "reports")
	tab.AssertClean(t)
}
