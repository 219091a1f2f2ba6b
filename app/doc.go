// Package app is the inbox's application layer: what a member may do in a workspace, and
// doing it. The JSON API (package api) and the pages (package web) both call it, so the
// authorisation, the lifecycle Updates (with the restart of a missing workflow), the reads
// and the writes exist once. Each operation takes the Caller, checks its permission with
// Casbin, and then reads or writes through the store or the conversation's workflow.
//
// It knows nothing of HTTP bodies or HTML: callers decode their input into the types here
// and render what comes back. Its errors carry the HTTP status and code of api.md, because
// both callers answer over HTTP, but it never writes a response.
package app
