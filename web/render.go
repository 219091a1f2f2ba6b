package web

import (
	"bytes"
	"database/sql"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

//go:embed templates
var templateFiles embed.FS

// Templates returns the embedded templates (layout.html, partials/, pages).
// Tests that need a page of their own overlay it on this file system and
// pass the result in Deps.Templates.
func Templates() fs.FS {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err) // the directory is embedded: it exists
	}
	return sub
}

// Person is the signed-in person shown in the header.
type Person struct {
	Name  string
	Email string
}

// Workspace is a workspace as the header and its switcher show it.
type Workspace struct {
	ID   string
	Name string
}

// Chrome is what the layout shows around a page: who is signed in, which
// workspace the page belongs to (nil hides the nav) and the workspaces the
// person may switch to.
type Chrome struct {
	Person     *Person
	Workspace  *Workspace
	Workspaces []Workspace
	// Bell is the person's notifications in the workspace (nil outside one); LiveURL the
	// workspace's event stream, which keeps the bell current ("" without live updates).
	Bell    *Bell
	LiveURL string
}

// ChromeFunc looks up the Chrome of a request. The sign-in and workspace
// code provides it; nil means every page renders signed-out.
type ChromeFunc func(*gin.Context) Chrome

// View is the value every page and fragment template receives as ".".
// Page-specific data is in .Data.
type View struct {
	Chrome
	// Product is the product name in the header and the <title>.
	Product string
	// Title is the page title; a page may set it with SetTitle.
	Title string
	// Section names the nav entry to mark current: "inbox", "leads",
	// "team" or "settings".
	Section string
	// CSRFToken is the token of the request's session; forms carry it in
	// the csrf_token field ({{.CSRFField}}), htmx in the X-CSRF-Token header.
	CSRFToken string
	// Data is what the handler passed.
	Data any
}

// CSRFField is the hidden input that every state-changing form carries.
func (v View) CSRFField() template.HTML {
	return template.HTML(`<input type="hidden" name="` + CSRFFormField + `" value="` +
		template.HTMLEscapeString(v.CSRFToken) + `">`)
}

// Renderer writes pages and fragments. Build it once with NewRenderer.
type Renderer struct {
	pages   map[string]*template.Template
	assets  assets
	product string
	chrome  ChromeFunc
	csrf    *CSRF
	log     *slog.Logger
}

// Page names of the error pages, defined in templates/error.html.
const errorPage = "error"

const (
	ctxTitle   = "web.title"
	ctxSection = "web.section"
)

// SetTitle sets the <title> and heading context of the page about to render.
func SetTitle(c *gin.Context, title string) { c.Set(ctxTitle, title) }

// SetSection marks the nav entry of the page about to render.
func SetSection(c *gin.Context, section string) { c.Set(ctxSection, section) }

// parsePages parses layout.html and partials/*.html into a base set and
// clones it once per page file (every other *.html at the top level), so
// each page's blocks ("title", "main", and any fragment) are its own.
func parsePages(fsys fs.FS, funcs template.FuncMap) (map[string]*template.Template, error) {
	base := template.New("layout.html").Funcs(funcs)
	layout, err := fs.ReadFile(fsys, "layout.html")
	if err != nil {
		return nil, err
	}
	if _, err := base.Parse(string(layout)); err != nil {
		return nil, fmt.Errorf("layout.html: %w", err)
	}
	partials, err := fs.Glob(fsys, "partials/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range partials {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		if _, err := base.New(p).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	files, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		if f == "layout.html" {
			continue
		}
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.New(f).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		pages[strings.TrimSuffix(f, ".html")] = t
	}
	if _, ok := pages[errorPage]; !ok {
		return nil, fmt.Errorf("templates: %s.html is missing", errorPage)
	}
	return pages, nil
}

func (r *Renderer) view(c *gin.Context, data any, chrome bool) View {
	v := View{Product: r.product, Data: data, Title: c.GetString(ctxTitle), Section: c.GetString(ctxSection)}
	if r.csrf != nil {
		v.CSRFToken = r.csrf.Token(c)
	}
	if chrome && r.chrome != nil {
		v.Chrome = r.chrome(c)
	}
	return v
}

// Page renders the named page (templates/<name>.html) in the layout.
func (r *Renderer) Page(c *gin.Context, status int, name string, data any) {
	r.execute(c, status, name, "layout", r.view(c, data, true))
}

