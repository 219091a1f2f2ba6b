package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// apiPath is a path of the workspace's JSON API.
func apiPath(ws testenv.Workspace, rest string) string {
	return fmt.Sprintf("/api/v1/workspaces/%s%s", ws.WorkspaceID, rest)
}

// addMember adds a member through the API and gives them the test password; it returns
// their user id and API token.
func addMember(t *testing.T, e *testenv.Env, ws testenv.Workspace, email, name, role string) (string, string) {
	t.Helper()
	res := e.As(ws.OwnerToken, http.MethodPost, apiPath(ws, "/members"), map[string]any{"email": email, "name": name, "role": role})
	var out struct {
		Member struct {
			UserID string `json:"user_id"`
		} `json:"member"`
		APIToken string `json:"api_token"`
	}
	res.JSON(t, &out)
	if res.Code != http.StatusCreated {
		t.Fatalf("add %s: %d %s", email, res.Code, res.Body)
	}
	e.SetPassword(email, password)
	return out.Member.UserID, out.APIToken
}

// apiLead is a lead as the API lists it.
type apiLead struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

func apiLeads(t *testing.T, e *testenv.Env, ws testenv.Workspace) map[string]apiLead {
	t.Helper()
	res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/leads"), nil)
	var page struct {
		Items []apiLead `json:"items"`
	}
	res.JSON(t, &page)
	out := map[string]apiLead{}
	for _, l := range page.Items {
		out[l.Name] = l
	}
	return out
}

// seedLeads ingests one conversation per visitor name, so each has a lead.
func seedLeads(t *testing.T, e *testenv.Env, ws testenv.Workspace, names ...string) map[string]apiLead {
	t.Helper()
	for _, name := range names {
		lower := strings.ToLower(name)
		res := e.Ingest(ws.IngestKey, map[string]any{
			"conversation_ref": "ref-" + lower,
			"channel":          "chat",
			"visitor":          map[string]any{"name": name, "email": lower + "@visitor.example", "phone": "+64 21 555 0" + fmt.Sprint(len(name))},
			"message":          map[string]any{"role": "visitor", "text": "Hello, I am " + name + " and I want a quote."},
			"source":           map[string]any{"page_url": "https://shop.example/pricing?from=" + lower, "referrer": "https://www.google.com/", "user_agent": "Mozilla/5.0"},
		})
		if res.Code != http.StatusCreated {
			t.Fatalf("ingest %s: %d %s", name, res.Code, res.Body)
		}
	}
	leads := apiLeads(t, e, ws)
	if len(leads) != len(names) {
		t.Fatalf("leads after ingest: %v", leads)
	}
	return leads
}

func setLeadStatus(t *testing.T, e *testenv.Env, ws testenv.Workspace, id, status string) {
	t.Helper()
	if res := e.As(ws.OwnerToken, http.MethodPatch, apiPath(ws, "/leads/"+id), map[string]any{"status": status}); res.Code != http.StatusOK {
		t.Fatalf("set lead %s %s: %d %s", id, status, res.Code, res.Body)
	}
}

// waitLoaded waits until the tab has loaded a page whose URL contains part.
func waitLoaded(t *testing.T, tab *browser.Tab, part string) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, "a page at "+part, func() bool {
		return browser.Eval[bool](tab, fmt.Sprintf(`location.href.includes(%q) && document.readyState === "complete"`, part))
	})
}

func rowCount(tab *browser.Tab) int {
	return browser.Eval[int](tab, `document.querySelectorAll("table.leads tbody tr").length`)
}

