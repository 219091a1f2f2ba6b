package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// apiListed reports whether the API's list, filtered by query, holds the conversation (the
// list, unlike the detail, does not mark it read).
func apiListed(t *testing.T, e *testenv.Env, ws testenv.Workspace, query, id string) bool {
	t.Helper()
	r := e.As(ws.OwnerToken, http.MethodGet, apiPath(ws, "/conversations?"+query), nil)
	if r.Code != http.StatusOK {
		t.Fatalf("list conversations: %d %s", r.Code, r.Body)
	}
	return strings.Contains(string(r.Body), `"id":"`+id+`"`)
}

// activeID is the id of the focused element.
func activeID(tab *browser.Tab) string {
	return browser.Eval[string](tab, `document.activeElement ? document.activeElement.id : ""`)
}

// TestSaveViewFromKeyboardLabelInBrowser: a support member labels a conversation with the
// keyboard (l goes to the label picker, Space, Tab, Enter), marks it unread again (u),
// filters the inbox by the label, saves the view, and opens the view's bookmark in a fresh
// tab: the filtered list, the view current in the side list with its unread count.
func TestSaveViewFromKeyboardLabelInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Views Keys Co")
	base := e.Serve("")
	res := e.As(ws.OwnerToken, http.MethodPost, apiPath(ws, "/labels"), map[string]any{"name": "Hot lead", "color": "red"})
	if res.Code != http.StatusCreated {
		t.Fatalf("create label: %d %s", res.Code, res.Body)
	}
	labelled := newConversationVia(t, e, ws, "vk-1", "Ana Views")
	other := newConversationVia(t, e, ws, "vk-2", "Bo Views")
	addMember(t, e, ws, "support@viewkeys.example", "Sup", "support")

	b := browser.New(t)
	tab := signInTab(t, b, base, "support@viewkeys.example", password)
	inbox := base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox)
	tab.Navigate(inbox + "c/" + labelled)
	tab.WaitText("#labels-title", "Labels", 10*time.Second)
	browser.Eval[bool](tab, `(document.activeElement && document.activeElement.blur(), true)`)
	tab.Press("l")
	if got := browser.Eval[string](tab, `document.activeElement.name + "/" + document.activeElement.type`); got != "label/checkbox" {
		t.Fatalf("l focuses %q, not the label picker's first box", got)
	}
	tab.Press(" ")
	tab.Press("\t")
	if id := activeID(tab); id != "save-labels" {
		t.Fatalf("Tab from the label's box lands on %q, not Save labels", id)
	}
	tab.Press("\r")
	tab.WaitText(`ul.label-chips`, "Hot lead", 10*time.Second)
	// Opening it marked it read; u marks it unread again, through the page's own button.
	tab.WaitTrue(`document.getElementById("mark-unread") !== null`, "the Mark as unread button", 10*time.Second)
	browser.Eval[bool](tab, `(document.activeElement && document.activeElement.blur(), true)`)
	tab.Press("u")
	tab.WaitTrue(`document.getElementById("mark-read") !== null`, "the conversation unread again (Mark as read offered)", 10*time.Second)
	if !apiListed(t, e, ws, "unread=true", labelled) {
		t.Fatal("after u the API does not list the conversation as unread")
	}

	tab.Navigate(inbox)
	tab.WaitText("h1", "Inbox", 10*time.Second)
	tab.Select("#f-label", browser.Eval[string](tab, `document.querySelector("#f-label option:nth-child(2)").value`))
	tab.Submit("form.filters")
	tab.WaitTrue(fmt.Sprintf(`location.search.includes("label=") && document.readyState === "complete" &&
		document.querySelector('tr.conversation-row[data-id="%s"]') !== null`, labelled),
		"the inbox filtered by the label", 10*time.Second)

	tab.Click("#save-view summary")
	focus(t, tab, "#view-name")
	tab.Press("Hot leads")
	tab.Press("\r")
	tab.WaitTrue(`location.search.includes("view=") && document.readyState === "complete" &&
		document.querySelector('#saved-views a[aria-current="page"]') !== null`, "the saved view opened", 10*time.Second)
	bookmark := tab.Location()
	if !strings.Contains(tab.Text("h1"), "Hot leads") {
		t.Errorf("the view's page is headed %q", tab.Text("h1"))
	}

	// The bookmark, opened afresh in another tab, applies the view's filters.
	fresh := b.NewTab()
	fresh.Navigate(bookmark)
	fresh.WaitTrue(fmt.Sprintf(`document.readyState === "complete" &&
		document.querySelector('tr.conversation-row[data-id="%s"]') !== null`, labelled), "the view's list", 10*time.Second)
	if fresh.Exists(`tr.conversation-row[data-id="` + other + `"]`) {
		t.Errorf("the view lists the unlabelled conversation")
	}
	current := `#saved-views a[aria-current="page"]`
	if got := fresh.Text(current + " .view-label"); got != "Hot leads" {
		t.Errorf("the current view in the side list is %q", got)
	}
	if got := strings.TrimSpace(fresh.Text(current + " .view-count")); got != "1 unread" {
		t.Errorf("the view's unread count reads %q, want 1 unread", got)
	}
	if got := browser.Eval[string](fresh, `document.getElementById("f-label").selectedOptions[0].textContent`); got != "Hot lead" {
		t.Errorf("the label filter shows %q", got)
	}
	screenshot(t, fresh, "saved-views")
	tab.AssertClean(t)
	fresh.AssertClean(t)
}

