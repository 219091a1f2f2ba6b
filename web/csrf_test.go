package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCSRF(t *testing.T) {
	r, w, clicks := demoServer(t)
	token := w.CSRF.mac("session", "s1")
	other := w.CSRF.mac("session", "s2")

	type req struct {
		name    string
		header  string // X-CSRF-Token
		form    string // csrf_token
		cookie  string // session id
		site    string // Sec-Fetch-Site
		origin  string
		method  string
		allowed bool
	}
	for _, tc := range []req{
		{name: "header token", header: token, cookie: "s1", allowed: true},
		{name: "form token", form: token, cookie: "s1", allowed: true},
		{name: "same-origin browser", header: token, cookie: "s1", site: "same-origin", origin: "http://example.com", allowed: true},
		{name: "no token", cookie: "s1"},
		{name: "empty token", header: "", form: "", cookie: "s1"},
		{name: "token of another session", header: other, cookie: "s1"},
		{name: "token without session", header: token},
		{name: "truncated token", header: token[:len(token)-1], cookie: "s1"},
		{name: "cross-site with token", header: token, cookie: "s1", site: "cross-site"},
		{name: "same-site (a sibling subdomain) with token", header: token, cookie: "s1", site: "same-site"},
		{name: "foreign Origin with token", header: token, cookie: "s1", origin: "http://evil.example"},
		{name: "DELETE without token", cookie: "s1", method: http.MethodDelete},
		{name: "PUT with token", header: token, cookie: "s1", method: http.MethodPut, allowed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := clicks.Load()
			form := url.Values{}
			if tc.form != "" {
				form.Set(CSRFFormField, tc.form)
			}
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			rq := httptest.NewRequest(method, "/demo/click", strings.NewReader(form.Encode()))
			rq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.header != "" {
				rq.Header.Set(CSRFHeader, tc.header)
			}
			if tc.cookie != "" {
				rq.AddCookie(&http.Cookie{Name: sessionCookie, Value: tc.cookie})
			}
			if tc.site != "" {
				rq.Header.Set("Sec-Fetch-Site", tc.site)
			}
			if tc.origin != "" {
				rq.Header.Set("Origin", tc.origin)
			}
			rec := serve(r, rq)
			if tc.allowed {
				if method == http.MethodPost && rec.Code != http.StatusOK {
					t.Fatalf("refused: %d %s", rec.Code, rec.Body)
				}
				if method != http.MethodPost && rec.Code == http.StatusForbidden {
					t.Fatalf("refused: %d", rec.Code)
				}
				return
			}
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "This form has expired") {
				t.Fatalf("want the 403 expired page, got %d %s", rec.Code, rec.Body)
			}
			if clicks.Load() != before {
				t.Fatal("the refused request reached the handler")
			}
		})
	}
}

// Before sign-in there is no session: the token binds to a random
// pre-session cookie, so the sign-in form is protected too.
func TestCSRFPreSession(t *testing.T) {
	r, w, _ := demoServer(t)
	// A GET renders a form: the token comes with a pre-session cookie.
	rec := serve(r, httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	var pre *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == PreSessionCookie {
			pre = c
		}
	}
	if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteLaxMode {
		t.Fatalf("no HttpOnly SameSite=Lax pre-session cookie: %v", rec.Result().Cookies())
	}
	token := w.CSRF.mac("presession", pre.Value)
	if !strings.Contains(rec.Body.String(), token) {
		t.Fatal("the page does not carry the pre-session token")
	}
	post := func(cookie *http.Cookie, token string) int {
		rq := httptest.NewRequest(http.MethodPost, "/demo/click", nil)
		if cookie != nil {
			rq.AddCookie(cookie)
		}
		rq.Header.Set(CSRFHeader, token)
		return serve(r, rq).Code
	}
	if code := post(pre, token); code != http.StatusOK {
		t.Fatalf("pre-session token refused: %d", code)
	}
	if code := post(&http.Cookie{Name: PreSessionCookie, Value: "attacker-chosen"}, token); code != http.StatusForbidden {
		t.Fatalf("token with another pre-session cookie: %d", code)
	}
	if code := post(nil, token); code != http.StatusForbidden {
		t.Fatalf("token without cookie: %d", code)
	}
	// A session token never doubles as a pre-session one and back.
	if code := post(pre, w.CSRF.mac("session", pre.Value)); code != http.StatusForbidden {
		t.Fatalf("session-kind token accepted for a pre-session: %d", code)
	}
}
