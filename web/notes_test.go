package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

var noteIDs = regexp.MustCompile(`id="note-([0-9a-f-]{36})"`)

// TestNotesAndNotificationsThroughThePages writes, shows and deletes internal notes on the
// conversation page, and walks a mention through the bell, the notifications page and
// "Mark all read", with the roles' limits and another workspace's 404.
func TestNotesAndNotificationsThroughThePages(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Notes Pages")
	e.NewWorkspace("Notes Elsewhere")
	ownerEmail := testenv.OwnerEmail("Notes Pages")
	e.SetPassword(ownerEmail, password)
	e.SetPassword(testenv.OwnerEmail("Notes Elsewhere"), password)
	addMember(t, e, ws, "sup@notespages.example", "Sue Support", "support")
	addMember(t, e, ws, "vic@notespages.example", "Vic Viewer", "viewer")
	conv := newConversationVia(t, e, ws, "np-1", "Nia Visitor")
	base := e.Serve("")
	wsID := ws.WorkspaceID.String()
	detail := web.WorkspacePath(wsID, web.SectionInbox) + "c/" + conv
	notifications := web.WorkspacePath(wsID, web.SectionNotifications)

	signIn := func(email string) *visitor {
		v := newVisitor(t, base)
		if code, _, _ := v.signIn(email, password); code != http.StatusSeeOther {
			t.Fatalf("sign-in %s: %d", email, code)
		}
		return v
	}
	owner, sup, vic := signIn(ownerEmail), signIn("sup@notespages.example"), signIn("vic@notespages.example")

	// Support writes a note mentioning the viewer; it is escaped like any text.
	_, page, _ := sup.get(detail)
	if !strings.Contains(page, `<textarea id="note-text" name="text"`) {
		t.Fatalf("support's page has no note form")
	}
	if code, _, h := sup.post(detail+"/notes", url.Values{"text": {"<b>check</b> this @vic@notespages.example"}}, true); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), detail) {
		t.Fatalf("add note: %d %v", code, h)
	}
	if code, page, _ := sup.post(detail+"/notes", url.Values{"text": {"   "}}, true); code != http.StatusBadRequest || !strings.Contains(page, "Text: want 1 to 10000 characters") {
		t.Errorf("empty note: %d", code)
	}
	owner.get(detail) // the form's CSRF token
	code, _, _ := owner.post(detail+"/notes", url.Values{"text": {"owner's own note"}}, true)
	if code != http.StatusSeeOther {
		t.Fatalf("owner's note: %d", code)
	}
	_, page, _ = owner.get(detail)
	ids := noteIDs.FindAllStringSubmatch(page, -1)
	if len(ids) != 2 || !strings.Contains(page, `&lt;b&gt;check&lt;/b&gt; this @vic@notespages.example`) || !strings.Contains(page, "Internal note") {
		t.Fatalf("the owner's page shows notes %v", ids)
	}
	supNote, ownerNote := ids[0][1], ids[1][1]
	if strings.Count(page, "data-delete-note=") != 2 {
		t.Errorf("an owner may delete both notes")
	}

	// The viewer reads notes but has no form and no Delete; writing is refused.
	_, page, _ = vic.get(detail)
	if !strings.Contains(page, "check&lt;/b&gt; this") || strings.Contains(page, `id="note-text"`) || strings.Contains(page, "data-delete-note=") {
		t.Errorf("the viewer's page: note form or Delete shown, or the note missing")
	}
	if code, _, _ := vic.post(detail+"/notes", url.Values{"text": {"hi"}}, true); code != http.StatusForbidden {
		t.Errorf("viewer writes a note: %d", code)
	}

	// Support may delete their own note only.
	_, page, _ = sup.get(detail)
	if strings.Count(page, "data-delete-note=") != 1 || !strings.Contains(page, `data-delete-note="`+supNote+`"`) {
		t.Errorf("support's Delete buttons are wrong")
	}
	if code, _, _ := sup.post(detail+"/notes/"+ownerNote+"/delete", url.Values{}, true); code != http.StatusForbidden {
		t.Errorf("support deletes the owner's note: %d", code)
	}

	// The viewer's bell and title count the mention; the page lists it.
	_, page, _ = vic.get(notifications)
	if !strings.Contains(page, `<title>(1) Notifications`) || !strings.Contains(page, `id="bell-count">1<`) ||
		!strings.Contains(page, "Sue Support mentioned you in a note on the conversation with Nia Visitor") {
		t.Fatalf("the viewer's notifications page:\n%s", page)
	}
	m := regexp.MustCompile(`action="(` + regexp.QuoteMeta(notifications) + `/[0-9a-f-]{36}/open)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no notification to open")
	}
	// Nobody else can open it: another member, or another workspace's owner.
	if code, _, _ := sup.post(m[1], url.Values{}, true); code != http.StatusNotFound {
		t.Errorf("support opens the viewer's notification: %d", code)
	}
	stranger := signIn(testenv.OwnerEmail("Notes Elsewhere"))
	if code, _, _ := stranger.get(notifications); code != http.StatusNotFound {
		t.Errorf("another workspace's owner sees the notifications page: %d", code)
	}
	// The bell alone, as a live refresh fetches it.
	if code, page, _ := vic.get(notifications + "/bell"); code != http.StatusOK || !strings.HasPrefix(page, `<a id="bell"`) ||
		!strings.Contains(page, `data-count="1"`) || !strings.Contains(page, `data-latest-alert="true"`) {
		t.Errorf("the bell alone: %d %s", code, page)
	}
	code, _, h := vic.post(m[1], url.Values{}, true)
	if code != http.StatusSeeOther || h.Get("Location") != detail {
		t.Errorf("open: %d to %q, want the conversation %q", code, h.Get("Location"), detail)
	}
	_, page, _ = vic.get(notifications)
	if strings.Contains(page, "<title>(") || !strings.Contains(page, `id="bell-count">0<`) {
		t.Errorf("opening did not mark it read")
	}

	// Mark all read.
	if code, _, _ := owner.post(detail+"/notes/"+supNote+"/delete", url.Values{}, true); code != http.StatusSeeOther {
		t.Errorf("owner deletes support's note: %d", code)
	}
	if code, _, _ := sup.post(detail+"/notes", url.Values{"text": {"@Vic Viewer once more"}}, true); code != http.StatusSeeOther {
		t.Fatalf("note: %d", code)
	}
	_, page, _ = vic.get(notifications)
	if !strings.Contains(page, `id="mark-all-read"`) {
		t.Fatal("no Mark all read with one unread")
	}
	if code, _, _ := vic.post(notifications+"/read-all", url.Values{}, true); code != http.StatusSeeOther {
		t.Errorf("mark all read: %d", code)
	}
	_, page, _ = vic.get(notifications)
	if !strings.Contains(page, "Nothing unread.") || strings.Contains(page, `id="mark-all-read"`) {
		t.Errorf("after Mark all read the page still counts unread ones")
	}
	_, page, _ = owner.get(detail)
	if got := len(noteIDs.FindAllString(page, -1)); got != 2 {
		t.Errorf("the owner's page shows %d notes after one was deleted and one added, want 2", got)
	}
}
