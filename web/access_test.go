package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestPagesFollowMembership: the pages ask the same membership lookup as the API on every
// request, so a removed member loses access on their next page, another workspace's pages
// are the 404 page, and the header lists only the person's own workspaces.
func TestPagesFollowMembership(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	acme := e.NewWorkspace("Acme")
	other := e.NewWorkspace("Other")
	base := e.Serve("")

	members := "/api/v1/workspaces/" + acme.WorkspaceID.String() + "/members"
	res := e.As(acme.OwnerToken, http.MethodPost, members, map[string]any{"email": "sam@acme.example", "name": "Sam", "role": "support"})
	if res.Code != http.StatusCreated {
		t.Fatalf("add member: %d %s", res.Code, res.Body)
	}
	var added struct {
		Member struct {
			UserID string `json:"user_id"`
		} `json:"member"`
	}
	res.JSON(t, &added)
	e.SetPassword("sam@acme.example", password)

	v := newVisitor(t, base)
	if code, _, _ := v.signIn("sam@acme.example", password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	acmeInbox := web.WorkspacePath(acme.WorkspaceID.String(), web.SectionInbox)
	code, page, _ := v.get(acmeInbox)
	if code != http.StatusOK {
		t.Fatalf("member's inbox: %d", code)
	}
	if strings.Contains(page, "Other") {
		t.Errorf("the header of a member of Acme only mentions the Other workspace")
	}
	// A workspace Sam is not in reads as one that does not exist.
	if code, page, _ := v.get(web.WorkspacePath(other.WorkspaceID.String(), web.SectionInbox)); code != http.StatusNotFound || !strings.Contains(page, "Not found") {
		t.Errorf("another workspace's inbox: %d, want the 404 page", code)
	}
	if code, _, _ := v.get("/w/not-a-uuid/"); code != http.StatusNotFound {
		t.Errorf("a malformed workspace id: %d, want 404", code)
	}

	// Removed through the API: the very next page is refused.
	if res := e.As(acme.OwnerToken, http.MethodDelete, members+"/"+added.Member.UserID, nil); res.Code != http.StatusNoContent {
		t.Fatalf("remove: %d %s", res.Code, res.Body)
	}
	if code, _, _ := v.get(acmeInbox); code != http.StatusNotFound {
		t.Errorf("removed member's next page: %d, want 404", code)
	}
	// Unknown pages are the HTML 404; unknown API paths keep the JSON one.
	if code, page, _ := v.get("/no/such/page"); code != http.StatusNotFound || !strings.Contains(page, "<html") {
		t.Errorf("unknown page: %d", code)
	}
	if res := e.Do(http.MethodGet, "/api/v1/no-such-endpoint", nil); res.Code != http.StatusNotFound || res.ErrorCode() != "not_found" {
		t.Errorf("unknown API path: %d %s", res.Code, res.Body)
	}
}