// Fragment answers an htmx request (HX-Request: true) with only the named
// block of the page, and any other request (a form posted without
// JavaScript, a reload) with the whole page. One handler serves both.
func (r *Renderer) Fragment(c *gin.Context, status int, name, block string, data any) {
	if !IsHTMX(c) {
		r.Page(c, status, name, data)
		return
	}
	r.execute(c, status, name, block, r.view(c, data, false))
}

// IsHTMX reports whether htmx sent the request.
func IsHTMX(c *gin.Context) bool { return c.GetHeader("HX-Request") == "true" }

func (r *Renderer) execute(c *gin.Context, status int, name, block string, v View) {
	t, ok := r.pages[name]
	if !ok {
		r.fail(c, fmt.Errorf("web: no page template %q", name))
		return
	}
	// Render to a buffer first so a template error becomes a clean 500
	// instead of half a page.
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, v); err != nil {
		r.fail(c, fmt.Errorf("web: render %s/%s: %w", name, block, err))
		return
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	_, _ = c.Writer.Write(buf.Bytes())
}

// fail writes a bare 500 when even rendering failed; it must not recurse.
func (r *Renderer) fail(c *gin.Context, err error) {
	r.log.Error("web: render", "path", logPath(c), "err", err)
	if c.Writer.Written() {
		return
	}
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.String(http.StatusInternalServerError, "Something went wrong on our side. Reload the page to try again.\n")
}

// errorData is the Data of the error page.
type errorData struct {
	Status  int
	Heading string
	Message string
}

func (r *Renderer) errorPage(c *gin.Context, status int, heading, message string) {
	SetTitle(c, heading)
	d := errorData{Status: status, Heading: heading, Message: message}
	r.Fragment(c, status, errorPage, "error-message", d)
	c.Abort()
}

// NotFound answers 404. It is also the answer for another workspace's
// conversation, so a URL never tells whether the thing exists elsewhere.
func (r *Renderer) NotFound(c *gin.Context) {
	r.errorPage(c, http.StatusNotFound, "Not found",
		"Not found: it may have been removed, or belong to another workspace.")
}

// Forbidden answers 403: the person is signed in but may not do this.
func (r *Renderer) Forbidden(c *gin.Context) {
	r.errorPage(c, http.StatusForbidden, "Not allowed",
		"Your role in this workspace does not allow this. Ask an owner or an admin if you need it.")
}

// Expired answers 403 to a state-changing request without a valid CSRF token.
func (r *Renderer) Expired(c *gin.Context) {
	r.errorPage(c, http.StatusForbidden, "This form has expired",
		"This form has expired, or it was sent from another site. Reload the page and try again.")
}

// ServerError logs err and answers 500 without its details.
func (r *Renderer) ServerError(c *gin.Context, err error) {
	r.log.Error("web: request failed", "path", logPath(c), "err", err)
	r.errorPage(c, http.StatusInternalServerError, "Something went wrong",
		"Something went wrong on our side. Reload the page to try again; if it keeps happening, tell whoever runs this inbox.")
}

// Unauthorized sends a person who is not signed in (or whose session
// expired) to the sign-in page, which returns them here afterwards. htmx
// gets the HX-Redirect header, so the whole page moves, not a fragment.
func (r *Renderer) Unauthorized(c *gin.Context) {
	target := SignInPath + "?next=" + url.QueryEscape(SafeNext(c.Request.URL.RequestURI()))
	if IsHTMX(c) {
		// A fragment request comes from the page the person looks at.
		next := SafeNext(refererPath(c))
		target = SignInPath + "?next=" + url.QueryEscape(next)
		c.Header("HX-Redirect", target)
		c.AbortWithStatus(http.StatusUnauthorized)
		return
	}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		// The posted form cannot be replayed after sign-in; come back to the page.
		target = SignInPath + "?next=" + url.QueryEscape(SafeNext(refererPath(c)))
	}
	c.Redirect(http.StatusSeeOther, target)
	c.Abort()
}

// refererPath is the path and query of the Referer when it is this host,
// else "/".
func refererPath(c *gin.Context) string {
	u, err := url.Parse(c.GetHeader("Referer"))
	if err != nil || u.Host != c.Request.Host {
		return "/"
	}
	return u.RequestURI()
}

// SafeNext returns next when it is a path on this site, and "/" otherwise,
// so a ?next= parameter can never send a person to another site: it must
// start with a single "/", hold no backslash or control character, and have
// no scheme or host.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") {
		return "/"
	}
	for _, r := range next {
		if r == '\\' || r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	// Dot segments could climb out of a prefix a proxy mounted us under.
	if cleaned := path.Clean(u.Path); cleaned != u.Path && cleaned+"/" != u.Path {
		return "/"
	}
	return next
}

