package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
)

// TestChangeShowsTheViewItReturned checks that an htmx state change or assignment renders
// the conversation as app's ChangeState/Assign returned it, not read once more by the page.
// That view comes back from the change's write; only a change that something else wrote
// first (a close's summary activity writes its close, and may win) reads it, once.
func TestChangeShowsTheViewItReturned(t *testing.T) {
	t.Parallel()
	queries := &testenv.QueryLog{}
	e := testenv.New(t, testenv.Options{Queries: queries})
	ws := e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("")
	id := ingest(t, e, ws.IngestKey, "ref-ana", "Ana", "Hi there")
	v, detail := ownerOnConversation(t, base, ws, "Acme", id)
	htmx := v.htmxPost
	// The detail read: the conversation's view (store.GetConversation), by its id.
	reads := func() int { return len(queries.Matching("c.*", "c.id = '"+id+"'")) }

	queries.Reset()
	code, page := htmx(detail+"/state", url.Values{"state": {"closed"}, "idempotency_key": {"k-close"}})
	if code != http.StatusOK || !strings.Contains(page, `data-state="archived"`) {
		t.Fatalf("close: %d\n%s", code, page)
	}
	if n := reads(); n > 1 {
		t.Errorf("a state change read the conversation %d times, want at most once (the view ChangeState returns)", n)
	}

	queries.Reset()
	code, page = htmx(detail+"/assignee", url.Values{"assignee": {ws.OwnerUserID.String()}, "idempotency_key": {"k-assign"}})
	if code != http.StatusOK || !strings.Contains(page, ws.OwnerUserID.String()) {
		t.Fatalf("assign: %d\n%s", code, page)
	}
	if n := reads(); n != 0 {
		t.Errorf("an assignment read the conversation %d times, want none (its write returns the view Assign returns)", n)
	}
}
