// Package web is the HTML face of the inbox: server-rendered pages and htmx
// fragments over the same application layer that the JSON API calls.
//
// This file set is the foundation that the page handlers plug into:
//
//   - templates (templates/*.html, embedded) parsed once at start into named
//     pages that share layout.html and templates/partials/*.html;
//   - a Renderer that writes a full page, or only a named block when htmx
//     asks (HX-Request: true), and the 401/403/404/500 answers;
//   - CSRF protection bound to the session (HMAC of its id), plus a
//     same-origin check, on every request that is not GET or HEAD;
//   - security headers (a strict Content-Security-Policy: no inline script or
//     style anywhere, so templates must not use style= or on*= attributes);
//   - static files (htmx, its SSE extension, app.css, app.js) embedded and
//     served under /static/ with a content hash in the URL.
//
// The package must not decide what a person may do: the application layer
// does that, and pages only render what it answers. It writes no SQL and
// calls no workflow.
package web