// Paths of the pages. Nav links are built from them, so the handlers that
// serve them must use the same.
const (
	SignInPath  = "/signin"
	SignOutPath = "/signout"
)

// Sections of a workspace, as the nav names them.
const (
	SectionInbox    = "inbox"
	SectionLeads    = "leads"
	SectionTeam     = "team"
	SectionSettings = "settings"
)

// WorkspacePath is the path of a section of a workspace:
// /w/<id>/ for the inbox, /w/<id>/leads, /w/<id>/team, /w/<id>/settings.
func WorkspacePath(workspaceID, section string) string {
	p := "/w/" + url.PathEscape(workspaceID) + "/"
	if section == "" || section == SectionInbox {
		return p
	}
	return p + url.PathEscape(section)
}

// timeLayout is the server-side text of a <time> before app.js rewrites it
// into the viewer's time zone, and what a browser without JavaScript shows.
const (
	timeLayout = "2006-01-02 15:04 UTC"
	dateLayout = "2006-01-02"
)

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, !t.IsZero()
	case sql.NullTime:
		return t.Time, t.Valid && !t.Time.IsZero()
	}
	return time.Time{}, false
}

// timeTag renders <time> with an RFC 3339 datetime, a UTC fallback text and
// data-local telling app.js how to rewrite it ("datetime", "date",
// "relative"). A zero or nil time renders an em dash.
func timeTag(kind string) func(v any) template.HTML {
	return func(v any) template.HTML {
		t, ok := asTime(v)
		if !ok {
			return "—"
		}
		t = t.UTC()
		text := t.Format(timeLayout)
		switch kind {
		case "date":
			text = t.Format(dateLayout)
		case "relative":
			text = humanSince(time.Since(t)) + " (" + t.Format(timeLayout) + ")"
		}
		return template.HTML(`<time datetime="` + t.Format(time.RFC3339) + `" data-local="` + kind +
			`" title="` + t.Format(timeLayout) + `">` + template.HTMLEscapeString(text) + `</time>`)
	}
}

// humanSince is the server's relative time in English, for the fallback.
func humanSince(d time.Duration) string {
	past := d >= 0
	if !past {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func (r *Renderer) funcs() template.FuncMap {
	return template.FuncMap{
		"static":        r.assets.url,
		"datetime":      timeTag("datetime"),
		"date":          timeTag("date"),
		"ago":           timeTag("relative"),
		"workspacePath": WorkspacePath,
		"signInPath":    func() string { return SignInPath },
		"signOutPath":   func() string { return SignOutPath },
		"csrfHeader":    func() string { return CSRFHeader },
		"maxLen":        maxLen,
		"duration":      reportDuration,
		"channelName":   channelName,
		"slaBadge":      slaBadge,
	}
}

// fieldLimits are the longest values the application layer accepts, for the forms'
// maxlength: the hint in the page and the check behind it are then one number.
var fieldLimits = map[string]int{
	"email":       app.MaxEmailLen,
	"name":        app.MaxNameLen,
	"password":    app.MaxPasswordLength,
	"token_name":  app.MaxTokenNameLen,
	"webhook_url": app.MaxWebhookURLLen,
	"q":           app.MaxQueryLen,
	"openai_key":  app.MaxOpenAIKeyLen,
	"label":       domain.MaxLabelNameLen,
}

// maxLen is the template func of fieldLimits; an unknown field is a template error.
func maxLen(field string) (int, error) {
	n, ok := fieldLimits[field]
	if !ok {
		return 0, fmt.Errorf("maxLen: no limit for the field %q", field)
	}
	return n, nil
}

// SeeOther sends the browser to path after a successful write (post,
// redirect, get): a 303 for a plain form, HX-Redirect for htmx, which would
// otherwise follow the redirect itself and swap a whole page into a
// fragment. path is the server's own, never a request parameter (use
// SafeNext for those).
func SeeOther(c *gin.Context, path string) {
	if IsHTMX(c) {
		c.Header("HX-Redirect", path)
		c.Status(http.StatusNoContent)
		c.Abort()
		return
	}
	c.Redirect(http.StatusSeeOther, path)
	c.Abort()
}

// logPath is the request's path as logs show it: an invite link's token signs its holder in
// until used, and logs are read by more people than should hold one.
func logPath(c *gin.Context) string {
	if p := c.Request.URL.Path; !strings.HasPrefix(p, app.InvitePath) {
		return p
	}
	return app.InvitePath + "<redacted>"
}