// TestLeadsPageInBrowser walks the guide's "Export your leads to CSV": open Leads, narrow it
// with the status and date filters, change a status in place, click Export CSV, and get the
// same file as the API's export with the same filters.
func TestLeadsPageInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Leads Co")
	e.SetPassword(testenv.OwnerEmail("Leads Co"), password)
	base := e.Serve("")
	leads := seedLeads(t, e, ws, "Ana", "Ben", "Cleo", "Dev")
	setLeadStatus(t, e, ws, leads["Ana"].ID, "won")
	setLeadStatus(t, e, ws, leads["Ben"].ID, "contacted")
	setLeadStatus(t, e, ws, leads["Cleo"].ID, "won")
	// Ana wrote ten days ago: the date filter leaves her out.
	if _, err := e.Store.DB.NewRaw(`UPDATE leads SET created_at = now() - interval '10 days' WHERE id = ?`, leads["Ana"].ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}

	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("Leads Co"), password)
	tab.Click(`nav.nav a[href$="/leads"]`)
	tab.WaitText("h1", "Leads", 10*time.Second)
	if n := rowCount(tab); n != 4 {
		t.Fatalf("unfiltered leads: %d rows, want 4", n)
	}

	// Status filter: contacted and won.
	tab.Click(`input[name=status][value=contacted]`)
	tab.Click(`input[name=status][value=won]`)
	tab.Click(`form.filters button[type=submit]`)
	waitLoaded(t, tab, "status=won")
	if n := rowCount(tab); n != 3 {
		t.Fatalf("contacted or won: %d rows, want 3 (Ana, Ben, Cleo)", n)
	}
	// Date filter: from five days ago to today.
	from := time.Now().UTC().AddDate(0, 0, -5).Format(time.DateOnly)
	to := time.Now().UTC().Format(time.DateOnly)
	browser.Eval[bool](tab, fmt.Sprintf(`(function(){document.getElementById("lead-from").value=%q; document.getElementById("lead-to").value=%q; return true})()`, from, to))
	tab.Click(`form.filters button[type=submit]`)
	waitLoaded(t, tab, "from="+from)
	if n := rowCount(tab); n != 2 {
		t.Fatalf("contacted or won, created from %s to %s: %d rows, want 2 (Ben, Cleo)", from, to, n)
	}
	loc, _ := url.Parse(tab.Location())
	if q := loc.Query(); q.Get("from") != from || q.Get("to") != to || len(q["status"]) != 2 {
		t.Errorf("the filters are not in the URL: %s", loc)
	}

	// Status change in place: Cleo goes from won to contacted, htmx swaps her row.
	row := `tr#lead-` + leads["Cleo"].ID
	tab.Select(row+` select[name=status]`, "contacted")
	tab.Click(row + ` button[type=submit]`)
	tab.WaitText(row+`.changed td.lead-status`, "contacted", 10*time.Second)
	if got := browser.Eval[string](tab, `document.querySelector("`+row+`").dataset.status`); got != "contacted" {
		t.Fatalf("Cleo's row after the change: status %q", got)
	}
	if got := apiLeads(t, e, ws)["Cleo"].Status; got != "contacted" {
		t.Fatalf("Cleo's status through the API: %q, want contacted", got)
	}
	if !strings.HasPrefix(tab.Location(), base) || !strings.Contains(tab.Location(), "from="+from) {
		t.Errorf("the status change left the page: %s", tab.Location())
	}
	// The wide table scrolls inside its frame; the page itself never scrolls sideways.
	if over := browser.Eval[string](tab, `(function(){var w=document.documentElement.clientWidth, out=[];
		document.querySelectorAll("body *").forEach(function(e){var r=e.getBoundingClientRect(); if(r.right>w+1 && !e.closest(".table-wrap")){out.push(e.tagName+"."+e.className+" "+Math.round(r.right))}});
		return out.slice(0,5).join("; ")})()`); over != "" {
		t.Errorf("the Leads page is wider than the window: %s", over)
	}
	screenshot(t, tab, "leads")

	// Export CSV: the downloaded file is the API's export of the same filters.
	downloads := tab.Downloads(t.TempDir())
	tab.Click(`#export-csv`)
	dl := downloads.Wait(15 * time.Second)
	got, err := os.ReadFile(dl.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dl.Name, "leads-"+ws.WorkspaceID.String()) || !strings.HasSuffix(dl.Name, ".csv") {
		t.Errorf("download named %q", dl.Name)
	}
	after := from + "T00:00:00Z"
	before := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly) + "T00:00:00Z"
	res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/leads/export.csv?status=contacted,won&created_after="+after+"&created_before="+before), nil)
	if res.Code != http.StatusOK {
		t.Fatalf("API export: %d %s", res.Code, res.Body)
	}
	pageRows, apiRows := readCSV(t, got), readCSV(t, res.Body)
	if len(pageRows) != 3 || !reflect.DeepEqual(pageRows, apiRows) {
		t.Fatalf("the page's CSV differs from the API's:\npage %q\napi  %q", pageRows, apiRows)
	}
	if pageRows[0][1] != "name" || pageRows[1][1] != "Cleo" && pageRows[2][1] != "Cleo" {
		t.Errorf("CSV rows: %q", pageRows)
	}
	b.AssertClean(t)
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, b)
	}
	return rows
}

