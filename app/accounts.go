package app

import (
	"context"
	"time"

	"github.com/bestai/inbox/accounts"
)

// Sign-in, sessions and invites, as the pages reach them: through app like every other
// operation, so web need not import accounts. These calls are made before there is a
// Caller (or, for a change of password, by the caller on themselves), so they check no
// permission; the accounts decide every rule of passwords, throttling and sessions.

// Session is a signed-in browser; Invitee is who an invite link is for.
type (
	Session = accounts.Session
	Invitee = accounts.Invitee
)

const (
	// InvitePath is the path of an invite link, followed by its token.
	InvitePath = accounts.InvitePath
	// MinPasswordLength and MaxPasswordLength bound the passwords the accounts accept, for
	// the forms to say.
	MinPasswordLength = accounts.MinPasswordLength
	MaxPasswordLength = accounts.MaxPasswordLength
)

// The accounts' refusals, for the pages to word.
var (
	ErrBadCredentials   = accounts.ErrBadCredentials
	ErrInviteInvalid    = accounts.ErrInviteInvalid
	ErrNoSession        = accounts.ErrNoSession
	ErrThrottled        = accounts.ErrThrottled
	ErrPasswordTooShort = accounts.ErrPasswordTooShort
	ErrPasswordTooLong  = accounts.ErrPasswordTooLong
)

// RetryAfter is how long an ErrThrottled refusal asks to wait; 0 for any other error.
func RetryAfter(err error) time.Duration { return accounts.RetryAfter(err) }

// SignIn checks an email and password and returns a new session's token; failures are
// throttled per email and per clientIP.
func (s *Service) SignIn(ctx context.Context, email, password, clientIP string) (string, error) {
	return s.Accounts.SignIn(ctx, email, password, clientIP)
}

// SignOut ends the session of token on the server.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return s.Accounts.SignOut(ctx, token)
}

// Session is the signed-in browser of token, or ErrNoSession.
func (s *Service) Session(ctx context.Context, token string) (*Session, error) {
	return s.Accounts.Session(ctx, token)
}

// SessionLifetime is how long a new session lasts, for its cookie.
func (s *Service) SessionLifetime() time.Duration {
	if s.Accounts.SessionLifetime > 0 {
		return s.Accounts.SessionLifetime
	}
	return accounts.DefaultSessionLifetime
}

// InviteInfo is who a working invite link is for, or ErrInviteInvalid.
func (s *Service) InviteInfo(ctx context.Context, token string) (*Invitee, error) {
	return s.Accounts.InviteInfo(ctx, token)
}

// AcceptInvite sets the invitee's password and returns their new session's token.
func (s *Service) AcceptInvite(ctx context.Context, token, password string) (string, error) {
	return s.Accounts.AcceptInvite(ctx, token, password)
}

// ChangePassword replaces the caller's password after checking the current one (throttled
// as a sign-in is) and returns a new session's token; their other sessions end.
func (s *Service) ChangePassword(ctx context.Context, c *Caller, current, newPassword, clientIP string) (string, error) {
	return s.Accounts.ChangePassword(ctx, c.Email, current, newPassword, clientIP)
}
