package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
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
	// Removed: the workspace is gone for them.
	if res := env.As(ws.OwnerToken, http.MethodDelete, base+"/members/"+added.Member.UserID, nil); res.Code != http.StatusNoContent {
		t.Fatalf("remove: %d %s", res.Code, res.Body)
	}
	if res := env.As(added.APIToken, http.MethodGet, base+"/conversations/"+conv, nil); res.Code != http.StatusNotFound {
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
	if res.Code != http.StatusOK || strings.TrimSpace(string(res.Body)) != `{"openai_key":{"configured":true,"last4":"wxyz"}}` {
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
	if strings.TrimSpace(string(res.Body)) != `{"openai_key":{"configured":false}}` {
		t.Errorf("after delete: %s", res.Body)
	}
}

func setStateAs(env *testenv.Env, token string, ws testenv.Workspace, id, state string) testenv.Response {
	return env.As(token, http.MethodPost, convPath(ws, id, "/state"), map[string]any{"state": state})
}
