package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

//go:embed static
var staticFiles embed.FS

// StaticPrefix is where the embedded static files are served.
const StaticPrefix = "/static/"

// asset is one embedded static file with the hash that versions its URL.
type asset struct {
	body        []byte
	hash        string
	contentType string
}

// assets holds the embedded static files, read and hashed once at start.
type assets map[string]asset

func loadAssets(fsys fs.FS) (assets, error) {
	out := assets{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		out[p] = asset{body: body, hash: hex.EncodeToString(sum[:6]), contentType: contentType(p)}
		return nil
	})
	return out, err
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case "", ".LICENSE":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// url returns the versioned URL of a static file. An unknown name is a
// programming error in a template, so it panics at render time in tests.
func (a assets) url(name string) (string, error) {
	f, ok := a[name]
	if !ok {
		return "", &fs.PathError{Op: "static", Path: name, Err: fs.ErrNotExist}
	}
	return StaticPrefix + name + "?v=" + f.hash, nil
}

// serve answers GET and HEAD /static/*name. A request that carries the
// current hash may be cached for a year: a new build changes the hash and so
// the URL. Any other request must revalidate (ETag), so an old page that
// asks for a file by an old hash still gets the current file, not a stale one.
func (a assets) serve(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("name"), "/")
	f, ok := a[name]
	if !ok {
		c.Header("Cache-Control", "no-store")
		c.String(http.StatusNotFound, "not found\n")
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+f.hash+`"`)
	if c.Query("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(f.body))
}
