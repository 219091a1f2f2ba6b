package app

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// The Reports page and GET .../reports: what a workspace's conversations, SLA clocks and leads
// add up to over a range of days. Every role may read it.

// ReportParams are the query parameters a report takes: from and to are dates (both days
// included) in the workspace's business-hours time zone, or UTC when none is set; format is
// json (the default) or csv.
var ReportParams = []string{"from", "to", "format"}

// Bounds of a report's range.
const (
	DefaultReportDays = 30
	MaxReportDays     = 366
)

// Report is the figures of one range. The per-day and per-week lists hold every day and week
// of the range, zeros included, so a chart's axis is the range itself.
type Report struct {
	From, To string // dates, YYYY-MM-DD, both included
	TimeZone string
	// BusinessHours: durations are business time in the workspace's hours; false means
	// wall-clock time (no hours are set).
	BusinessHours  bool
	CreatedPerDay  []CreatedDay
	TimesPerDay    []TimesDay
	TimesPerMember []TimesMember
	SLAPerWeek     []SLAWeek
	LeadsByStatus  []LeadCount
}

// CreatedDay is how many conversations were created on a day, by channel.
type CreatedDay struct {
	Date                  string
	Chat, WebVoice, Phone int
	Total                 int
}

// Count returns the day's count for a channel.
func (d CreatedDay) Count(ch domain.Channel) int {
	switch ch {
	case domain.Chat:
		return d.Chat
	case domain.WebVoice:
		return d.WebVoice
	case domain.Phone:
		return d.Phone
	}
	return 0
}

// Durations summarises how long something took across Count conversations: the median and
// the 90th percentile, nil when Count is 0. They interpolate between the closest ranks, as
// Postgres's percentile_cont does, and are rounded to the second.
type Durations struct {
	Count       int
	Median, P90 *time.Duration
}

// TimesDay is the time to first assignment and the time to close of the conversations
// created on a day.
type TimesDay struct {
	Date                   string
	FirstAssignment, Close Durations
}

// TimesMember is the same figures for the conversations a member is the assignee of now.
type TimesMember struct {
	UserID                 uuid.UUID
	Name                   string
	FirstAssignment, Close Durations
}

// SLAWeek is how many SLA clocks were met and breached in a week (starting Monday; the first
// and last weeks count only the days inside the range).
type SLAWeek struct {
	Week                                    string // its Monday
	FirstResponseMet, FirstResponseBreached int
	ResolutionMet, ResolutionBreached       int
}

// LeadCount is how many leads created in the range are in a status now.
type LeadCount struct {
	Status domain.LeadStatus
	Count  int
}

// ReportFormat reads the format parameter: "json" (also when absent) or "csv".
func ReportFormat(q Query) (string, error) {
	f, err := q.One("format")
	if err != nil {
		return "", err
	}
	switch f {
	case "", "json":
		return "json", nil
	case "csv":
		return "csv", nil
	}
	return "", BadRequest("format: want json or csv, not %q", f)
}

