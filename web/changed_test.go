package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestChangeShowsTheViewItReturned checks that an htmx state change or assignment renders
// the conversation as app's ChangeState/Assign returned it: the conversation is read once
// after the Update, not once more by the page.
func TestChangeShowsTheViewItReturned(t *testing.T) {
	t.Parallel()
	queries := &testenv.QueryLog{}
	e := testenv.New(t, testenv.Options{Queries: queries})
	ws := e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("")
	id := ingest(t, e, ws.IngestKey, "ref-ana", "Ana", "Hi there")
	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail("Acme"), password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	detail := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox) + "c/" + id
	if code, _, _ := v.get(detail); code != http.StatusOK { // the page's form token
		t.Fatalf("detail: %d", code)
	}
	htmx := func(path string, form url.Values) (int, string) {
		t.Helper()
		form.Set(web.CSRFFormField, v.token)
		req, _ := http.NewRequest(http.MethodPost, v.base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", v.base)
		req.Header.Set("HX-Request", "true")
		resp, err := v.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The detail read: the conversation's view (store.GetConversation), by its id.
	reads := func() int { return len(queries.Matching("c.*", "c.id = '"+id+"'")) }

	queries.Reset()
	code, page := htmx(detail+"/state", url.Values{"state": {"closed"}, "idempotency_key": {"k-close"}})
	if code != http.StatusOK || !strings.Contains(page, `data-state="archived"`) {
		t.Fatalf("close: %d\n%s", code, page)
	}
	if n := reads(); n != 1 {
		t.Errorf("a state change read the conversation %d times, want once (the view ChangeState returns)", n)
	}

	queries.Reset()
	code, page = htmx(detail+"/assignee", url.Values{"assignee": {ws.OwnerUserID.String()}, "idempotency_key": {"k-assign"}})
	if code != http.StatusOK || !strings.Contains(page, ws.OwnerUserID.String()) {
		t.Fatalf("assign: %d\n%s", code, page)
	}
	if n := reads(); n != 1 {
		t.Errorf("an assignment read the conversation %d times, want once (the view Assign returns)", n)
	}
}
