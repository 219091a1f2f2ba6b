package web_test

import (
	"time"

	"testing"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestSignInInBrowser signs in through the page in Chromium, with no console error and no
// failed request, and signs out with the header's button.
func TestSignInInBrowser(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("")
	b := browser.New(t)

	signInPage := b.NewTab()
	signInPage.Navigate(base + web.SignInPath)
	screenshot(t, signInPage, "signin")

	tab := signInTab(t, b, base, testenv.OwnerEmail("Acme"), password)
	if got := tab.Text(".person"); got != "Acme Owner" {
		t.Errorf("header shows %q, want the owner's name", got)
	}
	tab.Click(`form[action="` + web.SignOutPath + `"] button`)
	tab.WaitText("h1", "Sign in", 10*time.Second)
	b.AssertClean(t)
}
