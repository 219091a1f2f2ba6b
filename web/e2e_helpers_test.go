package web_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/web"
)

// signInTab opens a tab of b and signs in through the real sign-in page as email, with the
// password the test gave it (testenv.Env.SetPassword). The tab ends on the person's first
// workspace's inbox.
func signInTab(t *testing.T, b *browser.Browser, base, email, password string, opts ...browser.TabOption) *browser.Tab {
	t.Helper()
	tab := b.NewTab(opts...)
	tab.Navigate(base + web.SignInPath)
	tab.Fill(`input[type=email]`, email)
	tab.Fill(`input[type=password]`, password)
	tab.Submit(`form[action="` + web.SignInPath + `"]`)
	tab.WaitText("h1", "Inbox", 10*time.Second)
	// The list's rows are in the page's HTML before its script has run: a key pressed then
	// does nothing (a CI run under load pressed j too soon once).
	tab.WaitTrue(`document.readyState === "complete"`, "the inbox page loaded, its script run", 10*time.Second)
	return tab
}

// screenshot saves a full-page PNG of the tab as name.png: under INBOX_SCREENSHOTS when it
// is set (the README's docs/screenshots come from such a run), else in the test's temp
// directory, so the code path runs either way.
func screenshot(t *testing.T, tab *browser.Tab, name string) {
	t.Helper()
	dir := os.Getenv("INBOX_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tab.Screenshot(filepath.Join(dir, name+".png"))
}
