package domain

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	// The zone database is embedded so that business time does not depend on the machine's.
	_ "time/tzdata"
)

// Business hours are when a workspace's team works: a time zone, opening hours for each day
// of the week (several ranges a day) and holidays. SLA clocks run only inside them, so a
// chat at 17:55 on a Friday with a one-hour SLA is due at 09:55 on Monday. The ranges are
// wall-clock times of the zone: a day on which the clocks change has an hour more or less
// of business time, as it has for the people working it.

// OpeningRange is one span of a day's opening hours, as offsets from the local midnight:
// Start before End, both within the day (End may be 24h, the next midnight).
type OpeningRange struct {
	Start, End time.Duration
}

// BusinessHours is a workspace's calendar. Build it with ParseBusinessHours.
type BusinessHours struct {
	Location *time.Location
	// Weekly holds the sorted, non-overlapping ranges of each weekday (index time.Weekday).
	Weekly [7][]OpeningRange
	// Holidays are the dates (in Location) on which nothing is open.
	Holidays map[civilDate]bool
}

type civilDate struct {
	Year  int
	Month time.Month
	Day   int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// Limits of a calendar's size.
const (
	MaxRangesPerDay = 8
	MaxHolidays     = 366
)

// weekdayNames are the keys of the weekly hours, Sunday first as time.Weekday counts.
var weekdayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseBusinessHours checks and builds a calendar: zone is an IANA name ("Pacific/Auckland");
// weekly maps "mon".."sun" to ranges "HH:MM-HH:MM" (the end may be "24:00"); holidays are
// dates "YYYY-MM-DD". A day left out is closed. The error names the field at fault.
func ParseBusinessHours(zone string, weekly map[string][]string, holidays []string) (BusinessHours, error) {
	var b BusinessHours
	if strings.TrimSpace(zone) == "" || strings.EqualFold(zone, "local") {
		return b, errors.New("time_zone: want an IANA time zone such as Europe/Berlin")
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return b, fmt.Errorf("time_zone: %q is not a time zone", zone)
	}
	b.Location = loc
	// The days in a fixed order, so the first error named is always the same one (the
	// conversation workflow parses hours during replay): the keys are sorted before use.
	days := make([]string, 0, len(weekly))
	//workflowcheck:ignore
	for day := range weekly {
		days = append(days, day)
	}
	slices.Sort(days)
	for _, day := range days {
		spans := weekly[day]
		i := slices.Index(weekdayNames[:], strings.ToLower(day))
		if i < 0 {
			return b, fmt.Errorf("weekly: %q is not a day (want mon, tue, wed, thu, fri, sat or sun)", day)
		}
		if len(spans) > MaxRangesPerDay {
			return b, fmt.Errorf("weekly.%s: at most %d ranges a day", weekdayNames[i], MaxRangesPerDay)
		}
		var ranges []OpeningRange
		for _, s := range spans {
			r, err := parseRange(s)
			if err != nil {
				return b, fmt.Errorf("weekly.%s: %v", weekdayNames[i], err)
			}
			ranges = append(ranges, r)
		}
		slices.SortFunc(ranges, func(x, y OpeningRange) int { return int(x.Start - y.Start) })
		for k := 1; k < len(ranges); k++ {
			if ranges[k].Start < ranges[k-1].End {
				return b, fmt.Errorf("weekly.%s: the ranges %s and %s overlap", weekdayNames[i], ranges[k-1], ranges[k])
			}
		}
		b.Weekly[i] = ranges
	}
	if len(holidays) > MaxHolidays {
		return b, fmt.Errorf("holidays: at most %d", MaxHolidays)
	}
	b.Holidays = map[civilDate]bool{}
	for _, h := range holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil {
			return b, fmt.Errorf("holidays: %q is not a date (want YYYY-MM-DD)", h)
		}
		b.Holidays[dateOf(d)] = true
	}
	return b, nil
}

// parseRange reads "HH:MM-HH:MM".
func parseRange(s string) (OpeningRange, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return OpeningRange{}, fmt.Errorf("%q: want HH:MM-HH:MM", s)
	}
	start, err1 := parseClock(from)
	end, err2 := parseClock(to)
	switch {
	case err1 != nil || err2 != nil:
		return OpeningRange{}, fmt.Errorf("%q: want HH:MM-HH:MM, times from 00:00 to 24:00", s)
	case start >= end:
		return OpeningRange{}, fmt.Errorf("%q: the range must end after it starts, within the day", s)
	}
	return OpeningRange{start, end}, nil
}

