package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestTranscriptOpensOnTheNewestMessages: a long conversation's page shows its latest
// messages, and "Earlier messages" walks back to the first one.
func TestTranscriptOpensOnTheNewestMessages(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("")
	var conv string
	for i := range 60 {
		conv = ingest(t, e, ws.IngestKey, "long", "Lou", fmt.Sprintf("message number %02d", i))
	}
	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail("Acme"), password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	path := strings.TrimSuffix(web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox), "/") + "/c/" + conv
	earlier := regexp.MustCompile(`href="([^"]*\?before=[^"]*)"[^>]*>Earlier messages`)

	code, page, _ := v.get(path)
	if code != http.StatusOK || !strings.Contains(page, "message number 59") || strings.Contains(page, "message number 09") {
		t.Fatalf("the page: %d; want the newest messages (59) and not the first ones", code)
	}
	link := earlier.FindStringSubmatch(page)
	if link == nil {
		t.Fatal(`no "Earlier messages" link on a 60-message transcript`)
	}
	code, page, _ = v.get(strings.ReplaceAll(link[1], "&amp;", "&"))
	if code != http.StatusOK || !strings.Contains(page, "message number 00") || strings.Contains(page, "message number 59") {
		t.Fatalf("earlier page: %d; want the first messages", code)
	}
	if earlier.MatchString(page) || !strings.Contains(page, "Latest messages") {
		t.Errorf(`the first page offers no "Earlier messages" and does offer "Latest messages"`)
	}
	if code, _, _ := v.get(path + "?before=junk"); code != http.StatusBadRequest {
		t.Errorf("a junk cursor: %d, want 400", code)
	}
}
