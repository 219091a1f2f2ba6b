package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

type reportJSON struct {
	From          string `json:"from"`
	To            string `json:"to"`
	TimeZone      string `json:"time_zone"`
	BusinessHours bool   `json:"business_hours"`
	CreatedPerDay []struct {
		Date  string `json:"date"`
		Chat  int    `json:"chat"`
		Total int    `json:"total"`
	} `json:"created_per_day"`
	TimesPerDay []struct {
		FirstAssignment struct {
			Count         int  `json:"count"`
			MedianSeconds *int `json:"median_seconds"`
		} `json:"first_assignment"`
		Close struct {
			Count int `json:"count"`
		} `json:"close"`
	} `json:"times_per_day"`
	TimesPerMember []struct {
		UserID string `json:"user_id"`
		Name   string `json:"name"`
	} `json:"times_per_member"`
	SLAPerWeek    []map[string]any `json:"sla_per_week"`
	LeadsByStatus []struct {
		Status string `json:"status"`
		Count  int    `json:"count"`
	} `json:"leads_by_status"`
}

func reportPath(ws testenv.Workspace, query string) string {
	return fmt.Sprintf("/api/v1/workspaces/%s/reports%s", ws.WorkspaceID, query)
}

// TestReportCountsThisWorkspaceOnly: conversations assigned and closed through the workflow
// show in the report of their workspace (the first assignment from the audit log), never in
// another's; every role reads it.
func TestReportCountsThisWorkspaceOnly(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	ws := env.NewWorkspace("Report Co")
	other := env.NewWorkspace("Report Other")
	agent, _, err := env.Store.AddMember(ctx, ws.WorkspaceID, "agent@report.example", "=HYPERLINK(\"x\")", domain.Support)
	if err != nil {
		t.Fatal(err)
	}
	_, viewerToken, err := env.Store.AddMember(ctx, ws.WorkspaceID, "viewer@report.example", "Vera", domain.Viewer)
	if err != nil {
		t.Fatal(err)
	}
	a := newConversation(t, env, ws, "report-a")
	newConversation(t, env, ws, "report-b")
	if res := env.As(ws.OwnerToken, http.MethodPut, convPath(ws, a, "/assignee"), map[string]any{"user_id": agent.UserID}); res.Code != http.StatusOK {
		t.Fatalf("assign: %d %s", res.Code, res.Body)
	}
	if res := setState(env, ws, a, "closed"); res.Code != http.StatusOK {
		t.Fatalf("close: %d %s", res.Code, res.Body)
	}
	// The other workspace: three conversations, one assigned and closed.
	o := newConversation(t, env, other, "other-a")
	newConversation(t, env, other, "other-b")
	newConversation(t, env, other, "other-c")
	if res := env.As(other.OwnerToken, http.MethodPut, convPath(other, o, "/assignee"), map[string]any{"user_id": other.OwnerUserID}); res.Code != http.StatusOK {
		t.Fatalf("assign: %d %s", res.Code, res.Body)
	}

	res := env.As(viewerToken, http.MethodGet, reportPath(ws, ""), nil)
	if res.Code != http.StatusOK {
		t.Fatalf("report as a viewer: %d %s", res.Code, res.Body)
	}
	var r reportJSON
	res.JSON(t, &r)
	if len(r.CreatedPerDay) != 30 || r.TimeZone != "UTC" || r.BusinessHours {
		t.Errorf("default range: %d days, zone %s, business hours %v", len(r.CreatedPerDay), r.TimeZone, r.BusinessHours)
	}
	created, chat, assigned, closed := 0, 0, 0, 0
	for i, d := range r.CreatedPerDay {
		created += d.Total
		chat += d.Chat
		assigned += r.TimesPerDay[i].FirstAssignment.Count
		closed += r.TimesPerDay[i].Close.Count
		if r.TimesPerDay[i].FirstAssignment.Count > 0 && r.TimesPerDay[i].FirstAssignment.MedianSeconds == nil {
			t.Errorf("%s: a first assignment without a median", d.Date)
		}
	}
	if created != 2 || chat != 2 || assigned != 1 || closed != 1 {
		t.Errorf("created %d (chat %d), first assignments %d, closes %d; want 2 (2), 1, 1", created, chat, assigned, closed)
	}
	if len(r.TimesPerMember) != 1 || r.TimesPerMember[0].UserID != agent.UserID.String() {
		t.Errorf("per member: %+v", r.TimesPerMember)
	}
	leads := 0
	for _, l := range r.LeadsByStatus {
		leads += l.Count
	}
	if leads != 2 || len(r.LeadsByStatus) != 5 {
		t.Errorf("leads by status: %+v", r.LeadsByStatus)
	}

	// The other workspace's own report sees its three.
	res = env.As(other.OwnerToken, http.MethodGet, reportPath(other, ""), nil)
	var ro reportJSON
	res.JSON(t, &ro)
	total := 0
	for _, d := range ro.CreatedPerDay {
		total += d.Total
	}
	if total != 3 {
		t.Errorf("the other workspace's report counts %d conversations, want 3", total)
	}
	// And its owner cannot read ours.
	if res := env.As(other.OwnerToken, http.MethodGet, reportPath(ws, ""), nil); res.Code != http.StatusNotFound {
		t.Errorf("another workspace's owner: %d", res.Code)
	}

	// CSV: the same figures, the member's name neutralised.
	res = env.As(ws.OwnerToken, http.MethodGet, reportPath(ws, "?format=csv"), nil)
	if res.Code != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", res.Code, res.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "section,period,name,metric,value" {
		t.Errorf("csv header: %v", rows[0])
	}
	sawMember, csvCreated := false, 0
	for _, row := range rows[1:] {
		if row[0] == "times_per_member" {
			sawMember = true
			if row[2] != `'=HYPERLINK("x")` {
				t.Errorf("member name not neutralised: %q", row[2])
			}
		}
		if row[0] == "created_per_day" && row[2] == "total" && row[4] != "0" {
			csvCreated += int(row[4][0] - '0')
		}
	}
	if !sawMember || csvCreated != 2 {
		t.Errorf("csv: member rows %v, created %d", sawMember, csvCreated)
	}
}

