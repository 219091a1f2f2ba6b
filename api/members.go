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

// target loads the member named in the path and checks the caller may manage them.
func (s *server) target(c *gin.Context) (*store.Member, error) {
	userID, err := pathID(c, "user_id")
	if err != nil {
		return nil, err
	}
	m, err := s.Store.MemberOf(c.Request.Context(), workspaceID(c), userID)
	if err != nil {
		return nil, err
	}
	return m, s.mayManage(c, m.Role)
}

// keepAnOwner refuses to leave a workspace without an owner.
func (s *server) keepAnOwner(c *gin.Context, m *store.Member) error {
	if m.Role != domain.Owner {
		return nil
	}
	n, err := s.Store.CountOwners(c.Request.Context(), workspaceID(c))
	if err != nil {
		return err
	}
	if n <= 1 {
		return conflict("a workspace needs at least one owner; make someone else owner first")
	}
	return nil
}

func (s *server) changeMemberRole(c *gin.Context) {
	role, err := decodeChoice(c, "role", domain.ParseRole)
	if err != nil {
		respond(c, err)
		return
	}
	m, err := s.target(c)
	if err != nil {
		respond(c, err)
		return
	}
	if err := s.mayManage(c, role); err != nil {
		respond(c, err)
		return
	}
	if role != domain.Owner {
		if err := s.keepAnOwner(c, m); err != nil {
			respond(c, err)
			return
		}
	}
	if err := s.Store.ChangeRole(c.Request.Context(), workspaceID(c), m.UserID, role); err != nil {
		respond(c, err)
		return
	}
	m.Role = role
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
	m, err := s.Store.MemberOf(c.Request.Context(), workspaceID(c), userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Already removed: finish unassigning, if anything is left, and say so.
		if err := s.unassignAll(c, userID); err != nil {
			respond(c, err)
			return
		}
		respond(c, errNotFound)
		return
	case err != nil:
		respond(c, err)
		return
	}
	if err := s.mayManage(c, m.Role); err != nil {
		respond(c, err)
		return
	}
	if err := s.keepAnOwner(c, m); err != nil {
		respond(c, err)
		return
	}
	if err := s.Store.RemoveMember(c.Request.Context(), workspaceID(c), userID); err != nil {
		respond(c, err)
		return
	}
	if err := s.Store.AuditWorkspace(c.Request.Context(), workspaceID(c), actor(c), domain.AuditMemberRemoved,
		map[string]any{"user_id": m.UserID, "name": m.Name, "role": m.Role}, map[string]any{}); err != nil {
		respond(c, err)
		return
	}
	if err := s.unassignAll(c, userID); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) unassignAll(c *gin.Context, userID uuid.UUID) error {
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
			// A retried removal reuses the same Update ids.
			updateID := "remove-member/" + userID.String() + "/" + id.String()
			if _, err := s.update(c.Request.Context(), workspaceID(c), id, updateID, workflows.UpdateAssign, workflows.AssignRequest{Actor: actor(c)}); err != nil {
				return err
			}
		}
		if !progress {
			return fmt.Errorf("conversations %v are still assigned to a removed member", ids)
		}
	}
}
