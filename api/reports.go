package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// reportAnswer is GET .../reports: the figures of a range of days. Durations are whole
// seconds, null when nothing was measured.
type reportAnswer struct {
	From           string            `json:"from"`
	To             string            `json:"to"`
	TimeZone       string            `json:"time_zone"`
	BusinessHours  bool              `json:"business_hours"`
	CreatedPerDay  []createdDayItem  `json:"created_per_day"`
	TimesPerDay    []timesDayItem    `json:"times_per_day"`
	TimesPerMember []timesMemberItem `json:"times_per_member"`
	SLAPerWeek     []slaWeekItem     `json:"sla_per_week"`
	LeadsByStatus  []leadCountItem   `json:"leads_by_status"`
}

type createdDayItem struct {
	Date     string `json:"date"`
	Chat     int    `json:"chat"`
	WebVoice int    `json:"web_voice"`
	Phone    int    `json:"phone"`
	Total    int    `json:"total"`
}

type durationsItem struct {
	Count         int  `json:"count"`
	MedianSeconds *int `json:"median_seconds"`
	P90Seconds    *int `json:"p90_seconds"`
}

type timesDayItem struct {
	Date            string        `json:"date"`
	FirstAssignment durationsItem `json:"first_assignment"`
	Close           durationsItem `json:"close"`
}

type timesMemberItem struct {
	UserID          uuid.UUID     `json:"user_id"`
	Name            string        `json:"name"`
	FirstAssignment durationsItem `json:"first_assignment"`
	Close           durationsItem `json:"close"`
}

type slaWeekItem struct {
	Week                  string `json:"week"`
	FirstResponseMet      int    `json:"first_response_met"`
	FirstResponseBreached int    `json:"first_response_breached"`
	ResolutionMet         int    `json:"resolution_met"`
	ResolutionBreached    int    `json:"resolution_breached"`
}

type leadCountItem struct {
	Status domain.LeadStatus `json:"status"`
	Count  int               `json:"count"`
}

func toDurations(d app.Durations) durationsItem {
	sec := func(v *time.Duration) *int {
		if v == nil {
			return nil
		}
		s := int(v.Seconds())
		return &s
	}
	return durationsItem{Count: d.Count, MedianSeconds: sec(d.Median), P90Seconds: sec(d.P90)}
}

func toReport(r *app.Report) reportAnswer {
	out := reportAnswer{From: r.From, To: r.To, TimeZone: r.TimeZone, BusinessHours: r.BusinessHours,
		CreatedPerDay: []createdDayItem{}, TimesPerDay: []timesDayItem{}, TimesPerMember: []timesMemberItem{},
		SLAPerWeek: []slaWeekItem{}, LeadsByStatus: []leadCountItem{}}
	for _, d := range r.CreatedPerDay {
		out.CreatedPerDay = append(out.CreatedPerDay, createdDayItem{d.Date, d.Chat, d.WebVoice, d.Phone, d.Total})
	}
	for _, d := range r.TimesPerDay {
		out.TimesPerDay = append(out.TimesPerDay, timesDayItem{d.Date, toDurations(d.FirstAssignment), toDurations(d.Close)})
	}
	for _, m := range r.TimesPerMember {
		out.TimesPerMember = append(out.TimesPerMember, timesMemberItem{m.UserID, m.Name, toDurations(m.FirstAssignment), toDurations(m.Close)})
	}
	for _, w := range r.SLAPerWeek {
		out.SLAPerWeek = append(out.SLAPerWeek, slaWeekItem{w.Week, w.FirstResponseMet, w.FirstResponseBreached, w.ResolutionMet, w.ResolutionBreached})
	}
	for _, l := range r.LeadsByStatus {
		out.LeadsByStatus = append(out.LeadsByStatus, leadCountItem{l.Status, l.Count})
	}
	return out
}

// getReport answers the report as JSON, or with ?format=csv as a CSV download.
func (s *server) getReport(c *gin.Context) {
	q, err := app.ReadQuery(c.Request.URL.Query(), app.ReportParams...)
	if err != nil {
		respond(c, err)
		return
	}
	format, err := app.ReportFormat(q)
	if err != nil {
		respond(c, err)
		return
	}
	r, err := s.App.Report(c.Request.Context(), caller(c), q)
	if err != nil {
		respond(c, err)
		return
	}
	if format == "csv" {
		if err := app.WriteReportCSV(c.Writer, caller(c).WorkspaceID, r); err != nil {
			_ = c.Error(err)
		}
		return
	}
	c.JSON(http.StatusOK, toReport(r))
}
