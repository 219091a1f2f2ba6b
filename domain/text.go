package domain

import "unicode/utf8"

// Clip shortens s to at most n bytes plus "...", cutting on a character boundary so the
// result stays valid UTF-8 (Postgres text refuses anything else). It is for echoing
// untrusted input in an error message, or storing an error text, at a bounded length.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
