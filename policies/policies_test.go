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
	table := map[domain.Permission]map[domain.Role]bool{
		domain.ReadConversations:   all,
		domain.ReadLeads:           all,
		domain.MarkRead:            all,
		domain.ExportLeads:         all,
		domain.ReadMembers:         all,
		domain.ManageOwnTokens:     all,
		domain.ReadReports:         all,
		domain.ChangeConversations: yes(domain.Owner, domain.Admin, domain.Support),
		domain.ChangeLeads:         yes(domain.Owner, domain.Admin, domain.Support),
		domain.ReadAudit:           yes(domain.Owner, domain.Admin),
		domain.ManageMembers:       yes(domain.Owner, domain.Admin),
		domain.ManageOwners:        yes(domain.Owner),
		domain.ManageSettings:      yes(domain.Owner),
		domain.ManageWebhooks:      yes(domain.Owner, domain.Admin),
		domain.ManageAutoArchive:   yes(domain.Owner, domain.Admin),
		domain.ManageBusinessHours: yes(domain.Owner, domain.Admin),
		domain.ManageLabels:        yes(domain.Owner, domain.Admin),
		domain.ManageOwnViews:      all,
		domain.ManageSharedViews:   yes(domain.Owner, domain.Admin),
	}
	for perm, allowed := range table {
		for _, role := range domain.Roles {
			if got := a.Allowed(role, "0b9c6a52-9d41-4bb5-a7f4-0e3e6b1c2d11", perm); got != allowed[role] {
				t.Errorf("%s %s/%s: got %v want %v", role, perm.Object, perm.Action, got, allowed[role])
			}
		}
	}
	if a.Allowed("intruder", "w", domain.ReadConversations) {
		t.Error("an unknown role was allowed")
	}
}
