package accounts_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

// clock is a time the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	ctx   context.Context
	store *store.Store
	acc   *accounts.Accounts
	clock *clock
	ws    uuid.UUID
	owner uuid.UUID
}

const (
	ownerEmail = "ana@acme.example"
	password   = "correct horse battery"
	clientIP   = "203.0.113.7"
)

func setup(t *testing.T) *fixture {
	t.Helper()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, "Acme", ownerEmail, "Ana")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().UTC().Truncate(time.Microsecond)}
	return &fixture{ctx: ctx, store: s, clock: c, ws: ws.WorkspaceID, owner: ws.OwnerUserID,
		acc: &accounts.Accounts{Store: s, Now: c.Now, BcryptCost: bcrypt.MinCost}}
}

// withPassword gives the owner password through an invite, as a person would.
func (f *fixture) withPassword(t *testing.T) {
	t.Helper()
	token, _, err := f.acc.CreateInvite(f.ctx, f.ws, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.AcceptInvite(f.ctx, token, password); err != nil {
		t.Fatal(err)
	}
}

func TestInviteWorksOnce(t *testing.T) {
	f := setup(t)
	token, expires, err := f.acc.CreateInvite(f.ctx, f.ws, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(raw) != 32 {
		t.Errorf("token %q is not 32 bytes of base64url", token)
	}
	if want := f.clock.Now().Add(accounts.DefaultInviteLifetime); !expires.Equal(want) {
		t.Errorf("expires %v, want %v", expires, want)
	}
	who, err := f.acc.InviteInfo(f.ctx, token)
	if err != nil || who.Email != ownerEmail || who.Name != "Ana" || who.UserID != f.owner {
		t.Fatalf("InviteInfo = %+v, %v", who, err)
	}
	session, err := f.acc.AcceptInvite(f.ctx, token, password)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := f.acc.Session(f.ctx, session); err != nil || s.UserID != f.owner {
		t.Errorf("the accept's session = %+v, %v", s, err)
	}
	if _, err := f.acc.AcceptInvite(f.ctx, token, "another password"); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("second accept = %v, want ErrInviteInvalid", err)
	}
	if _, err := f.acc.InviteInfo(f.ctx, token); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("InviteInfo of a used invite = %v", err)
	}
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP); err != nil {
		t.Errorf("the invite's password does not sign in: %v", err)
	}
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, "another password", clientIP); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("the failed second accept changed the password: %v", err)
	}
	if _, err := f.acc.InviteInfo(f.ctx, "no-such-token"); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("InviteInfo of an unknown token = %v", err)
	}
}

func TestConcurrentAcceptsExactlyOneWins(t *testing.T) {
	f := setup(t)
	token, _, err := f.acc.CreateInvite(f.ctx, f.ws, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	sessions := make([]string, n)
	for i := range n {
		wg.Go(func() {
			sessions[i], errs[i] = f.acc.AcceptInvite(f.ctx, token, fmt.Sprintf("password number %d", i))
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner == -1:
			winner = i
		case err == nil:
			t.Errorf("accepts %d and %d both won", winner, i)
		case !errors.Is(err, accounts.ErrInviteInvalid):
			t.Errorf("accept %d: %v", i, err)
		}
	}
	if winner == -1 {
		t.Fatal("no accept won")
	}
	// The password is the winner's, and only the winner has a session.
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, fmt.Sprintf("password number %d", winner), clientIP); err != nil {
		t.Errorf("the winner's password does not sign in: %v", err)
	}
	var rows int
	if err := f.store.DB.NewRaw("SELECT count(*) FROM sessions").Scan(f.ctx, &rows); err != nil || rows != 2 {
		t.Errorf("%d sessions (%v), want the winner's and the sign-in's", rows, err)
	}
}

func TestExpiredInviteFails(t *testing.T) {
	f := setup(t)
	f.acc.InviteLifetime = time.Hour
	token, expires, err := f.acc.CreateInvite(f.ctx, f.ws, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clock.Now().Add(time.Hour); !expires.Equal(want) {
		t.Errorf("expires %v, want %v", expires, want)
	}
	f.clock.Add(time.Hour)
	if _, err := f.acc.InviteInfo(f.ctx, token); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("InviteInfo of an expired invite = %v", err)
	}
	if _, err := f.acc.AcceptInvite(f.ctx, token, password); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("accept of an expired invite = %v", err)
	}
}

