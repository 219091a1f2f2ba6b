package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

func (s *server) listMembers(c *gin.Context) {
	page, err := s.App.ListMembers(c.Request.Context(), caller(c), app.QueryOf(c.Request.URL.Query()))
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]memberItem, len(page.Items))
	for i := range page.Items {
		items[i] = toMember(&page.Items[i])
	}
	writePage(c, items, page.NextCursor)
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
	added, err := s.App.AddMember(c.Request.Context(), caller(c), app.NewMember{Email: body.Email, Name: body.Name, Role: role})
	if err != nil {
		respond(c, err)
		return
	}
	answer := addedMember{Member: toMember(added.Member), HasAccount: added.HasAccount}
	if !added.HasAccount {
		answer.APIToken, answer.InviteURL = &added.APIToken, &added.InviteURL
		c.Header("Cache-Control", "no-store")
	}
	c.JSON(http.StatusCreated, answer)
}

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
	m, err := s.App.ChangeRole(c.Request.Context(), caller(c), userID, role)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toMember(m))
}

func (s *server) removeMember(c *gin.Context) {
	userID, err := pathID(c, "user_id")
	if err != nil {
		respond(c, err)
		return
	}
	if err := s.App.RemoveMember(c.Request.Context(), caller(c), userID); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// newInvite answers a new one-time invite link for a member (a lost or expired link, a
// forgotten password).
func (s *server) newInvite(c *gin.Context) {
	userID, err := pathID(c, "user_id")
	if err != nil {
		respond(c, err)
		return
	}
	inv, err := s.App.NewInvite(c.Request.Context(), caller(c), userID)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusCreated, inviteAnswer{InviteURL: inv.URL, ExpiresAt: inv.ExpiresAt.UTC()})
}
