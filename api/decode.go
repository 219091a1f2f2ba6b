package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/domain"
)

// Every JSON request body goes through readJSON and decodeStrict: one set of input rules
// for ingest and admin calls alike.
const (
	maxAdminBody = 16 << 10 // admin bodies are a few short fields
	// maxNoteBody holds a note of domain.MaxNoteLen characters even written all as JSON
	// escapes (a character outside the BMP is 12 bytes as a \u surrogate pair).
	maxNoteBody  = 128 << 10
	maxJSONDepth = 32 // no body of api.md nests deeper than 3
)

var errUnsupportedMediaType = &Error{
	Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
	Message: "send the body as JSON with Content-Type: application/json",
}

// readJSON checks the Content-Type and reads a body of at most limit bytes. A text/plain or
// form body is refused rather than guessed at: browsers send those cross-site without a
// preflight.
func readJSON(c *gin.Context, limit int64) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, errUnsupportedMediaType
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, errUnsupportedMediaType
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errTooLarge
		}
		return nil, badRequest("body: could not be read")
	}
	return body, nil
}

// decodeBody reads and strictly decodes a small admin body into dst.
func decodeBody(c *gin.Context, dst any) error { return decodeBodyUpTo(c, dst, maxAdminBody) }

// decodeBodyUpTo is decodeBody for a body of at most limit bytes.
func decodeBodyUpTo(c *gin.Context, dst any, limit int64) error {
	body, err := readJSON(c, limit)
	if err != nil {
		return err
	}
	return decodeStrict(body, dst)
}

// decodeStrict decodes one JSON value into dst. Beyond encoding/json it refuses what that
// package would silently repair or resolve: invalid UTF-8 (raw, or as a lone surrogate
// escape, both of which it turns into U+FFFD), duplicate keys (where the last would win) and
// absurd nesting. Unknown fields and trailing data are refused too. Every error is a 400.
func decodeStrict(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return badRequest("body: not valid UTF-8")
	}
	if esc, ok := loneSurrogate(body); ok {
		return badRequest("body: not valid UTF-8 (the escape %s is half a surrogate pair)", esc)
	}
	if err := checkKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badRequest("body: %s", jsonProblem(err))
	}
	if dec.More() {
		return badRequest("body: more than one JSON value")
	}
	return nil
}

// loneSurrogate finds a \uD800-\uDFFF escape inside a string that is not a proper
// high-low pair. body is valid UTF-8 but may be malformed JSON; the decoder reports that.
func loneSurrogate(body []byte) (string, bool) {
	inString := false
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case !inString:
			inString = b == '"'
		case b == '"':
			inString = false
		case b == '\\' && i+1 < len(body):
			if body[i+1] != 'u' {
				i++ // skip the escaped character, which may be a quote
				continue
			}
			r, ok := hex4(body, i+2)
			if !ok {
				i++
				continue
			}
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return string(body[i : i+6]), true
			case r >= 0xD800 && r <= 0xDBFF:
				if i+7 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
					if lo, ok := hex4(body, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						i += 11
						continue
					}
				}
				return string(body[i : i+6]), true
			}
			i += 5
		}
	}
	return "", false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// checkKeys walks the first JSON value and refuses a key that appears twice in one object,
// at any depth, and nesting deeper than maxJSONDepth. Keys that differ only in case count as
// the same, because encoding/json matches field names without regard to case.
func checkKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := walkJSON(dec, "", 0); err != nil {
		var apiErr *Error
		switch {
		case errors.As(err, &apiErr):
			return apiErr
		case errors.Is(err, io.EOF) && len(bytes.TrimSpace(body)) > 0:
			// Token says EOF for a value cut short, where Decode would say unexpected EOF.
			return badRequest("body: malformed JSON (it ends too soon)")
		}
		return badRequest("body: %s", jsonProblem(err))
	}
	return nil
}

func walkJSON(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= maxJSONDepth {
		return badRequest("body: nested more than %d deep", maxJSONDepth)
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			name := key
			if path != "" {
				name = path + "." + key
			}
			f := foldKey(key)
			if seen[f] {
				return badRequest("body: duplicate key %q", domain.Clip(name, 100))
			}
			seen[f] = true
			if err := walkJSON(dec, name, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// foldKey maps every rune to the smallest of its case-folding orbit, so keys equal under
// Unicode case folding map to the same string.
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		low := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			low = min(low, f)
		}
		b.WriteRune(low)
	}
	return b.String()
}

// decodeChoice decodes a body of one required field, {"<field>": "<value>"}, and parses the
// value with parse (a domain parser such as domain.ParseState).
func decodeChoice[T any](c *gin.Context, field string, parse func(string) (T, error)) (T, error) {
	var zero T
	var body map[string]json.RawMessage
	if err := decodeBody(c, &body); err != nil {
		return zero, err
	}
	for k := range body {
		if k != field {
			return zero, badRequest("body: unknown field %q", domain.Clip(k, 100))
		}
	}
	var value *string
	if err := json.Unmarshal(body[field], &value); err != nil && body[field] != nil {
		return zero, badRequest("%s: want a string", field)
	}
	if value == nil {
		return zero, badRequest("%s: required", field)
	}
	v, err := parse(*value)
	if err != nil {
		return zero, badRequest("%s: %v", field, err)
	}
	return v, nil
}
