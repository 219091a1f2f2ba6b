package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/workflows"
)

// Limits of a member's fields.
const (
	MaxNameLen  = 200
	MaxEmailLen = 254
)

var errOwnersOnly = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only an owner may manage owners"}

// ListMembers is a page of the workspace's members, by when they joined.
func (s *Service) ListMembers(ctx context.Context, c *Caller, q Query) (store.MemberPage, error) {
	if err := s.Authorize(c, domain.ReadMembers); err != nil {
		return store.MemberPage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return store.MemberPage{}, err
	}
	return s.Store.ListMembers(ctx, c.WorkspaceID, limit, cursor)
}

// Assignable lists the members a conversation may be given to (every role but viewer), for
// the Assignee dropdown; at most MaxLimit of them.
func (s *Service) Assignable(ctx context.Context, c *Caller) ([]store.Member, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return nil, err
	}
	page, err := s.Store.ListMembers(ctx, c.WorkspaceID, MaxLimit, "")
	if err != nil {
		return nil, err
	}
	out := page.Items[:0:0]
	for _, m := range page.Items {
		if m.Role.Assignable() {
			out = append(out, m)
		}
	}
	return out, nil
}

// mayGive is the one rule of which roles a member manager may give or take away: any but
// owner, which only owners manage. The operations (mayManage) and the Team page's choices
// (AssignableRoles) both ask it.
func (s *Service) mayGive(c *Caller, role domain.Role) bool {
	return role != domain.Owner || s.Can(c, domain.ManageOwners)
}

// mayManage checks that the caller may give or take away role: only owners manage owners.
func (s *Service) mayManage(c *Caller, role domain.Role) error {
	if !s.mayGive(c, role) {
		return errOwnersOnly
	}
	return nil
}

// AssignableRoles lists the roles the caller may give a member, most powerful first, for
// the Team page's role choices; none for a caller who may not manage members.
func (s *Service) AssignableRoles(c *Caller) []domain.Role {
	if !s.Can(c, domain.ManageMembers) {
		return nil
	}
	var out []domain.Role
	for _, r := range domain.Roles {
		if s.mayGive(c, r) {
			out = append(out, r)
		}
	}
	return out
}

// NewMember is who to add to a workspace.
type NewMember struct {
	Email string
	Name  string
	Role  domain.Role
}

// AddedMember is the new member. A newcomer comes with the secrets shown once: an API token
// for this workspace, and the invite link on which they set a password for the web admin.
// A person who already has an account gets neither (HasAccount): they sign in as they do.
type AddedMember struct {
	Member     *store.Member
	HasAccount bool
	APIToken   string
	InviteURL  string
	// InviteExpiresAt is when the invite link stops working; zero without a link.
	InviteExpiresAt time.Time
}

// AddMember adds a person to the workspace; only owners add owners.
func (s *Service) AddMember(ctx context.Context, c *Caller, in NewMember) (*AddedMember, error) {
	if err := s.Authorize(c, domain.ManageMembers); err != nil {
		return nil, err
	}
	email := strings.TrimSpace(in.Email)
	if err := CheckText("email", email, MaxEmailLen, true); err != nil {
		return nil, err
	}
	if err := CheckText("name", in.Name, MaxNameLen, false); err != nil {
		return nil, err
	}
	if err := s.mayManage(c, in.Role); err != nil {
		return nil, err
	}
	m, token, err := s.Store.AddMember(ctx, c.WorkspaceID, email, in.Name, in.Role)
	switch {
	case errors.Is(err, store.ErrAlreadyMember):
		return nil, Conflict("that user is already a member of this workspace")
	case errors.Is(err, store.ErrNotAnEmail):
		return nil, BadRequest("email: not an email address")
	case err != nil:
		return nil, err
	}
	added := &AddedMember{Member: m, APIToken: token, HasAccount: token == ""}
	if !added.HasAccount && s.Accounts != nil {
		// The member is added and their API token is shown only now: a failed invite must
		// not hide it. Without a link the answer says so (an empty invite_url).
		invite, expires, err := s.Accounts.CreateInvite(ctx, c.WorkspaceID, m.UserID)
		if err != nil {
			s.Logger.Error("create the invite of a new member", "user", m.UserID, "error", err)
		} else {
			added.InviteURL, added.InviteExpiresAt = accounts.InviteURL(s.PublicURL, invite), expires
		}
	}
	return added, nil
}

// Invite is a one-time link on which a member sets a password (again): for a link that was
// lost or expired, or a forgotten password.
type Invite struct {
	URL       string
	ExpiresAt time.Time
}

// errNoInvites: this process was built without the accounts that make invite links.
var errNoInvites = Unavailable("invite links cannot be made by this server", 60)

