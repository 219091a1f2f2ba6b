package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// teamData is the Data of the Team page.
type teamData struct {
	Workspace string
	Me        uuid.UUID
	Members   []app.Member
	// MoreURL is the next page of members; FirstURL the first, when on a later one.
	MoreURL, FirstURL string
	// CanManage shows the invite form and the role and remove controls; Roles are the
	// roles the caller may give (owner only for owners).
	CanManage bool
	Roles     []domain.Role
	// Invite is the invite form as sent, with its refusal in words.
	Invite      inviteForm
	InviteError string
	// Added is the member just invited, with the link shown this once.
	Added *app.AddedMember
	// Reinvited is a new invite link for an existing member (ReinvitedUser), shown once.
	Reinvited     *app.Invite
	ReinvitedUser uuid.UUID
	// Refused names the member whose change was refused, and why.
	RefusedUser uuid.UUID
	RefusedText string
	// Confirm is the member about to be removed, on the confirm step.
	Confirm *app.Member
	Notice  string
}

type inviteForm struct {
	Email, Name string
	Role        domain.Role
}

// MemberPath is the path of a member's controls.
func (d teamData) MemberPath(userID uuid.UUID) string {
	return WorkspacePath(d.Workspace, SectionTeam) + "/" + userID.String()
}

// ExpiresIn says how long the invite link of Added works.
func (d teamData) ExpiresIn() string {
	if d.Added == nil || d.Added.InviteExpiresAt.IsZero() {
		return ""
	}
	return humanSince(-time.Until(d.Added.InviteExpiresAt).Round(time.Hour))
}

// Notices of the Team page after a change (?done=...).
var teamNotices = map[string]string{
	"role":    "Role changed. It applies from their next request.",
	"removed": "Member removed. Their conversations are no longer assigned to them.",
}

// teamPage loads the member list and the controls the caller may use.
func (s *Site) teamPage(c *gin.Context) (teamData, error) {
	caller := callerOf(c)
	ws := caller.WorkspaceID.String()
	SetTitle(c, "Team")
	SetSection(c, SectionTeam)
	d := teamData{Workspace: ws, Me: caller.UserID, CanManage: s.App.Can(caller, domain.ManageMembers),
		Roles:  s.App.AssignableRoles(caller),
		Invite: inviteForm{Role: domain.Support}, Notice: teamNotices[c.Query("done")]}
	cursor := c.Query("cursor")
	page, err := s.App.ListMembers(c.Request.Context(), caller, pageQuery(cursor))
	if err != nil {
		return d, err
	}
	d.Members = page.Items
	path := WorkspacePath(ws, SectionTeam)
	if page.NextCursor != "" {
		d.MoreURL = withQuery(path, map[string][]string{"cursor": {page.NextCursor}})
	}
	if cursor != "" {
		d.FirstURL = path
	}
	return d, nil
}

// team is the Team page.
func (s *Site) team(c *gin.Context) {
	d, err := s.teamPage(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.web.Render.Page(c, http.StatusOK, "team", d)
}

// refusal is the words of an operation's refusal that the page shows next to its control,
// with its status; ok is false for anything else (a 404, an outage), which is a whole page.
func refusal(err error) (status int, text string, ok bool) {
	e, _ := app.Classify(err)
	switch e.Status {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusConflict, http.StatusUnprocessableEntity:
		text := e.Message
		if errors.Is(err, app.ErrForbidden) {
			text = "Your role in this workspace may not manage members."
		}
		return e.Status, capitalise(text), true
	}
	return 0, "", false
}

// capitalise makes the application's lower-case message a sentence.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// invite adds a member and shows the invite link on the answer, the only time it is shown.
func (s *Site) invite(c *gin.Context) {
	form := inviteForm{Email: c.PostForm("email"), Name: c.PostForm("name")}
	role, roleErr := domain.ParseRole(c.PostForm("role"))
	form.Role = role
	var added *app.AddedMember
	err := roleErr
	if err == nil {
		added, err = s.App.AddMember(c.Request.Context(), callerOf(c), app.NewMember{Email: form.Email, Name: form.Name, Role: role})
	} else {
		err = app.BadRequest("role: %v", err)
	}
	status, text, shown := http.StatusOK, "", true
	if err != nil {
		if status, text, shown = refusal(err); !shown {
			s.fail(c, err)
			return
		}
	}
	d, lerr := s.teamPage(c)
	if lerr != nil {
		s.fail(c, lerr)
		return
	}
	c.Header("Cache-Control", "no-store") // the link is a secret
	if err != nil {
		d.Invite, d.InviteError = form, text
	} else {
		d.Added = added
	}
	s.web.Render.Page(c, status, "team", d)
}

// memberAction runs a change of one member's role or membership; a refusal shows next to
// the member's row, success goes back to the Team page with a notice.
func (s *Site) memberAction(c *gin.Context, done string, act func(userID uuid.UUID) error) {
	userID, err := uuid.Parse(c.Param("user_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	if err := act(userID); err != nil {
		s.refuseOnTeam(c, userID, err)
		return
	}
	SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionTeam)+"?done="+done)
}

