// Package accounts is how a person proves who they are to the web admin: their password,
// the one-time invite link on which they set it, the browser session that follows, and the
// throttling of failed sign-ins. It decides the rules (password length, lifetimes, limits)
// and leaves the SQL to store. It knows nothing of HTTP: the web layer turns its typed
// errors into words and its tokens into cookies and links.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/bestai/inbox/store"
)

// Paths of the web admin's pages that links printed elsewhere (the command line, invite
// emails) point to, kept here so that those links and the routes agree.
const (
	SignInPath = "/signin"
	InvitePath = "/invite/" // followed by the invite token
)

// InviteURL is the link on which the invitee sets their password: publicURL is where
// people open the inbox (INBOX_PUBLIC_URL).
func InviteURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + InvitePath + token
}

// SignInURL is the sign-in page under publicURL.
func SignInURL(publicURL string) string {
	return strings.TrimRight(publicURL, "/") + SignInPath
}

// Defaults of the Accounts fields left zero.
const (
	DefaultInviteLifetime  = 7 * 24 * time.Hour
	DefaultSessionLifetime = 12 * time.Hour
	DefaultFailureWindow   = 15 * time.Minute
	// DefaultMaxFailuresPerEmailIP is what one client address may fail on one email: the
	// limit a guesser meets, and it stops only that address, not the email's owner.
	DefaultMaxFailuresPerEmailIP = 5
	// DefaultMaxFailuresPerEmail is the email's ceiling across every address, against
	// guesses spread over many; high, since reaching it stops its owner too.
	DefaultMaxFailuresPerEmail = 50
	DefaultMaxFailuresPerIP    = 20
)

// Password rules. Lengths are in characters, as a person counts them.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 128
)

// purgeBatch bounds the expired rows of each kind one sign-in deletes.
const purgeBatch = 20

// Errors the web layer shows in words. ErrBadCredentials, ErrInviteInvalid and ErrNoSession
// deliberately cover several cases each, so that an answer never tells a stranger which
// emails have accounts or which links once existed.
var (
	ErrBadCredentials   = errors.New("wrong email or password")
	ErrInviteInvalid    = errors.New("this invite link is not valid; ask for a new one")
	ErrNoSession        = errors.New("not signed in")
	ErrThrottled        = errors.New("too many failed sign-ins; try again later")
	ErrPasswordTooShort = fmt.Errorf("the password must have at least %d characters", MinPasswordLength)
	ErrPasswordTooLong  = fmt.Errorf("the password must have at most %d characters", MaxPasswordLength)
)

// ThrottledError is the ErrThrottled a sign-in gets while its email or client IP has too
// many recent failures; RetryAfter (whole seconds, at least one) is for the Retry-After
// header and the page's wording.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v (in %s)", ErrThrottled, e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfter is how long a throttled sign-in should wait, or 0 when err is not throttling.
func RetryAfter(err error) time.Duration {
	var t *ThrottledError
	if errors.As(err, &t) {
		return t.RetryAfter
	}
	return 0
}

// Accounts signs people in. The zero value of every field but Store means its default.
type Accounts struct {
	Store *store.Store

	// InviteLifetime is how long an invite link works.
	InviteLifetime time.Duration
	// SessionLifetime is a session's absolute lifetime from sign-in; using it does not
	// extend it, so a stolen cookie stops working on a known schedule.
	SessionLifetime time.Duration
	// FailureWindow is how far back failed sign-ins count; MaxFailuresPerEmailIP,
	// MaxFailuresPerEmail and MaxFailuresPerIP are how many may fail within it before
	// sign-in stops checking passwords for that email from that client IP, for that email
	// from anywhere, or from that client IP for any email.
	FailureWindow         time.Duration
	MaxFailuresPerEmailIP int
	MaxFailuresPerEmail   int
	MaxFailuresPerIP      int
	// BcryptCost is bcrypt's work factor for new hashes; 0 is bcrypt.DefaultCost. Tests
	// lower it to bcrypt.MinCost.
	BcryptCost int
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	dummyOnce sync.Once
	dummyHash []byte
}

