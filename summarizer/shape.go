package summarizer

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	reFence    = regexp.MustCompile("^\\s*(```|~~~)")
	reRule     = regexp.MustCompile(`^\s*([-*_])(\s*([-*_])){2,}\s*$`)
	reQuote    = regexp.MustCompile(`^\s*(>\s?)+`)
	reHeading  = regexp.MustCompile(`^\s{0,3}#{1,6}\s+(.*?)(\s+#+)?\s*$`)
	reSetext   = regexp.MustCompile(`^\s*(=+|-+)\s*$`)
	reListItem = regexp.MustCompile(`^\s*(?:[-*+•‣◦▪·]|\d{1,3}[.)]|[a-zA-Z]\))\s+`)
	reLabel    = regexp.MustCompile(`(?i)^(?:(?:here(?:'s| is)|below is)\s+(?:a|the|your)?\s*(?:short\s+|brief\s+|three-sentence\s+)?summary[^:.!?]{0,40}|summary)\s*:\s*`)

	reImage    = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	reLink     = regexp.MustCompile(`\[([^\]]+)\]\([^)]*\)`)
	reRefLink  = regexp.MustCompile(`\[([^\]]+)\]\[[^\]]*\]`)
	reAutoLink = regexp.MustCompile(`<((?:https?|mailto):[^>\s]+)>`)
	reCode     = regexp.MustCompile("`+([^`]*?)`+")
	reBold     = regexp.MustCompile(`\*\*(.+?)\*\*`)
	reBoldU    = regexp.MustCompile(`(^|[^\p{L}\p{N}_])__(.+?)__($|[^\p{L}\p{N}_])`)
	reStrike   = regexp.MustCompile(`~~(.+?)~~`)
	reEm       = regexp.MustCompile(`\*([^*\s](?:[^*]*[^*\s])?)\*`)
	reEmU      = regexp.MustCompile(`(^|[^\p{L}\p{N}_])_([^_\s](?:[^_]*[^_\s])?)_($|[^\p{L}\p{N}_])`)
)