func TestNewInviteReplacesTheOld(t *testing.T) {
	f := setup(t)
	old, _, err := f.acc.CreateInvite(f.ctx, f.ws, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	newer, _, err := f.acc.CreateInvite(f.ctx, f.ws, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.AcceptInvite(f.ctx, old, password); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("accept of a replaced invite = %v", err)
	}
	if _, err := f.acc.AcceptInvite(f.ctx, newer, password); err != nil {
		t.Errorf("accept of the new invite: %v", err)
	}
	if _, _, err := f.acc.CreateInvite(f.ctx, f.ws, uuid.New()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("invite for no user = %v", err)
	}
}

func TestPasswordRules(t *testing.T) {
	f := setup(t)
	token, _, err := f.acc.CreateInvite(f.ctx, f.ws, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.AcceptInvite(f.ctx, token, "too short"); !errors.Is(err, accounts.ErrPasswordTooShort) {
		t.Errorf("9 characters = %v", err)
	}
	if _, err := f.acc.AcceptInvite(f.ctx, token, strings.Repeat("x", 129)); !errors.Is(err, accounts.ErrPasswordTooLong) {
		t.Errorf("129 characters = %v", err)
	}
	// Characters, not bytes: ten two-byte letters are long enough, 128 of them not too long.
	if err := accounts.ValidatePassword(strings.Repeat("é", 10)); err != nil {
		t.Errorf("10 characters = %v", err)
	}
	if err := accounts.ValidatePassword(strings.Repeat("é", 128)); err != nil {
		t.Errorf("128 characters (256 bytes) = %v", err)
	}
	// A refused password leaves the invite usable. All 100 characters count, not only
	// bcrypt's first 72 bytes.
	long := strings.Repeat("a", 99) + "b"
	if _, err := f.acc.AcceptInvite(f.ctx, token, long); err != nil {
		t.Fatalf("accept after refused passwords: %v", err)
	}
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, strings.Repeat("a", 99)+"c", clientIP); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("a password differing after byte 72 signs in: %v", err)
	}
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, long, clientIP); err != nil {
		t.Errorf("the long password: %v", err)
	}
}

func TestSignInAnswersTheSameForWrongPasswordAndUnknownEmail(t *testing.T) {
	f := setup(t)
	// No password set yet: nothing signs in.
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("sign-in before a password is set = %v", err)
	}
	f.withPassword(t)
	token, err := f.acc.SignIn(f.ctx, "  ANA@acme.example ", password, clientIP)
	if err != nil {
		t.Fatalf("right password (email in other case): %v", err)
	}
	if s, err := f.acc.Session(f.ctx, token); err != nil || s.Email != ownerEmail || s.Name != "Ana" {
		t.Errorf("Session = %+v, %v", s, err)
	}
	_, wrong := f.acc.SignIn(f.ctx, ownerEmail, "wrong password", clientIP)
	_, unknown := f.acc.SignIn(f.ctx, "nobody@acme.example", password, clientIP)
	if !errors.Is(wrong, accounts.ErrBadCredentials) || !errors.Is(unknown, accounts.ErrBadCredentials) || wrong.Error() != unknown.Error() {
		t.Errorf("wrong password = %v, unknown email = %v; want the same ErrBadCredentials", wrong, unknown)
	}
}

