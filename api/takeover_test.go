package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/testenv"
)

// The takeover that issue 18 reproduced: an admin of workspace A adds the owner of B to A
// and used to get a token and a password link for B's owner. Every step now ends in a
// refusal, or in an answer that hands over nothing, with nothing changed in B.
func TestAddingAnAccountHolderHandsOverNothing(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{NoWorker: true})
	a, b := env.NewWorkspace("Alpha"), env.NewWorkspace("Bravo")
	bOwnerEmail := testenv.OwnerEmail("Bravo")
	env.SetPassword(bOwnerEmail, "bravo owner password")
	wsA := "/api/v1/workspaces/" + a.WorkspaceID.String()
	wsB := "/api/v1/workspaces/" + b.WorkspaceID.String()

	// An admin of A (not even its owner) does it.
	res := env.As(a.OwnerToken, http.MethodPost, wsA+"/members", map[string]any{"email": "adm@alpha.example", "role": "admin"})
	var admin struct {
		APIToken string `json:"api_token"`
	}
	res.JSON(t, &admin)
	if res.Code != http.StatusCreated || admin.APIToken == "" {
		t.Fatalf("add A's admin: %d %s", res.Code, res.Body)
	}

	res = env.As(admin.APIToken, http.MethodPost, wsA+"/members", map[string]any{"email": strings.ToUpper(bOwnerEmail), "role": "viewer"})
	if res.Code != http.StatusCreated {
		t.Fatalf("add B's owner to A: %d %s", res.Code, res.Body)
	}
	var raw map[string]json.RawMessage
	res.JSON(t, &raw)
	if _, ok := raw["api_token"]; ok {
		t.Errorf("adding an account holder answered an api_token: %s", res.Body)
	}
	if _, ok := raw["invite_url"]; ok {
		t.Errorf("adding an account holder answered an invite_url: %s", res.Body)
	}
	if string(raw["has_account"]) != "true" {
		t.Errorf("has_account = %s, want true", raw["has_account"])
	}
	if strings.Contains(string(res.Body), b.WorkspaceID.String()) || strings.Contains(string(res.Body), "Bravo\"") {
		t.Errorf("the answer shows B: %s", res.Body)
	}
	var added struct {
		Member struct {
			UserID string `json:"user_id"`
		} `json:"member"`
	}
	res.JSON(t, &added)

	// No new password link for them, from the API.
	res = env.As(admin.APIToken, http.MethodPost, wsA+"/members/"+added.Member.UserID+"/invite", nil)
	if res.Code != http.StatusUnprocessableEntity || res.ErrorCode() != "has_account" {
		t.Errorf("invite link for B's owner from A: %d %s", res.Code, res.Body)
	}
	// A's tokens are nothing in B: 404, as for a workspace that does not exist.
	for _, token := range []string{admin.APIToken, a.OwnerToken} {
		for _, req := range []struct{ method, path string }{
			{http.MethodGet, wsB + "/conversations"},
			{http.MethodPost, wsB + "/members"},
			{http.MethodPut, wsB + "/settings/openai-key"},
			{http.MethodGet, wsB + "/leads/export.csv"},
		} {
			body := map[string]any{"email": "outsider@evil.example", "role": "owner", "api_key": "sk-evil"}
			if req.method == http.MethodGet {
				body = nil
			}
			if res := env.As(token, req.method, req.path, body); res.Code != http.StatusNotFound {
				t.Errorf("%s %s with a token of A: %d %s", req.method, req.path, res.Code, res.Body)
			}
		}
	}
	// And B's owner's own token, though they are in A now, acts only in B.
	if res := env.As(b.OwnerToken, http.MethodGet, wsA+"/conversations", nil); res.Code != http.StatusNotFound {
		t.Errorf("B's token in A: %d", res.Code)
	}

	// Nothing changed in B: one member, no key, no link, and the owner's password works.
	ctx := context.Background()
	page, err := env.Store.ListMembers(ctx, b.WorkspaceID, 10, "")
	if err != nil || len(page.Items) != 1 {
		t.Errorf("B's members: %+v %v", page.Items, err)
	}
	settings := env.As(b.OwnerToken, http.MethodGet, wsB+"/settings", nil)
	if !strings.Contains(string(settings.Body), `"configured":false`) {
		t.Errorf("B's settings: %s", settings.Body)
	}
	var invites int
	if err := env.Store.DB.NewRaw(`SELECT count(*) FROM invites WHERE user_id = ?`, b.OwnerUserID).Scan(ctx, &invites); err != nil || invites != 0 {
		t.Errorf("invites for B's owner: %d %v", invites, err)
	}
	if err := env.Accounts.VerifyPassword(ctx, b.OwnerUserID, "bravo owner password"); err != nil {
		t.Errorf("B's owner's password: %v", err)
	}
}

