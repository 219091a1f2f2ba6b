package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestNoteMentionRaisesTeammatesBellLiveInBrowser: Ann writes a note mentioning Bo on the
// conversation page; Bo, signed in in another browser context, sees the bell's count and
// the tab title rise without reloading, opens the notification from the notifications
// page and lands on the conversation, where the note is shown apart; opening it marked it
// read. No console errors or failed requests in either tab.
func TestNoteMentionRaisesTeammatesBellLiveInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Bell Co")
	base := e.Serve("")
	conv := newConversationVia(t, e, ws, "bell-1", "Vi Visitor")
	addMember(t, e, ws, "ann@bell.example", "Ann Agent", "support")
	addMember(t, e, ws, "bo@bell.example", "Bo Baker", "support")

	b := browser.New(t)
	bo := signInTab(t, b, base, "bo@bell.example", password, browser.Isolated())
	bo.WaitText("#bell-count", "0", 10*time.Second)
	if title := browser.Eval[string](bo, `document.title`); strings.HasPrefix(title, "(") {
		t.Fatalf("the title counts notifications before any: %q", title)
	}
	// The page's live stream is open before the note is written.
	bo.WaitTrue(`document.querySelector("header.top[data-live]") !== null && document.readyState === "complete"`, "Bo's page loaded with its live stream", 10*time.Second)

	ann := signInTab(t, b, base, "ann@bell.example", password, browser.Isolated())
	convURL := base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox) + "c/" + conv
	ann.Navigate(convURL)
	ann.WaitText("#transcript-title", "Transcript", 10*time.Second)
	ann.Fill("#note-text", "Bo, please call back @Bo Baker before noon")
	ann.Click("#add-note")
	ann.WaitText(".message.note .note-text", "please call back", 10*time.Second)
	if got := ann.Text(".message.note .note-mentions"); !strings.Contains(got, "Bo Baker") {
		t.Errorf("the note shows mentions %q", got)
	}

	// Bo's bell and title rise live: no reload.
	markNoReload(bo)
	bo.WaitText("#bell-count", "1", 10*time.Second)
	bo.WaitTrue(`document.title.indexOf("(1) ") === 0`, "the tab title counts the notification", 10*time.Second)
	if !stillLoaded(bo) {
		t.Fatal("Bo's page reloaded instead of updating live")
	}

	// Bo opens it: the notifications page, then the conversation.
	bo.Click("#bell")
	bo.WaitText("h1", "Notifications", 10*time.Second)
	if got := bo.Text(".notification-unread .notification-open"); !strings.Contains(got, "Ann Agent mentioned you in a note") {
		t.Errorf("the notification reads %q", got)
	}
	screenshot(t, bo, "notifications")
	bo.Click(".notification-unread .notification-open")
	bo.WaitTrue(fmt.Sprintf(`location.pathname.endsWith("/c/%s") && document.readyState === "complete" &&
		document.querySelector("#transcript-title") !== null`, conv), "the conversation page", 10*time.Second)
	bo.WaitText(".message.note .note-text", "please call back", 10*time.Second)
	bo.WaitText("#bell-count", "0", 10*time.Second)
	if title := browser.Eval[string](bo, `document.title`); strings.HasPrefix(title, "(") {
		t.Errorf("after opening it the title still counts: %q", title)
	}
	screenshot(t, ann, "conversation-note")
	// Bo did not write the note, and is not an owner: no Delete button for him.
	if bo.Exists(".message.note [data-delete-note]") {
		t.Error("Bo may delete Ann's note")
	}
	if !ann.Exists(".message.note [data-delete-note]") {
		t.Error("Ann has no Delete button on her own note")
	}
	ann.AssertClean(t)
	bo.AssertClean(t)
}
