package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// The takeover of issue 18 through the Team page: an admin of A invites B's owner. The page
// says they have an account and shows no token and no link; "New invite link" is refused
// with words; nothing changes in B and B's owner still signs in with their password.
func TestTeamPageHandsOverNoAccount(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{NoWorker: true})
	a, b := e.NewWorkspace("Alpha"), e.NewWorkspace("Bravo")
	bOwner := testenv.OwnerEmail("Bravo")
	e.SetPassword(bOwner, password)
	base := e.Serve("")
	res := e.As(a.OwnerToken, http.MethodPost, "/api/v1/workspaces/"+a.WorkspaceID.String()+"/members",
		map[string]any{"email": "adm@alpha.example", "role": "admin"})
	if res.Code != http.StatusCreated {
		t.Fatalf("add A's admin: %d %s", res.Code, res.Body)
	}
	e.SetPassword("adm@alpha.example", password)

	v := newVisitor(t, base)
	if code, _, _ := v.signIn("adm@alpha.example", password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	team := web.WorkspacePath(a.WorkspaceID.String(), web.SectionTeam)
	v.get(team)
	code, page, _ := v.post(team+"/invite", url.Values{"email": {bOwner}, "name": {"Mallory's pick"}, "role": {"viewer"}}, true)
	if code != http.StatusOK || !strings.Contains(page, "already has an account") {
		t.Fatalf("invite B's owner: %d\n%s", code, page)
	}
	for _, secret := range []string{"inbox_tok_", "/invite/", `id="invite-url"`, b.WorkspaceID.String(), "Bravo workspace"} {
		if strings.Contains(page, secret) {
			t.Errorf("the page shows %q after adding an account holder", secret)
		}
	}
	owner, err := e.Store.SignInUserByEmail(context.Background(), bOwner)
	if err != nil {
		t.Fatal(err)
	}
	// No "New invite link" in their row, and posting it anyway is refused in words.
	_, page, _ = v.get(team)
	row := regexp.MustCompile(`(?s)<tr id="member-` + owner.ID.String() + `".*?</tr>`).FindString(page)
	if row == "" || strings.Contains(row, "New invite link") {
		t.Errorf("B's owner's row offers a new invite link:\n%s", row)
	}
	code, page, _ = v.post(team+"/"+owner.ID.String()+"/invite", url.Values{}, true)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "already has an account") || strings.Contains(page, "/invite/") {
		t.Errorf("new invite link for B's owner: %d", code)
	}

	// Nothing changed in B.
	members, err := e.Store.ListMembers(context.Background(), b.WorkspaceID, 10, "")
	if err != nil || len(members.Items) != 1 {
		t.Errorf("B's members: %+v %v", members.Items, err)
	}
	if code, _, _ := newVisitor(t, base).signIn(bOwner, password); code != http.StatusSeeOther {
		t.Errorf("B's owner signs in with their own password: %d", code)
	}
	// A's admin cannot reach B's pages either.
	if code, _, _ := v.get(web.WorkspacePath(b.WorkspaceID.String(), web.SectionTeam)); code != http.StatusNotFound {
		t.Errorf("A's admin on B's Team page: %d", code)
	}
}

var tokenRowRE = regexp.MustCompile(`<tr id="token-([0-9a-f-]{36})"`)