// Shape enforces the form of a summary: it strips markdown (fenced-code
// markers, horizontal rules, block quotes, headings, bullets and list
// numbers, **bold**, __bold__, *em*, _em_, ~~strike~~, `code`, links and
// images -> their text), drops a leading "Summary:" label, collapses all
// whitespace to single spaces, trims, and keeps at most the first three
// sentences. It returns "" if nothing is left.
//
// Layout rules: a heading without final punctuation is a title and is
// dropped; a list item without final punctuation gets a period so items do
// not run together.
//
// Sentences end at '.', '!', '?' or '…' (possibly repeated, plus closing
// quotes/brackets) followed by a space and a word that does not start with a
// lower-case letter, or by the end of the text. So "etc. and", "hi... and",
// `"Why?" asked` do not end a sentence, nor do decimals ("3.5") or dotted
// names ("example.com"). A single period also does not end a sentence after
// "e.g.", "i.e.", "cf.", "viz.", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "St.",
// "vs.", a single-letter initial ("J. Smith"), or "No." before a digit.
// Known limitation: other abbreviations followed by a capitalised word
// ("Acme Inc. Support", "5 p.m. Monday") are taken as sentence ends. A
// trailing text without final punctuation counts as a sentence.
func Shape(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")

	lines := strings.Split(text, "\n")
	parts := make([]string, 0, len(lines))
	for _, line := range lines {
		if reFence.MatchString(line) || reRule.MatchString(line) || reSetext.MatchString(line) {
			continue
		}
		line = reQuote.ReplaceAllString(line, "")
		item := false
		if m := reHeading.FindStringSubmatch(line); m != nil {
			line = m[1]
			if !endsSentence(line) {
				continue // a title, not part of the summary
			}
		} else if loc := reListItem.FindStringIndex(line); loc != nil {
			line = line[loc[1]:]
			item = true
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if item && !endsSentence(line) {
			line += "."
		}
		parts = append(parts, line)
	}
	// A first line that only announces the summary ("Here is a summary:").
	if len(parts) > 1 && strings.HasSuffix(parts[0], ":") {
		parts = parts[1:]
	}
	s := strings.Join(parts, " ")

	s = reImage.ReplaceAllString(s, "$1")
	s = reLink.ReplaceAllString(s, "$1")
	s = reRefLink.ReplaceAllString(s, "$1")
	s = reAutoLink.ReplaceAllString(s, "$1")
	s = reCode.ReplaceAllString(s, "$1")
	s = reBold.ReplaceAllString(s, "$1")
	s = reStrike.ReplaceAllString(s, "$1")
	s = reEm.ReplaceAllString(s, "$1")
	// The '_' forms consume their boundary characters, so adjacent matches
	// ("_a_ _b_") need another pass.
	for range 3 {
		prev := s
		s = reBoldU.ReplaceAllString(s, "$1$2$3")
		s = reEmU.ReplaceAllString(s, "$1$2$3")
		if s == prev {
			break
		}
	}
	s = strings.NewReplacer("**", "", "__", "", "`", "").Replace(s)

	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimSpace(reLabel.ReplaceAllString(s, ""))
	return firstSentences(s, 3)
}

// endsSentence reports whether s ends with terminal punctuation, ignoring
// closing quotes, brackets and emphasis markers.
func endsSentence(s string) bool {
	s = strings.TrimRight(s, " \t*_`)]\"'”’»")
	r, _ := utf8.DecodeLastRuneInString(s)
	return r == '.' || r == '!' || r == '?' || r == '…'
}

var abbreviations = map[string]bool{
	"e.g": true, "i.e": true, "cf": true, "viz": true, "mr": true, "mrs": true,
	"ms": true, "dr": true, "prof": true, "st": true, "vs": true,
}

func isCloser(r rune) bool {
	switch r {
	case ')', ']', '"', '\'', '”', '’', '»':
		return true
	}
	return false
}

// firstSentences returns the first n sentences of s (whitespace already
// collapsed to single spaces).
func firstSentences(s string, n int) string {
	count := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != '.' && r != '!' && r != '?' && r != '…' {
			i += size
			continue
		}
		// Extend over repeated punctuation ("?!", "...") and closers.
		j := i + size
		single := r == '.'
		for j < len(s) {
			r2, sz := utf8.DecodeRuneInString(s[j:])
			if r2 == '.' || r2 == '!' || r2 == '?' || r2 == '…' {
				single = false
				j += sz
				continue
			}
			break
		}
		for j < len(s) {
			r2, sz := utf8.DecodeRuneInString(s[j:])
			if !isCloser(r2) {
				break
			}
			j += sz
		}
		if j < len(s) && s[j] != ' ' {
			i = j // "3.5", "example.com", "e.g.x"
			continue
		}
		if !isSentenceEnd(s[:i+size], s[min(j+1, len(s)):], single) {
			i = j
			continue
		}
		count++
		if count == n {
			return strings.TrimSpace(s[:j])
		}
		i = j
	}
	return s
}

// isSentenceEnd decides whether the punctuation ending before (the text up
// to and including the punctuation run) ends a sentence; after is the text
// following the punctuation and its space, single tells whether the run is a
// lone '.'.
func isSentenceEnd(before, after string, single bool) bool {
	if after == "" {
		return true // end of text
	}
	next, _ := utf8.DecodeRuneInString(after)
	if unicode.IsLower(next) {
		return false // "etc. and", "hi... and", "Why?" asked
	}
	if !single {
		return true
	}
	word := strings.TrimSuffix(before, ".")
	if k := strings.LastIndexByte(word, ' '); k >= 0 {
		word = word[k+1:]
	}
	word = strings.TrimLeft(word, "([\"'“‘«")
	switch {
	case word == "":
		return true
	case abbreviations[strings.ToLower(word)]:
		return false
	case utf8.RuneCountInString(word) == 1:
		r, _ := utf8.DecodeRuneInString(word)
		return !unicode.IsUpper(r) // initial: "J. Smith"
	case strings.EqualFold(word, "no"):
		return !unicode.IsDigit(next) // "No. 5"
	}
	return true
}
