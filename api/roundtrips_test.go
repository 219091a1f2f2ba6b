package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
)

// TestLifecycleChangeLooksUpTokenAndConversationTogether checks that a change's request
// finds its token, membership and conversation in one query: the token's query answers
// whether the conversation is in the token's workspace, and the change makes no lookup of
// its own; the detail it answers with comes back from the write's one statement. The
// refusals stay as they were: another workspace's conversation is 404, a token on another
// workspace's path 404, an unknown token 401.
func TestLifecycleChangeLooksUpTokenAndConversationTogether(t *testing.T) {
	t.Parallel()
	queries := &testenv.QueryLog{}
	env := testenv.New(t, testenv.Options{Queries: queries})
	ws := env.NewWorkspace("Acme")
	other := env.NewWorkspace("Other")
	id := newConversation(t, env, ws, "ref-1")
	foreign := newConversation(t, env, other, "ref-x")
	path := "/api/v1/workspaces/" + ws.WorkspaceID.String() + "/conversations/"

	queries.Reset()
	if r := env.As(ws.OwnerToken, http.MethodPost, path+id+"/state", map[string]any{"state": "pending"}); r.Code != http.StatusOK {
		t.Fatalf("change: %d %s", r.Code, r.Body)
	}
	if got := queries.Matching("api_tokens", "has_conversation", id); len(got) != 1 {
		t.Errorf("the token's query did not look the conversation up (once): %q", got)
	}
	if got := queries.Matching(`SELECT "state" FROM "conversations"`, id); len(got) != 0 {
		t.Errorf("the change looked the conversation up again: %q", got)
	}
	// The change's write is one statement in its transaction: the audit row, the update
	// and the pages' notice together.
	if got := queries.Matching("audit_log"); len(got) != 1 || !strings.Contains(got[0], `UPDATE "conversations"`) || !strings.Contains(got[0], "pg_notify") {
		t.Errorf("the change's write is not one statement of audit, update and notice: %q", got)
	}
	// (Only state notices: the messages that made the conversations are announced after
	// their commit, and may go out after the Reset above.)
	if got := queries.Matching("pg_notify", `"k":"state"`); len(got) != 1 {
		t.Errorf("the change announced itself %d times: %q", len(got), got)
	}
	// The answer's detail, its labels included, comes back from the write's own statement:
	// no read of its own.
	if got := queries.Matching("conversation_labels"); len(got) != 1 || !strings.Contains(got[0], "labels_json") || !strings.Contains(got[0], `UPDATE "conversations"`) {
		t.Errorf("the answer's detail is not read by the write's statement: %q", got)
	}

	// Another workspace's conversation on this workspace's path: 404, and nothing sent.
	if r := env.As(ws.OwnerToken, http.MethodPost, path+foreign+"/state", map[string]any{"state": "pending"}); r.Code != http.StatusNotFound {
		t.Errorf("another workspace's conversation: %d %s, want 404", r.Code, r.Body)
	}
	// This token on the other workspace's path, about that workspace's conversation: 404.
	otherPath := "/api/v1/workspaces/" + other.WorkspaceID.String() + "/conversations/" + foreign + "/state"
	if r := env.As(ws.OwnerToken, http.MethodPost, otherPath, map[string]any{"state": "pending"}); r.Code != http.StatusNotFound {
		t.Errorf("a token on another workspace: %d %s, want 404", r.Code, r.Body)
	}
	if r := env.As("inbox_tok_nothing", http.MethodPost, path+id+"/state", map[string]any{"state": "open"}); r.Code != http.StatusUnauthorized {
		t.Errorf("unknown token: %d %s, want 401", r.Code, r.Body)
	}
	if r := env.As(other.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+other.WorkspaceID.String()+"/conversations/"+foreign, nil); r.Code != http.StatusOK {
		t.Errorf("the other workspace's own read: %d %s", r.Code, r.Body)
	}
}