func TestVerifyAndSetPassword(t *testing.T) {
	f := setup(t)
	if err := f.acc.SetPassword(f.ctx, f.owner, password); err != nil {
		t.Fatal(err)
	}
	if err := f.acc.VerifyPassword(f.ctx, f.owner, password); err != nil {
		t.Errorf("VerifyPassword(right) = %v", err)
	}
	if err := f.acc.VerifyPassword(f.ctx, f.owner, "wrong password"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("VerifyPassword(wrong) = %v", err)
	}
	if err := f.acc.VerifyPassword(f.ctx, uuid.New(), password); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("VerifyPassword(no user) = %v", err)
	}
	token, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP)
	if err != nil {
		t.Fatal(err)
	}
	// A new password ends the sessions signed in with the old one.
	if err := f.acc.SetPassword(f.ctx, f.owner, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.Session(f.ctx, token); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("session after a password change = %v", err)
	}
	if err := f.acc.SetPassword(f.ctx, f.owner, "short"); !errors.Is(err, accounts.ErrPasswordTooShort) {
		t.Errorf("SetPassword(short) = %v", err)
	}
}

// The email's ceiling holds against guesses spread over many addresses, each under its own
// per-address limit.
func TestThrottlingPerEmailAcrossAddresses(t *testing.T) {
	f := setup(t)
	f.withPassword(t)
	for i := range accounts.DefaultMaxFailuresPerEmail {
		// Each from its own IP, so only the email's count reaches its limit.
		if _, err := f.acc.SignIn(f.ctx, ownerEmail, "wrong password", fmt.Sprintf("198.51.100.%d", i)); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("failure %d = %v", i+1, err)
		}
		f.clock.Add(10 * time.Second)
	}
	// Over the ceiling: refused without looking at the password, even the right one from a
	// fresh address.
	_, err := f.acc.SignIn(f.ctx, "Ana@Acme.example", password, "192.0.2.1")
	if !errors.Is(err, accounts.ErrThrottled) {
		t.Fatalf("sign-in after %d failures = %v, want ErrThrottled", accounts.DefaultMaxFailuresPerEmail, err)
	}
	// The oldest failure was 500s ago; it leaves the 15-minute window in 400s.
	if got := accounts.RetryAfter(err); got != 400*time.Second {
		t.Errorf("retry after %v, want 400s", got)
	}
	// Another email from the same IPs is not affected.
	if _, err := f.acc.SignIn(f.ctx, "someone@acme.example", password, "198.51.100.1"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("another email = %v", err)
	}
	f.clock.Add(400 * time.Second)
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, "192.0.2.1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// An address's failures on an email stop it at DefaultMaxFailuresPerEmailIP, and its
// success clears them.
func TestThrottlingPerEmailFromOneAddress(t *testing.T) {
	f := setup(t)
	f.withPassword(t)
	for i := range accounts.DefaultMaxFailuresPerEmailIP {
		if _, err := f.acc.SignIn(f.ctx, ownerEmail, "wrong password", clientIP); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("failure %d = %v", i+1, err)
		}
		f.clock.Add(time.Minute)
	}
	_, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP)
	if !errors.Is(err, accounts.ErrThrottled) {
		t.Fatalf("the right password after %d failures = %v, want ErrThrottled", accounts.DefaultMaxFailuresPerEmailIP, err)
	}
	// The oldest of the five failures was 5 minutes ago; it leaves the window in 10.
	if got := accounts.RetryAfter(err); got != 10*time.Minute {
		t.Errorf("retry after %v, want 10m", got)
	}
	f.clock.Add(10 * time.Minute)
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// That success cleared the address's failures: a full allowance again.
	for i := range accounts.DefaultMaxFailuresPerEmailIP {
		if _, err := f.acc.SignIn(f.ctx, ownerEmail, "wrong password", clientIP); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("failure %d after a success = %v", i+1, err)
		}
	}
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("after five new failures = %v", err)
	}
}

// Wrong passwords from one address stop that address, not the owner of the email signing
// in from another: otherwise anyone who knows an email could lock its owner out.
func TestWrongPasswordsFromOneAddressDoNotLockOutAnother(t *testing.T) {
	f := setup(t)
	f.withPassword(t)
	const attacker, owner = "198.51.100.66", "192.0.2.10"
	for i := range accounts.DefaultMaxFailuresPerEmailIP {
		if _, err := f.acc.SignIn(f.ctx, ownerEmail, "wrong password", attacker); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("failure %d = %v", i+1, err)
		}
	}
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, attacker); !errors.Is(err, accounts.ErrThrottled) {
		t.Fatalf("the guessing address with the right password = %v, want ErrThrottled", err)
	}
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, owner); err != nil {
		t.Fatalf("the owner from her own address = %v, want signed in", err)
	}
	// Her success does not free the guessing address.
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, "wrong password", attacker); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("the guessing address after the owner's success = %v, want ErrThrottled", err)
	}
}

