package domain

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestFindMentions(t *testing.T) {
	ann := Mentionable{UserID: uuid.New(), Name: "Ann", Email: "ann@x.example"}
	annLee := Mentionable{UserID: uuid.New(), Name: "Ann Lee", Email: "lee@x.example"}
	bo := Mentionable{UserID: uuid.New(), Name: "", Email: "bo@x.example"}
	people := []Mentionable{ann, annLee, bo}
	names := func(ms []Mentionable) string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Email)
		}
		return strings.Join(out, ",")
	}
	for text, want := range map[string]string{
		"@Ann Lee please":                   "lee@x.example",
		"@ann, and @ANN LEE.":               "ann@x.example,lee@x.example",
		"@Annabel is nobody":                "",
		"mail ops@bo@x.example":             "",
		"(@bo@x.example) and @bo@x.example": "bo@x.example",
		"@bo@x.examples":                    "",
		"@stranger@else.example @":          "",
		"café@ann":                          "",
		"first @lee@x.example then @ann":    "lee@x.example,ann@x.example",
	} {
		if got := names(FindMentions(text, people)); got != want {
			t.Errorf("FindMentions(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestParseNoteText(t *testing.T) {
	if got, err := ParseNoteText("  line one\n\tline two  "); err != nil || got != "line one\n\tline two" {
		t.Errorf("got %q, %v", got, err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("é", MaxNoteLen+1), "bell\x07", "\xff"} {
		if _, err := ParseNoteText(bad); err == nil {
			t.Errorf("ParseNoteText(%q) accepted", Clip(bad, 20))
		}
	}
	if _, err := ParseNoteText(strings.Repeat("é", MaxNoteLen)); err != nil {
		t.Errorf("a note of exactly %d characters: %v", MaxNoteLen, err)
	}
}
