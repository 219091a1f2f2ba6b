package web

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"
)

// testSecret is a fixed CSRF key for tests.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

const sessionCookie = "test_session"

// testSession plays the accounts package: a request with the cookie has a
// session whose id is the cookie's value.
func testSession(c *gin.Context) (string, bool) {
	v, err := c.Cookie(sessionCookie)
	return v, err == nil && v != ""
}

// templatesWith overlays testdata pages on the embedded templates.
func templatesWith(t testing.TB, pages ...string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(Templates(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Templates(), p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		b, err := os.ReadFile("testdata/" + p)
		if err != nil {
			t.Fatal(err)
		}
		m[p] = &fstest.MapFile{Data: b}
	}
	return m
}

// demoCreated is the time the demo page shows: 03:04 UTC is 12:04 in Tokyo.
var demoCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type demoData struct {
	Created time.Time
	Clicks  int64
}

// demoServer mounts the foundation with a test-only page: GET /demo, and
// POST /demo/click answering the "result" fragment to htmx and the whole
// page to a plain form. GET /demo starts a session when there is none.
func demoServer(t testing.TB) (*gin.Engine, *Web, *atomic.Int64) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	w, err := New(Deps{
		Secret:    testSecret,
		Session:   testSession,
		Log:       slog.New(slog.DiscardHandler),
		Templates: templatesWith(t, "demo.html"),
		Chrome: func(c *gin.Context) Chrome {
			if _, ok := testSession(c); !ok {
				return Chrome{}
			}
			return Chrome{
				Person:     &Person{Name: "Ada Owner", Email: "ada@example.com"},
				Workspace:  &Workspace{ID: "ws-1", Name: "Acme"},
				Workspaces: []Workspace{{ID: "ws-1", Name: "Acme"}, {ID: "ws-2", Name: "Beta"}},
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var clicks atomic.Int64
	r := gin.New()
	w.Mount(r)
	pages := w.Pages(r)
	pages.GET("/demo", func(c *gin.Context) {
		if _, ok := testSession(c); !ok {
			// Start a session, as signing in would, and come back with it.
			http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "sess-" + c.ClientIP() + "-secret", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
			c.Redirect(http.StatusSeeOther, "/demo")
			return
		}
		SetTitle(c, "Demo")
		SetSection(c, SectionInbox)
		w.Render.Page(c, http.StatusOK, "demo", demoData{Created: demoCreated, Clicks: clicks.Load()})
	})
	pages.POST("/demo/click", func(c *gin.Context) {
		n := clicks.Add(1)
		w.Render.Fragment(c, http.StatusOK, "demo", "result", demoData{Created: demoCreated, Clicks: n})
	})
	pages.GET("/private", w.Render.Unauthorized)
	pages.GET("/forbidden", w.Render.Forbidden)
	pages.GET("/boom", func(c *gin.Context) { w.Render.ServerError(c, os.ErrInvalid) })
	r.NoRoute(w.NotFoundHandler())
	return r, w, &clicks
}

func serve(r http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

func TestPageHeadersAndLayout(t *testing.T) {
	r, w, _ := demoServer(t)
	req := httptest.NewRequest(http.MethodGet, "/demo", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "s1"})
	rec := serve(r, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /demo: %d %s", rec.Code, rec.Body)
	}
	h := rec.Header()
	for k, want := range map[string]string{
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
		"Content-Type":            "text/html; charset=utf-8",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	body := rec.Body.String()
	token := w.CSRF.mac("session", "s1")
	for _, want := range []string{
		"<title>Demo · Inbox</title>",
		`href="/w/ws-1/"`, `href="/w/ws-1/leads"`, `href="/w/ws-1/team"`, `href="/w/ws-1/settings"`,
		`aria-current="page">Inbox</a>`,
		"Ada Owner", `action="/signout"`, "Sign out",
		`<meta name="csrf-token" content="` + token + `">`,
		`<input type="hidden" name="csrf_token" value="` + token + `">`,
		`<time datetime="2026-01-02T03:04:05Z" data-local="datetime" title="2026-01-02 03:04 UTC">2026-01-02 03:04 UTC</time>`,
		`/static/vendor/htmx.min.js?v=`, `/static/app.js?v=`, `/static/app.css?v=`,
		"Beta", // the switcher lists the other workspace
		`<span class="badge badge-unread">unread</span>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// No inline script or style may reach a page: CSP would refuse them.
	for _, bad := range []string{"<script>", " style=", " onclick=", " hx-on"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q, which the CSP forbids", bad)
		}
	}
}

func TestFragmentOnlyForHTMX(t *testing.T) {
	r, w, _ := demoServer(t)
	token := w.CSRF.mac("session", "s1")
	post := func(htmx bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/demo/click", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "s1"})
		req.Header.Set(CSRFHeader, token)
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		return serve(r, req)
	}
	rec := post(true)
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), `<p class="notice">Clicked 1 time(s)`) {
		t.Fatalf("htmx POST: %d %q", rec.Code, rec.Body)
	}
	rec = post(false)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<!doctype html>") || !strings.Contains(rec.Body.String(), "Clicked 2 time(s)") {
		t.Fatalf("plain POST should get the whole page: %d %q", rec.Code, rec.Body)
	}
}

func TestErrorPages(t *testing.T) {
	r, _, _ := demoServer(t)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/nowhere", 404, "Not found: it may have been removed, or belong to another workspace."},
		{"/forbidden", 403, "does not allow this"},
		{"/boom", 500, "Something went wrong on our side"},
	} {
		rec := serve(r, httptest.NewRequest(http.MethodGet, tc.path, nil))
		body := rec.Body.String()
		if rec.Code != tc.status || !strings.Contains(body, tc.want) || !strings.Contains(body, "<!doctype html>") ||
			!strings.Contains(body, `href="/"`) {
			t.Errorf("GET %s: %d, want %d with %q in a full page:\n%s", tc.path, rec.Code, tc.status, tc.want, body)
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no CSP on the error page", tc.path)
		}
		// htmx gets only the message, for app.js to show.
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		req.Header.Set("HX-Request", "true")
		rec = serve(r, req)
		if rec.Code != tc.status || !strings.HasPrefix(rec.Body.String(), `<p class="error"`) {
			t.Errorf("htmx GET %s: %d %q", tc.path, rec.Code, rec.Body)
		}
	}
}

func TestUnauthorizedRedirectsToSignIn(t *testing.T) {
	r, _, _ := demoServer(t)
	rec := serve(r, httptest.NewRequest(http.MethodGet, "/private?tab=a&b=c", nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/signin?next=%2Fprivate%3Ftab%3Da%26b%3Dc" {
		t.Fatalf("GET /private: %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
	req := httptest.NewRequest(http.MethodGet, "/private", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("Referer", "http://example.com/w/1/?unread=1")
	rec = serve(r, req)
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("HX-Redirect") != "/signin?next=%2Fw%2F1%2F%3Funread%3D1" {
		t.Fatalf("htmx GET /private: %d HX-Redirect %q", rec.Code, rec.Header().Get("HX-Redirect"))
	}
	// A Referer from another site is not a place to come back to.
	req.Header.Set("Referer", "http://evil.example/x")
	rec = serve(r, req)
	if got := rec.Header().Get("HX-Redirect"); got != "/signin?next=%2F" {
		t.Fatalf("foreign Referer: HX-Redirect %q", got)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/w/1/?unread=1":             "/w/1/?unread=1",
		"/":                          "/",
		"/w/1/conversations/2#notes": "/w/1/conversations/2#notes",
		"":                           "/",
		"w/1":                        "/",
		"//evil.example/":            "/",
		"///evil.example/":           "/",
		"/\\evil.example":            "/",
		"\\\\evil.example":           "/",
		"https://evil.example/":      "/",
		"javascript:alert(1)":        "/",
		"/ok\r\nSet-Cookie: x=1":     "/",
		"/\tevil":                    "/",
		"/a/../../etc":               "/",
		"/a/./b":                     "/",
		"%2F%2Fevil.example":         "/",
		"/%2F%2Fevil.example":        "/", // harmless, but a decoded "//" is refused outright
		"/search?q=http://x.example": "/search?q=http://x.example",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	r, w, _ := demoServer(t)
	u, err := w.assets.url("vendor/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	rec := serve(r, httptest.NewRequest(http.MethodGet, u, nil))
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") ||
		rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(rec.Body.String(), "htmx") {
		t.Fatalf("GET %s: %d %v", u, rec.Code, rec.Header())
	}
	// An old or missing version must revalidate, never be cached for a year.
	rec = serve(r, httptest.NewRequest(http.MethodGet, "/static/app.css?v=old", nil))
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" || rec.Header().Get("ETag") == "" {
		t.Fatalf("old version: %d %v", rec.Code, rec.Header())
	}
	req := httptest.NewRequest(http.MethodGet, "/static/app.css", nil)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	if rec := serve(r, req); rec.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", rec.Code)
	}
	for _, p := range []string{"/static/nope.js", "/static/../web.go", "/static/"} {
		if rec := serve(r, httptest.NewRequest(http.MethodGet, p, nil)); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
}

func TestWorkspacePath(t *testing.T) {
	for _, tc := range [][3]string{
		{"abc", "", "/w/abc/"}, {"abc", SectionInbox, "/w/abc/"}, {"abc", SectionLeads, "/w/abc/leads"},
		{"a/b", SectionTeam, "/w/a%2Fb/team"}, {"abc", SectionSettings, "/w/abc/settings"},
	} {
		if got := WorkspacePath(tc[0], tc[1]); got != tc[2] {
			t.Errorf("WorkspacePath(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

func TestTimeTags(t *testing.T) {
	var nilTime *time.Time
	if got := timeTag("datetime")(nilTime); got != "—" {
		t.Errorf("nil time: %q", got)
	}
	if got := timeTag("datetime")(time.Time{}); got != "—" {
		t.Errorf("zero time: %q", got)
	}
	tokyo := time.FixedZone("JST", 9*3600)
	got := string(timeTag("date")(demoCreated.In(tokyo)))
	if !strings.Contains(got, `datetime="2026-01-02T03:04:05Z"`) || !strings.Contains(got, ">2026-01-02<") {
		t.Errorf("date tag: %q", got)
	}
	if got := humanSince(90 * time.Minute); got != "1 hour ago" {
		t.Errorf("humanSince: %q", got)
	}
	if got := humanSince(-3 * 24 * time.Hour); got != "in 3 days" {
		t.Errorf("humanSince: %q", got)
	}
}

func TestNewRejectsShortSecret(t *testing.T) {
	if _, err := New(Deps{Secret: []byte("short")}); err == nil {
		t.Fatal("New accepted a 5-byte CSRF secret")
	}
}

func TestSeeOther(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.POST("/x", func(c *gin.Context) { SeeOther(c, "/w/1/leads") })
	rec := serve(r, httptest.NewRequest(http.MethodPost, "/x", nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/w/1/leads" {
		t.Fatalf("form: %d %v", rec.Code, rec.Header())
	}
	req := httptest.NewRequest(http.MethodPost, "/x", nil)
	req.Header.Set("HX-Request", "true")
	rec = serve(r, req)
	if rec.Code != http.StatusNoContent || rec.Header().Get("HX-Redirect") != "/w/1/leads" {
		t.Fatalf("htmx: %d %v", rec.Code, rec.Header())
	}
}
