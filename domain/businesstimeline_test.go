package domain

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestTimelineAgreesWithBetween: the prepared timeline gives Between's answer for random
// pairs across weekends, holidays and a daylight-saving change, also for pairs that reach
// outside its span, and for instants on an opening's edges.
func TestTimelineAgreesWithBetween(t *testing.T) {
	b, err := ParseBusinessHours("America/New_York", map[string][]string{
		"mon": {"09:00-12:00", "13:00-17:30"}, "tue": {"09:00-17:00"}, "wed": {"00:00-24:00"},
		"thu": {"09:00-17:00"}, "fri": {"09:00-16:00"}, "sat": {"10:00-12:00"},
	}, []string{"2026-11-26"})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC) // before the clocks change on Nov 1
	to := from.AddDate(0, 0, 60)
	tl := b.Timeline(from, to)
	r := rand.New(rand.NewPCG(1, 2))
	span := to.Sub(from)
	check := func(a, z time.Time) {
		t.Helper()
		if got, want := tl.Between(a, z), b.Between(a, z); got != want {
			t.Fatalf("Between(%s, %s) = %s, want %s", a, z, got, want)
		}
	}
	for range 5000 {
		a := from.Add(time.Duration(r.Int64N(int64(span))))
		z := a.Add(time.Duration(r.Int64N(int64(10 * 24 * time.Hour))))
		check(a, z)
		check(z, a) // not after: zero
	}
	// Before and beyond the span.
	check(from.Add(-48*time.Hour), from.Add(5*time.Hour))
	check(to.Add(-5*time.Hour), to.Add(72*time.Hour))
	// On the edges of an opening: Monday 2026-11-02 09:00 and 12:00 in New York.
	open := time.Date(2026, 11, 2, 9, 0, 0, 0, b.Location)
	check(open, open.Add(3*time.Hour))
	check(open.Add(3*time.Hour), open.Add(4*time.Hour)) // the lunch gap: zero
	if got := tl.Between(open.Add(3*time.Hour), open.Add(4*time.Hour)); got != 0 {
		t.Errorf("lunch counted: %s", got)
	}
	if got := tl.Between(open, open.AddDate(0, 0, 1)); got != 7*time.Hour+30*time.Minute {
		t.Errorf("Monday 09:00 to Tuesday 09:00: %s, want 7h30m (3h, lunch, 4h30m)", got)
	}

	// A span longer than the calendar walk's horizon (5 years): pairs beyond it are still right.
	long := b.Timeline(from, from.AddDate(7, 0, 0))
	a := from.AddDate(6, 2, 3).Add(10 * time.Hour)
	if got, want := long.Between(a, a.Add(50*time.Hour)), b.Between(a, a.Add(50*time.Hour)); got != want || got == 0 {
		t.Errorf("beyond the horizon: %s, want %s", got, want)
	}
}
