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

// TestLabelsThroughThePages adds a label on the Settings page, puts it on a conversation
// with the detail's plain form, and filters the inbox by it.
func TestLabelsThroughThePages(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Labels Pages")
	email := testenv.OwnerEmail("Labels Pages")
	e.SetPassword(email, password)
	ids := map[string]string{}
	for _, ref := range []string{"lp-1", "lp-2"} {
		res := e.Ingest(ws.IngestKey, map[string]any{"conversation_ref": ref, "channel": "chat",
			"visitor": map[string]any{"name": "Visitor " + ref},
			"message": map[string]any{"role": "visitor", "text": "Hello from " + ref}})
		var out struct {
			ConversationID string `json:"conversation_id"`
		}
		res.JSON(t, &out)
		ids[ref] = out.ConversationID
	}
	base := e.Serve("")
	v := newVisitor(t, base)
	if code, _, _ := v.signIn(email, password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	wsID := ws.WorkspaceID.String()
	settings := web.WorkspacePath(wsID, web.SectionSettings)
	v.get(settings) // the form's CSRF token
	if code, _, _ := v.post(settings+"/labels", url.Values{"name": {"VIP"}, "color": {"purple"}}, true); code != http.StatusSeeOther {
		t.Fatalf("add label: %d", code)
	}
	if code, page, _ := v.post(settings+"/labels", url.Values{"name": {"vip"}, "color": {"red"}}, true); code != http.StatusConflict || !strings.Contains(page, "ignoring case") {
		t.Errorf("duplicate label: %d", code)
	}
	_, page, _ := v.get(settings)
	m := regexp.MustCompile(`id="label-([0-9a-f-]{36})"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the settings page lists no label\n%s", page)
	}
	label := m[1]

	detail := web.WorkspacePath(wsID, web.SectionInbox) + "c/" + ids["lp-1"]
	_, page, _ = v.get(detail)
	if !strings.Contains(page, `name="label" value="`+label+`"`) {
		t.Fatalf("the detail has no box for the label\n%s", page)
	}
	if code, _, _ := v.post(detail+"/labels", url.Values{"label": {label}}, true); code != http.StatusSeeOther {
		t.Fatalf("save labels: %d", code)
	}
	_, page, _ = v.get(detail)
	if !strings.Contains(page, `<li class="label-chip label-purple">VIP</li>`) || !strings.Contains(page, `value="`+label+`" checked`) {
		t.Errorf("the detail does not show the label")
	}

	inbox := web.WorkspacePath(wsID, web.SectionInbox)
	code, page, _ := v.get(inbox + "?label=" + label)
	if code != http.StatusOK || !strings.Contains(page, ids["lp-1"]) || strings.Contains(page, `data-id="`+ids["lp-2"]+`"`) {
		t.Errorf("filtered inbox: %d, want only %s", code, ids["lp-1"])
	}
	if !strings.Contains(page, `<option value="`+label+`" selected>VIP</option>`) {
		t.Errorf("the label filter does not keep its value")
	}
	_, page, _ = v.get(inbox)
	if !strings.Contains(page, `data-id="`+ids["lp-2"]+`"`) {
		t.Errorf("the unfiltered inbox misses %s", ids["lp-2"])
	}
}
