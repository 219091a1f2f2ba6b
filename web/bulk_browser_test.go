package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestBulkCloseInBrowser ticks the ten rows of the inbox, closes them in one batch, and
// watches its page: the progress bar fills, and the one conversation that was already
// closed is listed with the reason in words. A viewer sees no checkboxes.
func TestBulkCloseInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Bulkers")
	e.SetPassword(testenv.OwnerEmail("Bulkers"), password)
	base := e.Serve("http://127.0.0.1:8233")
	inbox := base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox)
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = ingest(t, e, ws.IngestKey, fmt.Sprintf("ref-bulk-%d", i), fmt.Sprintf("Visitor%d", i), "Hello there")
	}
	already := ids[3]
	if r := e.As(ws.OwnerToken, http.MethodPost, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations/"+already+"/state",
		map[string]any{"state": "closed"}); r.Code != http.StatusOK {
		t.Fatalf("close: %d %s", r.Code, r.Body)
	}

	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("Bulkers"), password)
	tab.Navigate(inbox)
	tab.WaitTrue(`document.querySelectorAll("input[name=ids]").length === 10`, "ten row checkboxes", 10*time.Second)
	if !strings.Contains(tab.Text("#bulk-form"), "All 10 matching these filters") {
		t.Errorf("bulk bar: %q", tab.Text("#bulk-form"))
	}
	tab.Click("#bulk-page")
	tab.WaitTrue(`document.querySelectorAll("input[name=ids]:checked").length === 10`, "ten rows ticked", 5*time.Second)
	tab.Select("#bulk-do", "close")
	tab.Click("#bulk-apply")
	tab.WaitText("h1", "Bulk action: Close", 10*time.Second)
	if !tab.Exists("progress#bulk-bar") {
		t.Fatal("no progress bar")
	}
	tab.WaitText("#bulk-status", "Done", 60*time.Second)
	tab.WaitTrue(`document.querySelector("#bulk-bar").value === 10`, "the bar full", 10*time.Second)
	tab.WaitText("#bulk-refusals", "the conversation is already closed", 5*time.Second)
	if n := browser.Eval[int](tab, `document.querySelectorAll("#bulk-refusals li").length`); n != 1 {
		t.Errorf("%d conversations listed as not changed, want 1", n)
	}
	if !strings.Contains(tab.Text("#bulk-progress"), "9 changed") || !strings.Contains(tab.Text("#bulk-next"), "Open one") {
		t.Errorf("progress: %q", tab.Text("#bulk-progress"))
	}
	for _, id := range ids {
		if got := apiConversation(t, e, ws, id)["state"]; got != "closed" {
			t.Errorf("%s is %v after the bulk close", id, got)
		}
	}
	tab.AssertClean(t)

	// A viewer sees the list without checkboxes or bulk actions.
	if _, _, err := e.Store.AddMember(context.Background(), ws.WorkspaceID, "viewer@bulkers.example", "Vic", domain.Viewer); err != nil {
		t.Fatal(err)
	}
	e.SetPassword("viewer@bulkers.example", password)
	vb := browser.New(t)
	viewer := signInTab(t, vb, base, "viewer@bulkers.example", password)
	viewer.Navigate(inbox)
	viewer.WaitText("h1", "Inbox", 5*time.Second)
	if viewer.Exists("input[name=ids]") || viewer.Exists("#bulk-form") {
		t.Error("a viewer sees bulk checkboxes")
	}
	viewer.AssertClean(t)
	vb.AssertClean(t)
	b.AssertClean(t)
}

// A live refresh of the list that is on its way when the person ticks a row does not wipe
// the tick: its answer is dropped (the form is theirs until they send or undo it) and the
// refresh comes again later.
func TestTickDuringRefreshInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Tickers")
	e.SetPassword(testenv.OwnerEmail("Tickers"), password)
	base := e.Serve("")
	for i := range 3 {
		ingest(t, e, ws.IngestKey, fmt.Sprintf("ref-tick-%d", i), fmt.Sprintf("Visitor%d", i), "Hello there")
	}
	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("Tickers"), password)
	tab.WaitTrue(`document.querySelectorAll("input[name=ids]").length === 3`, "three row checkboxes", 10*time.Second)
	// A refresh as the live stream sends it (no request of the person's before it), and the
	// tick in the same moment, before its answer can arrive.
	if !browser.Eval[bool](tab, `(function () {
		var list = document.getElementById("conversation-list");
		window.htmx.ajax("GET", list.getAttribute("data-live-refresh"),
			{ target: "#conversation-list", swap: "outerHTML settle:0ms", headers: { "X-Inbox-Live": "0" } });
		var box = document.querySelector("input[name=ids]");
		box.click();
		return box.checked;
	})()`) {
		t.Fatal("the row was not ticked")
	}
	time.Sleep(2 * time.Second) // the refresh's answer has come
	if n := browser.Eval[int](tab, `document.querySelectorAll("input[name=ids]:checked").length`); n != 1 {
		t.Fatalf("%d rows ticked after a refresh that was on its way, want the person's 1", n)
	}
	tab.AssertClean(t)
}
