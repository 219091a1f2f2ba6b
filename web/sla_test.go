package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// The Settings page's SLA section saves the two durations, shows a bad one's refusal in
// words next to the form, keeping what was typed, and turns a clock off when emptied.
func TestSLAThroughSettings(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{NoWorker: true})
	ws := e.NewWorkspace("SLA Form Co")
	e.SetPassword(testenv.OwnerEmail("SLA Form Co"), password)
	base := e.Serve("")
	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail("SLA Form Co"), password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	settings := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionSettings)
	code, page, _ := v.get(settings)
	if code != http.StatusOK || !strings.Contains(page, `id="sla-heading"`) || !strings.Contains(page, "all the time counts") {
		t.Fatalf("settings page: %d", code)
	}
	code, _, hdr := v.post(settings+"/sla", url.Values{"first_response": {"pt30m"}, "resolution": {"P1DT4H"}}, true)
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "done=sla") {
		t.Fatalf("save: %d %v", code, hdr)
	}
	_, page, _ = v.get(settings + "?done=sla")
	for _, want := range []string{"SLA saved", `value="PT30M"`, `value="P1DT4H"`} {
		if !strings.Contains(page, want) {
			t.Errorf("after saving, the page lacks %q", want)
		}
	}
	code, page, _ = v.post(settings+"/sla", url.Values{"first_response": {"half an hour"}, "resolution": {"P1D"}}, true)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "First_response: want an ISO 8601 duration") ||
		!strings.Contains(page, `value="half an hour"`) {
		t.Errorf("a bad duration: %d", code)
	}
	res := e.As(ws.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/sla", nil)
	if !strings.Contains(string(res.Body), `"first_response":"PT30M"`) {
		t.Errorf("the refused form changed the policy: %s", res.Body)
	}
	if code, _, _ := v.post(settings+"/sla", url.Values{"first_response": {""}, "resolution": {"P1D"}}, true); code != http.StatusSeeOther {
		t.Errorf("turn first response off: %d", code)
	}
	res = e.As(ws.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/sla", nil)
	if !strings.Contains(string(res.Body), `"first_response":null,"resolution":"P1D"`) {
		t.Errorf("after turning first response off: %s", res.Body)
	}
}
