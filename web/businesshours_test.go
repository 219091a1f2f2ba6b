package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// The Settings page's Business hours section saves a calendar with several ranges a day and
// holidays, shows a bad one's refusal in words next to the form, keeping what was typed, and
// is not shown to support.
func TestBusinessHoursThroughSettings(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{NoWorker: true})
	ws := e.NewWorkspace("Hours Co")
	e.SetPassword(testenv.OwnerEmail("Hours Co"), password)
	base := e.Serve("")
	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail("Hours Co"), password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	settings := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionSettings)
	code, page, _ := v.get(settings)
	if code != http.StatusOK || !strings.Contains(page, "Business hours") || !strings.Contains(page, "Not set yet") {
		t.Fatalf("settings page: %d", code)
	}
	form := url.Values{"time_zone": {"Europe/Berlin"}, "day_mon": {"13:00-17:30, 09:00-12:00"}, "day_fri": {"09:00-16:00"},
		"holidays": {"2026-12-25\r\n2026-12-24"}}
	code, _, hdr := v.post(settings+"/business-hours", form, true)
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "done=hours") {
		t.Fatalf("save: %d %v", code, hdr)
	}
	_, page, _ = v.get(settings + "?done=hours")
	for _, want := range []string{"Business hours saved", `value="Europe/Berlin"`, `value="09:00-12:00, 13:00-17:30"`, "2026-12-24\n2026-12-25"} {
		if !strings.Contains(page, want) {
			t.Errorf("after saving, the page lacks %q", want)
		}
	}

	form.Set("day_tue", "09:00-13:00, 12:00-17:00")
	code, page, _ = v.post(settings+"/business-hours", form, true)
	if code != http.StatusBadRequest || !strings.Contains(page, "Weekly.tue: the ranges 09:00-13:00 and 12:00-17:00 overlap") ||
		!strings.Contains(page, `value="09:00-13:00, 12:00-17:00"`) {
		t.Errorf("overlapping ranges: %d", code)
	}
	res := e.As(ws.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/business-hours", nil)
	if !strings.Contains(string(res.Body), `"fri":["09:00-16:00"]`) || strings.Contains(string(res.Body), `"tue"`) {
		t.Errorf("the refused form changed the hours: %s", res.Body)
	}

	addMember(t, e, ws, "support@hours.example", "Sup", "support")
	s := newVisitor(t, base)
	if code, _, _ := s.signIn("support@hours.example", password); code != http.StatusSeeOther {
		t.Fatalf("support sign-in: %d", code)
	}
	s.get(settings)
	if code, _, _ := s.post(settings+"/business-hours", form, true); code != http.StatusForbidden {
		t.Errorf("support saves business hours: %d", code)
	}
}