// A newcomer still gets a token and a link, both of this workspace only; once they belong to
// a second workspace, the first one's link stops working and no new one is made.
func TestNewcomersGetTokensAndLinksOfOneWorkspace(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{NoWorker: true})
	a, b := env.NewWorkspace("Alpha"), env.NewWorkspace("Bravo")
	wsA := "/api/v1/workspaces/" + a.WorkspaceID.String()
	wsB := "/api/v1/workspaces/" + b.WorkspaceID.String()

	var added struct {
		Member struct {
			UserID string `json:"user_id"`
		} `json:"member"`
		HasAccount bool   `json:"has_account"`
		APIToken   string `json:"api_token"`
		InviteURL  string `json:"invite_url"`
	}
	res := env.As(b.OwnerToken, http.MethodPost, wsB+"/members", map[string]any{"email": "new@people.example", "role": "support"})
	res.JSON(t, &added)
	if res.Code != http.StatusCreated || added.HasAccount || added.APIToken == "" || added.InviteURL == "" {
		t.Fatalf("add a newcomer: %d %s", res.Code, res.Body)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("an answer with secrets may be cached: %q", res.Header.Get("Cache-Control"))
	}
	if res := env.As(added.APIToken, http.MethodGet, wsB+"/conversations", nil); res.Code != http.StatusOK {
		t.Errorf("the newcomer's token in B: %d", res.Code)
	}
	// A new link replaces the first, for a newcomer.
	res = env.As(b.OwnerToken, http.MethodPost, wsB+"/members/"+added.Member.UserID+"/invite", nil)
	var again struct {
		InviteURL string `json:"invite_url"`
	}
	res.JSON(t, &again)
	if res.Code != http.StatusCreated || again.InviteURL == "" || again.InviteURL == added.InviteURL {
		t.Fatalf("new link for a newcomer: %d %s", res.Code, res.Body)
	}
	link := again.InviteURL[strings.LastIndex(again.InviteURL, "/")+1:]

	// A adds them before they accept B's link: A gets the membership only...
	var inA struct {
		HasAccount bool   `json:"has_account"`
		APIToken   string `json:"api_token"`
	}
	res = env.As(a.OwnerToken, http.MethodPost, wsA+"/members", map[string]any{"email": "new@people.example", "role": "viewer"})
	res.JSON(t, &inA)
	if res.Code != http.StatusCreated || !inA.HasAccount || inA.APIToken != "" {
		t.Fatalf("add to a second workspace: %d %s", res.Code, res.Body)
	}
	// ...neither workspace may make a link now...
	for _, ws := range []string{wsA, wsB} {
		owner := a.OwnerToken
		if ws == wsB {
			owner = b.OwnerToken
		}
		if res := env.As(owner, http.MethodPost, ws+"/members/"+added.Member.UserID+"/invite", nil); res.Code != http.StatusUnprocessableEntity {
			t.Errorf("link in %s for a member of two workspaces: %d %s", ws, res.Code, res.Body)
		}
	}
	// ...and B's link, which would now open A too, no longer works.
	if _, err := env.Accounts.AcceptInvite(context.Background(), link, "a new long password"); err == nil {
		t.Error("a link made in B set the password of a member of A")
	}
	// The token made in B stays in B.
	if res := env.As(added.APIToken, http.MethodGet, wsA+"/conversations", nil); res.Code != http.StatusNotFound {
		t.Errorf("the token made in B, in A: %d", res.Code)
	}
}

