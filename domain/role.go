package domain

import (
	"fmt"
	"slices"
)

// Role is what a member may do in one workspace.
type Role string

const (
	Owner   Role = "owner"
	Admin   Role = "admin"
	Support Role = "support"
	Viewer  Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{Owner, Admin, Support, Viewer}

// ParseRole accepts exactly one role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("unknown role %q (want one of owner, admin, support, viewer)", s)
	}
	return r, nil
}

// Assignable reports whether a member with this role can be a conversation's assignee.
// Viewers cannot.
func (r Role) Assignable() bool { return r == Owner || r == Admin || r == Support }
