package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// SessionKey returns the id of the request's session, when it has one. The
// sign-in code provides it (for example from the session cookie or from a
// value its middleware put in the gin context); the id must be secret, as a
// session cookie's value is.
type SessionKey func(*gin.Context) (id string, ok bool)

const (
	// CSRFFormField is the hidden form field that carries the token.
	CSRFFormField = "csrf_token"
	// CSRFHeader is the request header that carries the token (app.js sets
	// it on every htmx request).
	CSRFHeader = "X-CSRF-Token"
	// PreSessionCookie holds a random id for a browser with no session yet,
	// so the sign-in and invite forms are protected too (login CSRF).
	PreSessionCookie = "inbox_presession"
)

// CSRF derives per-session tokens and refuses state-changing requests that
// do not carry the right one.
//
// The token is HMAC-SHA256(secret, "session\x00"+id), base64url: it needs
// no storage, changes with every session, and cannot be computed without the
// server's secret even by someone who knows a token of another session.
type CSRF struct {
	secret  []byte
	session SessionKey
	secure  bool
	origin  *http.CrossOriginProtection
}

// ErrCSRF is why a request was refused.
var ErrCSRF = errors.New("csrf: missing or wrong token")

// NewCSRF returns the protection keyed with secret (at least 32 bytes).
// secure marks the pre-session cookie Secure (set it when served over TLS).
func NewCSRF(secret []byte, session SessionKey, secure bool) (*CSRF, error) {
	if len(secret) < 32 {
		return nil, errors.New("web: the CSRF secret must be at least 32 bytes")
	}
	if session == nil {
		session = func(*gin.Context) (string, bool) { return "", false }
	}
	return &CSRF{secret: secret, session: session, secure: secure, origin: http.NewCrossOriginProtection()}, nil
}

func (x *CSRF) mac(kind, id string) string {
	m := hmac.New(sha256.New, x.secret)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Token returns the token for the request: bound to its session, or, before
// sign-in, to a random pre-session cookie that Token sets when missing.
func (x *CSRF) Token(c *gin.Context) string {
	if id, ok := x.session(c); ok && id != "" {
		return x.mac("session", id)
	}
	id, err := c.Cookie(PreSessionCookie)
	if err != nil || id == "" {
		if v, ok := c.Get(PreSessionCookie); ok {
			id = v.(string)
		} else {
			b := make([]byte, 32)
			_, _ = rand.Read(b) // crypto/rand.Read never fails
			id = base64.RawURLEncoding.EncodeToString(b)
			c.Set(PreSessionCookie, id) // one cookie per response, however many forms
			http.SetCookie(c.Writer, &http.Cookie{
				Name: PreSessionCookie, Value: id, Path: "/",
				HttpOnly: true, Secure: x.secure, SameSite: http.SameSiteLaxMode,
			})
		}
	}
	return x.mac("presession", id)
}

// Check returns nil when the request may change state: a safe method, or a
// same-origin request that carries the token of its session (or
// pre-session) in the csrf_token field or the X-CSRF-Token header.
func (x *CSRF) Check(c *gin.Context) error {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	// Sec-Fetch-Site and Origin, when the browser sends them, must say
	// same origin; this stops a cross-site form even before the token.
	if err := x.origin.Check(c.Request); err != nil {
		return err
	}
	got := c.GetHeader(CSRFHeader)
	if got == "" {
		got = c.PostForm(CSRFFormField)
	}
	if got == "" {
		return ErrCSRF
	}
	var want string
	if id, ok := x.session(c); ok && id != "" {
		want = x.mac("session", id)
	} else if id, err := c.Cookie(PreSessionCookie); err == nil && id != "" {
		want = x.mac("presession", id)
	} else {
		return ErrCSRF
	}
	if !hmac.Equal([]byte(got), []byte(want)) {
		return ErrCSRF
	}
	return nil
}

// Middleware refuses, with refuse, every request that fails Check.
func (x *CSRF) Middleware(refuse gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := x.Check(c); err != nil {
			refuse(c)
			c.Abort()
			return
		}
		c.Next()
	}
}
