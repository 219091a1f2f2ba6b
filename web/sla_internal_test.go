package web

import (
	"testing"
	"time"
)

// The badge's words: minutes under an hour, hours under two days, then days.
func TestSLAShortSince(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second:                "1 min",
		25 * time.Minute:                "25 min",
		59*time.Minute + 50*time.Second: "1 h",
		2*time.Hour + 10*time.Minute:    "2 h",
		47 * time.Hour:                  "47 h",
		72 * time.Hour:                  "3 d",
	} {
		if got := shortSince(d); got != want {
			t.Errorf("shortSince(%v) = %q, want %q", d, got, want)
		}
	}
}