// ReportDates reads the range: from and to are dates, both included; to defaults to today
// and from to the day DefaultReportDays-1 before to. It is at most MaxReportDays long, and
// to is not before from. The dates come back as midnights in UTC (calendar dates).
func ReportDates(q Query, today time.Time) (from, to time.Time, err error) {
	read := func(name string) (time.Time, bool, error) {
		v, err := q.One(name)
		if err != nil || v == "" {
			return time.Time{}, false, err
		}
		if len(v) > len(time.DateOnly) {
			return time.Time{}, false, BadRequest("%s: want a date such as 2026-11-24", name)
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return time.Time{}, false, BadRequest("%s: want a date such as 2026-11-24, not %q", name, v)
		}
		return d, true, nil
	}
	from, hasFrom, err := read("from")
	if err != nil {
		return
	}
	to, hasTo, err := read("to")
	if err != nil {
		return
	}
	if !hasTo {
		y, m, d := today.Date()
		to = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	if !hasFrom {
		from = to.AddDate(0, 0, -(DefaultReportDays - 1))
	}
	if to.Before(from) {
		return from, to, BadRequest("to: %s is before from (%s)", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	if days := daysBetween(from, to) + 1; days > MaxReportDays {
		name := "to"
		if !hasTo {
			name = "from"
		}
		return from, to, BadRequest("%s: a report covers at most %d days (this range is %d)", name, MaxReportDays, days)
	}
	return from, to, nil
}

func daysBetween(from, to time.Time) int { return int(to.Sub(from).Hours()/24 + 0.5) }

// Report computes the workspace's report over the query's range (ReportDates), counted in
// the workspace's business-hours zone, durations in its business time (wall time when no
// hours are set).
func (s *Service) Report(ctx context.Context, c *Caller, q Query) (*Report, error) {
	if err := s.Authorize(c, domain.ReadReports); err != nil {
		return nil, err
	}
	spec, err := s.Store.BusinessHours(ctx, c.WorkspaceID)
	if err != nil {
		return nil, err
	}
	loc := time.UTC
	var cal *domain.BusinessHours
	if spec != nil {
		if b, err := domain.ParseBusinessHours(spec.TimeZone, spec.Weekly, spec.Holidays); err == nil {
			loc, cal = b.Location, &b
		}
	}
	from, to, err := ReportDates(q, time.Now().In(loc))
	if err != nil {
		return nil, err
	}
	return s.report(ctx, c.WorkspaceID, from, to, loc, cal)
}

// local is the instant of midnight of the calendar date d in loc.
func local(d time.Time, loc *time.Location) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}

func (s *Service) report(ctx context.Context, ws uuid.UUID, from, to time.Time, loc *time.Location, cal *domain.BusinessHours) (*Report, error) {
	r := store.ReportRange{From: local(from, loc), To: local(to.AddDate(0, 0, 1), loc), Zone: loc.String()}
	out := &Report{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), TimeZone: loc.String(), BusinessHours: cal != nil}

	// Every day of the range, and every week that overlaps it.
	days := daysBetween(from, to) + 1
	for i := range days {
		d := from.AddDate(0, 0, i).Format(time.DateOnly)
		out.CreatedPerDay = append(out.CreatedPerDay, CreatedDay{Date: d})
		out.TimesPerDay = append(out.TimesPerDay, TimesDay{Date: d})
	}
	weekIndex := map[string]int{}
	monday := from.AddDate(0, 0, -((int(from.Weekday()) + 6) % 7))
	for w := monday; !w.After(to); w = w.AddDate(0, 0, 7) {
		weekIndex[w.Format(time.DateOnly)] = len(out.SLAPerWeek)
		out.SLAPerWeek = append(out.SLAPerWeek, SLAWeek{Week: w.Format(time.DateOnly)})
	}

	// The SLA and leads counts run alongside the scan of the range's conversations.
	var sla []store.SLAWeekCount
	var leads []store.LeadStatusCount
	var slaErr, leadsErr error
	var wg sync.WaitGroup
	wg.Go(func() { sla, slaErr = s.Store.SLAPerWeek(ctx, ws, r) })
	wg.Go(func() { leads, leadsErr = s.Store.LeadsByStatus(ctx, ws, r) })
	defer wg.Wait()

	// Day i of the range is [bounds[i], bounds[i+1]) in the zone.
	bounds := make([]time.Time, days+1)
	for i := range bounds {
		bounds[i] = local(from.AddDate(0, 0, i), loc)
	}
	dayOf := func(t time.Time) int {
		return sort.Search(len(bounds), func(k int) bool { return bounds[k].After(t) }) - 1
	}

	// Time to first assignment and to close, in business time, per creation day and per
	// assignee.
	var timeline *domain.BusinessTimeline
	if cal != nil {
		// Assignments and closes come up to now, after the range's end.
		timeline = cal.Timeline(r.From, later(r.To, time.Now()).Add(24*time.Hour))
	}
	between := func(a, b time.Time) time.Duration {
		if !b.After(a) {
			return 0
		}
		if timeline != nil {
			return timeline.Between(a, b)
		}
		return b.Sub(a)
	}
	type samples struct{ assign, close []float64 }
	perDay := make([]samples, days)
	perMember := map[uuid.UUID]*samples{}
	err := s.Store.EachConversationTimes(ctx, ws, r, func(t *store.ConversationTimes) error {
		i := dayOf(t.CreatedAt)
		if i < 0 || i >= days {
			return nil
		}
		d := &out.CreatedPerDay[i]
		switch t.Channel {
		case domain.Chat:
			d.Chat++
		case domain.WebVoice:
			d.WebVoice++
		case domain.Phone:
			d.Phone++
		}
		d.Total++
		var m *samples
		if t.AssigneeID.Valid {
			if m = perMember[t.AssigneeID.UUID]; m == nil {
				m = &samples{}
				perMember[t.AssigneeID.UUID] = m
			}
		}
		if t.FirstAssignedAt.Valid {
			v := between(t.CreatedAt, t.FirstAssignedAt.Time).Seconds()
			perDay[i].assign = append(perDay[i].assign, v)
			if m != nil {
				m.assign = append(m.assign, v)
			}
		}
		if t.ClosedAt.Valid {
			v := between(t.CreatedAt, t.ClosedAt.Time).Seconds()
			perDay[i].close = append(perDay[i].close, v)
			if m != nil {
				m.close = append(m.close, v)
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	for i := range perDay {
		out.TimesPerDay[i].FirstAssignment = summarise(perDay[i].assign)
		out.TimesPerDay[i].Close = summarise(perDay[i].close)
	}
	ids := make([]uuid.UUID, 0, len(perMember))
	for id := range perMember {
		ids = append(ids, id)
	}
	names, err := s.Store.UserNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, m := range perMember {
		out.TimesPerMember = append(out.TimesPerMember, TimesMember{UserID: id, Name: names[id],
			FirstAssignment: summarise(m.assign), Close: summarise(m.close)})
	}
	slices.SortFunc(out.TimesPerMember, func(a, b TimesMember) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.UserID.String(), b.UserID.String())
	})

	wg.Wait()
	if slaErr != nil {
		return nil, slaErr
	}
	if leadsErr != nil {
		return nil, leadsErr
	}
	for _, row := range sla {
		i, ok := weekIndex[row.Week.Format(time.DateOnly)]
		if !ok {
			continue
		}
		w := &out.SLAPerWeek[i]
		switch row.Clock + "/" + row.Outcome {
		case store.SLAFirstResponse + "/" + store.SLAMet:
			w.FirstResponseMet += row.Count
		case store.SLAFirstResponse + "/" + store.SLABreached:
			w.FirstResponseBreached += row.Count
		case store.SLAResolution + "/" + store.SLAMet:
			w.ResolutionMet += row.Count
		case store.SLAResolution + "/" + store.SLABreached:
			w.ResolutionBreached += row.Count
		}
	}

	for _, st := range domain.LeadStatuses {
		lc := LeadCount{Status: st}
		for _, row := range leads {
			if row.Status == st {
				lc.Count = row.Count
			}
		}
		out.LeadsByStatus = append(out.LeadsByStatus, lc)
	}
	return out, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// summarise is the count, median and 90th percentile of durations in seconds.
func summarise(v []float64) Durations {
	d := Durations{Count: len(v)}
	if len(v) == 0 {
		return d
	}
	slices.Sort(v)
	med, p90 := percentile(v, 0.5), percentile(v, 0.9)
	d.Median, d.P90 = &med, &p90
	return d
}

// percentile interpolates linearly between the closest ranks of sorted (percentile_cont),
// rounded to the second.
func percentile(sorted []float64, p float64) time.Duration {
	pos := p * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	v := sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
	return time.Duration(math.Round(v)) * time.Second
}

// reportCSVHeader is the CSV's header: one figure per row, in long form, so one file holds
// every table of the report.
var reportCSVHeader = []string{"section", "period", "name", "metric", "value"}

// ReportCSVRows is the report as CSV records (header first), cells neutralised like the
// leads export's, so a member's name cannot run as a spreadsheet formula.
func ReportCSVRows(r *Report) [][]string {
	rows := [][]string{reportCSVHeader}
	add := func(section, period, name, metric, value string) {
		rows = append(rows, []string{section, period, neutralise(name), metric, value})
	}
	itoa := strconv.Itoa
	for _, d := range r.CreatedPerDay {
		for _, ch := range domain.Channels {
			add("created_per_day", d.Date, string(ch), "conversations", itoa(d.Count(ch)))
		}
		add("created_per_day", d.Date, "total", "conversations", itoa(d.Total))
	}
	durations := func(section, period, name string, first, closed Durations) {
		for _, m := range []struct {
			prefix string
			d      Durations
		}{{"first_assignment", first}, {"close", closed}} {
			add(section, period, name, m.prefix+"_count", itoa(m.d.Count))
			add(section, period, name, m.prefix+"_median_seconds", seconds(m.d.Median))
			add(section, period, name, m.prefix+"_p90_seconds", seconds(m.d.P90))
		}
	}
	for _, d := range r.TimesPerDay {
		durations("times_per_day", d.Date, "", d.FirstAssignment, d.Close)
	}
	for _, m := range r.TimesPerMember {
		durations("times_per_member", "", m.Name, m.FirstAssignment, m.Close)
	}
	for _, w := range r.SLAPerWeek {
		add("sla_per_week", w.Week, store.SLAFirstResponse, store.SLAMet, itoa(w.FirstResponseMet))
		add("sla_per_week", w.Week, store.SLAFirstResponse, store.SLABreached, itoa(w.FirstResponseBreached))
		add("sla_per_week", w.Week, store.SLAResolution, store.SLAMet, itoa(w.ResolutionMet))
		add("sla_per_week", w.Week, store.SLAResolution, store.SLABreached, itoa(w.ResolutionBreached))
	}
	for _, l := range r.LeadsByStatus {
		add("leads_by_status", "", string(l.Status), "leads", itoa(l.Count))
	}
	return rows
}

func seconds(d *time.Duration) string {
	if d == nil {
		return ""
	}
	return strconv.FormatInt(int64(d.Seconds()), 10)
}

// WriteReportCSV answers with the report as a CSV download: the API's ?format=csv and the
// Reports page's link serve the same bytes.
func WriteReportCSV(rw http.ResponseWriter, ws uuid.UUID, r *Report) error {
	h := rw.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="report-%s-%s-%s.csv"`, ws, r.From, r.To))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(http.StatusOK)
	out := bufio.NewWriter(rw)
	w := csv.NewWriter(out)
	if err := w.WriteAll(ReportCSVRows(r)); err != nil {
		return err
	}
	return out.Flush()
}