// TestShortcutsDialogInBrowser: ? opens the list of shortcuts with the focus on Close,
// Escape closes it and the focus goes back; the visible button opens the same list; ? typed
// in the search field is just text.
func TestShortcutsDialogInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Shortcuts Co")
	e.SetPassword(testenv.OwnerEmail("Shortcuts Co"), password)
	base := e.Serve("")
	newConversationVia(t, e, ws, "sc-1", "Cy Keys")

	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("Shortcuts Co"), password)
	open := `document.getElementById("shortcuts").open`
	if browser.Eval[bool](tab, open) {
		t.Fatal("the shortcuts dialog is open before anything was pressed")
	}
	focus(t, tab, ".all-conversations a")
	tab.Press("?")
	tab.WaitTrue(open, "the shortcuts dialog open", 5*time.Second)
	if !strings.Contains(tab.Text("#shortcuts"), "Assign to me") {
		t.Errorf("the dialog lists %q", tab.Text("#shortcuts"))
	}
	if id := activeID(tab); id != "close-shortcuts" {
		t.Errorf("the focus in the open dialog is on %q, not Close", id)
	}
	screenshot(t, tab, "shortcuts")
	tab.Press(kb.Escape)
	tab.WaitTrue(`!`+open, "the shortcuts dialog closed by Escape", 5*time.Second)
	// The dialog's close event comes a moment after it shuts.
	tab.WaitTrue(`document.activeElement.textContent === "All conversations"`, "the focus back on All conversations after Escape", 5*time.Second)

	// The visible control opens the same dialog; its Close button shuts it.
	if !browser.Eval[bool](tab, `!document.getElementById("show-shortcuts").hidden`) {
		t.Fatal("the Keyboard shortcuts button is hidden")
	}
	tab.Click("#show-shortcuts")
	tab.WaitTrue(open, "the dialog opened by its button", 5*time.Second)
	tab.Press("\r") // on Close
	tab.WaitTrue(`!`+open, "the dialog closed by Close", 5*time.Second)
	tab.WaitTrue(`document.activeElement.id === "show-shortcuts"`, "the focus back on the Keyboard shortcuts button after Close", 10*time.Second)

	// Typing in a field is typing.
	focus(t, tab, "#f-q")
	tab.Press("?j")
	if browser.Eval[bool](tab, open) {
		t.Error("? typed in the search field opened the dialog")
	}
	if got := browser.Eval[string](tab, `document.getElementById("f-q").value`); got != "?j" {
		t.Errorf("the search field holds %q after typing ?j", got)
	}
	if tab.Exists("tr.conversation-row.is-selected") {
		t.Error("j typed in the search field selected a row")
	}
	tab.AssertClean(t)
}

