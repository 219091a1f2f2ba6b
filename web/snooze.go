package web

import (
	"strings"
	"time"

	"github.com/bestai/inbox/app"
)

// Snooze presets of the conversation page. The times are the viewer's: the form carries
// the browser's time zone (tz, an IANA name app.js fills in); without JavaScript it is
// empty and the times are UTC, which the form says.
const (
	presetLaterToday      = "later_today"
	presetTomorrowMorning = "tomorrow_morning"
	presetNextWeek        = "next_week"
	// datetimeLocal is what an <input type=datetime-local> sends.
	datetimeLocal = "2006-01-02T15:04"
)

// viewerZone is the time zone a form named, or UTC when it named none or an unknown one.
func viewerZone(name string) *time.Location {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// snoozeUntil turns the snooze form into a wake-up time: a preset, or the date and time
// typed (in the viewer's zone). Later today is three hours from now on the hour; tomorrow
// morning is 9:00 tomorrow; next week is 9:00 next Monday.
func snoozeUntil(preset, typed string, loc *time.Location, now time.Time) (time.Time, error) {
	local := now.In(loc)
	nine := func(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, loc) }
	switch preset {
	case presetLaterToday:
		return local.Add(3 * time.Hour).Truncate(time.Hour).Add(time.Hour).UTC(), nil
	case presetTomorrowMorning:
		return nine(local.AddDate(0, 0, 1)).UTC(), nil
	case presetNextWeek:
		days := (8 - int(local.Weekday())) % 7
		if days == 0 {
			days = 7
		}
		return nine(local.AddDate(0, 0, days)).UTC(), nil
	case "", "custom":
		typed = strings.TrimSpace(typed)
		if typed == "" {
			return time.Time{}, app.BadRequest("until: pick a preset or type a date and time")
		}
		t, err := time.ParseInLocation(datetimeLocal, typed, loc)
		if err != nil {
			return time.Time{}, app.BadRequest("until: want a date and time such as 2026-11-30T09:00")
		}
		return t.UTC(), nil
	}
	return time.Time{}, app.BadRequest("preset: unknown snooze preset %q", preset)
}

// endOfToday is the start of tomorrow in loc: what "wakes today" filters before.
func endOfToday(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc).UTC()
}
