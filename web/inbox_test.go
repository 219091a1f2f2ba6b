package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// ingest posts one visitor message of conversation ref through the API and returns the
// conversation's id.
func ingest(t *testing.T, e *testenv.Env, key, ref, name, text string) string {
	t.Helper()
	r := e.Ingest(key, map[string]any{
		"conversation_ref": ref, "channel": "chat",
		"visitor": map[string]any{"name": name, "email": strings.ToLower(name) + "@example.com"},
		"message": map[string]any{"role": "visitor", "text": text},
		"source": map[string]any{"page_url": "https://shop.example/pricing", "referrer": "https://www.google.com/",
			"user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130"},
	})
	if r.Code != http.StatusCreated && r.Code != http.StatusOK {
		t.Fatalf("ingest %s: %d %s", ref, r.Code, r.Body)
	}
	var out struct {
		ConversationID string `json:"conversation_id"`
	}
	r.JSON(t, &out)
	return out.ConversationID
}

// apiConversation reads a conversation through the API, as the owner.
func apiConversation(t *testing.T, e *testenv.Env, ws testenv.Workspace, id string) map[string]any {
	t.Helper()
	r := e.As(ws.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations/"+id, nil)
	if r.Code != http.StatusOK {
		t.Fatalf("get conversation: %d %s", r.Code, r.Body)
	}
	var out map[string]any
	r.JSON(t, &out)
	return out
}

// TestInboxFiltersAndRefusals checks the pages over plain HTTP: filters in the URL, empty
// fields and dates, a bad value shown inline, another workspace's conversation as 404,
// and a viewer who sees no controls and whose forged posts are 403 and change nothing.
func TestInboxFiltersAndRefusals(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Acme")
	other := e.NewWorkspace("Other")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("http://temporal.example:8233")
	inbox := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox)

	ana := ingest(t, e, ws.IngestKey, "ref-ana", "Ana", "Hi, do you ship to NZ?")
	ingest(t, e, ws.IngestKey, "ref-bo", "Bo", "What are your hours?")
	foreign := ingest(t, e, other.IngestKey, "ref-x", "Xavier", "Hello from elsewhere")

	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail("Acme"), password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	code, page, _ := v.get(inbox)
	if code != http.StatusOK || !strings.Contains(page, "Ana") || !strings.Contains(page, "Bo") || !strings.Contains(page, "badge-unread") {
		t.Fatalf("inbox: %d\n%s", code, page)
	}
	// The form as a browser sends it: every field, most of them empty; dates from the date inputs.
	code, page, _ = v.get(inbox + "?unread=true&state=&assignee=&channel=&created_after=2000-01-01&created_before=2999-12-31&q=ship")
	if code != http.StatusOK || !strings.Contains(page, "Ana") || strings.Contains(page, ">Bo<") {
		t.Fatalf("filtered inbox: %d\n%s", code, page)
	}
	// Nothing matches: the other empty state, with a way back.
	code, page, _ = v.get(inbox + "?q=nothing-like-this")
	if code != http.StatusOK || !strings.Contains(page, "No conversations match these filters") {
		t.Fatalf("no match: %d\n%s", code, page)
	}
	// A bad value is refused inline and the form stays.
	code, page, _ = v.get(inbox + "?state=shut&created_after=yesterday")
	if code != http.StatusBadRequest || !strings.Contains(page, "That filter does not work") || !strings.Contains(page, `name="unread"`) {
		t.Fatalf("bad filter: %d\n%s", code, page)
	}
	// Paging: one per page, Older then Newest; the filters stay on both links.
	code, page, _ = v.get(inbox + "?limit=1&q=")
	if code != http.StatusOK || !strings.Contains(page, ">Bo<") || strings.Contains(page, ">Ana<") {
		t.Fatalf("first page: %d\n%s", code, page)
	}
	older := regexp.MustCompile(`href="([^"]*)" rel="next">Older<`).FindStringSubmatch(page)
	if older == nil {
		t.Fatalf("no Older link:\n%s", page)
	}
	code, page, _ = v.get(html.UnescapeString(older[1]))
	if code != http.StatusOK || !strings.Contains(page, ">Ana<") || strings.Contains(page, ">Bo<") ||
		!strings.Contains(page, `href="`+inbox+`?limit=1">Newest<`) || strings.Contains(page, ">Older<") {
		t.Fatalf("second page: %d\n%s", code, page)
	}
	// The event stream of another workspace is the 404 page, like its conversations.
	if code, _, _ := v.get(web.WorkspacePath(other.WorkspaceID.String(), "events")); code != http.StatusNotFound {
		t.Errorf("another workspace's events: %d, want 404", code)
	}
	// A workspace with no conversation says what to do next.
	empty := e.NewWorkspace("Empty")
	e.SetPassword(testenv.OwnerEmail("Empty"), password)
	ve := newVisitor(t, base)
	ve.signIn(testenv.OwnerEmail("Empty"), password)
	if _, page, _ := ve.get(web.WorkspacePath(empty.WorkspaceID.String(), web.SectionInbox)); !strings.Contains(page, "No conversations yet: send the first message with the curl that <code>inbox dev</code> printed.") {
		t.Errorf("empty inbox:\n%s", page)
	}

	// The detail, with the audit log; nobody has changed it, so it has no workflow yet.
	detail := inbox + "c/" + ana
	code, page, _ = v.get(detail)
	for _, want := range []string{"Hi, do you ship to NZ?", `data-state="pending"`, `data-state="closed"`, `id="assignee"`,
		"203.0.113.0/24", "https://shop.example/pricing", "No workflow yet", "Audit log", "Mark as unread"} {
		if !strings.Contains(page, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	if code != http.StatusOK || strings.Contains(page, `data-state="archived"`) || strings.Contains(page, `data-state="open"`) {
		t.Fatalf("detail: %d\n%s", code, page)
	}
	if got := apiConversation(t, e, ws, ana)["unread"]; got != false {
		t.Errorf("opened conversation: unread = %v", got)
	}
	// Another workspace's conversation, and a malformed id: the 404 page.
	for _, p := range []string{inbox + "c/" + foreign, inbox + "c/not-an-id"} {
		if code, _, _ := v.get(p); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	// A move the table does not allow is a 409 shown next to the buttons.
	code, page, _ = v.post(detail+"/state", url.Values{"state": {"archived"}, "idempotency_key": {"k-archive"}}, true)
	if code != http.StatusConflict || !strings.Contains(page, "Cannot move a conversation from open to archived") {
		t.Fatalf("refused move: %d\n%s", code, page)
	}
	// Its first change started its workflow (the workflow refused the move): the detail
	// links to it in the Temporal UI now.
	if _, page, _ = v.get(detail); !strings.Contains(page, "http://temporal.example:8233/namespaces/") || strings.Contains(page, "No workflow yet") {
		t.Errorf("detail after the first change has no Temporal UI link:\n%s", page)
	}
	// A plain form: post, redirect, get. The same key twice is applied once.
	for range 2 {
		code, _, h := v.post(detail+"/state", url.Values{"state": {"pending"}, "idempotency_key": {"k-pending"}}, true)
		if code != http.StatusSeeOther || h.Get("Location") != detail {
			t.Fatalf("pending: %d %s", code, h.Get("Location"))
		}
	}
	if got := apiConversation(t, e, ws, ana)["state"]; got != "pending" {
		t.Fatalf("state = %v, want pending", got)
	}

	// A viewer: no controls, and forged posts are 403 and change nothing.
	addMember(t, e, ws, "vic@example.com", "Vic Viewer", "viewer")
	vv := newVisitor(t, base)
	if code, _, _ := vv.signIn("vic@example.com", password); code != http.StatusSeeOther {
		t.Fatalf("viewer sign in: %d", code)
	}
	_, page, _ = vv.get(detail)
	for _, bad := range []string{"data-state=", `id="assignee"`, "Retry summary", `id="lead-status"`, "Audit log"} {
		if strings.Contains(page, bad) {
			t.Errorf("viewer's detail shows %q", bad)
		}
	}
	owner := fmt.Sprint(ws.OwnerUserID)
	for path, form := range map[string]url.Values{
		"/state":         {"state": {"closed"}, "idempotency_key": {"v1"}},
		"/assignee":      {"assignee": {owner}, "idempotency_key": {"v2"}},
		"/summary/retry": {"idempotency_key": {"v3"}},
		"/lead":          {"status": {"won"}},
	} {
		if code, _, _ := vv.post(detail+path, form, true); code != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", path, code)
		}
	}
	after := apiConversation(t, e, ws, ana)
	if after["state"] != "pending" || after["assignee"] != nil || after["lead"].(map[string]any)["status"] != "new" {
		t.Errorf("a viewer's forged posts changed the conversation: %v", after)
	}
}
