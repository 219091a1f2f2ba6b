package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

func TestMembersLifecycleAndRoleChangesApplyAtOnce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Members Co")
	base := fmt.Sprintf("/api/v1/workspaces/%s", ws.WorkspaceID)
	conv := newConversation(t, env, ws, "members")

	res := env.As(ws.OwnerToken, http.MethodPost, base+"/members", map[string]any{"email": "sam@members.example", "name": "Sam", "role": "support"})
	var added struct {
		Member struct {
			UserID string `json:"user_id"`
			Role   string `json:"role"`
		} `json:"member"`
		APIToken string `json:"api_token"`
	}
	res.JSON(t, &added)
	if res.Code != http.StatusCreated || added.APIToken == "" || added.Member.Role != "support" {
		t.Fatalf("add member: %d %s", res.Code, res.Body)
	}
	if res := env.As(ws.OwnerToken, http.MethodPost, base+"/members", map[string]any{"email": "SAM@members.example", "name": "Sam", "role": "viewer"}); res.Code != http.StatusConflict {
		t.Errorf("adding the same email twice: %d", res.Code)
	}
	if res := env.As(ws.OwnerToken, http.MethodPost, base+"/members", map[string]any{"email": "x@y.z", "role": "god"}); res.Code != http.StatusBadRequest {
		t.Errorf("unknown role: %d", res.Code)
	}
	// The new token works, with the support role.
	if res := setStateAs(env, added.APIToken, ws, conv, "pending"); res.Code != http.StatusOK {
		t.Fatalf("support changes state: %d %s", res.Code, res.Body)
	}
	// Demoted to viewer: the very next request is refused.
	if res := env.As(ws.OwnerToken, http.MethodPatch, base+"/members/"+added.Member.UserID, map[string]any{"role": "viewer"}); res.Code != http.StatusOK {
		t.Fatalf("demote: %d %s", res.Code, res.Body)
	}
	if res := setStateAs(env, added.APIToken, ws, conv, "open"); res.Code != http.StatusForbidden {
		t.Errorf("viewer changes state: %d", res.Code)
	}
	if res := env.As(ws.OwnerToken, http.MethodDelete, base+"/members/"+added.Member.UserID, nil); res.Code != http.StatusNoContent {
		t.Fatalf("remove: %d %s", res.Code, res.Body)
	}
	// Removed: their token went with the membership.
	if res := env.As(added.APIToken, http.MethodGet, base+"/conversations/"+conv, nil); res.Code != http.StatusUnauthorized {
		t.Errorf("removed member reads a conversation: %d", res.Code)
	}
	if res := env.As(ws.OwnerToken, http.MethodDelete, base+"/members/"+added.Member.UserID, nil); res.Code != http.StatusNotFound {
		t.Errorf("removing twice: %d", res.Code)
	}
}

func TestOnlyOwnersManageOwnersAndOneOwnerStays(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Owners Co")
	base := fmt.Sprintf("/api/v1/workspaces/%s", ws.WorkspaceID)
	res := env.As(ws.OwnerToken, http.MethodPost, base+"/members", map[string]any{"email": "adm@owners.example", "name": "Adm", "role": "admin"})
	var admin struct {
		Member struct {
			UserID string `json:"user_id"`
		} `json:"member"`
		APIToken string `json:"api_token"`
	}
	res.JSON(t, &admin)
	owner := ws.OwnerUserID.String()
	if res := env.As(admin.APIToken, http.MethodPost, base+"/members", map[string]any{"email": "o2@owners.example", "role": "owner"}); res.Code != http.StatusForbidden {
		t.Errorf("admin adds an owner: %d", res.Code)
	}
	if res := env.As(admin.APIToken, http.MethodDelete, base+"/members/"+owner, nil); res.Code != http.StatusForbidden {
		t.Errorf("admin removes the owner: %d", res.Code)
	}
	if res := env.As(admin.APIToken, http.MethodPatch, base+"/members/"+admin.Member.UserID, map[string]any{"role": "owner"}); res.Code != http.StatusForbidden {
		t.Errorf("admin promotes themself to owner: %d", res.Code)
	}
	if res := env.As(ws.OwnerToken, http.MethodPatch, base+"/members/"+owner, map[string]any{"role": "admin"}); res.Code != http.StatusConflict {
		t.Errorf("demoting the last owner: %d %s", res.Code, res.Body)
	}
	if res := env.As(ws.OwnerToken, http.MethodDelete, base+"/members/"+owner, nil); res.Code != http.StatusConflict {
		t.Errorf("removing the last owner: %d", res.Code)
	}
}

