package domain

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LabelColor is a label's colour: a name from a fixed palette, so the pages decide how each
// looks (and keep it readable) and no member can inject CSS.
type LabelColor string

// LabelColors is the palette, in the order a picker offers it (api.md).
var LabelColors = []LabelColor{"gray", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"}

// DefaultLabelColor is the colour of a label made without one.
const DefaultLabelColor LabelColor = "gray"

// Limits of labels (the teamwork issue).
const (
	// MaxLabelNameLen bounds a label's name, in characters after trimming.
	MaxLabelNameLen = 40
	// MaxLabels is how many labels one workspace may have.
	MaxLabels = 100
	// MaxConversationLabels is how many labels one conversation may carry.
	MaxConversationLabels = 20
)

// ParseLabelColor accepts one of LabelColors; "" is DefaultLabelColor.
func ParseLabelColor(s string) (LabelColor, error) {
	if s == "" {
		return DefaultLabelColor, nil
	}
	if c := LabelColor(s); slices.Contains(LabelColors, c) {
		return c, nil
	}
	return "", fmt.Errorf("unknown colour %q (want one of %v)", Clip(s, 40), LabelColors)
}

// ParseLabelName trims a label's name and checks its length: 1 to MaxLabelNameLen characters.
func ParseLabelName(s string) (string, error) {
	name := strings.TrimSpace(s)
	if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("not valid text (control characters are not allowed)")
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxLabelNameLen {
		return "", fmt.Errorf("want 1 to %d characters, not %d", MaxLabelNameLen, n)
	}
	return name, nil
}

// AuditLabelsChanged records a change of a conversation's labels.
const AuditLabelsChanged AuditAction = "labels_changed"

// Workspace-level audit actions of labels.
const (
	AuditLabelCreated AuditAction = "label_created"
	AuditLabelUpdated AuditAction = "label_updated"
	AuditLabelDeleted AuditAction = "label_deleted"
)
