package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestSLABadgeInBrowser: an owner sets a one-hour first-response SLA in Settings (business
// hours unset: the page says all the time counts); a new conversation then shows "SLA due
// in 1 h" (or 59 min) on its inbox row and in its side panel, rewritten by the viewer's
// clock with the exact time in the viewer's zone as its title, and is listed by the "Due
// soon" filter; no console errors or failed requests.
func TestSLABadgeInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("SLA Badge Co")
	e.SetPassword(testenv.OwnerEmail("SLA Badge Co"), password)
	base := e.Serve("")

	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("SLA Badge Co"), password)
	tab.Navigate(base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionSettings))
	tab.WaitText("#sla-heading", "SLA", 10*time.Second)
	tab.WaitText("section.sla", "Business hours are not set: all the time counts.", 5*time.Second)
	tab.Fill("#sla-first-response", "PT1H")
	tab.Submit("form.sla-form")
	tab.WaitText(".notice", "SLA saved", 10*time.Second)
	if got := browser.Eval[string](tab, `document.querySelector("#sla-first-response").value`); got != "PT1H" {
		t.Fatalf("the saved first response shows %q", got)
	}

	id := newConversationVia(t, e, ws, "sla-badge-1", "Dana Due")
	testenv.Eventually(t, 20*time.Second, "the conversation's due time", func() bool {
		return strings.Contains(fmt.Sprint(apiConversation(t, e, ws, id)["sla"]), "first_response_due:20")
	})
	inbox := base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox)
	tab.Navigate(inbox)
	tab.WaitText("h1", "Inbox", 10*time.Second)
	row := fmt.Sprintf(`tr.conversation-row[data-id="%s"] .sla-badge time[data-localized]`, id)
	tab.WaitTrue(fmt.Sprintf(`(function(){var e=document.querySelector(%s); return !!e && /^due in (59 min|1 h)$/.test(e.textContent) && /\d{4}/.test(e.title)})()`, jsQuote(row)),
		"the row's SLA badge in words", 10*time.Second)

	tab.Navigate(inbox + "c/" + id)
	tab.WaitText("#sla-title", "SLA", 10*time.Second)
	tab.WaitTrue(`(function(){var e=document.querySelector("#sla .sla-badge time[data-localized]"); return !!e && /^due in (59 min|1 h)$/.test(e.textContent)})()`,
		"the side panel's SLA badge", 10*time.Second)

	tab.Navigate(inbox + "?" + url.Values{"sla": {"due_soon"}}.Encode())
	tab.WaitTrue(fmt.Sprintf(`document.readyState === "complete" && document.querySelector("#f-sla").value === "due_soon" &&
		document.querySelector('tr.conversation-row[data-id="%s"]') !== null`, id), "the Due soon list", 10*time.Second)
	tab.Navigate(inbox + "?" + url.Values{"sla": {"breached"}}.Encode())
	tab.WaitTrue(`document.readyState === "complete" && document.querySelector("#f-sla").value === "breached" &&
		document.querySelector("tr.conversation-row") === null`, "the empty Breached list", 10*time.Second)
	tab.AssertClean(t)

	if res := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/sla"), nil); !strings.Contains(string(res.Body), `"first_response":"PT1H"`) {
		t.Errorf("the API shows %s", res.Body)
	}
}
