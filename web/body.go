package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// MaxFormBytes bounds the body of a page request. The pages' forms are short urlencoded
// text (the longest is a webhook's URL and events, or a password); 1 MiB is far above any.
const MaxFormBytes = 1 << 20

// LimitBody refuses, before anything reads it, a body no page sends: a multipart one (415:
// no form uploads files, and parsing one would spill its parts to temporary files) or one
// declared over MaxFormBytes (413). An urlencoded form is parsed here under the bound, so
// one that turns out too large while being read is a 413 too, not a form with its fields
// silently missing (which the CSRF check would answer as an expired form).
func (w *Web) LimitBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !w.limitBody(c) {
			c.Abort()
			return
		}
		c.Next()
	}
}

// limitBody is LimitBody's check; false when it has answered.
func (w *Web) limitBody(c *gin.Context) bool {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Type"))), "multipart/") {
		w.Render.UnsupportedMediaType(c)
		return false
	}
	if r.ContentLength > MaxFormBytes {
		w.Render.TooLarge(c)
		return false
	}
	r.Body = http.MaxBytesReader(c.Writer, r.Body, MaxFormBytes)
	// Other parse errors (a bad escape) keep their old meaning: the fields read so far.
	var tooLarge *http.MaxBytesError
	if err := r.ParseForm(); errors.As(err, &tooLarge) {
		w.Render.TooLarge(c)
		return false
	}
	return true
}

// TooLarge answers 413 to a request whose body is over MaxFormBytes.
func (r *Renderer) TooLarge(c *gin.Context) {
	r.errorPage(c, http.StatusRequestEntityTooLarge, "Too much to send",
		"What this form sent is over the 1 MiB a page accepts, so nothing was saved. Shorten what you typed and try again.")
}

// UnsupportedMediaType answers 415 to a multipart (file upload) request.
func (r *Renderer) UnsupportedMediaType(c *gin.Context) {
	r.errorPage(c, http.StatusUnsupportedMediaType, "Uploads are not accepted",
		"These pages take typed text, not file uploads, so nothing was saved. Reload the page and try again.")
}
