package domain

import (
	"strings"
	"testing"
	"time"
)

func mustHours(t *testing.T, zone string, weekly map[string][]string, holidays ...string) BusinessHours {
	t.Helper()
	b, err := ParseBusinessHours(zone, weekly, holidays)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func at(t *testing.T, zone, wall string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", wall, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var weekdays9to18 = map[string][]string{
	"mon": {"09:00-18:00"}, "tue": {"09:00-18:00"}, "wed": {"09:00-18:00"}, "thu": {"09:00-18:00"}, "fri": {"09:00-18:00"},
}

func allDay() map[string][]string {
	w := map[string][]string{}
	for _, d := range weekdayNames {
		w[d] = []string{"00:00-24:00"}
	}
	return w
}

func TestBusinessTimeAdd(t *testing.T) {
	berlin := "Europe/Berlin"
	office := mustHours(t, berlin, weekdays9to18, "2026-12-25")
	split := mustHours(t, berlin, map[string][]string{"mon": {"13:00-17:00", "09:00-12:00"}})
	nz := "Pacific/Auckland"
	ny := "America/New_York"
	cases := []struct {
		name  string
		hours BusinessHours
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"within a day", office, at(t, berlin, "2026-12-07 10:00"), 2 * time.Hour, at(t, berlin, "2026-12-07 12:00")},
		{"Friday 17:55 plus one hour is Monday 09:55", office, at(t, berlin, "2026-12-04 17:55"), time.Hour, at(t, berlin, "2026-12-07 09:55")},
		{"before opening starts at opening", office, at(t, berlin, "2026-12-07 06:00"), 30 * time.Minute, at(t, berlin, "2026-12-07 09:30")},
		{"on a Saturday starts on Monday", office, at(t, berlin, "2026-12-05 11:00"), time.Hour, at(t, berlin, "2026-12-07 10:00")},
		{"a holiday is skipped", office, at(t, berlin, "2026-12-24 17:00"), 2 * time.Hour, at(t, berlin, "2026-12-28 10:00")},
		{"exactly to a closing time is that closing time", office, at(t, berlin, "2026-12-07 17:00"), time.Hour, at(t, berlin, "2026-12-07 18:00")},
		{"exactly a whole day", office, at(t, berlin, "2026-12-07 09:00"), 9 * time.Hour, at(t, berlin, "2026-12-07 18:00")},
		{"several ranges a day", split, at(t, berlin, "2026-12-07 10:00"), 4 * time.Hour, at(t, berlin, "2026-12-07 15:00")},
		{"several ranges, ending on the first one's close", split, at(t, berlin, "2026-12-07 10:00"), 2 * time.Hour, at(t, berlin, "2026-12-07 12:00")},
		{"several ranges, into next week", split, at(t, berlin, "2026-12-07 16:00"), 2 * time.Hour, at(t, berlin, "2026-12-14 10:00")},
		// Auckland's clocks go back an hour at 03:00 on 5 April 2026: that Sunday has 25 hours.
		{"Auckland, the day the clocks go back", mustHours(t, nz, allDay()), at(t, nz, "2026-04-05 00:00"), 25 * time.Hour, at(t, nz, "2026-04-06 00:00")},
		// And forward at 02:00 on 27 September 2026: 23 hours.
		{"Auckland, the day the clocks go forward", mustHours(t, nz, allDay()), at(t, nz, "2026-09-27 00:00"), 23 * time.Hour, at(t, nz, "2026-09-28 00:00")},
		{"Auckland office hours across the change", mustHours(t, nz, weekdays9to18), at(t, nz, "2026-04-03 17:00"), 2 * time.Hour, at(t, nz, "2026-04-06 10:00")},
		// New York springs forward at 02:00 on 8 March 2026 and falls back at 02:00 on 1 November.
		{"New York, a night range over the jump", mustHours(t, ny, map[string][]string{"sun": {"01:00-05:00"}}), at(t, ny, "2026-03-08 01:00"), 3 * time.Hour, at(t, ny, "2026-03-08 05:00")},
		{"New York, a night range over the repeat", mustHours(t, ny, map[string][]string{"sun": {"01:00-05:00"}}), at(t, ny, "2026-11-01 01:00"), 5 * time.Hour, at(t, ny, "2026-11-01 05:00")},
		{"New York office hours, Friday to Monday over the change", mustHours(t, ny, weekdays9to18), at(t, ny, "2026-03-06 17:30"), time.Hour, at(t, ny, "2026-03-09 09:30")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.hours.Add(tc.start, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("Add(%s, %s) = %s, want %s", tc.start, tc.d, got.In(tc.want.Location()), tc.want)
			}
			if back := tc.hours.Between(tc.start, got); back != tc.d {
				t.Errorf("Between(start, due) = %s, want %s", back, tc.d)
			}
		})
	}
}

func TestBusinessTimeBetween(t *testing.T) {
	berlin := "Europe/Berlin"
	office := mustHours(t, berlin, weekdays9to18)
	if got := office.Between(at(t, berlin, "2026-12-04 17:00"), at(t, berlin, "2026-12-07 10:00")); got != 2*time.Hour {
		t.Errorf("Friday 17:00 to Monday 10:00 = %s, want 2h", got)
	}
	if got := office.Between(at(t, berlin, "2026-12-05 10:00"), at(t, berlin, "2026-12-05 12:00")); got != 0 {
		t.Errorf("inside a weekend = %s, want 0", got)
	}
	if got := office.Between(at(t, berlin, "2026-12-07 12:00"), at(t, berlin, "2026-12-07 10:00")); got != 0 {
		t.Errorf("backwards = %s, want 0", got)
	}
}

func TestNeverOpen(t *testing.T) {
	closed := mustHours(t, "UTC", nil)
	if _, err := closed.Add(time.Now(), time.Minute); err != ErrNeverOpen {
		t.Errorf("a calendar with no hours: %v", err)
	}
}

func TestParseBusinessHoursRefuses(t *testing.T) {
	for _, tc := range []struct {
		zone     string
		weekly   map[string][]string
		holidays []string
		field    string
	}{
		{"", nil, nil, "time_zone"},
		{"Local", nil, nil, "time_zone"},
		{"Mars/Olympus", nil, nil, "time_zone"},
		{"UTC", map[string][]string{"funday": {"09:00-17:00"}}, nil, "weekly"},
		{"UTC", map[string][]string{"mon": {"17:00-09:00"}}, nil, "weekly.mon"},
		{"UTC", map[string][]string{"mon": {"09:00-09:00"}}, nil, "weekly.mon"},
		{"UTC", map[string][]string{"mon": {"09:00-24:30"}}, nil, "weekly.mon"},
		{"UTC", map[string][]string{"tue": {"9:00-17:00"}}, nil, "weekly.tue"},
		{"UTC", map[string][]string{"wed": {"09:00-13:00", "12:00-17:00"}}, nil, "weekly.wed"},
		{"UTC", nil, []string{"25/12/2026"}, "holidays"},
	} {
		_, err := ParseBusinessHours(tc.zone, tc.weekly, tc.holidays)
		if err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
			t.Errorf("ParseBusinessHours(%q, %v, %v) = %v, want an error naming %s", tc.zone, tc.weekly, tc.holidays, err, tc.field)
		}
	}
	if _, err := ParseBusinessHours("UTC", map[string][]string{"MON": {"00:00-24:00"}}, nil); err != nil {
		t.Errorf("a whole day: %v", err)
	}
}