// The account page lists the person's own tokens in this workspace, makes one (shown
// once), revokes one, and changes the password, keeping this browser signed in and signing
// out the others.
func TestAccountPageTokensAndPassword(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{NoWorker: true})
	ws := e.NewWorkspace("Acme")
	other := e.NewWorkspace("Other")
	email := testenv.OwnerEmail("Acme")
	e.SetPassword(email, password)
	// The same person in another workspace, with a token there that this page must not show.
	if res := e.As(other.OwnerToken, http.MethodPost, "/api/v1/workspaces/"+other.WorkspaceID.String()+"/members",
		map[string]any{"email": email, "role": "support"}); res.Code != http.StatusCreated {
		t.Fatalf("add to Other: %d", res.Code)
	}
	base := e.Serve("")
	v, elsewhere := newVisitor(t, base), newVisitor(t, base)
	for _, who := range []*visitor{v, elsewhere} {
		if code, _, _ := who.signIn(email, password); code != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", code)
		}
	}
	account := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionAccount)
	code, page, _ := v.get(account)
	if code != http.StatusOK || len(tokenRowRE.FindAllString(page, -1)) != 1 {
		t.Fatalf("account page: %d, %d token rows\n%s", code, len(tokenRowRE.FindAllString(page, -1)), page)
	}
	if !strings.Contains(page, `href="`+account+`"`) {
		t.Errorf("the top bar does not link the account page")
	}

	code, page, headers := v.post(account+"/tokens", url.Values{"name": {"nightly export"}}, true)
	secret := regexp.MustCompile(`id="new-token"[^>]*value="(inbox_tok_[^"]+)"`).FindStringSubmatch(page)
	if code != http.StatusOK || secret == nil || headers.Get("Cache-Control") != "no-store" {
		t.Fatalf("make a token: %d %q\n%s", code, headers.Get("Cache-Control"), page)
	}
	api := "/api/v1/workspaces/" + ws.WorkspaceID.String() + "/conversations"
	if res := e.As(secret[1], http.MethodGet, api, nil); res.Code != http.StatusOK {
		t.Errorf("the new token: %d", res.Code)
	}
	if res := e.As(secret[1], http.MethodGet, "/api/v1/workspaces/"+other.WorkspaceID.String()+"/conversations", nil); res.Code != http.StatusNotFound {
		t.Errorf("the new token in the other workspace: %d", res.Code)
	}
	if code, page, _ := v.post(account+"/tokens", url.Values{"name": {""}}, true); code != http.StatusBadRequest || !strings.Contains(page, "Name: required") {
		t.Errorf("a token without a name: %d", code)
	}
	_, page, _ = v.get(account)
	if strings.Contains(page, secret[1]) {
		t.Errorf("the secret is shown again")
	}
	rows := tokenRowRE.FindAllStringSubmatch(page, -1)
	if len(rows) != 2 {
		t.Fatalf("%d token rows, want 2", len(rows))
	}
	// The newest is first: revoke it.
	if code, _, hdr := v.post(account+"/tokens/"+rows[0][1]+"/revoke", url.Values{}, true); code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "done=revoked") {
		t.Fatalf("revoke: %d %v", code, hdr)
	}
	if res := e.As(secret[1], http.MethodGet, api, nil); res.Code != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d", res.Code)
	}

	// Password: a wrong current one and two differing new ones are refused in words.
	if code, page, _ := v.post(account+"/password", url.Values{"current": {"not my password"}, "password": {"a brand new password"}, "confirm": {"a brand new password"}}, true); code != http.StatusUnauthorized || !strings.Contains(page, "not your current password") {
		t.Errorf("wrong current password: %d", code)
	}
	if code, _, _ := v.post(account+"/password", url.Values{"current": {password}, "password": {"a brand new password"}, "confirm": {"another new password"}}, true); code != http.StatusBadRequest {
		t.Errorf("differing new passwords: %d", code)
	}
	if code, _, hdr := v.post(account+"/password", url.Values{"current": {password}, "password": {"a brand new password"}, "confirm": {"a brand new password"}}, true); code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "done=password") {
		t.Fatalf("change password: %d %v", code, hdr)
	}
	if code, page, _ := v.get(account + "?done=password"); code != http.StatusOK || !strings.Contains(page, "Password changed") {
		t.Errorf("this browser after the change: %d", code)
	}
	if code, _, _ := elsewhere.get(account); code == http.StatusOK {
		t.Errorf("another browser stays signed in after the change: %d", code)
	}
	if code, _, _ := newVisitor(t, base).signIn(email, "a brand new password"); code != http.StatusSeeOther {
		t.Errorf("sign in with the new password: %d", code)
	}
}
