package domain

import (
	"slices"
	"time"
)

// BusinessTimeline answers Between for many pairs of instants quickly: the calendar's
// openings over a span are laid out once, with the business time before each, so a pair
// costs two binary searches instead of a walk over the calendar. A report measures hundreds
// of thousands of waits; Between alone would walk the same days for each.
type BusinessTimeline struct {
	b          BusinessHours
	from, to   time.Time
	opens      []time.Time
	closes     []time.Time
	cumulative []time.Duration // business time from the span's start to opens[i]
}

// Timeline prepares the openings between from and to. Instants outside that span are
// still answered, by Between.
func (b BusinessHours) Timeline(from, to time.Time) *BusinessTimeline {
	t := &BusinessTimeline{b: b, from: from, to: to}
	var total time.Duration
	covered := false
	b.openings(from, func(open, close time.Time) bool {
		if !open.Before(to) {
			covered = true
			return false
		}
		t.opens = append(t.opens, open)
		t.closes = append(t.closes, close)
		t.cumulative = append(t.cumulative, total)
		total += close.Sub(open)
		return true
	})
	if !covered {
		// The walk stopped at its horizon before to: past the last opening laid out, ask
		// Between.
		t.to = from
		if n := len(t.closes); n > 0 {
			t.to = t.closes[n-1]
		}
	}
	return t
}

// at is the business time from the first prepared opening to x.
func (t *BusinessTimeline) at(x time.Time) time.Duration {
	// The last opening that starts at or before x.
	i, found := slices.BinarySearchFunc(t.opens, x, func(o, x time.Time) int { return o.Compare(x) })
	if !found {
		i--
	}
	if i < 0 {
		return 0
	}
	if x.After(t.closes[i]) {
		return t.cumulative[i] + t.closes[i].Sub(t.opens[i])
	}
	return t.cumulative[i] + x.Sub(t.opens[i])
}

// Between is BusinessHours.Between(from, to).
func (t *BusinessTimeline) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if from.Before(t.from) || to.After(t.to) {
		return t.b.Between(from, to)
	}
	return t.at(to) - t.at(from)
}
