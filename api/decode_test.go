package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestDecodeStrictNamesTheProblem: every refusal is a short 400 that says what is wrong and
// where, whatever the destination type.
func TestDecodeStrictNamesTheProblem(t *testing.T) {
	long := strings.Repeat("k", 500)
	cases := []struct {
		body string
		dst  func() any
		want string
	}{
		{`{"a":{"b":1,"B":2}}`, anyValue, `duplicate key "a.B"`},
		{`[{"x":1},{"x":1,"x":2}]`, anyValue, `duplicate key "[1].x"`},
		{`{"` + long + `":1,"` + long + `":2}`, anyValue, `...`},
		{`{"state":"x"`, anyValue, "ends too soon"},
		{``, anyValue, "empty"},
		{`{"state":1}`, func() any { return new(map[string]*string) }, "wrong type"},
		{`[]`, func() any { return new(ingestRequest) }, "wrong type"},
		{`{"a":"\ud800"}`, anyValue, `\ud800`},
		{`{"a":"\uDFFF\uD800"}`, anyValue, `\uDFFF`},
		{"{\"a\":\"\xc0\xaf\"}", anyValue, "UTF-8"},
		{strings.Repeat("[", 33) + strings.Repeat("]", 33), anyValue, "nested more than 32"},
	}
	for _, tc := range cases {
		err := decodeStrict([]byte(tc.body), tc.dst())
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || !strings.Contains(apiErr.Message, tc.want) || len(apiErr.Message) > 200 {
			t.Errorf("%.60s: got %v, want a short 400 saying %q", tc.body, err, tc.want)
		}
	}
	if err := decodeStrict([]byte(strings.Repeat("[", 32)+strings.Repeat("]", 32)), anyValue()); err != nil {
		t.Errorf("32 deep: %v", err)
	}
}

func anyValue() any { return new(any) }