// TestReportValidation: bad dates, a reversed or too long range, an unknown format or
// parameter are 400s naming the field.
func TestReportValidation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{NoWorker: true})
	ws := env.NewWorkspace("Report Checks")
	for query, field := range map[string]string{
		"?from=2026-02-30":                   "from",
		"?to=tomorrow":                       "to",
		"?from=2026-12-02&to=2026-12-01":     "to",
		"?from=2024-01-01&to=2025-01-01":     "to",
		"?format=xml":                        "format",
		"?form=2026-01-01":                   "form",
		"?from=2026-01-01&from=2026-01-02":   "from",
		"?from=" + strings.Repeat("9", 2000): "from",
	} {
		res := env.As(ws.OwnerToken, http.MethodGet, reportPath(ws, query), nil)
		if res.Code != http.StatusBadRequest || !strings.Contains(string(res.Body), `"message":"`+field+":") {
			t.Errorf("%s: want a 400 naming %s, got %d %s", query, field, res.Code, res.Body)
		}
	}
	res := env.As(ws.OwnerToken, http.MethodGet, reportPath(ws, "?from=2024-01-01&to=2024-12-31"), nil)
	var r reportJSON
	res.JSON(t, &r)
	if res.Code != http.StatusOK || len(r.CreatedPerDay) != 366 || r.From != "2024-01-01" || r.To != "2024-12-31" {
		t.Errorf("a 366-day range: %d, %d days %s..%s", res.Code, len(r.CreatedPerDay), r.From, r.To)
	}
	if len(r.SLAPerWeek) != 53 { // Monday 2024-01-01 to the week of Tuesday 2024-12-31
		t.Errorf("weeks: %d", len(r.SLAPerWeek))
	}
}
