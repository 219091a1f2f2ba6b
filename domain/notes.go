package domain

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxNoteLen bounds an internal note's text, in characters (the teamwork issue).
const MaxNoteLen = 10_000

// Audit actions of internal notes, recorded on the conversation.
const (
	AuditNoteAdded   AuditAction = "note_added"
	AuditNoteDeleted AuditAction = "note_deleted"
)

// ParseNoteText checks a note's text: 1 to MaxNoteLen characters once trimmed, valid
// UTF-8 without NUL. Line breaks and tabs are kept; other control characters are refused.
func ParseNoteText(s string) (string, error) {
	text := strings.TrimSpace(s)
	if !utf8.ValidString(text) || strings.IndexFunc(text, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}) >= 0 {
		return "", fmt.Errorf("not valid text (control characters are not allowed)")
	}
	if n := utf8.RuneCountInString(text); n < 1 || n > MaxNoteLen {
		return "", fmt.Errorf("want 1 to %d characters, not %d", MaxNoteLen, n)
	}
	return text, nil
}

// Mentionable is a member as a note's @mentions may name them: by name or by email.
type Mentionable struct {
	UserID uuid.UUID
	Name   string
	Email  string
}

// FindMentions is the members text mentions, in the order first mentioned, each once. A
// mention is "@" followed by a member's email or name, compared ignoring case, at the
// start of the text or after a character that is not a letter or digit (so an email in
// the text, "ann@example.com", mentions nobody), and ending where a letter or digit does
// not follow. Where two members match at one "@" the longer handle wins ("@Ann Lee" over
// "@Ann"). Only the people passed in can resolve: the caller passes the workspace's
// members, so a non-member's address is just text.
func FindMentions(text string, people []Mentionable) []Mentionable {
	type handle struct {
		lower string
		who   int
	}
	var handles []handle
	for i, p := range people {
		for _, h := range []string{p.Email, strings.TrimSpace(p.Name)} {
			if h != "" {
				handles = append(handles, handle{strings.ToLower(h), i})
			}
		}
	}
	// Longest first, so the first match at a position is the longest.
	sort.SliceStable(handles, func(a, b int) bool { return len(handles[a].lower) > len(handles[b].lower) })
	lower := strings.ToLower(text)
	var out []Mentionable
	seen := map[int]bool{}
	for at := 0; at < len(lower); {
		i := strings.IndexByte(lower[at:], '@')
		if i < 0 {
			break
		}
		i += at
		at = i + 1
		if i > 0 {
			prev, _ := utf8.DecodeLastRuneInString(lower[:i])
			if unicode.IsLetter(prev) || unicode.IsDigit(prev) {
				continue
			}
		}
		rest := lower[i+1:]
		for _, h := range handles {
			if !strings.HasPrefix(rest, h.lower) {
				continue
			}
			if next, _ := utf8.DecodeRuneInString(rest[len(h.lower):]); next != utf8.RuneError &&
				(unicode.IsLetter(next) || unicode.IsDigit(next)) {
				continue
			}
			if !seen[h.who] {
				seen[h.who] = true
				out = append(out, people[h.who])
			}
			at = i + 1 + len(h.lower)
			break
		}
	}
	return out
}

// NotificationKind is what a notification tells a person.
type NotificationKind string

// The kinds of notifications (the teamwork issue). SLABreached is written with an SLA breach.
const (
	NotifyAssigned       NotificationKind = "assigned"        // a conversation was assigned to you
	NotifyMentioned      NotificationKind = "mentioned"       // you were mentioned in a note
	NotifyVisitorMessage NotificationKind = "visitor_message" // a conversation assigned to you got a visitor message
	NotifySummaryFailed  NotificationKind = "summary_failed"  // the summary failed on a conversation assigned to you
	NotifySLABreached    NotificationKind = "sla_breached"    // a conversation assigned to you missed its SLA
)

// NotificationKinds lists every kind, in the order the API documents them.
var NotificationKinds = []NotificationKind{NotifyAssigned, NotifyMentioned, NotifyVisitorMessage, NotifySummaryFailed, NotifySLABreached}

// Alerts says whether the kind may raise a browser notification (the person opts in):
// only what asks for them personally, an assignment or a mention.
func (k NotificationKind) Alerts() bool { return k == NotifyAssigned || k == NotifyMentioned }

// NotificationText words a notification: actor is who caused it ("" for the system or
// someone no longer known), conversation the visitor's name or "" when unknown.
func NotificationText(k NotificationKind, actor, conversation string) string {
	if actor == "" {
		actor = "Someone"
	}
	about := "a conversation"
	if conversation != "" {
		about = "the conversation with " + conversation
	}
	switch k {
	case NotifyAssigned:
		return actor + " assigned you " + about
	case NotifyMentioned:
		return actor + " mentioned you in a note on " + about
	case NotifyVisitorMessage:
		return "New visitor message in " + about + " assigned to you"
	case NotifySummaryFailed:
		return "The summary failed on " + about + " assigned to you"
	case NotifySLABreached:
		return "The SLA was missed on " + about + " assigned to you"
	}
	return string(k) + " on " + about
}