func TestBYOKKeyIsSealedAndNeverReturned(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("BYOK Co")
	base := fmt.Sprintf("/api/v1/workspaces/%s/settings", ws.WorkspaceID)
	const key = "sk-proj-secret-value-wxyz"
	res := env.As(ws.OwnerToken, http.MethodPut, base+"/openai-key", map[string]any{"api_key": key})
	if res.Code != http.StatusOK || strings.Contains(string(res.Body), "secret-value") {
		t.Fatalf("put: %d %s", res.Code, res.Body)
	}
	res = env.As(ws.OwnerToken, http.MethodGet, base, nil)
	if res.Code != http.StatusOK || strings.TrimSpace(string(res.Body)) != `{"auto_archive_days":null,"openai_key":{"configured":true,"last4":"wxyz"}}` {
		t.Errorf("get: %d %s", res.Code, res.Body)
	}
	var sealed []byte
	if err := env.Store.DB.NewSelect().Table("workspace_settings").Column("openai_key_sealed").
		Where("workspace_id = ?", ws.WorkspaceID).Scan(t.Context(), &sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || bytes.Contains(sealed, []byte("secret-value")) {
		t.Errorf("the key is not sealed at rest")
	}
	if res := env.As(ws.OwnerToken, http.MethodPut, base+"/openai-key", map[string]any{"api_key": "x"}); res.Code != http.StatusBadRequest {
		t.Errorf("a key too short: %d", res.Code)
	}
	if res := env.As(ws.OwnerToken, http.MethodDelete, base+"/openai-key", nil); res.Code != http.StatusNoContent {
		t.Errorf("delete: %d", res.Code)
	}
	res = env.As(ws.OwnerToken, http.MethodGet, base, nil)
	if strings.TrimSpace(string(res.Body)) != `{"auto_archive_days":null,"openai_key":{"configured":false}}` {
		t.Errorf("after delete: %s", res.Body)
	}
}

func setStateAs(env *testenv.Env, token string, ws testenv.Workspace, id, state string) testenv.Response {
	return env.As(token, http.MethodPost, convPath(ws, id, "/state"), map[string]any{"state": state})
}

// addMember adds a member through the API and returns their user id and token.
func addMember(t *testing.T, env *testenv.Env, ws testenv.Workspace, email, role string) (userID, token string) {
	t.Helper()
	res := env.As(ws.OwnerToken, http.MethodPost, fmt.Sprintf("/api/v1/workspaces/%s/members", ws.WorkspaceID),
		map[string]any{"email": email, "name": email, "role": role})
	var added struct {
		Member struct {
			UserID string `json:"user_id"`
		} `json:"member"`
		APIToken string `json:"api_token"`
	}
	res.JSON(t, &added)
	if res.Code != http.StatusCreated {
		t.Fatalf("add %s: %d %s", email, res.Code, res.Body)
	}
	return added.Member.UserID, added.APIToken
}

// A member removed, re-added, assigned and removed again is unassigned again: the second
// removal must not reuse the first one's Update ids.
func TestRemovingAReaddedMemberUnassignsAgain(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Readd Co")
	base := fmt.Sprintf("/api/v1/workspaces/%s", ws.WorkspaceID)
	conv := newConversation(t, env, ws, "readd")
	assignee := func() any {
		res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, conv, ""), nil)
		var v struct {
			Assignee *struct {
				UserID string `json:"user_id"`
			} `json:"assignee"`
		}
		res.JSON(t, &v)
		if v.Assignee == nil {
			return nil
		}
		return v.Assignee.UserID
	}
	for round := 1; round <= 3; round++ {
		userID, _ := addMember(t, env, ws, "again@readd.example", "support")
		if res := env.As(ws.OwnerToken, http.MethodPut, convPath(ws, conv, "/assignee"), map[string]any{"user_id": userID}); res.Code != http.StatusOK {
			t.Fatalf("round %d: assign: %d %s", round, res.Code, res.Body)
		}
		if res := env.As(ws.OwnerToken, http.MethodDelete, base+"/members/"+userID, nil); res.Code != http.StatusNoContent {
			t.Fatalf("round %d: remove: %d %s", round, res.Code, res.Body)
		}
		if got := assignee(); got != nil {
			t.Fatalf("round %d: still assigned to the removed member %v", round, got)
		}
		// A retried DELETE of that removal is a 404 and changes nothing.
		if res := env.As(ws.OwnerToken, http.MethodDelete, base+"/members/"+userID, nil); res.Code != http.StatusNotFound {
			t.Fatalf("round %d: retried remove: %d %s", round, res.Code, res.Body)
		}
	}
}

