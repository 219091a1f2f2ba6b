package web_test

import (
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestStaleLiveRefreshIsDropped: a live refresh that was already on its way when the person
// made a change carries the state from before it. Its answer must not be swapped in over
// the person's change (a busy machine made "Mark as unread" flip back to Read this way);
// the page asks for a fresh one instead.
func TestStaleLiveRefreshIsDropped(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Live Co")
	e.SetPassword(testenv.OwnerEmail("Live Co"), password)
	base := e.Serve("")
	id := ingest(t, e, ws.IngestKey, "ref-live", "Lee", "Hello there")

	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("Live Co"), password)
	tab.Navigate(base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox) + "c/" + id)
	tab.WaitText("h1", "Lee", 10*time.Second)
	time.Sleep(1500 * time.Millisecond) // the refreshes the page's own load set off are done

	// A refresh issued before the person's latest request: its generation is not theirs.
	browser.Eval[bool](tab, `(function(){
		var el = document.getElementById("conversation");
		el.setAttribute("data-marker", "old");
		document.addEventListener("htmx:afterRequest", function h(e) {
			if (e.detail.requestConfig.headers["X-Inbox-Live"] !== "stale") { return; }
			document.removeEventListener("htmx:afterRequest", h);
			window.__staleKept = !!document.querySelector('#conversation[data-marker="old"]');
		});
		htmx.ajax("GET", el.getAttribute("data-live-refresh"), {target: "#conversation", swap: "outerHTML settle:0ms", headers: {"X-Inbox-Live": "stale"}});
		return true;
	})()`)
	deadline := time.Now().Add(10 * time.Second)
	for browser.Eval[string](tab, `String(window.__staleKept)`) == "undefined" {
		if time.Now().After(deadline) {
			t.Fatal("the stale refresh never answered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !browser.Eval[bool](tab, `window.__staleKept`) {
		t.Fatal("a refresh from before the person's request was swapped in")
	}
	// The dropped refresh is asked again, fresh, and that one is swapped in.
	tab.WaitGone(`#conversation[data-marker="old"]`, 5*time.Second)
	tab.WaitText("h1", "Lee", 5*time.Second)
	b.AssertClean(t)
}
