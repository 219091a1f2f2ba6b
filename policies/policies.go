// Package policies decides what a role may do, from the Casbin model and policy embedded
// here. It holds no memberships: the caller passes the role read from Postgres, so a role
// change takes effect on the very next request on every replica.
package policies

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"
	"github.com/casbin/casbin/v2/util"

	"github.com/bestai/inbox/domain"
)

//go:embed model.conf
var modelText string

//go:embed policy.csv
var policyText string

// Authorizer answers "may this role do this in this workspace?".
type Authorizer struct{ enforcer *casbin.Enforcer }

// New loads the embedded model and policy.
func New() (*Authorizer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("casbin model: %w", err)
	}
	e, err := casbin.NewEnforcer(m, stringadapter.NewAdapter(stripComments(policyText)))
	if err != nil {
		return nil, fmt.Errorf("casbin policy: %w", err)
	}
	// Role inheritance rules use domain "*" to hold in every workspace.
	e.AddNamedDomainMatchingFunc("g", "keyMatch", util.KeyMatch)
	if err := e.LoadPolicy(); err != nil {
		return nil, fmt.Errorf("casbin policy: %w", err)
	}
	return &Authorizer{enforcer: e}, nil
}

// Allowed reports whether role may have perm in workspace. An error from the enforcer
// denies.
func (a *Authorizer) Allowed(role domain.Role, workspace string, perm domain.Permission) bool {
	ok, err := a.enforcer.Enforce(string(role), workspace, perm.Object, perm.Action)
	return err == nil && ok
}

// stripComments drops comment and blank lines, which the string adapter does not skip.
func stripComments(csv string) string {
	var b strings.Builder
	for _, line := range strings.Split(csv, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			b.WriteString(t)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
