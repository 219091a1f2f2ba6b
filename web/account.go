package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// SectionAccount is the signed-in person's own page in a workspace: their API tokens there
// and their password.
const SectionAccount = "account"

// accountData is the Data of the account page.
type accountData struct {
	Workspace string
	Email     string
	Tokens    []app.Token
	// MoreURL is the next page of tokens; FirstURL the first, when on a later one.
	MoreURL, FirstURL string
	// Made is a token just made, with its secret, shown this once.
	Made       *app.NewToken
	TokenName  string
	TokenError string
	// PasswordError is the refusal of a change of password, in words.
	PasswordError string
	Notice        string
	MinPassword   int
	MaxPassword   int
}

// TokensPath is where the token forms post.
func (d accountData) TokensPath() string {
	return WorkspacePath(d.Workspace, SectionAccount) + "/tokens"
}

// PasswordPath is where the password form posts.
func (d accountData) PasswordPath() string {
	return WorkspacePath(d.Workspace, SectionAccount) + "/password"
}

var accountNotices = map[string]string{
	"revoked":  "Token revoked. It stopped working at once.",
	"password": "Password changed. Your other browsers are signed out.",
}

// accountPage loads the person's tokens in this workspace into d and renders the page.
func (s *Site) accountPage(c *gin.Context, status int, d accountData) {
	caller := callerOf(c)
	ws := caller.WorkspaceID.String()
	SetTitle(c, "Your account")
	SetSection(c, SectionAccount)
	d.Workspace, d.Email = ws, caller.Email
	d.MinPassword, d.MaxPassword = app.MinPasswordLength, app.MaxPasswordLength
	cursor := c.Query("cursor")
	page, err := s.App.ListTokens(c.Request.Context(), caller, pageQuery(cursor))
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Tokens = page.Items
	path := WorkspacePath(ws, SectionAccount)
	if page.NextCursor != "" {
		d.MoreURL = withQuery(path, map[string][]string{"cursor": {page.NextCursor}})
	}
	if cursor != "" {
		d.FirstURL = path
	}
	if d.Made != nil {
		c.Header("Cache-Control", "no-store") // the secret is shown once
	}
	s.web.Render.Page(c, status, "account", d)
}

// account is the person's own page.
func (s *Site) account(c *gin.Context) {
	s.accountPage(c, http.StatusOK, accountData{Notice: accountNotices[c.Query("done")]})
}

// createToken makes an API token for this workspace and shows its secret once.
func (s *Site) createToken(c *gin.Context) {
	name := c.PostForm("name")
	made, err := s.App.CreateToken(c.Request.Context(), callerOf(c), name)
	if err != nil {
		status, text, shown := refusal(err)
		if !shown {
			s.fail(c, err)
			return
		}
		s.accountPage(c, status, accountData{TokenName: name, TokenError: text})
		return
	}
	s.accountPage(c, http.StatusOK, accountData{Made: made})
}

// revokeToken ends one of the person's tokens at once.
func (s *Site) revokeToken(c *gin.Context) {
	id, err := uuid.Parse(c.Param("token_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	if err := s.App.RevokeToken(c.Request.Context(), callerOf(c), id); err != nil {
		s.fail(c, err)
		return
	}
	SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionAccount)+"?done=revoked")
}

// changePassword replaces the person's password after checking the current one, as a
// sign-in does; this browser stays signed in, every other one is signed out.
func (s *Site) changePassword(c *gin.Context) {
	current, password, confirm := c.PostForm("current"), c.PostForm("password"), c.PostForm("confirm")
	refuse := func(status int, text string) {
		s.accountPage(c, status, accountData{PasswordError: text})
	}
	switch {
	case len(current) > maxPasswordField || len(password) > maxPasswordField:
		refuse(http.StatusBadRequest, app.ErrPasswordTooLong.Error()+".")
		return
	case password != confirm:
		refuse(http.StatusBadRequest, "The two new passwords differ; type the same password twice.")
		return
	}
	ip := domain.ClientIP(c.Request.RemoteAddr, c.Request.Header.Values("X-Forwarded-For"), s.TrustedProxies)
	token, err := s.App.ChangePassword(c.Request.Context(), callerOf(c), current, password, ip.String())
	switch {
	case errors.Is(err, app.ErrPasswordTooShort), errors.Is(err, app.ErrPasswordTooLong):
		refuse(http.StatusBadRequest, err.Error()+".")
		return
	case errors.Is(err, app.ErrBadCredentials):
		refuse(http.StatusUnauthorized, "That is not your current password.")
		return
	case errors.Is(err, app.ErrThrottled):
		wait := app.RetryAfter(err)
		c.Header("Retry-After", strconv.Itoa(int(wait/time.Second)))
		refuse(http.StatusTooManyRequests, "Too many wrong passwords. Try again in "+roundWait(wait)+".")
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.setSessionCookie(c, token)
	SeeOther(c, WorkspacePath(callerOf(c).WorkspaceID.String(), SectionAccount)+"?done=password")
}
