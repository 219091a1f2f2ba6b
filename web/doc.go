// Package web is the HTML face of the inbox: server-rendered pages and htmx
// fragments over the same application layer that the JSON API calls.
//
// Site (site.go) is the web admin as the binary mounts it; routes.go lists every page
// route in one table. Its pages: sign-in, sign-out and invite pages (signin.go), the
// session cookie and the membership lookup of every workspace page (/w/<workspace>/...),
// the Inbox and Conversation pages (inbox.go, conversation.go), Leads, Team, Settings,
// Webhooks and the person's Account (leads.go, team.go, settings.go, webhooks.go,
// account.go) and the live event stream (live.go).
// Each handler reads the request, calls the application layer (package app) and renders.
//
// Under it is the foundation the page handlers plug into:
//
//   - templates (templates/*.html, embedded) parsed once at start into named
//     pages that share layout.html and templates/partials/*.html;
//   - a Renderer that writes a full page, or only a named block when htmx
//     asks (HX-Request: true), and the 401/403/404/500 answers;
//   - CSRF protection bound to the session (HMAC of its id), plus a
//     same-origin check, on every request that is not GET or HEAD;
//   - security headers (a strict Content-Security-Policy: no inline script or
//     style anywhere, so templates must not use style= or on*= attributes);
//   - static files (htmx, app.css, app.js with the live-update client) embedded and
//     served under /static/ with a content hash in the URL.
//
// How a page plugs in (Miniflux's shape: one small handler per page):
//
//	w, err := web.New(web.Deps{Secret: key, Session: sessionKey, Chrome: chrome})
//	w.Mount(engine)                 // GET /static/*
//	pages := w.Pages(engine)        // security headers + CSRF on this group
//	pages.GET("/w/:workspace/leads", func(c *gin.Context) {
//		web.SetTitle(c, "Leads"); web.SetSection(c, web.SectionLeads)
//		w.Render.Page(c, http.StatusOK, "leads", data)   // templates/leads.html
//	})
//	engine.NoRoute(w.NotFoundHandler())
//
// A page file defines "main" (and may define "title"-free fragments, such as
// "rows"); Render.Fragment answers htmx with only that block and anything
// else with the whole page. Every template gets a View: .Data is the
// handler's value, .CSRFField the hidden input each form must carry (htmx
// sends the X-CSRF-Token header by itself, from app.js). Template funcs:
// static, datetime, date, ago (a <time> that app.js shows in the viewer's
// zone), workspacePath, signInPath, signOutPath, csrfHeader; shared blocks
// live in templates/partials/ ("badge", "inline-error").
//
// htmx is configured (layout.html, <meta name="htmx-config">) to swap 409
// and 422 answers like successes, so a handler shows a refused move inline
// by answering the fragment with that status; other 4xx/5xx answers are not
// swapped and app.js shows their text in #alerts.
//
// The package must not decide what a person may do: the application layer
// does that, and pages only render what it answers. It writes no SQL and
// calls no workflow.
package web
