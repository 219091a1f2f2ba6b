package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/policies"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/workflows"
)

func (s *server) listMembers(c *gin.Context) {
	limit, cursor, err := pageParams(c)
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.Store.ListMembers(c.Request.Context(), workspaceID(c), limit, cursor)
	if err != nil {
		respond(c, err)
		return
	}
	writePage(c, page.Items, page.NextCursor)
}

// mayManage checks that the caller may give or take away role: only owners manage owners.
func (s *server) mayManage(c *gin.Context, role domain.Role) error {
	if role == domain.Owner && !s.Authorizer.Allowed(caller(c).Role, workspaceID(c).String(), policies.ManageOwners) {
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only an owner may manage owners"}
	}
	return nil
}

func (s *server) addMember(c *gin.Context) {
	var body struct {
		Email string `json:"email"`
		Name  string `json:"name"`
		Role  string `json:"role"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	role, err := domain.ParseRole(body.Role)
	if err != nil {
		respond(c, badRequest("role: %v", err))
		return
	}
	if err := checkText("email", strings.TrimSpace(body.Email), maxEmailLen, true); err != nil {
		respond(c, err)
		return
	}
	if err := checkText("name", body.Name, maxNameLen, false); err != nil {
		respond(c, err)
		return
	}
	if err := s.mayManage(c, role); err != nil {
		respond(c, err)
		return
	}
	m, token, err := s.Store.AddMember(c.Request.Context(), workspaceID(c), body.Email, body.Name, role)
	switch {
	case errors.Is(err, store.ErrAlreadyMember):
		respond(c, conflict("that user is already a member of this workspace"))
		return
	case err != nil && strings.Contains(err.Error(), "not an email address"):
		respond(c, badRequest("email: not an email address"))
		return
	case err != nil:
		respond(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"member": m, "api_token": token})
}

// memberError maps the store's refusals of a role change or removal.
func memberError(err error) error {
	if errors.Is(err, store.ErrLastOwner) {
		return conflict("a workspace needs at least one owner; make someone else owner first")
	}
	return err
}

// changeMemberRole decides inside one transaction, with the workspace's members locked,
// so two owners demoting each other at once cannot both succeed.
func (s *server) changeMemberRole(c *gin.Context) {
	role, err := decodeChoice(c, "role", domain.ParseRole)
	if err != nil {
		respond(c, err)
		return
	}
	userID, err := pathID(c, "user_id")
	if err != nil {
		respond(c, err)
		return
	}
	m, err := s.Store.ChangeRole(c.Request.Context(), workspaceID(c), userID, role, func(current domain.Role) error {
		if err := s.mayManage(c, current); err != nil {
			return err
		}
		return s.mayManage(c, role)
	})
	if err != nil {
		respond(c, memberError(err))
		return
	}
	c.JSON(http.StatusOK, m)
}

// removeMember deletes the membership, then unassigns the member's conversations through
// their workflows, audited as the caller's changes. A retried DELETE finishes the unassigning
// a failed one left behind.
func (s *server) removeMember(c *gin.Context) {
	userID, err := pathID(c, "user_id")
	if err != nil {
		respond(c, err)
		return
	}
	removal, err := s.Store.RemoveMember(c.Request.Context(), workspaceID(c), userID, actor(c),
		func(current domain.Role) error { return s.mayManage(c, current) })
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Already removed: finish unassigning, if anything is left, under that removal's
		// Update ids, and say so.
		removal, err := s.Store.LastRemoval(c.Request.Context(), workspaceID(c), userID)
		if errors.Is(err, store.ErrNotFound) {
			removal, err = uuid.New(), nil // no record of a removal: nothing to repeat
		}
		if err == nil {
			err = s.unassignAll(c, userID, removal)
		}
		if err != nil {
			respond(c, err)
			return
		}
		respond(c, errNotFound)
		return
	case err != nil:
		respond(c, memberError(err))
		return
	}
	if err := s.unassignAll(c, userID, removal); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// unassignAll unassigns userID's conversations. The Update ids are per removal: a retry of
// the same removal is deduplicated, while a later removal of the same user (re-added and
// assigned meanwhile) is a new change, not the replayed outcome of the first one.
func (s *server) unassignAll(c *gin.Context, userID, removal uuid.UUID) error {
	done := map[uuid.UUID]bool{}
	for {
		ids, err := s.Store.AssignedConversations(c.Request.Context(), workspaceID(c), userID, 100)
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
			if _, err := s.update(c.Request.Context(), workspaceID(c), id, updateID, workflows.UpdateAssign, workflows.AssignRequest{Actor: actor(c)}); err != nil {
				return err
			}
		}
		if !progress {
			return fmt.Errorf("conversations %v are still assigned to a removed member", ids)
		}
	}
}