// errHasAccount refuses a password link for a member who has a password or another
// workspace: their password is theirs alone to change.
var errHasAccount = &Error{Status: http.StatusUnprocessableEntity, Code: "has_account",
	Message: "this member already has an account: they sign in with their own password and change it themselves; a workspace cannot reset it"}

// NewInvite makes a new invite link for a member who has not set a password yet (a lost or
// expired link), replacing their unused ones; only owners do it for owners, as for any
// change to an owner. A member with an account of their own is errHasAccount.
func (s *Service) NewInvite(ctx context.Context, c *Caller, userID uuid.UUID) (*Invite, error) {
	if err := s.Authorize(c, domain.ManageMembers); err != nil {
		return nil, err
	}
	m, err := s.Store.MemberOf(ctx, c.WorkspaceID, userID)
	if err != nil {
		return nil, err
	}
	if err := s.mayManage(c, m.Role); err != nil {
		return nil, err
	}
	if s.Accounts == nil {
		return nil, errNoInvites
	}
	token, expires, err := s.Accounts.CreateInvite(ctx, c.WorkspaceID, m.UserID)
	if errors.Is(err, store.ErrHasAccount) {
		return nil, errHasAccount
	}
	if err != nil {
		return nil, err
	}
	return &Invite{URL: accounts.InviteURL(s.PublicURL, token), ExpiresAt: expires}, nil
}

// memberError maps the store's refusals of a role change or removal.
func memberError(err error) error {
	if errors.Is(err, store.ErrLastOwner) {
		return Conflict("a workspace needs at least one owner; make someone else owner first")
	}
	return err
}

// ChangeRole decides inside one transaction, with the workspace's members locked, so two
// owners demoting each other at once cannot both succeed.
func (s *Service) ChangeRole(ctx context.Context, c *Caller, userID uuid.UUID, role domain.Role) (*store.Member, error) {
	if err := s.Authorize(c, domain.ManageMembers); err != nil {
		return nil, err
	}
	m, err := s.Store.ChangeRole(ctx, c.WorkspaceID, userID, role, func(current domain.Role) error {
		if err := s.mayManage(c, current); err != nil {
			return err
		}
		return s.mayManage(c, role)
	})
	return m, memberError(err)
}

// RemoveMember deletes the membership, then unassigns the member's conversations through
// their workflows, audited as the caller's changes. A retried removal finishes the
// unassigning a failed one left behind, and is then ErrNotFound.
func (s *Service) RemoveMember(ctx context.Context, c *Caller, userID uuid.UUID) error {
	if err := s.Authorize(c, domain.ManageMembers); err != nil {
		return err
	}
	removal, err := s.Store.RemoveMember(ctx, c.WorkspaceID, userID, c.Actor(),
		func(current domain.Role) error { return s.mayManage(c, current) })
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Already removed: finish unassigning, if anything is left, under that removal's
		// Update ids, and say so.
		removal, err := s.Store.LastRemoval(ctx, c.WorkspaceID, userID)
		if errors.Is(err, store.ErrNotFound) {
			removal, err = uuid.New(), nil // no record of a removal: nothing to repeat
		}
		if err == nil {
			err = s.unassignAll(ctx, c, userID, removal)
		}
		if err != nil {
			return err
		}
		return ErrNotFound
	case err != nil:
		return memberError(err)
	}
	return s.unassignAll(ctx, c, userID, removal)
}

// unassignAll unassigns userID's conversations. The Update ids are per removal: a retry of
// the same removal is deduplicated, while a later removal of the same user (re-added and
// assigned meanwhile) is a new change, not the replayed outcome of the first one.
func (s *Service) unassignAll(ctx context.Context, c *Caller, userID, removal uuid.UUID) error {
	done, late := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	req := workflows.AssignRequest{Actor: c.Actor()}
	for {
		ids, err := s.Store.AssignedConversations(ctx, c.WorkspaceID, userID, 100)
		if err != nil || len(ids) == 0 {
			return err
		}
		progress := false
		for _, id := range ids {
			if done[id] {
				continue // the workflow and the read model disagree; do not loop on it
			}
			done[id], progress = true, true
			updateID := "remove-member/" + removal.String() + "/" + id.String()
			err := s.send(ctx, c.WorkspaceID, id, updateID, workflows.AssignUpdate(req))
			switch {
			case errors.Is(err, ErrAccepted):
				late[id] = true // in the workflow's history; the read model catches up
			case err != nil:
				return err
			}
		}
		if !progress {
			for _, id := range ids {
				if !late[id] {
					return fmt.Errorf("conversations %v are still assigned to a removed member", ids)
				}
			}
			return nil
		}
	}
}
