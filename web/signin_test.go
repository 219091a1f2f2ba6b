package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// visitor is a browser-like HTTP client: it keeps cookies, does not follow redirects, and
// posts forms with the CSRF token of the last page it read.
type visitor struct {
	t      *testing.T
	base   string
	client *http.Client
	token  string
}

func newVisitor(t *testing.T, base string) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, base: base, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

func (v *visitor) get(path string) (int, string, http.Header) {
	v.t.Helper()
	resp, err := v.client.Get(v.base + path)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfMeta.FindSubmatch(b); m != nil {
		v.token = string(m[1])
	}
	return resp.StatusCode, string(b), resp.Header
}

// post sends a form; withToken adds the CSRF token the last page carried.
func (v *visitor) post(path string, form url.Values, withToken bool) (int, string, http.Header) {
	v.t.Helper()
	return v.send(path, form, withToken, false)
}

// htmxPost sends a form with the CSRF token as htmx does, and answers the fragment.
func (v *visitor) htmxPost(path string, form url.Values) (int, string) {
	v.t.Helper()
	code, body, _ := v.send(path, form, true, true)
	return code, body
}

func (v *visitor) send(path string, form url.Values, withToken, htmx bool) (int, string, http.Header) {
	v.t.Helper()
	if withToken {
		form.Set(web.CSRFFormField, v.token)
	}
	req, _ := http.NewRequest(http.MethodPost, v.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", v.base)
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (v *visitor) signIn(email, password string) (int, string, http.Header) {
	v.t.Helper()
	v.get(web.SignInPath)
	return v.post(web.SignInPath, url.Values{"email": {email}, "password": {password}}, true)
}

const password = "correct horse battery"

func TestSignInSessionAndSignOut(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("")
	inbox := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox)

	v := newVisitor(t, base)
	// Not signed in: the inbox sends to sign-in, and comes back after it.
	code, _, h := v.get(inbox)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), web.SignInPath+"?next=") {
		t.Fatalf("signed-out inbox: %d %s", code, h.Get("Location"))
	}
	code, page, _ := v.get(h.Get("Location"))
	if code != http.StatusOK || !strings.Contains(page, `type="email"`) || !strings.Contains(page, `type="password"`) {
		t.Fatalf("sign-in page: %d\n%s", code, page)
	}

	// Without the CSRF token the form is refused and nothing is signed in.
	if code, _, _ := v.post(web.SignInPath, url.Values{"email": {testenv.OwnerEmail("Acme")}, "password": {password}}, false); code != http.StatusForbidden {
		t.Fatalf("sign-in without the token: %d, want 403", code)
	}
	// A wrong password and an unknown email read the same.
	code, wrong, _ := v.signIn(testenv.OwnerEmail("Acme"), "not the password")
	_, unknown, _ := v.signIn("nobody@example.com", "not the password")
	if code != http.StatusUnauthorized || !strings.Contains(wrong, "Wrong email or password.") || !strings.Contains(unknown, "Wrong email or password.") {
		t.Fatalf("wrong password: %d\n%s", code, wrong)
	}

	code, _, h = v.post(web.SignInPath, url.Values{"email": {testenv.OwnerEmail("Acme")}, "password": {password}, "next": {inbox}}, true)
	if code != http.StatusSeeOther || h.Get("Location") != inbox {
		t.Fatalf("sign-in: %d %s", code, h.Get("Location"))
	}
	cookie := sessionCookie(t, h)
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie %+v: want HttpOnly and SameSite=Lax", cookie)
	}
	// A next that leaves the site is not followed.
	fresh := newVisitor(t, base)
	fresh.get(web.SignInPath)
	_, _, h = fresh.post(web.SignInPath, url.Values{"email": {testenv.OwnerEmail("Acme")}, "password": {password}, "next": {"//evil.example/"}}, true)
	if h.Get("Location") != "/" {
		t.Errorf("next=//evil.example/ went to %q, want /", h.Get("Location"))
	}
	if code, _, h := v.get("/"); code != http.StatusSeeOther || h.Get("Location") != inbox {
		t.Errorf("home when signed in: %d %s, want the first workspace's inbox", code, h.Get("Location"))
	}

	// Sign-out ends the session on the server: the old cookie no longer works.
	stolen := newVisitor(t, base)
	u, _ := url.Parse(base)
	stolen.client.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: cookie.Value}})
	if code, _, _ := stolen.get("/"); code != http.StatusSeeOther {
		t.Fatalf("copied cookie before sign-out: %d", code)
	}
	v.get(inbox) // a page that carries the token of the session
	if code, _, h := v.post(web.SignOutPath, url.Values{}, true); code != http.StatusSeeOther || h.Get("Location") != web.SignInPath {
		t.Fatalf("sign-out: %d %s", code, h.Get("Location"))
	}
	if _, err := e.Accounts.Session(context.Background(), cookie.Value); err != accounts.ErrNoSession {
		t.Errorf("session after sign-out: %v, want ErrNoSession", err)
	}
	if code, _, h := stolen.get(inbox); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), web.SignInPath) {
		t.Errorf("copied cookie after sign-out: %d %s, want the sign-in page", code, h.Get("Location"))
	}
}