// TestTeamPageInviteInBrowser invites a support member from the Team page, opens the link
// it shows in another browser, sets a password there and is signed in as them. An admin
// may not change an owner, and the page says so next to the owner.
func TestTeamPageInviteInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Team Co")
	e.SetPassword(testenv.OwnerEmail("Team Co"), password)
	base := e.Serve("")
	b := browser.New(t)

	owner := signInTab(t, b, base, testenv.OwnerEmail("Team Co"), password)
	owner.Navigate(base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionTeam))
	owner.WaitText("h1", "Team", 10*time.Second)
	owner.Fill(`#invite-email`, "sam@team.example")
	owner.Fill(`#invite-name`, "Sam Support")
	owner.Select(`#invite-role`, "support")
	owner.Click(`.invite-form button[type=submit]`)
	owner.WaitText(`#invited-heading`, "Sam Support was added as support", 10*time.Second)
	if text := owner.Text(".invite-result"); !strings.Contains(text, "shown only once") || !strings.Contains(text, "7 days") {
		t.Errorf("the invite result does not say the link is shown once and expires: %q", text)
	}
	link := browser.Eval[string](owner, `document.getElementById("invite-url").value`)
	if !strings.HasPrefix(link, base+"/invite/") {
		t.Fatalf("invite link %q", link)
	}
	screenshot(t, owner, "team")
	// Reloading the Team page does not show the link again.
	owner.Navigate(base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionTeam))
	if owner.Exists("#invite-url") {
		t.Errorf("the invite link is shown again")
	}
	if !strings.Contains(owner.Text("table.members"), "sam@team.example") {
		t.Errorf("Sam is not in the member list")
	}

	// Sam opens the link on their own computer, sets a password and is in.
	sam := b.NewTab(browser.Isolated())
	sam.Navigate(link)
	sam.WaitText("h1", "Set your password", 10*time.Second)
	sam.Fill(`#password`, "sams own password")
	sam.Fill(`#confirm`, "sams own password")
	sam.Submit(`#password`)
	sam.WaitText("h1", "Inbox", 10*time.Second)
	if got := sam.Text(".person"); got != "Sam Support" {
		t.Errorf("signed in as %q, want Sam Support", got)
	}
	// Sam is support: the Team page shows the list and no controls.
	sam.Navigate(base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionTeam))
	if sam.Exists(".invite-form") || sam.Exists(".role-form") || sam.Exists(".remove-link") {
		t.Errorf("support sees team controls")
	}

	// An admin may not change the owner: the refusal is in words next to the owner.
	addMember(t, e, ws, "ada@team.example", "Ada Admin", "admin")
	admin := signInTab(t, b, base, "ada@team.example", password, browser.Isolated())
	team := base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionTeam)
	admin.Navigate(team)
	ownerRow := `tr#member-` + ws.OwnerUserID.String()
	if admin.Exists(`#invite-role option[value=owner]`) {
		t.Errorf("an admin is offered to invite owners")
	}
	admin.Expect("/role", http.StatusForbidden)
	admin.Select(ownerRow+` select[name=role]`, "viewer")
	admin.Click(ownerRow + ` .role-form button`)
	admin.WaitText(ownerRow+` .error`, "Only an owner may manage owners", 10*time.Second)
	// The owner's last-owner rule: the owner may not demote themselves.
	owner.Navigate(team)
	owner.Expect("/role", http.StatusConflict)
	owner.Select(ownerRow+` select[name=role]`, "admin")
	owner.Click(ownerRow + ` .role-form button`)
	owner.WaitText(ownerRow+` .error`, "at least one owner", 10*time.Second)
	res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/members"), nil)
	if !bytes.Contains(res.Body, []byte(`"role":"owner"`)) {
		t.Fatalf("the owner lost the role: %s", res.Body)
	}

	// The owner removes Sam after the confirm step.
	samRow := `tr#member-` + memberID(t, e, ws, "sam@team.example")
	owner.Navigate(team)
	owner.Click(samRow + ` .remove-link`)
	owner.WaitText("h1", "Remove Sam Support?", 10*time.Second)
	owner.Click(`.confirm button.danger`)
	owner.WaitText(".notice", "Member removed", 10*time.Second)
	if owner.Exists(samRow) {
		t.Errorf("Sam is still listed after the removal")
	}
	b.AssertClean(t)
}

func memberID(t *testing.T, e *testenv.Env, ws testenv.Workspace, email string) string {
	t.Helper()
	res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/members"), nil)
	var page struct {
		Items []struct {
			UserID string `json:"user_id"`
			Email  string `json:"email"`
		} `json:"items"`
	}
	res.JSON(t, &page)
	for _, m := range page.Items {
		if m.Email == email {
			return m.UserID
		}
	}
	t.Fatalf("no member %s in %s", email, res.Body)
	return ""
}

