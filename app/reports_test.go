package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/policies"
	"github.com/bestai/inbox/store"
)

// reportFixture seeds conversations with known times straight into the read model and the
// audit log, as the workflow would have written them.
type reportFixture struct {
	t   *testing.T
	s   *store.Store
	svc *app.Service
	n   int
}

func newReportFixture(t *testing.T) *reportFixture {
	authz, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	s := testenv.NewStore(t)
	return &reportFixture{t: t, s: s, svc: app.New(app.Service{Store: s, Authorizer: authz})}
}

type conv struct {
	channel  domain.Channel
	created  string
	assigned string // the first assignment's audit entry; "" for none
	closed   string
	assignee uuid.UUID
	lead     domain.LeadStatus
	sla      map[string]string // column -> instant
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *reportFixture) add(ws uuid.UUID, c conv) uuid.UUID {
	t, ctx := f.t, context.Background()
	f.n++
	id := uuid.New()
	var closed, assignee any
	if c.closed != "" {
		closed = ts(t, c.closed)
	}
	if c.assignee != uuid.Nil {
		assignee = c.assignee
	}
	state := "open"
	if c.closed != "" {
		state = "closed"
	}
	if _, err := f.s.DB.ExecContext(ctx, `INSERT INTO conversations (id, workspace_id, ref, channel, state, assignee_id, created_at, last_message_at, closed_at, workflow_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, ws, "r"+id.String(), c.channel, state, assignee, ts(t, c.created), ts(t, c.created), closed, "conversation/"+id.String()); err != nil {
		t.Fatal(err)
	}
	audit := func(at string, after map[string]any) {
		raw, _ := json.Marshal(after)
		if _, err := f.s.DB.ExecContext(ctx, `INSERT INTO audit_log (id, workspace_id, conversation_id, action, after, at) VALUES (?, ?, ?, 'assignee_changed', ?, ?)`,
			uuid.New(), ws, id, string(raw), ts(t, at)); err != nil {
			t.Fatal(err)
		}
	}
	if c.assigned != "" {
		// The first assignment as the store writes it: the column and its audit entry.
		audit(c.assigned, map[string]any{"assignee": map[string]any{"user_id": c.assignee, "name": "someone"}})
		if _, err := f.s.DB.ExecContext(ctx, `UPDATE conversations SET first_assigned_at = ? WHERE id = ?`, ts(t, c.assigned), id); err != nil {
			t.Fatal(err)
		}
	}
	for col, at := range c.sla {
		if _, err := f.s.DB.ExecContext(ctx, `UPDATE conversations SET `+col+` = ? WHERE id = ?`, ts(t, at), id); err != nil {
			t.Fatal(err)
		}
	}
	if c.lead != "" {
		if _, err := f.s.DB.ExecContext(ctx, `INSERT INTO leads (id, workspace_id, conversation_id, status, created_at) VALUES (?, ?, ?, ?, ?)`,
			uuid.New(), ws, id, c.lead, ts(t, c.created)); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func (f *reportFixture) report(ws uuid.UUID, user uuid.UUID, values url.Values) (*app.Report, error) {
	q, err := app.ReadQuery(values, app.ReportParams...)
	if err != nil {
		return nil, err
	}
	return f.svc.Report(context.Background(), &app.Caller{WorkspaceID: ws, UserID: user, Role: domain.Viewer}, q)
}

func secs(d *time.Duration) any {
	if d == nil {
		return nil
	}
	return int(d.Seconds())
}

func checkDurations(t *testing.T, what string, got app.Durations, count int, median, p90 any) {
	t.Helper()
	if got.Count != count || secs(got.Median) != median || secs(got.P90) != p90 {
		t.Errorf("%s: count %d median %v p90 %v; want %d %v %v", what, got.Count, secs(got.Median), secs(got.P90), count, median, p90)
	}
}

// TestReportFiguresInWallTime: no business hours, so days are UTC days and durations are
// wall time. Medians and 90th percentiles interpolate between ranks; another workspace's
// conversations never count.
func TestReportFiguresInWallTime(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	ctx := context.Background()
	ws, err := f.s.CreateWorkspace(ctx, "Reports Co", "owner@reports.example", "Owner")
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.s.CreateWorkspace(ctx, "Other Co", "owner@other.example", "Other")
	if err != nil {
		t.Fatal(err)
	}
	ann, _, err := f.s.AddMember(ctx, ws.WorkspaceID, "ann@reports.example", "Ann", domain.Support)
	if err != nil {
		t.Fatal(err)
	}
	bob, _, err := f.s.AddMember(ctx, ws.WorkspaceID, "bob@reports.example", "Bob", domain.Support)
	if err != nil {
		t.Fatal(err)
	}
	w := ws.WorkspaceID
	// Monday 2026-11-02.
	f.add(w, conv{channel: domain.Chat, created: "2026-11-02T09:00:00Z", assigned: "2026-11-02T09:10:00Z", closed: "2026-11-02T10:00:00Z",
		assignee: ann.UserID, lead: domain.LeadWon, sla: map[string]string{"sla_first_response_met_at": "2026-11-02T09:10:00Z"}})
	f.add(w, conv{channel: domain.Chat, created: "2026-11-02T12:00:00Z", assigned: "2026-11-02T12:30:00Z", closed: "2026-11-02T14:00:00Z",
		assignee: ann.UserID, lead: domain.LeadNew, sla: map[string]string{"sla_first_response_breached_at": "2026-11-04T12:00:00Z"}})
	f.add(w, conv{channel: domain.Phone, created: "2026-11-02T15:00:00Z", assigned: "2026-11-02T15:50:00Z", assignee: bob.UserID, lead: domain.LeadNew,
		sla: map[string]string{"sla_resolution_breached_at": "2026-11-08T23:00:00Z"}})
	f.add(w, conv{channel: domain.WebVoice, created: "2026-11-03T08:00:00Z", closed: "2026-11-03T09:00:00Z",
		sla: map[string]string{"sla_resolution_met_at": "2026-11-09T01:00:00Z"}}) // met after the range
	// Outside the range on either side.
	f.add(w, conv{channel: domain.Chat, created: "2026-11-09T00:30:00Z", assigned: "2026-11-09T00:31:00Z", assignee: ann.UserID, lead: domain.LeadWon})
	f.add(w, conv{channel: domain.Chat, created: "2026-11-01T23:59:00Z", closed: "2026-11-02T00:30:00Z", lead: domain.LeadLost})
	// Another workspace, inside the range.
	f.add(other.WorkspaceID, conv{channel: domain.Phone, created: "2026-11-02T10:00:00Z", assigned: "2026-11-02T10:01:00Z", closed: "2026-11-02T10:02:00Z",
		assignee: other.OwnerUserID, lead: domain.LeadQualified, sla: map[string]string{"sla_first_response_met_at": "2026-11-02T10:01:00Z"}})

	r, err := f.report(w, ws.OwnerUserID, url.Values{"from": {"2026-11-02"}, "to": {"2026-11-08"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.From != "2026-11-02" || r.To != "2026-11-08" || r.TimeZone != "UTC" || r.BusinessHours {
		t.Errorf("range %s..%s %s business hours %v", r.From, r.To, r.TimeZone, r.BusinessHours)
	}
	if len(r.CreatedPerDay) != 7 || len(r.TimesPerDay) != 7 {
		t.Fatalf("want 7 days, got %d and %d", len(r.CreatedPerDay), len(r.TimesPerDay))
	}
	if d := r.CreatedPerDay[0]; d.Date != "2026-11-02" || d.Chat != 2 || d.Phone != 1 || d.WebVoice != 0 || d.Total != 3 {
		t.Errorf("2026-11-02: %+v", d)
	}
	if d := r.CreatedPerDay[1]; d.WebVoice != 1 || d.Total != 1 {
		t.Errorf("2026-11-03: %+v", d)
	}
	for _, d := range r.CreatedPerDay[2:] {
		if d.Total != 0 {
			t.Errorf("%s: %+v, want nothing", d.Date, d)
		}
	}
	// First assignment after 10, 30 and 50 minutes; closed after 60 and 120 minutes.
	checkDurations(t, "first assignment on 11-02", r.TimesPerDay[0].FirstAssignment, 3, 1800, 2760)
	checkDurations(t, "close on 11-02", r.TimesPerDay[0].Close, 2, 5400, 6840)
	checkDurations(t, "first assignment on 11-03", r.TimesPerDay[1].FirstAssignment, 0, nil, nil)
	checkDurations(t, "close on 11-03", r.TimesPerDay[1].Close, 1, 3600, 3600)

	if len(r.TimesPerMember) != 2 || r.TimesPerMember[0].Name != "Ann" || r.TimesPerMember[1].Name != "Bob" {
		t.Fatalf("per member: %+v", r.TimesPerMember)
	}
	checkDurations(t, "Ann's first assignment", r.TimesPerMember[0].FirstAssignment, 2, 1200, 1680)
	checkDurations(t, "Ann's close", r.TimesPerMember[0].Close, 2, 5400, 6840)
	checkDurations(t, "Bob's first assignment", r.TimesPerMember[1].FirstAssignment, 1, 3000, 3000)
	checkDurations(t, "Bob's close", r.TimesPerMember[1].Close, 0, nil, nil)

	if len(r.SLAPerWeek) != 1 {
		t.Fatalf("weeks: %+v", r.SLAPerWeek)
	}
	if w := r.SLAPerWeek[0]; w.Week != "2026-11-02" || w.FirstResponseMet != 1 || w.FirstResponseBreached != 1 || w.ResolutionMet != 0 || w.ResolutionBreached != 1 {
		t.Errorf("SLA week: %+v", w)
	}
	want := map[domain.LeadStatus]int{domain.LeadNew: 2, domain.LeadWon: 1}
	if len(r.LeadsByStatus) != len(domain.LeadStatuses) {
		t.Fatalf("leads: %+v", r.LeadsByStatus)
	}
	for _, l := range r.LeadsByStatus {
		if l.Count != want[l.Status] {
			t.Errorf("leads %s: %d, want %d", l.Status, l.Count, want[l.Status])
		}
	}

	// The CSV carries the same figures, one per row.
	rows := app.ReportCSVRows(r)
	joined := map[string]bool{}
	for _, row := range rows {
		joined[strings.Join(row, ",")] = true
	}
	for _, line := range []string{
		"section,period,name,metric,value",
		"created_per_day,2026-11-02,chat,conversations,2",
		"times_per_day,2026-11-02,,first_assignment_median_seconds,1800",
		"times_per_day,2026-11-03,,first_assignment_median_seconds,",
		"times_per_member,,Ann,close_p90_seconds,6840",
		"sla_per_week,2026-11-02,resolution,breached,1",
		"leads_by_status,,new,leads,2",
	} {
		if !joined[line] {
			t.Errorf("CSV has no row %q", line)
		}
	}
}

// TestReportFiguresInBusinessTime: with business hours, days are the zone's days and the
// durations count only opening hours (a Friday-evening chat assigned on Monday morning
// waited 45 minutes of business time, not 65 hours).
func TestReportFiguresInBusinessTime(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	ctx := context.Background()
	ws, err := f.s.CreateWorkspace(ctx, "Hours Co", "owner@hours.example", "Owner")
	if err != nil {
		t.Fatal(err)
	}
	week := []string{"09:00-17:00"}
	spec, err := domain.BusinessHoursSpec{TimeZone: "America/New_York",
		Weekly: map[string][]string{"mon": week, "tue": week, "wed": week, "thu": week, "fri": week}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetBusinessHours(ctx, ws.WorkspaceID, spec, &domain.Actor{UserID: ws.OwnerUserID, Name: "Owner"}); err != nil {
		t.Fatal(err)
	}
	w := ws.WorkspaceID
	// Friday 2026-11-06 16:30 in New York (UTC-5), assigned Monday 09:15, closed Monday 10:00.
	f.add(w, conv{channel: domain.Chat, created: "2026-11-06T21:30:00Z", assigned: "2026-11-09T14:15:00Z", closed: "2026-11-09T15:00:00Z", assignee: ws.OwnerUserID})
	// Friday 23:30 in New York is Saturday in UTC: it counts on the Friday.
	f.add(w, conv{channel: domain.Phone, created: "2026-11-07T04:30:00Z"})

	r, err := f.report(w, ws.OwnerUserID, url.Values{"from": {"2026-11-06"}, "to": {"2026-11-09"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.TimeZone != "America/New_York" || !r.BusinessHours {
		t.Errorf("zone %s business hours %v", r.TimeZone, r.BusinessHours)
	}
	if d := r.CreatedPerDay[0]; d.Date != "2026-11-06" || d.Total != 2 || d.Chat != 1 || d.Phone != 1 {
		t.Errorf("Friday: %+v", d)
	}
	if d := r.CreatedPerDay[1]; d.Total != 0 {
		t.Errorf("Saturday: %+v", d)
	}
	checkDurations(t, "first assignment", r.TimesPerDay[0].FirstAssignment, 1, 2700, 2700)
	checkDurations(t, "close", r.TimesPerDay[0].Close, 1, 5400, 5400)
	checkDurations(t, "the owner's close", r.TimesPerMember[0].Close, 1, 5400, 5400)
	// Two weeks overlap the range: Monday 11-02 and Monday 11-09.
	if len(r.SLAPerWeek) != 2 || r.SLAPerWeek[0].Week != "2026-11-02" || r.SLAPerWeek[1].Week != "2026-11-09" {
		t.Errorf("weeks: %+v", r.SLAPerWeek)
	}
}

// TestReportRangeValidation: dates name their field; the range is bounded; the default is
// the last 30 days.
func TestReportRangeValidation(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		values   url.Values
		from, to string
		field    string
	}{
		{values: url.Values{}, from: "2026-11-07", to: "2026-12-06"},
		{values: url.Values{"to": {"2026-01-31"}}, from: "2026-01-02", to: "2026-01-31"},
		{values: url.Values{"from": {"2026-12-01"}}, from: "2026-12-01", to: "2026-12-06"},
		{values: url.Values{"from": {"2025-01-01"}, "to": {"2025-12-31"}}, from: "2025-01-01", to: "2025-12-31"},
		{values: url.Values{"from": {"2024-01-01"}, "to": {"2024-12-31"}}, from: "2024-01-01", to: "2024-12-31"}, // 366 days
		{values: url.Values{"from": {"2024-01-01"}, "to": {"2025-01-01"}}, field: "to"},
		{values: url.Values{"from": {"2020-01-01"}}, field: "from"},
		{values: url.Values{"from": {"2026-13-01"}}, field: "from"},
		{values: url.Values{"to": {"yesterday"}}, field: "to"},
		{values: url.Values{"from": {"2026-12-02"}, "to": {"2026-12-01"}}, field: "to"},
		{values: url.Values{"from": {"2026-12-01", "2026-12-02"}}, field: "from"},
	} {
		q, err := app.ReadQuery(tc.values, app.ReportParams...)
		if err != nil {
			t.Fatal(err)
		}
		from, to, err := app.ReportDates(q, today)
		if tc.field != "" {
			var e *app.Error
			if !errors.As(err, &e) || e.Status != 400 || !strings.HasPrefix(e.Message, tc.field+":") {
				t.Errorf("%v: want a 400 naming %s, got %v", tc.values, tc.field, err)
			}
			continue
		}
		if err != nil || from.Format(time.DateOnly) != tc.from || to.Format(time.DateOnly) != tc.to {
			t.Errorf("%v: %s..%s %v, want %s..%s", tc.values, from.Format(time.DateOnly), to.Format(time.DateOnly), err, tc.from, tc.to)
		}
	}
	for v, want := range map[string]string{"": "json", "json": "json", "csv": "csv", "xml": ""} {
		q, _ := app.ReadQuery(url.Values{"format": {v}}, app.ReportParams...)
		got, err := app.ReportFormat(q)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("format %q: %q %v", v, got, err)
		}
	}
}
