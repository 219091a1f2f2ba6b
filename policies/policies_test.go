package policies

import (
	"testing"

	"github.com/bestai/inbox/domain"
)

// TestTableOfApiMd walks the "who may do what" table of api.md, cell by cell.
func TestTableOfApiMd(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	yes := func(roles ...domain.Role) map[domain.Role]bool {
		m := map[domain.Role]bool{}
		for _, r := range roles {
			m[r] = true
		}
		return m
	}
	all := yes(domain.Owner, domain.Admin, domain.Support, domain.Viewer)
	table := map[Permission]map[domain.Role]bool{
		ReadConversations:   all,
		ReadLeads:           all,
		MarkRead:            all,
		ExportLeads:         all,
		ReadMembers:         all,
		ManageOwnTokens:     all,
		ChangeConversations: yes(domain.Owner, domain.Admin, domain.Support),
		ChangeLeads:         yes(domain.Owner, domain.Admin, domain.Support),
		ReadAudit:           yes(domain.Owner, domain.Admin),
		ManageMembers:       yes(domain.Owner, domain.Admin),
		ManageOwners:        yes(domain.Owner),
		ManageSettings:      yes(domain.Owner),
		ManageWebhooks:      yes(domain.Owner, domain.Admin),
	}
	for perm, allowed := range table {
		for _, role := range domain.Roles {
			if got := a.Allowed(role, "0b9c6a52-9d41-4bb5-a7f4-0e3e6b1c2d11", perm); got != allowed[role] {
				t.Errorf("%s %s/%s: got %v want %v", role, perm.Object, perm.Action, got, allowed[role])
			}
		}
	}
	if a.Allowed("intruder", "w", ReadConversations) {
		t.Error("an unknown role was allowed")
	}
}
