package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestAccountPageInBrowser: the name in the top bar opens the person's own page; a token
// made there is shown once and listed; inviting a person who has an account says so and
// shows no secret. No console errors or failed requests on the way.
func TestAccountPageInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{NoWorker: true})
	ws := e.NewWorkspace("Account Co")
	other := e.NewWorkspace("Elsewhere")
	e.SetPassword(testenv.OwnerEmail("Account Co"), password)
	e.SetPassword(testenv.OwnerEmail("Elsewhere"), password)
	base := e.Serve("")
	b := browser.New(t)

	tab := signInTab(t, b, base, testenv.OwnerEmail("Account Co"), password)
	tab.Click(`a.person`)
	tab.WaitText("h1", "Your account", 10*time.Second)
	tab.Fill(`#token-name`, "nightly export")
	tab.Submit(`#token-name`)
	tab.WaitText(".tokens .invite-result", "shown only once", 10*time.Second)
	secret := browser.Eval[string](tab, `document.getElementById("new-token").value`)
	if !strings.HasPrefix(secret, "inbox_tok_") {
		t.Fatalf("new token %q", secret)
	}
	if text := tab.Text(".tokens-table"); !strings.Contains(text, "nightly export") {
		t.Errorf("the token list lacks the new token: %q", text)
	}
	screenshot(t, tab, "account")

	// The owner of another workspace is added here: their account is theirs, no secret shows.
	tab.Navigate(base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionTeam))
	tab.Fill(`#invite-email`, testenv.OwnerEmail("Elsewhere"))
	tab.Click(`.invite-form button[type=submit]`)
	tab.WaitText(`.invite-result`, "already has an account", 10*time.Second)
	if tab.Exists("#invite-url") || strings.Contains(tab.Text("main"), "inbox_tok_") || strings.Contains(tab.Text("main"), other.WorkspaceID.String()) {
		t.Errorf("adding an account holder shows a secret: %q", tab.Text(".invite-result"))
	}
	screenshot(t, tab, "team-account-holder")
	tab.AssertClean(t)
}