// parseClock reads "HH:MM", 00:00 to 24:00.
func parseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, errors.New("not a time of day")
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func (r OpeningRange) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", int(r.Start.Hours()), int(r.Start.Minutes())%60, int(r.End.Hours()), int(r.End.Minutes())%60)
}

// maxDaysAhead bounds how far Add looks for opening hours: a calendar whose only open day
// is years away is as good as closed.
const maxDaysAhead = 5 * 366

// ErrNeverOpen: the calendar has no opening hours within maxDaysAhead.
var ErrNeverOpen = errors.New("the business hours are never open")

// openings calls f with each opening of the calendar, as instants, in order, from the day
// of from onwards, until f returns false.
func (b BusinessHours) openings(from time.Time, f func(start, end time.Time) bool) {
	local := from.In(b.Location)
	y, m, d := local.Date()
	for day := range maxDaysAhead {
		date := time.Date(y, m, d+day, 0, 0, 0, 0, b.Location)
		if b.Holidays[dateOf(date)] {
			continue
		}
		for _, r := range b.Weekly[date.Weekday()] {
			start := wallClock(date, r.Start, b.Location)
			end := wallClock(date, r.End, b.Location)
			if !f(start, end) {
				return
			}
		}
	}
}

// wallClock is the instant at offset of the local date's wall clock. time.Date settles a
// time that the clocks skip or repeat (daylight saving) as Go documents.
func wallClock(date time.Time, offset time.Duration, loc *time.Location) time.Time {
	y, m, d := date.Date()
	return time.Date(y, m, d, int(offset/time.Hour), int(offset%time.Hour/time.Minute), 0, 0, loc)
}

// Add is the instant at which d of business time has passed since start: a due time. One
// that ends exactly at a closing time is that closing time, not the next opening.
func (b BusinessHours) Add(start time.Time, d time.Duration) (time.Time, error) {
	remaining := max(d, 0)
	var due time.Time
	b.openings(start, func(open, close time.Time) bool {
		from := open
		if start.After(from) {
			from = start
		}
		if !from.Before(close) {
			return true
		}
		avail := close.Sub(from)
		if remaining <= avail {
			due = from.Add(remaining)
			return false
		}
		remaining -= avail
		return true
	})
	if due.IsZero() {
		return time.Time{}, ErrNeverOpen
	}
	return due.UTC(), nil
}

// Between is the business time from from to to (0 when to is not after from): how long a
// conversation waited, counted as the team works.
func (b BusinessHours) Between(from, to time.Time) time.Duration {
	var total time.Duration
	if !to.After(from) {
		return 0
	}
	b.openings(from, func(open, close time.Time) bool {
		if !open.Before(to) {
			return false
		}
		lo, hi := open, close
		if from.After(lo) {
			lo = from
		}
		if to.Before(hi) {
			hi = to
		}
		if hi.After(lo) {
			total += hi.Sub(lo)
		}
		return true
	})
	return total
}

// BusinessHoursSpec is a calendar as people write it and as it is stored: the zone's IANA
// name, "mon".."sun" to "HH:MM-HH:MM" ranges, and "YYYY-MM-DD" holidays.
type BusinessHoursSpec struct {
	TimeZone string              `json:"time_zone"`
	Weekly   map[string][]string `json:"weekly"`
	Holidays []string            `json:"holidays"`
}

// Normalize checks the spec (ParseBusinessHours's errors) and returns it in its one written
// form: days in lower case, each day's ranges sorted, closed days left out, holidays sorted
// without repeats. Two specs that mean the same calendar normalize to the same value.
func (s BusinessHoursSpec) Normalize() (BusinessHoursSpec, error) {
	b, err := ParseBusinessHours(s.TimeZone, s.Weekly, s.Holidays)
	if err != nil {
		return BusinessHoursSpec{}, err
	}
	out := BusinessHoursSpec{TimeZone: b.Location.String(), Weekly: map[string][]string{}, Holidays: []string{}}
	for i, ranges := range b.Weekly {
		for _, r := range ranges {
			out.Weekly[weekdayNames[i]] = append(out.Weekly[weekdayNames[i]], r.String())
		}
	}
	for d := range b.Holidays {
		out.Holidays = append(out.Holidays, fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day))
	}
	slices.Sort(out.Holidays)
	return out, nil
}

// Weekdays are the keys of BusinessHoursSpec.Weekly in the order a week is read, Monday
// first.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// AuditBusinessHoursChanged records a change of the workspace's business hours.
const AuditBusinessHoursChanged AuditAction = "business_hours_changed"