// TestListKeysOpenAndCloseInBrowser: j and k move the selection down the list (a visible,
// focused row); u, e and # act on the selected row; Enter opens the selected conversation,
// where a assigns it to me and e closes it, through the page's own buttons.
func TestListKeysOpenAndCloseInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Keys List Co")
	email := testenv.OwnerEmail("Keys List Co")
	e.SetPassword(email, password)
	base := e.Serve("")
	older := newConversationVia(t, e, ws, "kl-1", "Older Visitor")
	newer := newConversationVia(t, e, ws, "kl-2", "Newer Visitor")

	b := browser.New(t)
	tab := signInTab(t, b, base, email, password)
	tab.WaitTrue(`document.querySelectorAll("tr.conversation-row").length === 2`, "both conversations listed", 10*time.Second)
	selected := func() string {
		return browser.Eval[string](tab, `(function(){var r=document.querySelectorAll("tr.conversation-row.is-selected");
			if(r.length!==1){return "selected rows: "+r.length}
			return r[0].contains(document.activeElement) ? r[0].getAttribute("data-id") : "not focused"})()`)
	}
	tab.Press("j")
	if got := selected(); got != newer {
		t.Fatalf("j selects %q, want the first row %s", got, newer)
	}
	tab.Press("j")
	if got := selected(); got != older {
		t.Fatalf("j again selects %q, want the second row %s", got, older)
	}
	tab.Press("j") // the last row stays selected
	tab.Press("k")
	if got := selected(); got != newer {
		t.Fatalf("k selects %q, want the first row %s", got, newer)
	}
	// On the list, the keys act on the selected row through the conversation's endpoints:
	// u marks it read, e closes it, # archives it (it leaves the list); the selection stays
	// on it across the list's refreshes.
	row := `tr.conversation-row[data-id="` + newer + `"]`
	tab.Press("u")
	tab.WaitTrue(`document.querySelector('`+row+`:not(.is-unread)') !== null`, "the selected row read", 10*time.Second)
	if got := selected(); got != newer {
		t.Fatalf("after u and the list's refresh the selection is %q", got)
	}
	tab.Press("e")
	tab.WaitTrue(`document.querySelector('`+row+` .badge-closed') !== null`, "the selected row closed", 10*time.Second)
	if st := apiConversation(t, e, ws, newer)["state"]; st != "closed" {
		t.Errorf("after e on the list the API shows state %v", st)
	}
	tab.Press("#")
	tab.WaitTrue(`document.querySelector('`+row+`') === null`, "the archived row gone from the list", 10*time.Second)
	if st := apiConversation(t, e, ws, newer)["state"]; st != "archived" {
		t.Errorf("after # on the list the API shows state %v", st)
	}

	tab.Press("j")
	if got := selected(); got != older {
		t.Fatalf("j selects %q, want the remaining row %s", got, older)
	}
	tab.Press("\r")
	tab.WaitText("h1#conversation-title", "Older Visitor", 10*time.Second)
	// Its scripts are deferred: the keys work once the page has loaded.
	tab.WaitTrue(`document.readyState === "complete"`, "the conversation page loaded, its script run", 10*time.Second)
	if !strings.Contains(tab.Location(), "/c/"+older) {
		t.Fatalf("Enter opened %s", tab.Location())
	}

	browser.Eval[bool](tab, `(document.activeElement && document.activeElement.blur(), true)`)
	tab.Press("a")
	tab.WaitTrue(`document.getElementById("assign-me") === null`, "assigned to me (the button gone)", 10*time.Second)
	if got := apiConversation(t, e, ws, older)["assignee"]; got == nil {
		t.Errorf("after a the API shows assignee %v", got)
	}
	browser.Eval[bool](tab, `(document.activeElement && document.activeElement.blur(), true)`)
	tab.Press("e")
	tab.WaitText(".conv-state", "closed", 10*time.Second)
	if st := apiConversation(t, e, ws, older)["state"]; st != "closed" {
		t.Errorf("after e the API shows state %v", st)
	}
	tab.AssertClean(t)
}
