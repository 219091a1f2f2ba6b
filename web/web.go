package web

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Deps is what the web package needs from the rest of the program.
type Deps struct {
	// Secret keys the CSRF tokens; at least 32 bytes, the same on every
	// replica (a page rendered by one may post to another).
	Secret []byte
	// Session finds the session id of a request; nil until sign-in lands.
	Session SessionKey
	// Chrome fills the layout's header; nil renders pages signed-out.
	Chrome ChromeFunc
	// SecureCookies marks cookies Secure (TLS in front).
	SecureCookies bool
	// Product is the name in the header; "Inbox" when empty.
	Product string
	// Templates replaces the embedded templates; tests overlay pages on
	// Templates(). Nil uses the embedded ones.
	Templates fs.FS
	// Log receives render and request errors; nil uses slog.Default().
	Log *slog.Logger
}

// Web is the mounted foundation: the renderer, the CSRF protection and the
// static files. Page handlers hang off Pages().
type Web struct {
	Render *Renderer
	CSRF   *CSRF
	assets assets
}

// New parses the templates and hashes the static files once; an error here
// is a broken build, so callers should stop.
func New(d Deps) (*Web, error) {
	if d.Product == "" {
		d.Product = "Inbox"
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Templates == nil {
		d.Templates = Templates()
	}
	staticFS, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	a, err := loadAssets(staticFS)
	if err != nil {
		return nil, err
	}
	for _, need := range []string{"app.css", "app.js", "vendor/htmx.min.js"} {
		if _, ok := a[need]; !ok {
			return nil, errors.New("web: static file missing: " + need)
		}
	}
	csrf, err := NewCSRF(d.Secret, d.Session, d.SecureCookies)
	if err != nil {
		return nil, err
	}
	r := &Renderer{assets: a, product: d.Product, chrome: d.Chrome, csrf: csrf, log: d.Log}
	if r.pages, err = parsePages(d.Templates, r.funcs()); err != nil {
		return nil, err
	}
	return &Web{Render: r, CSRF: csrf, assets: a}, nil
}

// Mount adds the static files to r, at GET/HEAD /static/*name.
func (w *Web) Mount(r gin.IRoutes) {
	r.GET(StaticPrefix+"*name", w.assets.serve)
	r.HEAD(StaticPrefix+"*name", w.assets.serve)
}

// Pages returns a group of r for HTML pages: security headers on every
// answer, the body bounded (LimitBody), CSRF checked on every request that
// is not GET or HEAD.
func (w *Web) Pages(r gin.IRouter) *gin.RouterGroup {
	return r.Group("/", SecurityHeaders(), w.LimitBody(), w.CSRF.Middleware(w.Render.Expired))
}

// ContentSecurityPolicy allows only this origin's own files: no inline
// script or style, no eval, no framing, forms post only here.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// SecurityHeaders sets the headers every page answer carries. Pages are
// personal and change with every write, so they are never cached.
func SecurityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		setSecurityHeaders(c.Writer.Header())
		c.Next()
	}
}

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	// htmx fragments and full pages share URLs; caches must keep them apart.
	h.Add("Vary", "HX-Request")
}

// NotFoundHandler is a gin handler for NoRoute that renders the 404 page
// with the page headers.
func (w *Web) NotFoundHandler() gin.HandlerFunc {
	return func(c *gin.Context) {
		setSecurityHeaders(c.Writer.Header())
		if !w.limitBody(c) {
			return
		}
		if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
			// Still refuse a cross-site or tokenless write before saying 404.
			if err := w.CSRF.Check(c); err != nil {
				w.Render.Expired(c)
				return
			}
		}
		w.Render.NotFound(c)
	}
}
