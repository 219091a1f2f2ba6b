package app

import "testing"

// TestNeutralise pins the CSV formula rule: a cell starting with = + - @ tab CR LF (or their
// full-width forms) gets a leading quote; the phone column keeps "+digits . ( ) - space" as is.
func TestNeutralise(t *testing.T) {
	cells := map[string]string{
		"":                           "",
		"Ana":                        "Ana",
		"a=1":                        "a=1",
		" =1":                        " =1",
		"=HYPERLINK(\"x\",\"y\")":    "'=HYPERLINK(\"x\",\"y\")",
		"+1":                         "'+1",
		"-1+2":                       "'-1+2",
		"@SUM(A1)":                   "'@SUM(A1)",
		"\tx":                        "'\tx",
		"\rx":                        "'\rx",
		"\nx":                        "'\nx",
		"＝1+1":                       "'＝1+1",
		"＠x":                         "'＠x",
		"'already quoted":            "'already quoted",
		"https://shop.example/?a=-1": "https://shop.example/?a=-1",
	}
	for in, want := range cells {
		if got := neutralise(in); got != want {
			t.Errorf("neutralise(%q) = %q, want %q", in, got, want)
		}
	}
	phones := map[string]string{
		"+64211234567":      "+64211234567",
		"+64 (21) 123-4567": "+64 (21) 123-4567",
		"+64.21.123.4567":   "+64.21.123.4567",
		"+123456":           "+123456",   // '+' and six more: phone-shaped
		"+12345":            "'+12345",   // too short
		"+6421 =1":          "'+6421 =1", // a formula character
		"+64A211234567":     "'+64A211234567",
		"+64211234567\n=1":  "'+64211234567\n=1",
		"-64211234567":      "'-64211234567",
		"=64211234567":      "'=64211234567",
		" +64211234567":     " +64211234567", // not a trigger at all
		"021 123 4567":      "021 123 4567",
		"":                  "",
	}
	for in, want := range phones {
		if got := neutralisePhone(in); got != want {
			t.Errorf("neutralisePhone(%q) = %q, want %q", in, got, want)
		}
	}
}
