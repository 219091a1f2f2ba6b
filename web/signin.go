package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// Limits of the sign-in forms' fields, so a hostile post costs nothing to refuse.
const (
	maxEmailField    = app.MaxEmailLen
	maxPasswordField = 1024
)

type signInData struct {
	Email string
	Next  string
	Error string
}

// home sends a signed-in person to their first workspace's inbox, and anyone else to the
// sign-in page.
func (s *Site) home(c *gin.Context) {
	if _, ok := sessionOf(c); !ok {
		SeeOther(c, SignInPath)
		return
	}
	list, err := s.workspaces(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(list) == 0 {
		SetTitle(c, "No workspace yet")
		s.web.Render.Page(c, http.StatusOK, "home", nil)
		return
	}
	SeeOther(c, WorkspacePath(list[0].ID.String(), SectionInbox))
}

func (s *Site) signInPage(c *gin.Context) {
	next := SafeNext(c.Query("next"))
	if _, ok := sessionOf(c); ok {
		SeeOther(c, next)
		return
	}
	SetTitle(c, "Sign in")
	s.web.Render.Page(c, http.StatusOK, "signin", signInData{Next: next})
}

// signIn checks the email and password. A wrong password and an unknown email get the same
// words; too many failures for the email or the client's address get a 429 that says when
// to try again, without the password being checked.
func (s *Site) signIn(c *gin.Context) {
	email := strings.TrimSpace(c.PostForm("email"))
	password := c.PostForm("password")
	d := signInData{Email: email, Next: SafeNext(c.PostForm("next"))}
	if len(email) > maxEmailField || len(password) > maxPasswordField {
		d.Email, d.Error = "", "That email or password is too long."
		s.renderSignIn(c, http.StatusBadRequest, d)
		return
	}
	if email == "" || password == "" {
		d.Error = "Enter your email and your password."
		s.renderSignIn(c, http.StatusBadRequest, d)
		return
	}
	ip := domain.ClientIP(c.Request.RemoteAddr, c.Request.Header.Values("X-Forwarded-For"), s.TrustedProxies)
	token, err := s.App.SignIn(c.Request.Context(), email, password, ip.String())
	switch {
	case errors.Is(err, app.ErrBadCredentials):
		d.Error = "Wrong email or password."
		s.renderSignIn(c, http.StatusUnauthorized, d)
		return
	case errors.Is(err, app.ErrThrottled):
		wait := app.RetryAfter(err)
		c.Header("Retry-After", strconv.Itoa(int(wait/time.Second)))
		d.Error = "Too many failed sign-ins. Try again in " + roundWait(wait) + "."
		s.renderSignIn(c, http.StatusTooManyRequests, d)
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.setSessionCookie(c, token)
	SeeOther(c, d.Next)
}

func (s *Site) renderSignIn(c *gin.Context, status int, d signInData) {
	SetTitle(c, "Sign in")
	s.web.Render.Page(c, status, "signin", d)
}

// roundWait words a wait for a person: seconds under two minutes, else minutes.
func roundWait(d time.Duration) string {
	if d < 2*time.Minute {
		return plural(int((d+time.Second-1)/time.Second), "second")
	}
	return plural(int((d+time.Minute-1)/time.Minute), "minute")
}

// signOut ends the session on the server, so a copied cookie stops working too.
func (s *Site) signOut(c *gin.Context) {
	if token, err := c.Cookie(SessionCookie); err == nil && token != "" {
		if err := s.App.SignOut(c.Request.Context(), token); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.clearSessionCookie(c)
	SeeOther(c, SignInPath)
}

type inviteData struct {
	Token string
	Email string
	Name  string
	Error string
	// Invalid is set when the link is unknown, used or expired: the page says so and
	// offers no form.
	Invalid  bool
	Min, Max int
}

func (s *Site) invitePage(c *gin.Context) {
	if d, ok := s.invitee(c); ok {
		s.renderInvite(c, http.StatusOK, d)
	}
}

// invitee reads the invite of the link, rendering the "does not work" page when it is
// unknown, used or expired; ok is false when it has answered.
func (s *Site) invitee(c *gin.Context) (d inviteData, ok bool) {
	d = inviteData{Token: c.Param("token"), Min: app.MinPasswordLength, Max: app.MaxPasswordLength}
	who, err := s.App.InviteInfo(c.Request.Context(), d.Token)
	switch {
	case errors.Is(err, app.ErrInviteInvalid):
		d.Invalid = true
		s.renderInvite(c, http.StatusNotFound, d)
		return d, false
	case err != nil:
		s.fail(c, err)
		return d, false
	}
	d.Email, d.Name = who.Email, who.Name
	return d, true
}

// acceptInvite sets the password the invitee chose and signs them in. The link works once.
func (s *Site) acceptInvite(c *gin.Context) {
	d, ok := s.invitee(c)
	if !ok {
		return
	}
	password, confirm := c.PostForm("password"), c.PostForm("confirm")
	if len(password) > maxPasswordField {
		d.Error = app.ErrPasswordTooLong.Error() + "."
		s.renderInvite(c, http.StatusBadRequest, d)
		return
	}
	if password != confirm {
		d.Error = "The two passwords differ; type the same password twice."
		s.renderInvite(c, http.StatusBadRequest, d)
		return
	}
	session, err := s.App.AcceptInvite(c.Request.Context(), d.Token, password)
	switch {
	case errors.Is(err, app.ErrPasswordTooShort), errors.Is(err, app.ErrPasswordTooLong):
		d.Error = err.Error() + "."
		s.renderInvite(c, http.StatusBadRequest, d)
		return
	case errors.Is(err, app.ErrInviteInvalid):
		d.Invalid = true
		s.renderInvite(c, http.StatusNotFound, d)
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.setSessionCookie(c, session)
	SeeOther(c, "/")
}

func (s *Site) renderInvite(c *gin.Context, status int, d inviteData) {
	SetTitle(c, "Set your password")
	s.web.Render.Page(c, status, "invite", d)
}

func (s *Site) setSessionCookie(c *gin.Context, token string) {
	lifetime := s.App.SessionLifetime()
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", MaxAge: int(lifetime / time.Second),
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Site) clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}
