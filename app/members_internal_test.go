package app

import (
	"slices"
	"testing"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/policies"
)

// TestAssignableRoles pins who may hand out which role, and that the Team page's choices and
// the operations' check (mayManage) are the same rule.
func TestAssignableRoles(t *testing.T) {
	authz, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Authorizer: authz}
	want := map[domain.Role][]domain.Role{
		domain.Owner:   {domain.Owner, domain.Admin, domain.Support, domain.Viewer},
		domain.Admin:   {domain.Admin, domain.Support, domain.Viewer},
		domain.Support: nil,
		domain.Viewer:  nil,
	}
	for _, role := range domain.Roles {
		c := &Caller{Role: role}
		got := s.AssignableRoles(c)
		if !slices.Equal(got, want[role]) {
			t.Errorf("%s: AssignableRoles = %v, want %v", role, got, want[role])
		}
		if !s.Can(c, domain.ManageMembers) {
			continue // the operations refuse them before asking mayManage
		}
		for _, r := range domain.Roles {
			if ok := s.mayManage(c, r) == nil; ok != slices.Contains(got, r) {
				t.Errorf("%s giving %s: mayManage allows %v, AssignableRoles lists it %v", role, r, ok, !ok)
			}
		}
	}
}
