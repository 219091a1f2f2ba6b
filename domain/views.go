package domain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of saved views (the teamwork issue).
const (
	// MaxViewNameLen bounds a view's name, in characters after trimming.
	MaxViewNameLen = 60
	// MaxPersonalViews is how many personal views one member may have in a workspace.
	MaxPersonalViews = 50
	// MaxSharedViews is how many views one workspace may share.
	MaxSharedViews = 50
)

// ParseViewName trims a view's name and checks its length: 1 to MaxViewNameLen characters.
func ParseViewName(s string) (string, error) {
	name := strings.TrimSpace(s)
	if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("not valid text (control characters are not allowed)")
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxViewNameLen {
		return "", fmt.Errorf("want 1 to %d characters, not %d", MaxViewNameLen, n)
	}
	return name, nil
}