// TestSettingsPageInBrowser sets, replaces and removes the workspace's own OpenAI key; the
// page shows only its last 4 characters.
func TestSettingsPageInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Settings Co")
	e.SetPassword(testenv.OwnerEmail("Settings Co"), password)
	base := e.Serve("")
	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("Settings Co"), password)
	tab.Click(`nav.nav a[href$="/settings"]`)
	tab.WaitText(".key-status", "No key of your own", 10*time.Second)
	if attrs := browser.Eval[string](tab, `(function(){var i=document.getElementById("api-key"); return i.type+" "+i.autocomplete})()`); attrs != "password off" {
		t.Errorf("key input: %q, want type=password autocomplete=off", attrs)
	}

	// A key with a space is refused inline.
	tab.Expect("/openai-key", http.StatusBadRequest)
	tab.Fill(`#api-key`, "sk-not a key")
	tab.Submit(`#api-key`)
	tab.WaitText(".byok .error", "does not look like an OpenAI API key", 10*time.Second)

	const first, second = "sk-test-first-key-1234", "sk-test-second-key-9876"
	tab.Fill(`#api-key`, first)
	tab.Submit(`#api-key`)
	tab.WaitText(".notice", "Key saved", 10*time.Second)
	if got := tab.Text(".last4"); got != "…1234" {
		t.Errorf("after setting: shows %q, want …1234", got)
	}
	if page := browser.Eval[string](tab, `document.documentElement.outerHTML`); strings.Contains(page, first) {
		t.Fatalf("the page shows the whole key")
	}
	screenshot(t, tab, "settings")

	tab.Fill(`#api-key`, second)
	tab.Submit(`#api-key`)
	tab.WaitText(".last4", "9876", 10*time.Second)
	res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/settings"), nil)
	if !bytes.Contains(res.Body, []byte(`"last4":"9876"`)) {
		t.Fatalf("API settings after replacing: %s", res.Body)
	}

	tab.Click(`#remove-key`)
	tab.WaitText(".confirm", "Remove the key ending in 9876?", 10*time.Second)
	tab.Click(`.confirm button.danger`)
	tab.WaitText(".notice", "Key removed", 10*time.Second)
	tab.WaitText(".key-status", "No key of your own", 10*time.Second)
	res = e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/settings"), nil)
	if !bytes.Contains(res.Body, []byte(`"configured":false`)) {
		t.Fatalf("API settings after removing: %s", res.Body)
	}
	b.AssertClean(t)
}

// TestViewerSeesNoControlsAndForgedPostsChangeNothing: a viewer reads Leads and Team with
// no action controls, is refused Settings with an explanation, and the forms they could
// forge (with their own session and CSRF token) get 403 and change nothing.
func TestViewerSeesNoControlsAndForgedPostsChangeNothing(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Viewer Co")
	base := e.Serve("")
	leads := seedLeads(t, e, ws, "Vera")
	supportID, _ := addMember(t, e, ws, "sue@viewer.example", "Sue", "support")
	addMember(t, e, ws, "vic@viewer.example", "Vic Viewer", "viewer")
	wsID := ws.WorkspaceID.String()

	b := browser.New(t)
	tab := signInTab(t, b, base, "vic@viewer.example", password)
	tab.Navigate(base + web.WorkspacePath(wsID, web.SectionLeads))
	tab.WaitText("table.leads", "Vera", 10*time.Second)
	if tab.Exists(`.status-form`) || tab.Exists(`select[name=status]`) {
		t.Errorf("a viewer sees the lead status control")
	}
	if !tab.Exists(`#export-csv`) {
		t.Errorf("a viewer may export leads but sees no Export CSV")
	}
	tab.Navigate(base + web.WorkspacePath(wsID, web.SectionTeam))
	tab.WaitText("table.members", "Sue", 10*time.Second)
	if tab.Exists(".invite-form") || tab.Exists(".role-form") || tab.Exists(".remove-link") || tab.Exists("form[method=post] select") {
		t.Errorf("a viewer sees team controls")
	}
	tab.Expect("/settings", http.StatusForbidden)
	tab.Navigate(base + web.WorkspacePath(wsID, web.SectionSettings))
	tab.WaitText("h1", "Settings are for owners", 10*time.Second)
	if !strings.Contains(tab.Text("main"), "Only an owner") || tab.Exists("#api-key") {
		t.Errorf("the refused Settings page does not explain, or shows the form")
	}
	b.AssertClean(t)

	// Forged posts with the viewer's own session and CSRF token.
	v := newVisitor(t, base)
	if code, _, _ := v.signIn("vic@viewer.example", password); code != http.StatusSeeOther {
		t.Fatalf("viewer sign-in: %d", code)
	}
	v.get(web.WorkspacePath(wsID, web.SectionLeads))
	team := web.WorkspacePath(wsID, web.SectionTeam)
	for _, f := range []struct {
		path string
		form url.Values
	}{
		{web.WorkspacePath(wsID, web.SectionLeads) + "/" + leads["Vera"].ID + "/status", url.Values{"status": {"won"}}},
		{team + "/invite", url.Values{"email": {"mallory@viewer.example"}, "role": {"owner"}}},
		{team + "/" + supportID + "/role", url.Values{"role": {"viewer"}}},
		{team + "/" + supportID + "/remove", url.Values{}},
		{web.WorkspacePath(wsID, web.SectionSettings) + "/openai-key", url.Values{"api_key": {"sk-forged-key-0000"}}},
		{web.WorkspacePath(wsID, web.SectionSettings) + "/openai-key/delete", url.Values{}},
	} {
		if code, _, _ := v.post(f.path, f.form, true); code != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", f.path, code)
		}
	}
	// Nothing changed.
	if got := apiLeads(t, e, ws)["Vera"].Status; got != "new" {
		t.Errorf("Vera's lead status: %q, want new", got)
	}
	res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/members"), nil)
	if bytes.Contains(res.Body, []byte("mallory")) || !bytes.Contains(res.Body, []byte(`"email":"sue@viewer.example","name":"Sue","role":"support"`)) {
		t.Errorf("members after forged posts: %s", res.Body)
	}
	res = e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/settings"), nil)
	if !bytes.Contains(res.Body, []byte(`"configured":false`)) {
		t.Errorf("settings after forged posts: %s", res.Body)
	}
}