// New returns Accounts on s with the defaults.
func New(s *store.Store) *Accounts { return &Accounts{Store: s} }

func (a *Accounts) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (a *Accounts) inviteLifetime() time.Duration {
	return orDefault(a.InviteLifetime, DefaultInviteLifetime)
}

func (a *Accounts) sessionLifetime() time.Duration {
	return orDefault(a.SessionLifetime, DefaultSessionLifetime)
}

func (a *Accounts) failureWindow() time.Duration {
	return orDefault(a.FailureWindow, DefaultFailureWindow)
}

func (a *Accounts) cost() int { return orDefault(a.BcryptCost, bcrypt.DefaultCost) }

// ValidatePassword checks the password rules: ErrPasswordTooShort or ErrPasswordTooLong.
// Any characters are allowed; length is what makes a password hard to guess.
func ValidatePassword(password string) error {
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLength:
		return ErrPasswordTooShort
	case n > MaxPasswordLength:
		return ErrPasswordTooLong
	}
	return nil
}

// prehash turns a password into what bcrypt sees. bcrypt reads at most 72 bytes, and 128
// characters can be far more; rather than refuse passwords the rules allow, or let bcrypt
// ignore their end, every password is first hashed with SHA-256 and base64-encoded (44
// bytes, no NUL byte), so all of it counts. It is done for every password, not only long
// ones, so there is one scheme to check against.
func prehash(password string) []byte {
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func (a *Accounts) hashPassword(password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword(prehash(password), a.cost())
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// passwordMatches compares password with a stored hash. With no hash (unknown user, or one
// who has not set a password) it compares with a dummy hash of the same cost and fails, so
// that the answer takes as long as a real check and its timing does not tell which emails
// have accounts.
func (a *Accounts) passwordMatches(hash, password string) bool {
	if hash == "" {
		a.dummyOnce.Do(func() {
			a.dummyHash, _ = bcrypt.GenerateFromPassword(prehash("no password matches this one"), a.cost())
		})
		_ = bcrypt.CompareHashAndPassword(a.dummyHash, prehash(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), prehash(password)) == nil
}

// newToken is 32 random bytes, base64url: the form of invite and session tokens.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// SetPassword sets a user's password directly (for `inbox dev`'s demo owner, and later a
// signed-in change of password) and ends all their sessions. It returns the password rules'
// errors, or store.ErrNotFound.
func (a *Accounts) SetPassword(ctx context.Context, userID uuid.UUID, password string) error {
	hash, err := a.hashPassword(password)
	if err != nil {
		return err
	}
	return a.Store.SetPasswordHash(ctx, userID, hash)
}

// VerifyPassword says whether password is the user's: nil, or ErrBadCredentials (also when
// there is no such user or they have no password). It is not throttled; sign-in is SignIn.
func (a *Accounts) VerifyPassword(ctx context.Context, userID uuid.UUID, password string) error {
	u, err := a.Store.SignInUserByID(ctx, userID)
	hash := ""
	switch {
	case err == nil:
		hash = u.PasswordHash
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if !a.passwordMatches(hash, password) {
		return ErrBadCredentials
	}
	return nil
}

// CreateInvite makes a one-time link token on which userID, a newcomer to workspaceID, sets
// their password, valid until expiresAt. Only its SHA-256 is stored, and it replaces the
// user's unused invites. store.ErrHasAccount when the user has a password or another
// workspace already: that person changes their own password. store.ErrNotFound if there is
// no such user.
func (a *Accounts) CreateInvite(ctx context.Context, workspaceID, userID uuid.UUID) (token string, expiresAt time.Time, err error) {
	return a.createInvite(ctx, &workspaceID, userID)
}

// CreateOperatorInvite is CreateInvite for an operator at the command line (`inbox user
// invite`), who may give a link to anyone: the way back in for a person who lost their
// password.
func (a *Accounts) CreateOperatorInvite(ctx context.Context, userID uuid.UUID) (token string, expiresAt time.Time, err error) {
	return a.createInvite(ctx, nil, userID)
}

func (a *Accounts) createInvite(ctx context.Context, workspaceID *uuid.UUID, userID uuid.UUID) (string, time.Time, error) {
	token := newToken()
	now := a.now()
	expiresAt := now.Add(a.inviteLifetime())
	if err := a.Store.ReplaceInvite(ctx, userID, workspaceID, store.Hash(token), now, expiresAt); err != nil {
		return "", time.Time{}, err
	}
	return token, expiresAt, nil
}

// Invitee is who an invite is for, for the invite page to greet.
type Invitee struct {
	UserID uuid.UUID
	Email  string
	Name   string
}

// InviteInfo returns who a working invite is for, or ErrInviteInvalid when the token is
// unknown, used or expired.
func (a *Accounts) InviteInfo(ctx context.Context, token string) (*Invitee, error) {
	u, err := a.Store.InvitedUser(ctx, store.Hash(token), a.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInviteInvalid
	}
	if err != nil {
		return nil, err
	}
	return &Invitee{UserID: u.ID, Email: u.Email, Name: u.Name}, nil
}

// AcceptInvite sets the invitee's password, uses up the invite and signs them in, all or
// nothing; it returns the new session's token. Their earlier sessions end: accepting an
// invite is also how a forgotten password is replaced. The password rules' errors come
// first and leave the invite usable; ErrInviteInvalid when it is unknown, used (also by a
// concurrent accept that won) or expired.
func (a *Accounts) AcceptInvite(ctx context.Context, token, password string) (sessionToken string, err error) {
	hash, err := a.hashPassword(password)
	if err != nil {
		return "", err
	}
	sessionToken = newToken()
	now := a.now()
	_, err = a.Store.AcceptInvite(ctx, store.Hash(token), hash, store.NewSession{
		TokenHash: store.Hash(sessionToken), CreatedAt: now, ExpiresAt: now.Add(a.sessionLifetime()),
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrInviteInvalid
	}
	if err != nil {
		return "", err
	}
	return sessionToken, nil
}

// ChangePassword replaces a signed-in person's password, after checking the current one as
// a sign-in does (throttled, and ErrBadCredentials when wrong), and returns a new session
// token for the browser that asked: every other session of theirs ends. The new password's
// rule errors come first and change nothing.
func (a *Accounts) ChangePassword(ctx context.Context, email, current, newPassword, clientIP string) (sessionToken string, err error) {
	hash, err := a.hashPassword(newPassword)
	if err != nil {
		return "", err
	}
	// The session SignIn makes is ended at once by the change below.
	if _, err := a.SignIn(ctx, email, current, clientIP); err != nil {
		return "", err
	}
	u, err := a.Store.SignInUserByEmail(ctx, strings.TrimSpace(email))
	if err != nil {
		return "", err
	}
	sessionToken = newToken()
	now := a.now()
	err = a.Store.ReplacePassword(ctx, u.ID, hash, store.NewSession{
		TokenHash: store.Hash(sessionToken), CreatedAt: now, ExpiresAt: now.Add(a.sessionLifetime()),
	})
	if err != nil {
		return "", err
	}
	return sessionToken, nil
}

// Session is a signed-in browser.
type Session struct {
	// ID is the hex SHA-256 of the token: it names the session in logs and lists without
	// being able to act as it.
	ID        string
	UserID    uuid.UUID
	Email     string
	Name      string
	ExpiresAt time.Time
}

// throttleKeys are what failed sign-ins count against: the email from the client IP, the
// email, and the client IP. The email is lower-cased and only hashed (people type passwords
// into the email field, and those must not sit in a table in clear). An IPv6 client is
// counted by its /64, the block one subscriber usually holds, or it could take a fresh
// address for every guess.
func throttleKeys(email, clientIP string) (emailIPKey, emailKey, ipKey []byte) {
	email = strings.ToLower(strings.TrimSpace(email))
	ip := strings.TrimSpace(clientIP)
	if addr, err := netip.ParseAddr(ip); err == nil {
		addr = addr.Unmap()
		if addr.Is6() {
			ip = netip.PrefixFrom(addr, 64).Masked().String()
		} else {
			ip = addr.String()
		}
	}
	return store.Hash("email-ip:" + email + "\x00" + ip), store.Hash("email:" + email), store.Hash("ip:" + ip)
}

// SignIn checks an email and password and starts a session, returning its token. A wrong
// password and an unknown email are the same ErrBadCredentials, and take about as long.
// While the email from this client IP, the email from anywhere (a higher ceiling) or the
// client IP has too many recent failures it returns a *ThrottledError (errors.Is
// ErrThrottled) without looking at the password; so wrong passwords from one address do not
// lock the email's owner out at another. A success clears the email's failures, overall and
// from this IP; the IP's stay, and so do the email's from other IPs, so one good sign-in
// does not reset an address that is guessing.
func (a *Accounts) SignIn(ctx context.Context, email, password, clientIP string) (sessionToken string, err error) {
	now := a.now()
	window := a.failureWindow()
	// Opportunistic and bounded: sign-ins are frequent enough to keep the tables small and
	// rare enough not to notice. A failure here must not stop anyone signing in.
	defer func() {
		_ = a.Store.PurgeExpiredAccounts(context.WithoutCancel(ctx), now, now.Add(-window), purgeBatch)
	}()

	emailIPKey, emailKey, ipKey := throttleKeys(email, clientIP)
	ids, retry, err := a.Store.BeginSignInAttempt(ctx, []store.ThrottleKey{
		{Key: emailIPKey, Max: orDefault(a.MaxFailuresPerEmailIP, DefaultMaxFailuresPerEmailIP)},
		{Key: emailKey, Max: orDefault(a.MaxFailuresPerEmail, DefaultMaxFailuresPerEmail)},
		{Key: ipKey, Max: orDefault(a.MaxFailuresPerIP, DefaultMaxFailuresPerIP)},
	}, window, now)
	if err != nil {
		return "", err
	}
	if retry > 0 {
		return "", &ThrottledError{RetryAfter: wholeSeconds(retry)}
	}

	u, err := a.Store.SignInUserByEmail(ctx, strings.TrimSpace(email))
	hash := ""
	switch {
	case err == nil:
		hash = u.PasswordHash
	case !errors.Is(err, store.ErrNotFound):
		return "", err
	}
	if !a.passwordMatches(hash, password) {
		return "", ErrBadCredentials // the attempt's rows stay, as failures
	}
	sessionToken = newToken()
	err = a.Store.FinishSignIn(ctx, [][]byte{emailKey, emailIPKey}, ids, store.NewSession{
		TokenHash: store.Hash(sessionToken), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(a.sessionLifetime()),
	})
	if err != nil {
		return "", err
	}
	return sessionToken, nil
}

// wholeSeconds rounds d up to whole seconds, as Retry-After counts them: rounding down would
// send the client back a moment too early, to be refused again.
func wholeSeconds(d time.Duration) time.Duration {
	return max(time.Second, (d+time.Second-1)/time.Second*time.Second)
}

// Session returns the live session a token names, or ErrNoSession when it is unknown,
// signed out or expired.
func (a *Accounts) Session(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrNoSession
	}
	row, err := a.Store.SessionByHash(ctx, store.Hash(token), a.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	return &Session{
		ID: hex.EncodeToString(row.TokenHash), UserID: row.UserID, Email: row.Email, Name: row.Name,
		ExpiresAt: row.ExpiresAt,
	}, nil
}

// SignOut ends the session a token names, on the server, so a copied cookie stops working
// too. Signing out an unknown session is not an error.
func (a *Accounts) SignOut(ctx context.Context, token string) error {
	return a.Store.DeleteSession(ctx, store.Hash(token))
}

// SignOutEverywhere ends every session of a user and says how many there were.
func (a *Accounts) SignOutEverywhere(ctx context.Context, userID uuid.UUID) (int, error) {
	return a.Store.DeleteUserSessions(ctx, userID)
}
