package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

var leadRowRE = regexp.MustCompile(`<tr id="lead-([0-9a-f-]{36})"`)

// TestLeadsPagingFiltersAndFallbacks: the Leads page pages with "Older" (no lead twice, none
// missed), says what is wrong with a bad date, and changes a status with a plain form (no
// htmx) by going back to the page it came from; htmx gets only the row.
func TestLeadsPagingFiltersAndFallbacks(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Paging Co")
	e.SetPassword(testenv.OwnerEmail("Paging Co"), password)
	base := e.Serve("")
	n := app.DefaultLimit + 3
	for i := range n {
		if res := e.Ingest(ws.IngestKey, map[string]any{
			"conversation_ref": fmt.Sprintf("ref-%d", i), "channel": "chat",
			"visitor": map[string]any{"name": fmt.Sprintf("Visitor %d", i)},
			"message": map[string]any{"role": "visitor", "text": "hello"},
		}); res.Code != http.StatusCreated {
			t.Fatalf("ingest %d: %d %s", i, res.Code, res.Body)
		}
	}
	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail("Paging Co"), password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	leads := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionLeads)

	seen := map[string]bool{}
	page := leads + "?status=new"
	for pages := 0; page != ""; pages++ {
		if pages > 2 {
			t.Fatalf("more pages than %d leads need", n)
		}
		code, body, _ := v.get(page)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", page, code)
		}
		for _, m := range leadRowRE.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("lead %s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		page = ""
		if m := regexp.MustCompile(`<a href="([^"]+)" rel="next">Older`).FindStringSubmatch(body); m != nil {
			page = strings.ReplaceAll(m[1], "&amp;", "&")
			if !strings.Contains(page, "status=new") {
				t.Fatalf("the Older link drops the filter: %s", page)
			}
		}
	}
	if len(seen) != n {
		t.Fatalf("paged through %d leads, want %d", len(seen), n)
	}

	// A bad date is a 400 that names the field, on the page; the export refuses it too.
	code, body, _ := v.get(leads + "?from=yesterday")
	if code != http.StatusBadRequest || !strings.Contains(body, "from: want a date") {
		t.Fatalf("bad date: %d", code)
	}
	if code, _, _ := v.get(leads + "/export.csv?status=maybe"); code != http.StatusBadRequest {
		t.Fatalf("export with a bad status: %d, want 400", code)
	}

	// A plain form goes back to the page it came from.
	var id string
	for id = range seen {
		break
	}
	from := leads + "?status=new"
	code, _, h := v.post(leads+"/"+id+"/status", url.Values{"status": {"qualified"}, "next": {from}}, true)
	if code != http.StatusSeeOther || h.Get("Location") != from {
		t.Fatalf("plain status change: %d %s", code, h.Get("Location"))
	}
	// next may not leave the workspace's Leads page.
	_, _, h = v.post(leads+"/"+id+"/status", url.Values{"status": {"won"}, "next": {"//evil.example/"}}, true)
	if h.Get("Location") != leads {
		t.Errorf("next=//evil.example/ went to %q", h.Get("Location"))
	}
	// htmx gets the row alone.
	req, _ := http.NewRequest(http.MethodPost, base+leads+"/"+id+"/status", strings.NewReader(url.Values{"status": {"lost"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("HX-Request", "true")
	req.Header.Set(web.CSRFHeader, v.token)
	resp, err := v.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	row := strings.TrimSpace(string(b))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(row, `<tr id="lead-`+id+`" data-status="lost"`) || strings.Contains(row, "<html") {
		t.Fatalf("htmx status change: %d\n%s", resp.StatusCode, row)
	}
}

// TestTeamPageMakesANewInviteLink: the owner's "New invite link" shows a working link once.
func TestTeamPageMakesANewInviteLink(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("")
	res := e.As(ws.OwnerToken, http.MethodPost, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/members",
		map[string]any{"email": "lost@acme.example", "name": "Lost", "role": "support"})
	var added struct {
		Member struct {
			UserID string `json:"user_id"`
		} `json:"member"`
	}
	res.JSON(t, &added)

	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail("Acme"), password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	team := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionTeam)
	v.get(team)
	code, page, _ := v.post(team+"/"+added.Member.UserID+"/invite", url.Values{}, true)
	link := regexp.MustCompile(`id="reinvite-url"[^>]*value="([^"]+)"`).FindStringSubmatch(page)
	if code != http.StatusOK || link == nil {
		t.Fatalf("new invite link: %d\n%s", code, page)
	}
	if code, page, _ := newVisitor(t, base).get(strings.TrimPrefix(link[1], base)); code != http.StatusOK || !strings.Contains(page, "lost@acme.example") {
		t.Fatalf("the new link: %d", code)
	}
	if _, page, _ := v.get(team); strings.Contains(page, link[1]) {
		t.Errorf("the link is shown again on the next visit")
	}
}
