package api

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzDecodeIngest: whatever the body, the decoder never panics and every failure is a
// client error (400 or 413), never a server fault.
func FuzzDecodeIngest(f *testing.F) {
	f.Add([]byte(`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"hi"}}`))
	f.Add([]byte(`{"conversation_ref":"r","channel":"phone","visitor":{"name":"A","email":"a@b.c","phone":"+64"},"message":{"id":"m","role":"assistant","text":"x","sent_at":"2026-11-24T09:00:00Z"},"source":{"page_url":"u","referrer":"r","user_agent":"ua"}}`))
	f.Add([]byte(`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"\u0000"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"conversation_ref":1}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte(`{"conversation_ref":"r","channel":"chat","channel":"phone","message":{"role":"visitor","text":"hi"}}`))
	f.Add([]byte(`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"hi","Text":"x"}}`))
	f.Add([]byte(`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"a\ud800b"}}`))
	f.Add([]byte(`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"\ud83d\ude00"}}`))
	f.Add([]byte("{\"conversation_ref\":\"r\",\"channel\":\"chat\",\"message\":{\"role\":\"visitor\",\"text\":\"a\xc3\"}}"))
	f.Add([]byte(`"\ud8`))
	f.Add([]byte(strings.Repeat("[", 100)))
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := decodeIngest(body, now)
		if err != nil {
			var apiErr *Error
			if !errors.As(err, &apiErr) || (apiErr.Status != http.StatusBadRequest && apiErr.Status != http.StatusRequestEntityTooLarge) {
				t.Fatalf("error is not a client error: %#v", err)
			}
			return
		}
		if msg.Ref == "" || msg.Text == "" || msg.Channel == "" || msg.Role == "" {
			t.Fatalf("accepted without a required field: %+v", msg)
		}
		if strings.ContainsRune(msg.Text, 0) || len([]rune(msg.Text)) > maxMessageText {
			t.Fatalf("accepted text Postgres cannot store or that is too long")
		}
		// Invalid UTF-8 is refused, not repaired: U+FFFD comes out only if it went in.
		if strings.ContainsRune(msg.Text+msg.Ref, utf8.RuneError) &&
			!bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) && !bytes.Contains(body, []byte("\uFFFD")) {
			t.Fatalf("invalid UTF-8 was stored as U+FFFD: %q", body)
		}
	})
}

func TestDecodeIngestRejectsBadInput(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	ok := `{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"hi"}}`
	cases := map[string]struct {
		body   string
		status int
		field  string
	}{
		"unknown field":   {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"hi"},"extra":1}`, 400, "extra"},
		"no ref":          {`{"channel":"chat","message":{"role":"visitor","text":"hi"}}`, 400, "conversation_ref"},
		"bad channel":     {`{"conversation_ref":"r","channel":"email","message":{"role":"visitor","text":"hi"}}`, 400, "channel"},
		"no message":      {`{"conversation_ref":"r","channel":"chat"}`, 400, "message"},
		"bad role":        {`{"conversation_ref":"r","channel":"chat","message":{"role":"system","text":"hi"}}`, 400, "message.role"},
		"blank text":      {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"  "}}`, 400, "message.text"},
		"huge text":       {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"` + strings.Repeat("a", maxMessageText+1) + `"}}`, 400, "message.text"},
		"whole body huge": {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"` + strings.Repeat("a", 1<<20) + `"}}`, 413, ""},
		"bad time":        {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"hi","sent_at":"yesterday"}}`, 400, "RFC 3339"},
		"future time":     {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"hi","sent_at":"2030-01-01T00:00:00Z"}}`, 400, "sent_at"},
		"bad email":       {`{"conversation_ref":"r","channel":"chat","visitor":{"email":"nope"},"message":{"role":"visitor","text":"hi"}}`, 400, "visitor.email"},
		"two values":      {ok + ok, 400, "more than one"},
		"not json":        {`hello`, 400, "malformed"},
		"duplicate key":   {`{"conversation_ref":"r","channel":"chat","channel":"phone","message":{"role":"visitor","text":"hi"}}`, 400, `duplicate key "channel"`},
		"nested dup key":  {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"hi","text":"bye"}}`, 400, `duplicate key "message.text"`},
		"dup key by case": {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"hi","Text":"bye"}}`, 400, `duplicate key "message.Text"`},
		"dup key escaped": {`{"conversation_ref":"r","channel":"chat","\u0063hannel":"phone","message":{"role":"visitor","text":"hi"}}`, 400, `duplicate key "channel"`},
		"raw bad UTF-8":   {"{\"conversation_ref\":\"r\",\"channel\":\"chat\",\"message\":{\"role\":\"visitor\",\"text\":\"caf\xe9\"}}", 400, "UTF-8"},
		"lone high":       {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"a\ud800b"}}`, 400, "UTF-8"},
		"lone low":        {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"\uDC00"}}`, 400, "UTF-8"},
		"reversed pair":   {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"\udc00\ud800"}}`, 400, "UTF-8"},
		"high then text":  {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"\ud83d\u0041"}}`, 400, "UTF-8"},
		"deep nesting":    {`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"hi"},"x":` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + `}`, 400, "nested"},
	}
	for name, tc := range cases {
		_, err := decodeIngest([]byte(tc.body), now)
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.Status != tc.status || !strings.Contains(apiErr.Message, tc.field) {
			t.Errorf("%s: got %v, want %d naming %q", name, err, tc.status, tc.field)
		}
	}
	msg, err := decodeIngest([]byte(ok), now)
	if err != nil || msg.SentAt != now {
		t.Errorf("valid body: %+v %v", msg, err)
	}
	// A proper surrogate pair, an escaped backslash before a "u" and U+FFFD itself are text.
	for body, want := range map[string]string{
		`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"\ud83d\ude00"}}`: "\U0001F600",
		`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"C:\\ud800"}}`:    `C:\ud800`,
		`{"conversation_ref":"r","channel":"chat","message":{"role":"visitor","text":"\ufffd�"}}`:      "\uFFFD\uFFFD",
	} {
		if msg, err := decodeIngest([]byte(body), now); err != nil || msg.Text != want {
			t.Errorf("%s: got %q, %v; want %q", body, msg.Text, err, want)
		}
	}
}

func TestConversationLimiterSaysHowLongToWait(t *testing.T) {
	l := newLRULimiter(1, 2, 10)
	for i := range 2 {
		if ok, _ := l.allow("k"); !ok {
			t.Fatalf("request %d within the burst was refused", i)
		}
	}
	ok, wait := l.allow("k")
	if ok || wait < 1 {
		t.Fatalf("third request: ok=%v wait=%d", ok, wait)
	}
	if ok, _ := l.allow("other"); !ok {
		t.Fatal("another key shares the bucket")
	}
}