// refuseOnTeam shows the refusal of a change to a member next to the member's row, in
// words; anything else (a 404, an outage) is a whole page.
func (s *Site) refuseOnTeam(c *gin.Context, userID uuid.UUID, err error) {
	status, text, shown := refusal(err)
	if !shown {
		s.fail(c, err)
		return
	}
	d, lerr := s.teamPage(c)
	if lerr != nil {
		s.fail(c, lerr)
		return
	}
	d.RefusedUser, d.RefusedText = userID, text
	s.web.Render.Page(c, status, "team", d)
}

// changeRole changes a member's role, under the API's owner rules.
func (s *Site) changeRole(c *gin.Context) {
	s.memberAction(c, "role", func(userID uuid.UUID) error {
		role, err := domain.ParseRole(c.PostForm("role"))
		if err != nil {
			return app.BadRequest("role: %v", err)
		}
		_, err = s.App.ChangeRole(c.Request.Context(), callerOf(c), userID, role)
		return err
	})
}

// newInvite makes a new invite link for a member (lost or expired link, forgotten
// password) and shows it on the answer, the only time it is shown.
func (s *Site) newInvite(c *gin.Context) {
	userID, err := uuid.Parse(c.Param("user_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	inv, err := s.App.NewInvite(c.Request.Context(), callerOf(c), userID)
	if err != nil {
		s.refuseOnTeam(c, userID, err)
		return
	}
	d, err := s.teamPage(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store") // the link is a secret
	d.Reinvited, d.ReinvitedUser = inv, userID
	s.web.Render.Page(c, http.StatusOK, "team", d)
}

// removeMember removes a member, after the confirm step.
func (s *Site) removeMember(c *gin.Context) {
	s.memberAction(c, "removed", func(userID uuid.UUID) error {
		return s.App.RemoveMember(c.Request.Context(), callerOf(c), userID)
	})
}

// confirmRemove is the confirm step before a removal: who, and what it does.
func (s *Site) confirmRemove(c *gin.Context) {
	userID, err := uuid.Parse(c.Param("user_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	caller := callerOf(c)
	d, err := s.teamPage(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	// The member may be on any page of the list: look through them all.
	q, cursor := app.QueryOf(map[string][]string{"limit": {"200"}}), ""
	for d.Confirm == nil {
		page, err := s.App.ListMembers(c.Request.Context(), caller, q)
		if err != nil {
			s.fail(c, err)
			return
		}
		for i := range page.Items {
			if page.Items[i].UserID == userID {
				d.Confirm = &page.Items[i]
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
		q = app.QueryOf(map[string][]string{"limit": {"200"}, "cursor": {cursor}})
	}
	if d.Confirm == nil {
		s.web.Render.NotFound(c)
		return
	}
	SetTitle(c, "Remove "+displayName(d.Confirm.Name, d.Confirm.Email))
	s.web.Render.Page(c, http.StatusOK, "team", d)
}
