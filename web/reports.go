package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/svgchart"
)

// SectionReports is the Reports page's nav entry.
const SectionReports = "reports"

// reportsData is the Data of the Reports page: the report (nil after a refusal), its charts
// as SVG, and the form as the person filled it in.
type reportsData struct {
	Workspace string
	From, To  string
	Error     string
	Report    *app.Report
	Channels  []domain.Channel
	CSVURL    string
	Charts    reportCharts
}

type reportCharts struct {
	Created, FirstAssignment, Close, Members, SLA, Leads template.HTML
}

// reports is the Reports page, and with format=csv the report's CSV (the API's bytes).
func (s *Site) reports(c *gin.Context) {
	caller := callerOf(c)
	ws := caller.WorkspaceID.String()
	SetTitle(c, "Reports")
	SetSection(c, SectionReports)
	values := c.Request.URL.Query()
	d := reportsData{Workspace: ws, From: values.Get("from"), To: values.Get("to"), Channels: domain.Channels}

	q, err := app.ReadQuery(values, app.ReportParams...)
	var format string
	if err == nil {
		format, err = app.ReportFormat(q)
	}
	var r *app.Report
	if err == nil {
		r, err = s.App.Report(c.Request.Context(), caller, q)
	}
	if err != nil {
		e, _ := app.Classify(err)
		if e.Status != http.StatusBadRequest || format == "csv" {
			s.fail(c, err)
			return
		}
		d.Error = e.Message
		s.web.Render.Page(c, http.StatusBadRequest, "reports", d)
		return
	}
	if format == "csv" {
		if err := app.WriteReportCSV(c.Writer, caller.WorkspaceID, r); err != nil {
			_ = c.Error(err)
		}
		c.Abort()
		return
	}
	d.Report, d.From, d.To = r, r.From, r.To
	d.CSVURL = WorkspacePath(ws, SectionReports) + "?" + url.Values{"from": {r.From}, "to": {r.To}, "format": {"csv"}}.Encode()
	d.Charts = chartsOf(r)
	s.web.Render.Page(c, http.StatusOK, "reports", d)
}

// chartsOf draws the report's charts; each has its figures as a table below it in the page.
func chartsOf(r *app.Report) reportCharts {
	var days []string
	created := make([]svgchart.Series, len(domain.Channels))
	for i, ch := range domain.Channels {
		created[i].Name = channelName(ch)
	}
	var fa, faP90, cl, clP90 []float64
	for i, d := range r.CreatedPerDay {
		days = append(days, shortDate(d.Date))
		for j, ch := range domain.Channels {
			created[j].Values = append(created[j].Values, float64(d.Count(ch)))
		}
		t := r.TimesPerDay[i]
		fa, faP90 = append(fa, secondsOf(t.FirstAssignment.Median)), append(faP90, secondsOf(t.FirstAssignment.P90))
		cl, clP90 = append(cl, secondsOf(t.Close.Median)), append(clP90, secondsOf(t.Close.P90))
	}
	span := fmt.Sprintf("from %s to %s", r.From, r.To)
	kind := "wall-clock time"
	if r.BusinessHours {
		kind = "business time"
	}
	dur := func(v float64) string { return humanDuration(v) }
	var members []string
	var mFA, mCl []float64
	for _, m := range r.TimesPerMember {
		members = append(members, m.Name)
		mFA, mCl = append(mFA, secondsOf(m.FirstAssignment.Median)), append(mCl, secondsOf(m.Close.Median))
	}
	var weeks []string
	sla := []svgchart.Series{{Name: "First response met"}, {Name: "First response breached"}, {Name: "Resolution met"}, {Name: "Resolution breached"}}
	for _, w := range r.SLAPerWeek {
		weeks = append(weeks, shortDate(w.Week))
		for i, v := range []int{w.FirstResponseMet, w.FirstResponseBreached, w.ResolutionMet, w.ResolutionBreached} {
			sla[i].Values = append(sla[i].Values, float64(v))
		}
	}
	var statuses []string
	var leads []float64
	for _, l := range r.LeadsByStatus {
		statuses = append(statuses, string(l.Status))
		leads = append(leads, float64(l.Count))
	}
	svg := func(c svgchart.Chart) template.HTML {
		return template.HTML(c.SVG()) // svgchart escapes every text it writes
	}
	return reportCharts{
		Created: svg(svgchart.Chart{ID: "chart-created", Kind: svgchart.Stacked, Labels: days, Series: created,
			Title: "Conversations created per day, by channel", Desc: "Stacked bars, one per day " + span + "."}),
		FirstAssignment: svg(svgchart.Chart{ID: "chart-first-assignment", Kind: svgchart.Lines, Labels: days, Format: dur,
			Series: []svgchart.Series{{Name: "Median", Values: fa}, {Name: "90th percentile", Values: faP90}},
			Title:  "Time to first assignment, per day of creation", Desc: "Median and 90th percentile in " + kind + ", " + span + "."}),
		Close: svg(svgchart.Chart{ID: "chart-close", Kind: svgchart.Lines, Labels: days, Format: dur,
			Series: []svgchart.Series{{Name: "Median", Values: cl}, {Name: "90th percentile", Values: clP90}},
			Title:  "Time to close, per day of creation", Desc: "Median and 90th percentile in " + kind + ", " + span + "."}),
		Members: svg(svgchart.Chart{ID: "chart-members", Kind: svgchart.Bars, Labels: members, Format: dur, ZeroIsData: true,
			Series: []svgchart.Series{{Name: "First assignment (median)", Values: mFA}, {Name: "Close (median)", Values: mCl}},
			Title:  "Median times per assignee", Desc: "Time to first assignment and to close of each assignee's conversations, in " + kind + "."}),
		SLA: svg(svgchart.Chart{ID: "chart-sla", Kind: svgchart.Bars, Labels: weeks, Series: sla,
			Title: "SLA met and breached per week", Desc: "Weeks start on Monday; the first and last count only days " + span + "."}),
		Leads: svg(svgchart.Chart{ID: "chart-leads", Kind: svgchart.Bars, Labels: statuses,
			Series: []svgchart.Series{{Name: "Leads", Values: leads}},
			Title:  "Leads by status", Desc: "Leads created " + span + ", by their status now."}),
	}
}

func channelName(ch domain.Channel) string {
	switch ch {
	case domain.WebVoice:
		return "web voice"
	}
	return string(ch)
}

func secondsOf(d *time.Duration) float64 {
	if d == nil {
		return math.NaN()
	}
	return d.Seconds()
}

// shortDate is "Nov 2" for 2026-11-02, for the axis.
func shortDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("Jan 2")
}

// humanDuration writes seconds as people read a wait: "45 s", "12 min", "3 h 20 min", "2 d 4 h".
func humanDuration(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	s := int64(math.Round(v))
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min", s/60)
	case s < 86400:
		if m := s % 3600 / 60; m != 0 {
			return fmt.Sprintf("%d h %d min", s/3600, m)
		}
		return fmt.Sprintf("%d h", s/3600)
	}
	if h := s % 86400 / 3600; h != 0 {
		return fmt.Sprintf("%d d %d h", s/86400, h)
	}
	return fmt.Sprintf("%d d", s/86400)
}

// reportDuration is a duration cell of the tables: "—" when nothing was measured.
func reportDuration(d *time.Duration) string { return humanDuration(secondsOf(d)) }