// /api/v1/me/tokens lists, makes and revokes the caller's own tokens in the token's
// workspace; removing a member, expiry and revocation end a token at once.
func TestOwnTokensAreListedAndRevoked(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{NoWorker: true})
	a, b := env.NewWorkspace("Alpha"), env.NewWorkspace("Bravo")
	wsA := "/api/v1/workspaces/" + a.WorkspaceID.String()
	// The owner of A is in B too, with a token there.
	res := env.As(b.OwnerToken, http.MethodPost, "/api/v1/workspaces/"+b.WorkspaceID.String()+"/members",
		map[string]any{"email": testenv.OwnerEmail("Alpha"), "role": "admin"})
	if res.Code != http.StatusCreated {
		t.Fatalf("add A's owner to B: %d %s", res.Code, res.Body)
	}

	type token struct {
		ID          string     `json:"id"`
		WorkspaceID string     `json:"workspace_id"`
		Name        string     `json:"name"`
		ExpiresAt   time.Time  `json:"expires_at"`
		LastUsedAt  *time.Time `json:"last_used_at"`
		Current     bool       `json:"current"`
	}
	list := func(tok string) []token {
		t.Helper()
		res := env.As(tok, http.MethodGet, "/api/v1/me/tokens?limit=1", nil)
		var page struct {
			Items      []token `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		res.JSON(t, &page)
		if res.Code != http.StatusOK {
			t.Fatalf("list tokens: %d %s", res.Code, res.Body)
		}
		all := page.Items
		for page.NextCursor != nil {
			res = env.As(tok, http.MethodGet, "/api/v1/me/tokens?limit=1&cursor="+*page.NextCursor, nil)
			page.Items, page.NextCursor = nil, nil
			res.JSON(t, &page)
			all = append(all, page.Items...)
		}
		return all
	}
	mine := list(a.OwnerToken)
	if len(mine) != 1 || !mine[0].Current || mine[0].WorkspaceID != a.WorkspaceID.String() ||
		mine[0].LastUsedAt == nil || time.Until(mine[0].ExpiresAt) < 89*24*time.Hour {
		t.Fatalf("A's owner's tokens: %+v", mine)
	}

	var made struct {
		Token  token  `json:"token"`
		Secret string `json:"api_token"`
	}
	res = env.As(a.OwnerToken, http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "  export script "})
	res.JSON(t, &made)
	if res.Code != http.StatusCreated || made.Secret == "" || made.Token.Name != "export script" || made.Token.Current {
		t.Fatalf("make a token: %d %s", res.Code, res.Body)
	}
	for _, bad := range []any{map[string]any{"name": ""}, map[string]any{"name": strings.Repeat("x", 101)}, map[string]any{"nam": "x"}, "[]"} {
		if res := env.As(a.OwnerToken, http.MethodPost, "/api/v1/me/tokens", bad); res.Code != http.StatusBadRequest {
			t.Errorf("make a token with %v: %d %s", bad, res.Code, res.Body)
		}
	}
	if got := list(made.Secret); len(got) != 2 {
		t.Errorf("two tokens in A now, listed %+v", got)
	}
	// Another person's token, or one of another workspace, is not theirs to revoke.
	if res := env.As(b.OwnerToken, http.MethodDelete, "/api/v1/me/tokens/"+made.Token.ID, nil); res.Code != http.StatusNotFound {
		t.Errorf("revoke another person's token: %d", res.Code)
	}
	for _, bad := range []string{"not-a-uuid"} {
		if res := env.As(a.OwnerToken, http.MethodDelete, "/api/v1/me/tokens/"+bad, nil); res.Code != http.StatusBadRequest {
			t.Errorf("revoke %q: %d", bad, res.Code)
		}
	}
	if res := env.As(a.OwnerToken, http.MethodDelete, "/api/v1/me/tokens/"+made.Token.ID, nil); res.Code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", res.Code, res.Body)
	}
	if res := env.As(made.Secret, http.MethodGet, wsA+"/conversations", nil); res.Code != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d", res.Code)
	}
	if res := env.As(a.OwnerToken, http.MethodDelete, "/api/v1/me/tokens/"+made.Token.ID, nil); res.Code != http.StatusNotFound {
		t.Errorf("revoke twice: %d", res.Code)
	}

	// An expired token is refused.
	res = env.As(a.OwnerToken, http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "short"})
	res.JSON(t, &made)
	if _, err := env.Store.DB.NewRaw(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = ?`, made.Token.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := env.As(made.Secret, http.MethodGet, "/api/v1/me/tokens", nil); res.Code != http.StatusUnauthorized {
		t.Errorf("an expired token: %d", res.Code)
	}

	// Removing a member revokes their tokens in that workspace only.
	res = env.As(a.OwnerToken, http.MethodPost, wsA+"/members", map[string]any{"email": "leaver@alpha.example", "role": "support"})
	var leaver struct {
		Member struct {
			UserID string `json:"user_id"`
		} `json:"member"`
		APIToken string `json:"api_token"`
	}
	res.JSON(t, &leaver)
	if res := env.As(a.OwnerToken, http.MethodDelete, wsA+"/members/"+leaver.Member.UserID, nil); res.Code != http.StatusNoContent {
		t.Fatalf("remove: %d %s", res.Code, res.Body)
	}
	if res := env.As(leaver.APIToken, http.MethodGet, "/api/v1/me/tokens", nil); res.Code != http.StatusUnauthorized {
		t.Errorf("a removed member's token: %d", res.Code)
	}
	var left int
	if err := env.Store.DB.NewRaw(`SELECT count(*) FROM api_tokens WHERE user_id = ?`, leaver.Member.UserID).Scan(context.Background(), &left); err != nil || left != 0 {
		t.Errorf("a removed member keeps %d tokens (%v)", left, err)
	}
	if res := env.Do(http.MethodGet, "/api/v1/me/tokens", nil); res.Code != http.StatusUnauthorized {
		t.Errorf("no token: %d", res.Code)
	}
}