// Two owners demoting (or removing) each other at the same moment: one wins, the other
// gets 409, and every workspace keeps an owner.
func TestLastOwnerRuleHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	for _, op := range []string{"demote", "remove"} {
		t.Run(op, func(t *testing.T) {
			const workspaces = 10
			type pair struct {
				ws     testenv.Workspace
				second string // the second owner's user id
				token  string // the second owner's token
			}
			pairs := make([]pair, workspaces)
			for i := range pairs {
				ws := env.NewWorkspace(fmt.Sprintf("Race %s %d", op, i))
				id, token := addMember(t, env, ws, fmt.Sprintf("second-%s-%d@race.example", op, i), "owner")
				pairs[i] = pair{ws, id, token}
			}
			request := func(token string, ws testenv.Workspace, target string) testenv.Response {
				path := fmt.Sprintf("/api/v1/workspaces/%s/members/%s", ws.WorkspaceID, target)
				if op == "demote" {
					return env.As(token, http.MethodPatch, path, map[string]any{"role": "admin"})
				}
				return env.As(token, http.MethodDelete, path, nil)
			}
			codes := make([][2]int, workspaces)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, p := range pairs {
				wg.Add(2)
				go func() {
					defer wg.Done()
					<-start
					codes[i][0] = request(p.ws.OwnerToken, p.ws, p.second).Code
				}()
				go func() {
					defer wg.Done()
					<-start
					codes[i][1] = request(p.token, p.ws, p.ws.OwnerUserID.String()).Code
				}()
			}
			close(start)
			wg.Wait()
			won := http.StatusOK
			if op == "remove" {
				won = http.StatusNoContent
			}
			// The loser is refused with 409 when both passed authentication before either
			// committed; one that authenticated after the winner committed is no longer an
			// owner (403), or no longer a member, its token gone with the membership (401).
			refused := func(code int) bool {
				return code == http.StatusConflict || code == http.StatusForbidden || code == http.StatusUnauthorized
			}
			raced := 0
			for i, p := range pairs {
				owners, err := env.Store.DB.NewSelect().Table("memberships").
					Where("workspace_id = ? AND role = 'owner'", p.ws.WorkspaceID).Count(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				c := codes[i]
				oneWon := (c[0] == won && refused(c[1])) || (refused(c[0]) && c[1] == won)
				if owners != 1 || !oneWon {
					t.Errorf("workspace %d: %d owners left, answers %v (want one %d and one refused)", i, owners, c, won)
				}
				if c[0] == http.StatusConflict || c[1] == http.StatusConflict {
					raced++
				}
			}
			t.Logf("%d of %d workspaces raced to the last-owner check", raced, workspaces)
		})
	}
}

