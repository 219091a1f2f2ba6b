package domain

import (
	"testing"
	"time"
)

// ParseSLADuration reads days, hours and minutes within 1 minute to 30 days, and nothing
// else; FormatSLADuration writes the shortest form back.
func TestParseSLADuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT1M": time.Minute, "PT30M": 30 * time.Minute, "PT1H": time.Hour, "pt1h30m": 90 * time.Minute,
		"PT90M": 90 * time.Minute, "P1D": 24 * time.Hour, "P1DT4H": 28 * time.Hour, "P30D": 30 * 24 * time.Hour,
	} {
		got, err := ParseSLADuration(in)
		if err != nil || got != want {
			t.Errorf("ParseSLADuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "P", "PT", "1H", "PT0M", "PT30S", "P1W", "P1M", "P1Y", "P31D", "P30DT1M",
		"PT1H1H", "PT1M1H", "P1H", "PT1D", "PTT1H", "P-1D", "PT1.5H", "PT1000000H"} {
		if d, err := ParseSLADuration(in); err == nil {
			t.Errorf("ParseSLADuration(%q) = %v, want an error", in, d)
		}
	}
	for d, want := range map[time.Duration]string{
		time.Minute: "PT1M", 90 * time.Minute: "PT1H30M", 24 * time.Hour: "P1D", 28 * time.Hour: "P1DT4H",
	} {
		if got := FormatSLADuration(d); got != want {
			t.Errorf("FormatSLADuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseSLADuration(want); err != nil || back != d {
			t.Errorf("round trip of %q: %v %v", want, back, err)
		}
	}
}
