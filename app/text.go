package app

import (
	"strings"
	"unicode/utf8"
)

// CheckText rejects invalid UTF-8, NUL bytes (Postgres cannot store them) and overlong values.
func CheckText(field, v string, maxRunes int, required bool) error {
	switch {
	case required && v == "":
		return BadRequest("%s: required", field)
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		return BadRequest("%s: not valid UTF-8 text", field)
	case utf8.RuneCountInString(v) > maxRunes:
		return BadRequest("%s: longer than %d characters", field, maxRunes)
	}
	return nil
}