func TestSuccessResetsTheEmailCount(t *testing.T) {
	f := setup(t)
	f.withPassword(t)
	for range 3 {
		for range accounts.DefaultMaxFailuresPerEmailIP - 1 {
			if _, err := f.acc.SignIn(f.ctx, ownerEmail, "wrong password", clientIP); !errors.Is(err, accounts.ErrBadCredentials) {
				t.Fatal(err)
			}
		}
		if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP); err != nil {
			t.Fatalf("after four failures: %v", err)
		}
	}
}

func TestThrottlingPerIP(t *testing.T) {
	f := setup(t)
	f.withPassword(t)
	f.acc.MaxFailuresPerIP = 6
	for i := range 6 {
		if _, err := f.acc.SignIn(f.ctx, fmt.Sprintf("guess%d@acme.example", i), "wrong password", clientIP); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("failure %d = %v", i+1, err)
		}
	}
	_, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP)
	if !errors.Is(err, accounts.ErrThrottled) || accounts.RetryAfter(err) != accounts.DefaultFailureWindow {
		t.Fatalf("seventh sign-in from the IP = %v (retry after %v)", err, accounts.RetryAfter(err))
	}
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, "192.0.2.99"); err != nil {
		t.Errorf("another IP: %v", err)
	}
	// A success does not clear the IP's failures.
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("the IP after someone else's success = %v", err)
	}
	f.clock.Add(accounts.DefaultFailureWindow)
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP); err != nil {
		t.Errorf("the IP after the window: %v", err)
	}
}

func TestIPv6ClientsAreCountedByTheirSlash64(t *testing.T) {
	f := setup(t)
	f.acc.MaxFailuresPerIP = 2
	for i := range 2 {
		if _, err := f.acc.SignIn(f.ctx, fmt.Sprintf("g%d@acme.example", i), "wrong password", fmt.Sprintf("2001:db8:1:2::%x", i+1)); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	if _, err := f.acc.SignIn(f.ctx, "g9@acme.example", "wrong password", "2001:db8:1:2:ffff::9"); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("a third address in the same /64 = %v", err)
	}
	if _, err := f.acc.SignIn(f.ctx, "g9@acme.example", "wrong password", "2001:db8:1:3::1"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("the next /64 = %v", err)
	}
}