// TestAddMemberReturnsAnInviteLinkThatWorksOnce follows the invite_url of POST /members on
// the served inbox: the new member sets a password there once, and the link is used up.
func TestAddMemberReturnsAnInviteLinkThatWorksOnce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Invite Co")
	served := env.Serve("")
	res := env.As(ws.OwnerToken, http.MethodPost, fmt.Sprintf("/api/v1/workspaces/%s/members", ws.WorkspaceID),
		map[string]any{"email": "ivy@invite.example", "name": "Ivy", "role": "support"})
	var added struct {
		APIToken  string `json:"api_token"`
		InviteURL string `json:"invite_url"`
	}
	res.JSON(t, &added)
	if res.Code != http.StatusCreated || added.APIToken == "" || !strings.HasPrefix(added.InviteURL, served+accounts.InvitePath) {
		t.Fatalf("add member: %d %s, want an invite_url on %s", res.Code, res.Body, served)
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func() (int, string) {
		t.Helper()
		resp, err := client.Get(added.InviteURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, page := get()
	token := regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`).FindStringSubmatch(page)
	if code != http.StatusOK || token == nil || !strings.Contains(page, "ivy@invite.example") {
		t.Fatalf("invite page: %d\n%s", code, page)
	}
	form := url.Values{"password": {"a long enough password"}, "confirm": {"a long enough password"}, web.CSRFFormField: {token[1]}}
	req, _ := http.NewRequest(http.MethodPost, added.InviteURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", served)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set the password on the invite link: %d", resp.StatusCode)
	}
	if code, page := get(); code != http.StatusNotFound || !strings.Contains(page, "does not work") {
		t.Fatalf("second use of the invite link: %d", code)
	}
}

// TestNewInviteLinkReplacesTheOldOne: an owner or admin can give a member a new link (a
// lost link, a forgotten password); it replaces the unused one, only owners do it for
// owners, and a viewer may not.
func TestNewInviteLinkReplacesTheOldOne(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Reinvite Co")
	served := env.Serve("")
	members := fmt.Sprintf("/api/v1/workspaces/%s/members", ws.WorkspaceID)
	add := func(email, role string) (userID, token, invite string) {
		t.Helper()
		res := env.As(ws.OwnerToken, http.MethodPost, members, map[string]any{"email": email, "role": role})
		var added struct {
			Member struct {
				UserID string `json:"user_id"`
			} `json:"member"`
			APIToken  string `json:"api_token"`
			InviteURL string `json:"invite_url"`
		}
		res.JSON(t, &added)
		if res.Code != http.StatusCreated {
			t.Fatalf("add %s: %d %s", email, res.Code, res.Body)
		}
		return added.Member.UserID, added.APIToken, added.InviteURL
	}
	supportID, _, oldLink := add("sue@reinvite.example", "support")
	_, adminToken, _ := add("ada@reinvite.example", "admin")
	_, viewerToken, _ := add("vic@reinvite.example", "viewer")
	status := func(link string) int {
		t.Helper()
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	res := env.As(adminToken, http.MethodPost, members+"/"+supportID+"/invite", nil)
	var inv struct {
		InviteURL string    `json:"invite_url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	res.JSON(t, &inv)
	if res.Code != http.StatusCreated || !strings.HasPrefix(inv.InviteURL, served+accounts.InvitePath) || time.Until(inv.ExpiresAt) < 24*time.Hour {
		t.Fatalf("new invite: %d %s", res.Code, res.Body)
	}
	if got := status(oldLink); got != http.StatusNotFound {
		t.Errorf("the replaced link: %d, want 404", got)
	}
	if got := status(inv.InviteURL); got != http.StatusOK {
		t.Errorf("the new link: %d, want 200", got)
	}
	if res := env.As(adminToken, http.MethodPost, members+"/"+ws.OwnerUserID.String()+"/invite", nil); res.Code != http.StatusForbidden {
		t.Errorf("an admin re-inviting an owner: %d, want 403", res.Code)
	}
	if res := env.As(viewerToken, http.MethodPost, members+"/"+supportID+"/invite", nil); res.Code != http.StatusForbidden {
		t.Errorf("a viewer re-inviting: %d, want 403", res.Code)
	}
	if res := env.As(ws.OwnerToken, http.MethodPost, members+"/"+uuid.NewString()+"/invite", nil); res.Code != http.StatusNotFound {
		t.Errorf("a stranger: %d, want 404", res.Code)
	}
}
