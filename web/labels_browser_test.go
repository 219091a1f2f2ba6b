package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestLabelConversationWithKeyboardInBrowser: a support member labels a conversation from
// the keyboard alone (Tab to the label's box, Space, Tab to Save labels, Enter), sees the
// chip, and filters the inbox by the label; no console errors or failed requests.
func TestLabelConversationWithKeyboardInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Keys Co")
	base := e.Serve("")
	res := e.As(ws.OwnerToken, http.MethodPost, apiPath(ws, "/labels"), map[string]any{"name": "Hot lead", "color": "red"})
	if res.Code != http.StatusCreated {
		t.Fatalf("create label: %d %s", res.Code, res.Body)
	}
	labelled := newConversationVia(t, e, ws, "keys-1", "Ana Keys")
	other := newConversationVia(t, e, ws, "keys-2", "Bo Keys")
	addMember(t, e, ws, "support@keys.example", "Sup", "support")

	b := browser.New(t)
	tab := signInTab(t, b, base, "support@keys.example", password)
	tab.Navigate(base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox) + "c/" + labelled)
	tab.WaitText("#labels-title", "Labels", 10*time.Second)
	focus(t, tab, `#labels input[type=checkbox]`)
	tab.Press(" ")
	tab.Press("\t")
	if id := browser.Eval[string](tab, `document.activeElement.id`); id != "save-labels" {
		t.Fatalf("Tab from the label's box lands on %q, not Save labels", id)
	}
	if tab.Exists(`ul.label-chips`) {
		t.Fatal("the conversation shows label chips before any label was saved")
	}
	tab.Press("\r")
	tab.WaitText(`ul.label-chips`, "Hot lead", 10*time.Second)
	if got := apiConversation(t, e, ws, labelled)["labels"]; !strings.Contains(fmt.Sprint(got), "Hot lead") {
		t.Errorf("the API shows labels %v after saving from the keyboard", got)
	}

	inbox := base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox)
	tab.Navigate(inbox)
	tab.WaitText("h1", "Inbox", 10*time.Second)
	focus(t, tab, "#f-label")
	tab.Select("#f-label", browser.Eval[string](tab, `document.querySelector("#f-label option:nth-child(2)").value`))
	tab.Submit("form.filters")
	// The filtered page is loaded when its URL names the label and its document is
	// complete; the old page's rows vanish before the new ones arrive, so wait for both.
	tab.WaitTrue(fmt.Sprintf(`location.search.includes("label=") && document.readyState === "complete" &&
		document.querySelector('tr.conversation-row[data-id="%s"]') !== null`, labelled),
		"the inbox filtered by the label, with the labelled conversation", 10*time.Second)
	if tab.Exists(`tr.conversation-row[data-id="` + other + `"]`) {
		t.Errorf("the label filter still lists the unlabelled conversation: %s", tab.Location())
	}
	tab.AssertClean(t)
}

// newConversationVia ingests a first message from visitor and returns the conversation's id.
func newConversationVia(t *testing.T, e *testenv.Env, ws testenv.Workspace, ref, visitor string) string {
	t.Helper()
	res := e.Ingest(ws.IngestKey, map[string]any{"conversation_ref": ref, "channel": "chat",
		"visitor": map[string]any{"name": visitor},
		"message": map[string]any{"role": "visitor", "text": "Hello from " + visitor}})
	var out struct {
		ConversationID string `json:"conversation_id"`
	}
	res.JSON(t, &out)
	if res.Code != http.StatusCreated || out.ConversationID == "" {
		t.Fatalf("ingest %s: %d %s", ref, res.Code, res.Body)
	}
	return out.ConversationID
}