func TestConcurrentGuessesCountAgainstEachOther(t *testing.T) {
	f := setup(t)
	f.withPassword(t)
	f.acc.MaxFailuresPerEmail = 5
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = f.acc.SignIn(f.ctx, ownerEmail, "wrong password", fmt.Sprintf("198.51.100.%d", i))
		})
	}
	wg.Wait()
	var bad, throttled int
	for _, err := range errs {
		switch {
		case errors.Is(err, accounts.ErrBadCredentials):
			bad++
		case errors.Is(err, accounts.ErrThrottled):
			throttled++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if bad != f.acc.MaxFailuresPerEmail || throttled != n-bad {
		t.Errorf("%d passwords checked and %d throttled; want %d checked", bad, throttled, f.acc.MaxFailuresPerEmail)
	}
}

func TestSessionsExpireAndSignOut(t *testing.T) {
	f := setup(t)
	f.withPassword(t)
	f.acc.SessionLifetime = 2 * time.Hour
	signedIn := f.clock.Now()
	token, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.acc.Session(f.ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if s.UserID != f.owner || !s.ExpiresAt.Equal(signedIn.Add(2*time.Hour)) || len(s.ID) != 64 {
		t.Errorf("Session = %+v", s)
	}
	// Using the session records it, but does not extend it.
	f.clock.Add(time.Hour)
	if _, err := f.acc.Session(f.ctx, token); err != nil {
		t.Fatal(err)
	}
	var lastSeen time.Time
	if err := f.store.DB.NewRaw("SELECT last_seen FROM sessions WHERE token_hash = ?", store.Hash(token)).Scan(f.ctx, &lastSeen); err != nil || !lastSeen.Equal(f.clock.Now()) {
		t.Errorf("last_seen = %v (%v), want %v", lastSeen, err, f.clock.Now())
	}
	f.clock.Add(time.Hour)
	if _, err := f.acc.Session(f.ctx, token); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("expired session = %v", err)
	}
	for _, bad := range []string{"", "not-a-token"} {
		if _, err := f.acc.Session(f.ctx, bad); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("Session(%q) = %v", bad, err)
		}
	}

	token, err = f.acc.SignIn(f.ctx, ownerEmail, password, clientIP)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.acc.SignOut(f.ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.Session(f.ctx, token); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("signed-out session = %v", err)
	}
	if err := f.acc.SignOut(f.ctx, token); err != nil {
		t.Errorf("signing out twice: %v", err)
	}

	a, _ := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP)
	b, _ := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP)
	// Also the invite's session, and expired ones not purged yet.
	if n, err := f.acc.SignOutEverywhere(f.ctx, f.owner); err != nil || n < 3 {
		t.Errorf("SignOutEverywhere = %d, %v", n, err)
	}
	var left int
	if err := f.store.DB.NewRaw("SELECT count(*) FROM sessions").Scan(f.ctx, &left); err != nil || left != 0 {
		t.Errorf("%d sessions left (%v)", left, err)
	}
	for _, tok := range []string{a, b} {
		if _, err := f.acc.Session(f.ctx, tok); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("session after SignOutEverywhere = %v", err)
		}
	}
}

func TestExpiredRowsArePurgedBySignIn(t *testing.T) {
	f := setup(t)
	f.withPassword(t)
	for range 3 {
		if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, clientIP); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, "wrong password", clientIP); err == nil {
		t.Fatal("wrong password accepted")
	}
	// An operator's link: a workspace cannot make one for someone with a password.
	if _, _, err := f.acc.CreateOperatorInvite(f.ctx, f.owner); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(accounts.DefaultInviteLifetime + time.Minute)
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, password, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{"sessions": 1, "invites": 0, "sign_in_failures": 0} {
		var n int
		if err := f.store.DB.NewRaw("SELECT count(*) FROM "+table).Scan(f.ctx, &n); err != nil || n != want {
			t.Errorf("%s: %d rows (%v), want %d", table, n, err, want)
		}
	}
}

func TestTokensAreStoredOnlyHashed(t *testing.T) {
	f := setup(t)
	invite, _, err := f.acc.CreateInvite(f.ctx, f.ws, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	session, err := f.acc.AcceptInvite(f.ctx, invite, password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.SignIn(f.ctx, ownerEmail, "wrong password", clientIP); err == nil {
		t.Fatal("wrong password accepted")
	}
	dump := func(table string) string {
		var rows []string
		if err := f.store.DB.NewRaw("SELECT t::text FROM "+table+" AS t").Scan(f.ctx, &rows); err != nil {
			t.Fatal(err)
		}
		return strings.Join(rows, "\n")
	}
	all := dump("invites") + dump("sessions") + dump("sign_in_failures") + dump("users")
	for name, secret := range map[string]string{"invite": invite, "session": session, "password": password} {
		raw, _ := base64.RawURLEncoding.DecodeString(secret)
		if strings.Contains(all, secret) || (len(raw) > 0 && strings.Contains(all, hex.EncodeToString(raw))) {
			t.Errorf("the %s appears in clear in the tables", name)
		}
	}
	for name, secret := range map[string]string{"invite": invite, "session": session} {
		if !strings.Contains(all, hex.EncodeToString(store.Hash(secret))) {
			t.Errorf("the %s's SHA-256 is not what is stored", name)
		}
	}
	if strings.Contains(all, "ana@acme.example") && strings.Contains(dump("sign_in_failures"), "ana") {
		t.Error("the throttled email is stored in clear")
	}
}
