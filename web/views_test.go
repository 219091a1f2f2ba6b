package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestSavedViewsThroughThePages saves the inbox's filters as a view over plain HTTP, opens
// its bookmark, refuses a second of the same name in words, keeps a personal view from
// other members and shared views from support, and deletes one.
func TestSavedViewsThroughThePages(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Views Pages")
	email := testenv.OwnerEmail("Views Pages")
	e.SetPassword(email, password)
	res := e.As(ws.OwnerToken, http.MethodPost, apiPath(ws, "/labels"), map[string]any{"name": "Billing"})
	var label struct {
		ID string `json:"id"`
	}
	res.JSON(t, &label)
	billing := newConversationVia(t, e, ws, "vp-1", "Billing Visitor")
	plain := newConversationVia(t, e, ws, "vp-2", "Plain Visitor")
	if r := e.As(ws.OwnerToken, http.MethodPut, apiPath(ws, "/conversations/"+billing+"/labels"), map[string]any{"labels": []string{label.ID}}); r.Code != http.StatusOK {
		t.Fatalf("label: %d %s", r.Code, r.Body)
	}
	addMember(t, e, ws, "sup@viewpages.example", "Sup", "support")
	base := e.Serve("")
	wsID := ws.WorkspaceID.String()
	inbox := web.WorkspacePath(wsID, web.SectionInbox)

	owner := newVisitor(t, base)
	if code, _, _ := owner.signIn(email, password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	_, page, _ := owner.get(inbox + "?label=" + label.ID + "&created_after=2020-01-01")
	if !strings.Contains(page, `name="filters" value="`) || !strings.Contains(page, "Shared with the workspace") {
		t.Fatalf("the inbox offers no Save this view form for an owner\n%s", page)
	}
	filters := "label=" + label.ID + "&created_after=2020-01-01"
	code, _, hdr := owner.post(inbox+"views", url.Values{"name": {"Billing"}, "filters": {filters}}, true)
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "?view=") {
		t.Fatalf("save view: %d %v", code, hdr)
	}
	bookmark := hdr.Get("Location")
	code, page, _ = owner.get(bookmark)
	if code != http.StatusOK || !strings.Contains(page, `data-id="`+billing+`"`) || strings.Contains(page, `data-id="`+plain+`"`) {
		t.Fatalf("the view's bookmark: %d, want only the labelled conversation\n%s", code, page)
	}
	if !strings.Contains(page, `value="2020-01-01"`) || !regexp.MustCompile(`<option value="`+label.ID+`" selected>`).MatchString(page) {
		t.Errorf("the view's page does not show its filters in the form")
	}
	if !regexp.MustCompile(`aria-current="page"><span class="view-label">Billing</span>`).MatchString(page) {
		t.Errorf("the side list does not mark the view current")
	}

	// The same name again is refused in words next to the form, which keeps what was typed.
	code, page, _ = owner.post(inbox+"views", url.Values{"name": {"billing"}, "filters": {filters}}, true)
	if code != http.StatusConflict || !strings.Contains(page, "ignoring case") || !strings.Contains(page, `value="billing"`) {
		t.Errorf("a second view named billing: %d\n%s", code, page)
	}
	// A bad filter is refused naming it.
	code, page, _ = owner.post(inbox+"views", url.Values{"name": {"Bad"}, "filters": {"state=gone"}}, true)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Filters.state") {
		t.Errorf("a view with a bad state: %d\n%s", code, page)
	}

	// Support sees no personal view of the owner's, and may not share one.
	sup := newVisitor(t, base)
	if code, _, _ := sup.signIn("sup@viewpages.example", password); code != http.StatusSeeOther {
		t.Fatalf("support sign-in: %d", code)
	}
	_, page, _ = sup.get(inbox)
	if strings.Contains(page, "view-label\">Billing") || strings.Contains(page, "Shared with the workspace") {
		t.Errorf("support sees the owner's personal view or the Shared box\n%s", page)
	}
	if code, _, _ := sup.get(bookmark); code != http.StatusNotFound {
		t.Errorf("support opens the owner's personal view: %d, want 404", code)
	}
	code, page, _ = sup.post(inbox+"views", url.Values{"name": {"Team"}, "shared": {"true"}}, true)
	if code != http.StatusForbidden || !strings.Contains(page, "may not share views") {
		t.Errorf("support shares a view: %d", code)
	}
	if code, _, _ := sup.post(inbox+"views", url.Values{"name": {"Mine"}, "filters": {"unread=true"}}, true); code != http.StatusSeeOther {
		t.Errorf("support saves a view of their own: %d", code)
	}
	id := strings.TrimPrefix(bookmark, inbox+"?view=")
	if code, _, _ := sup.post(inbox+"views/"+id+"/delete", url.Values{}, true); code != http.StatusNotFound {
		t.Errorf("support deletes the owner's personal view: %d, want 404", code)
	}

	// The owner deletes theirs; the bookmark is then the 404 page.
	if code, _, _ := owner.post(inbox+"views/"+id+"/delete", url.Values{}, true); code != http.StatusSeeOther {
		t.Errorf("delete view: %d", code)
	}
	if code, _, _ := owner.get(bookmark); code != http.StatusNotFound {
		t.Errorf("a deleted view's bookmark: %d, want 404", code)
	}
}