// apiAutoArchiveDays is auto_archive_days as GET /settings shows it to the owner (nil: off).
func apiAutoArchiveDays(t *testing.T, e *testenv.Env, ws testenv.Workspace) *float64 {
	t.Helper()
	res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/settings"), nil)
	if res.Code != http.StatusOK {
		t.Fatalf("GET settings: %d %s", res.Code, res.Body)
	}
	var out struct {
		Days *float64 `json:"auto_archive_days"`
	}
	res.JSON(t, &out)
	return out.Days
}

// TestAdminSetsAutoArchiveInBrowser: an admin (not the owner) opens Settings, sees the
// auto-archive form but not the owner's OpenAI key section, turns auto-archive on at 30
// days and off again; a support member is refused the page with an explanation.
func TestAdminSetsAutoArchiveInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Archive Admin Co")
	base := e.Serve("")
	addMember(t, e, ws, "ada@archive.example", "Ada Admin", "admin")
	addMember(t, e, ws, "sue@archive.example", "Sue Support", "support")

	b := browser.New(t)
	tab := signInTab(t, b, base, "ada@archive.example", password)
	tab.Click(`nav.nav a[href$="/settings"]`)
	tab.WaitText(".auto-archive .archive-status", "Off.", 10*time.Second)
	if !tab.Exists(`#auto-archive-days`) {
		t.Fatal("the admin sees no auto-archive input")
	}
	if tab.Exists(`.byok`) || tab.Exists(`#api-key`) || strings.Contains(tab.Text("main"), "OpenAI key") {
		t.Error("an admin sees the owner's OpenAI key section")
	}

	tab.Fill(`#auto-archive-days`, "30")
	tab.Submit(`#auto-archive-days`)
	tab.WaitText(".notice", "Auto-archive saved", 10*time.Second)
	tab.WaitText(".archive-status", "On: after 30 days.", 10*time.Second)
	if got := browser.Eval[string](tab, `document.getElementById("auto-archive-days").value`); got != "30" {
		t.Errorf("the input after saving holds %q, want 30", got)
	}
	if got := apiAutoArchiveDays(t, e, ws); got == nil || *got != 30 {
		t.Fatalf("API auto_archive_days after setting 30 in the page: %v", got)
	}

	// Emptied: off.
	tab.Fill(`#auto-archive-days`, "")
	tab.Submit(`#auto-archive-days`)
	tab.WaitText(".archive-status", "Off.", 10*time.Second)
	if got := apiAutoArchiveDays(t, e, ws); got != nil {
		t.Fatalf("API auto_archive_days after turning it off in the page: %v, want null", *got)
	}

	sue := signInTab(t, b, base, "sue@archive.example", password, browser.Isolated())
	sue.Expect("/settings", http.StatusForbidden)
	sue.Navigate(base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionSettings))
	sue.WaitText("h1", "Settings are for owners and admins", 10*time.Second)
	if !strings.Contains(sue.Text("main"), "Only an owner or an admin") || sue.Exists("#auto-archive-days") || sue.Exists("#api-key") {
		t.Error("the refused Settings page does not explain, or shows a form")
	}
	b.AssertClean(t)
}