func sessionCookie(t *testing.T, h http.Header) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == web.SessionCookie && c.Value != "" {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", h)
	return nil
}

func TestExpiredSessionGoesToSignIn(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("")
	now := time.Now()
	e.Accounts.Now = func() time.Time { return now }

	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail("Acme"), password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	inbox := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox)
	now = now.Add(accounts.DefaultSessionLifetime + time.Minute)
	code, _, h := v.get(inbox)
	if code != http.StatusSeeOther || h.Get("Location") != web.SignInPath+"?next="+url.QueryEscape(inbox) {
		t.Fatalf("expired session: %d %s, want the sign-in page", code, h.Get("Location"))
	}
}

func TestFailedSignInsAreThrottled(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("")
	v := newVisitor(t, base)
	for i := range accounts.DefaultMaxFailuresPerEmailIP {
		if code, _, _ := v.signIn(testenv.OwnerEmail("Acme"), "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, code)
		}
	}
	// Now even the right password is not checked.
	code, page, h := v.signIn(testenv.OwnerEmail("Acme"), password)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(page, "Too many failed sign-ins") {
		t.Fatalf("after %d failures: %d Retry-After=%q", accounts.DefaultMaxFailuresPerEmailIP, code, h.Get("Retry-After"))
	}
	if len(h.Values("Set-Cookie")) > 0 && strings.Contains(strings.Join(h.Values("Set-Cookie"), ";"), web.SessionCookie+"=") {
		t.Errorf("a throttled sign-in set a session cookie")
	}
}

func TestInviteLinkWorksOnce(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Acme")
	base := e.Serve("")
	owner, err := e.Store.SignInUserByEmail(context.Background(), testenv.OwnerEmail("Acme"))
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := e.Accounts.CreateInvite(context.Background(), ws.WorkspaceID, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	link := accounts.InvitePath + token

	v := newVisitor(t, base)
	code, page, _ := v.get(link)
	if code != http.StatusOK || strings.Count(page, `type="password"`) != 2 || !strings.Contains(page, testenv.OwnerEmail("Acme")) {
		t.Fatalf("invite page: %d\n%s", code, page)
	}
	if code, page, _ := v.post(link, url.Values{"password": {password}, "confirm": {password + "x"}}, true); code != http.StatusBadRequest || !strings.Contains(page, "differ") {
		t.Fatalf("mismatched passwords: %d", code)
	}
	if code, page, _ := v.post(link, url.Values{"password": {"short"}, "confirm": {"short"}}, true); code != http.StatusBadRequest || !strings.Contains(page, "at least") {
		t.Fatalf("short password: %d", code)
	}
	code, _, h := v.post(link, url.Values{"password": {password}, "confirm": {password}}, true)
	if code != http.StatusSeeOther {
		t.Fatalf("accept: %d", code)
	}
	sessionCookie(t, h)

	// The link is used up; the password works.
	other := newVisitor(t, base)
	if code, page, _ := other.get(link); code != http.StatusNotFound || !strings.Contains(page, "does not work") {
		t.Fatalf("second use of the link: %d", code)
	}
	if code, _, _ := other.signIn(testenv.OwnerEmail("Acme"), password); code != http.StatusSeeOther {
		t.Fatalf("sign-in with the new password: %d", code)
	}
}

// ownerOnConversation signs workspace's owner in at base (with the password the test set) and
// opens conversation id's page, for its form token; it answers the visitor and the page.
func ownerOnConversation(t *testing.T, base string, ws testenv.Workspace, workspace, id string) (*visitor, string) {
	t.Helper()
	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail(workspace), password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	page := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox) + "c/" + id
	if code, _, _ := v.get(page); code != http.StatusOK {
		t.Fatalf("detail: %d", code)
	}
	return v, page
}
