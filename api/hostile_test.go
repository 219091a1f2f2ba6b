package api_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/api"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

// TestHostileInput sends what a hostile or broken client would, through a real HTTP server
// (so header limits are net/http's own), and checks each request gets its 4xx with the
// API's error code and changes nothing in Postgres.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	srv := httptest.NewUnstartedServer(env.Router)
	srv.Config.MaxHeaderBytes = 64 << 10 // as cmd/inbox serves
	srv.Start()
	t.Cleanup(srv.Close)
	client := &http.Client{Timeout: 30 * time.Second}

	ws := env.NewWorkspace("Hostile Co")
	other := env.NewWorkspace("Hostile Other Co")
	conv := newConversation(t, env, ws, "hostile-1")
	newConversation(t, env, ws, "hostile-2")
	otherConv := newConversation(t, env, other, "hostile-other")
	leadOf := func(w testenv.Workspace, id string) string {
		var d detail
		env.As(w.OwnerToken, http.MethodGet, convPath(w, id, ""), nil).JSON(t, &d)
		return d.Lead.ID
	}
	lead, otherLead := leadOf(ws, conv), leadOf(other, otherConv)

	// A member who was removed and an admin who was demoted to viewer keep their tokens.
	removed, removedTok, err := env.Store.AddMember(ctx, ws.WorkspaceID, "removed@hostile.example", "Removed", domain.Support)
	if err != nil {
		t.Fatal(err)
	}
	demoted, demotedTok, err := env.Store.AddMember(ctx, ws.WorkspaceID, "demoted@hostile.example", "Demoted", domain.Admin)
	if err != nil {
		t.Fatal(err)
	}
	target, _, err := env.Store.AddMember(ctx, ws.WorkspaceID, "target@hostile.example", "Target", domain.Support)
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/api/v1/workspaces/%s", ws.WorkspaceID)
	if res := env.As(ws.OwnerToken, http.MethodDelete, base+"/members/"+removed.UserID.String(), nil); res.Code != http.StatusNoContent && res.Code != http.StatusOK {
		t.Fatalf("remove member: %d %s", res.Code, res.Body)
	}
	if res := env.As(ws.OwnerToken, http.MethodPatch, base+"/members/"+demoted.UserID.String(), map[string]any{"role": "viewer"}); res.Code != http.StatusOK {
		t.Fatalf("demote member: %d %s", res.Code, res.Body)
	}

	// Real cursors: one of the conversation list, of another workspace, of another list.
	cursorOf := func(w testenv.Workspace, list string) string {
		var page struct {
			NextCursor *string `json:"next_cursor"`
		}
		env.As(w.OwnerToken, http.MethodGet, fmt.Sprintf("/api/v1/workspaces/%s/%s?limit=1", w.WorkspaceID, list), nil).JSON(t, &page)
		if page.NextCursor == nil {
			t.Fatalf("%s: no next cursor", list)
		}
		return *page.NextCursor
	}
	newConversation(t, env, other, "hostile-other-2")
	ownCursor, foreignCursor, memberCursor := cursorOf(ws, "conversations"), cursorOf(other, "conversations"), cursorOf(ws, "members")
	tampered := base64.RawURLEncoding.EncodeToString([]byte(`{"k":"c","t":"2026-01-01T00:00:00Z' OR '1'='1","i":"` + conv + `"}`))

	ingest := func(fields string) string {
		return `{"conversation_ref":"hostile-new","channel":"chat","message":{"role":"visitor","text":"hi"` + fields + `}}`
	}
	const ctJSON = "application/json"
	owner, key := "Bearer "+ws.OwnerToken, ws.IngestKey
	enc := url.QueryEscape
	type row struct {
		name, method, path string
		auth, ingestKey    string // Authorization header, X-Inbox-Key
		contentType, body  string
		status             int
		code               string // error.code; "" for a success
	}
	rows := []row{
		// Bodies: size, nesting, types, unknown fields, encoding, duplicate keys, media type.
		{name: "ingest body over its limit", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: ctJSON, body: ingest(`,"x":"` + strings.Repeat("a", api.MaxIngestBody) + `"`), status: 413, code: "payload_too_large"},
		{name: "admin body over 16 KiB", method: "PUT", path: base + "/settings/openai-key", auth: owner, contentType: ctJSON, body: `{"api_key":"` + strings.Repeat("k", 17<<10) + `"}`, status: 413, code: "payload_too_large"},
		{name: "ingest nested 10,000 deep", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: ctJSON, body: strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000), status: 400, code: "bad_request"},
		{name: "state nested 10,000 deep", method: "POST", path: base + "/conversations/" + conv + "/state", auth: owner, contentType: ctJSON, body: `{"state":` + strings.Repeat("[", 10_000), status: 400, code: "bad_request"},
		{name: "ingest wrong type", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: ctJSON, body: `{"conversation_ref":1,"channel":"chat","message":{"role":"visitor","text":"hi"}}`, status: 400, code: "bad_request"},
		{name: "ingest message as a string", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: ctJSON, body: `{"conversation_ref":"r","channel":"chat","message":"hi"}`, status: 400, code: "bad_request"},
		{name: "state wrong type", method: "POST", path: base + "/conversations/" + conv + "/state", auth: owner, contentType: ctJSON, body: `{"state":1}`, status: 400, code: "bad_request"},
		{name: "state body null", method: "POST", path: base + "/conversations/" + conv + "/state", auth: owner, contentType: ctJSON, body: `null`, status: 400, code: "bad_request"},
		{name: "state body empty", method: "POST", path: base + "/conversations/" + conv + "/state", auth: owner, contentType: ctJSON, body: ``, status: 400, code: "bad_request"},
		{name: "assignee wrong type", method: "PUT", path: base + "/conversations/" + conv + "/assignee", auth: owner, contentType: ctJSON, body: `{"user_id":5}`, status: 400, code: "bad_request"},
		{name: "lead status wrong type", method: "PATCH", path: base + "/leads/" + lead, auth: owner, contentType: ctJSON, body: `{"status":true}`, status: 400, code: "bad_request"},
		{name: "member email wrong type", method: "POST", path: base + "/members", auth: owner, contentType: ctJSON, body: `{"email":["a@b.c"],"name":"X","role":"support"}`, status: 400, code: "bad_request"},
		{name: "settings key wrong type", method: "PUT", path: base + "/settings/openai-key", auth: owner, contentType: ctJSON, body: `{"api_key":{"k":"sk-12345678"}}`, status: 400, code: "bad_request"},
		{name: "ingest unknown field", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: ctJSON, body: ingest(`,"priority":"high"`), status: 400, code: "bad_request"},
		{name: "state unknown field", method: "POST", path: base + "/conversations/" + conv + "/state", auth: owner, contentType: ctJSON, body: `{"state":"pending","force":true}`, status: 400, code: "bad_request"},
		{name: "member unknown field", method: "POST", path: base + "/members", auth: owner, contentType: ctJSON, body: `{"email":"x@hostile.example","name":"X","role":"support","is_owner":true}`, status: 400, code: "bad_request"},
		{name: "settings unknown field", method: "PUT", path: base + "/settings/openai-key", auth: owner, contentType: ctJSON, body: `{"api_key":"sk-12345678","workspace_id":"x"}`, status: 400, code: "bad_request"},
		{name: "ingest raw invalid UTF-8", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: ctJSON, body: `{"conversation_ref":"hostile-new","channel":"chat","message":{"role":"visitor","text":"caf` + "\xe9" + `"}}`, status: 400, code: "bad_request"},
		{name: "ingest lone surrogate escape", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: ctJSON, body: `{"conversation_ref":"hostile-new","channel":"chat","message":{"role":"visitor","text":"a\udc00b"}}`, status: 400, code: "bad_request"},
		{name: "member name raw invalid UTF-8", method: "POST", path: base + "/members", auth: owner, contentType: ctJSON, body: `{"email":"x@hostile.example","name":"` + "\xff\xfe" + `","role":"support"}`, status: 400, code: "bad_request"},
		{name: "member name lone surrogate", method: "POST", path: base + "/members", auth: owner, contentType: ctJSON, body: `{"email":"x@hostile.example","name":"\ud800","role":"support"}`, status: 400, code: "bad_request"},
		{name: "ingest NUL in text", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: ctJSON, body: `{"conversation_ref":"hostile-new","channel":"chat","message":{"role":"visitor","text":"a\u0000b"}}`, status: 400, code: "bad_request"},
		{name: "ingest duplicate key", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: ctJSON, body: `{"conversation_ref":"hostile-new","conversation_ref":"hostile-1","channel":"chat","message":{"role":"visitor","text":"hi"}}`, status: 400, code: "bad_request"},
		{name: "state duplicate key", method: "POST", path: base + "/conversations/" + conv + "/state", auth: owner, contentType: ctJSON, body: `{"state":"pending","state":"closed"}`, status: 400, code: "bad_request"},
		{name: "member duplicate key by case", method: "POST", path: base + "/members", auth: owner, contentType: ctJSON, body: `{"email":"x@hostile.example","name":"X","role":"viewer","Role":"owner"}`, status: 400, code: "bad_request"},
		{name: "ingest as text/plain", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: "text/plain", body: ingest(""), status: 415, code: "unsupported_media_type"},
		{name: "ingest as a form", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: "application/x-www-form-urlencoded", body: ingest(""), status: 415, code: "unsupported_media_type"},
		{name: "state without Content-Type", method: "POST", path: base + "/conversations/" + conv + "/state", auth: owner, body: `{"state":"pending"}`, status: 415, code: "unsupported_media_type"},
		{name: "state as text/plain", method: "POST", path: base + "/conversations/" + conv + "/state", auth: owner, contentType: "text/plain;charset=utf-8", body: `{"state":"pending"}`, status: 415, code: "unsupported_media_type"},
		{name: "settings in latin1", method: "PUT", path: base + "/settings/openai-key", auth: owner, contentType: "application/json; charset=iso-8859-1", body: `{"api_key":"sk-12345678"}`, status: 415, code: "unsupported_media_type"},
		{name: "ingest two JSON values", method: "POST", path: "/api/v1/ingest/messages", ingestKey: key, contentType: ctJSON, body: ingest("") + ingest(""), status: 400, code: "bad_request"},

		// Query strings: SQL in filters is a bad value; in q it is text that matches nothing.
		{name: "SQL in state filter", method: "GET", path: base + "/conversations?state=" + enc("open' OR '1'='1"), auth: owner, status: 400, code: "bad_request"},
		{name: "SQL in assignee filter", method: "GET", path: base + "/conversations?assignee=" + enc("me' OR 1=1--"), auth: owner, status: 400, code: "bad_request"},
		{name: "SQL in channel filter", method: "GET", path: base + "/conversations?channel=" + enc("chat;DROP TABLE conversations"), auth: owner, status: 400, code: "bad_request"},
		{name: "SQL in created_after", method: "GET", path: base + "/conversations?created_after=" + enc("2026-01-01' OR '1'='1"), auth: owner, status: 400, code: "bad_request"},
		{name: "SQL in lead status", method: "GET", path: base + "/leads?status=" + enc("new') OR ('1'='1"), auth: owner, status: 400, code: "bad_request"},
		{name: "SQL in export filter", method: "GET", path: base + "/leads/export.csv?status=" + enc("new;DELETE FROM leads"), auth: owner, status: 400, code: "bad_request"},
		{name: "SQL in q", method: "GET", path: base + "/conversations?q=" + enc("'; DROP TABLE conversations; --"), auth: owner, status: 200},
		{name: "LIKE wildcards in q", method: "GET", path: base + "/conversations?q=" + enc(`%_\%`), auth: owner, status: 200},
		{name: "invalid UTF-8 in q", method: "GET", path: base + "/conversations?q=%ff%fe%fd", auth: owner, status: 400, code: "bad_request"},
		{name: "limit twice", method: "GET", path: base + "/conversations?limit=1&limit=200", auth: owner, status: 400, code: "bad_request"},
		{name: "cursor twice", method: "GET", path: base + "/conversations?cursor=" + ownCursor + "&cursor=" + ownCursor, auth: owner, status: 400, code: "bad_request"},
		{name: "limit overflow", method: "GET", path: base + "/leads?limit=99999999999999999999", auth: owner, status: 400, code: "bad_request"},
		{name: "limit negative", method: "GET", path: base + "/members?limit=-1", auth: owner, status: 400, code: "bad_request"},
		{name: "filter twice", method: "GET", path: base + "/conversations?unread=true&unread=false", auth: owner, status: 400, code: "bad_request"},

		// Cursors: garbage, tampered and of another list are 400; another workspace's is a
		// position only, applied to this workspace's rows.
		{name: "garbage cursor", method: "GET", path: base + "/conversations?cursor=" + enc("' OR 1=1 --"), auth: owner, status: 400, code: "bad_request"},
		{name: "tampered cursor", method: "GET", path: base + "/conversations?cursor=" + tampered, auth: owner, status: 400, code: "bad_request"},
		{name: "huge cursor", method: "GET", path: base + "/conversations?cursor=" + strings.Repeat("A", 8<<10), auth: owner, status: 400, code: "bad_request"},
		{name: "members cursor on conversations", method: "GET", path: base + "/conversations?cursor=" + memberCursor, auth: owner, status: 400, code: "bad_request"},
		{name: "conversations cursor on leads", method: "GET", path: base + "/leads?cursor=" + ownCursor, auth: owner, status: 400, code: "bad_request"},
		{name: "another workspace's cursor", method: "GET", path: base + "/conversations?cursor=" + foreignCursor, auth: owner, status: 200},

		// Ids: not UUIDs are 400; another workspace's are 404, never theirs.
		{name: "conversation id not a UUID", method: "GET", path: base + "/conversations/not-a-uuid", auth: owner, status: 400, code: "bad_request"},
		{name: "conversation id SQL", method: "POST", path: base + "/conversations/" + url.PathEscape("1' OR '1'='1") + "/state", auth: owner, contentType: ctJSON, body: `{"state":"closed"}`, status: 400, code: "bad_request"},
		{name: "workspace id not a UUID", method: "GET", path: "/api/v1/workspaces/not-a-uuid/conversations", auth: owner, status: 400, code: "bad_request"},
		{name: "workspace id a path traversal", method: "GET", path: "/api/v1/workspaces/..%2f..%2fetc/conversations", auth: owner, status: 404, code: "not_found"},
		{name: "lead id not a UUID", method: "PATCH", path: base + "/leads/123", auth: owner, contentType: ctJSON, body: `{"status":"won"}`, status: 400, code: "bad_request"},
		{name: "member id not a UUID", method: "DELETE", path: base + "/members/" + strings.Repeat("f", 300), auth: owner, status: 400, code: "bad_request"},
		{name: "assignee not a UUID", method: "PUT", path: base + "/conversations/" + conv + "/assignee", auth: owner, contentType: ctJSON, body: `{"user_id":"00000000-0000-0000-0000-00000000000g"}`, status: 400, code: "bad_request"},
		{name: "another workspace's conversation", method: "GET", path: base + "/conversations/" + otherConv, auth: owner, status: 404, code: "not_found"},
		{name: "another workspace's messages", method: "GET", path: base + "/conversations/" + otherConv + "/messages", auth: owner, status: 404, code: "not_found"},
		{name: "close another workspace's conversation", method: "POST", path: base + "/conversations/" + otherConv + "/state", auth: owner, contentType: ctJSON, body: `{"state":"closed"}`, status: 404, code: "not_found"},
		{name: "mark another workspace's conversation read", method: "POST", path: base + "/conversations/" + otherConv + "/unread", auth: owner, status: 404, code: "not_found"},
		{name: "another workspace's lead", method: "PATCH", path: base + "/leads/" + otherLead, auth: owner, contentType: ctJSON, body: `{"status":"won"}`, status: 404, code: "not_found"},
		{name: "another workspace's member", method: "PATCH", path: base + "/members/" + other.OwnerUserID.String(), auth: owner, contentType: ctJSON, body: `{"role":"viewer"}`, status: 404, code: "not_found"},
		{name: "remove another workspace's member", method: "DELETE", path: base + "/members/" + other.OwnerUserID.String(), auth: owner, status: 404, code: "not_found"},
		{name: "assign another workspace's member", method: "PUT", path: base + "/conversations/" + conv + "/assignee", auth: owner, contentType: ctJSON, body: `{"user_id":"` + other.OwnerUserID.String() + `"}`, status: 422, code: "not_assignable"},
		{name: "another workspace's path", method: "GET", path: fmt.Sprintf("/api/v1/workspaces/%s/conversations", other.WorkspaceID), auth: owner, status: 404, code: "not_found"},

		// Credentials: removed and demoted members, forged or oversized ones.
		{name: "removed member lists", method: "GET", path: base + "/conversations", auth: "Bearer " + removedTok, status: 401, code: "unauthenticated"},
		{name: "removed member closes", method: "POST", path: base + "/conversations/" + conv + "/state", auth: "Bearer " + removedTok, contentType: ctJSON, body: `{"state":"closed"}`, status: 401, code: "unauthenticated"},
		{name: "demoted member closes", method: "POST", path: base + "/conversations/" + conv + "/state", auth: "Bearer " + demotedTok, contentType: ctJSON, body: `{"state":"closed"}`, status: 403, code: "forbidden"},
		{name: "demoted member changes a role", method: "PATCH", path: base + "/members/" + target.UserID.String(), auth: "Bearer " + demotedTok, contentType: ctJSON, body: `{"role":"admin"}`, status: 403, code: "forbidden"},
		{name: "demoted member reads the audit", method: "GET", path: base + "/conversations/" + conv + "/audit", auth: "Bearer " + demotedTok, status: 403, code: "forbidden"},
		{name: "demoted member promotes itself", method: "PATCH", path: base + "/members/" + demoted.UserID.String(), auth: "Bearer " + demotedTok, contentType: ctJSON, body: `{"role":"owner"}`, status: 403, code: "forbidden"},
		{name: "32 KiB bearer token", method: "GET", path: base + "/conversations", auth: "Bearer " + strings.Repeat("t", 32<<10), status: 401, code: "unauthenticated"},
		{name: "SQL as bearer token", method: "GET", path: base + "/conversations", auth: "Bearer ' OR '1'='1", status: 401, code: "unauthenticated"},
		{name: "32 KiB ingest key", method: "POST", path: "/api/v1/ingest/messages", ingestKey: strings.Repeat("k", 32<<10), contentType: ctJSON, body: ingest(""), status: 401, code: "unauthenticated"},
		{name: "another workspace's token as ingest key", method: "POST", path: "/api/v1/ingest/messages", ingestKey: ws.OwnerToken, contentType: ctJSON, body: ingest(""), status: 401, code: "unauthenticated"},
	}

	before := settledSnapshot(t, env)
	for _, r := range rows {
		req, err := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		for name, v := range map[string]string{"Authorization": r.auth, "X-Inbox-Key": r.ingestKey, "Content-Type": r.contentType} {
			if v != "" {
				req.Header.Set(name, v)
			}
		}
		res, err := client.Do(req)
		if err != nil {
			t.Errorf("%s: %v", r.name, err)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		got := testenv.Response{Code: res.StatusCode, Body: body}
		if got.Code != r.status || got.ErrorCode() != r.code {
			t.Errorf("%s: got %d %.300s; want %d %q", r.name, got.Code, body, r.status, r.code)
		}
		if r.status < 300 && strings.Contains(string(body), otherConv) {
			t.Errorf("%s: the answer shows another workspace's conversation", r.name)
		}
		if after := snapshot(t, env); after != before {
			t.Errorf("%s changed Postgres:\nbefore %s\nafter  %s", r.name, before, after)
			before = after
		}
	}

	// A 1 MiB header is refused by net/http before any handler runs.
	if code := hugeHeaderStatus(t, srv.Listener.Addr().String(), base+"/conversations", ws.OwnerToken); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("1 MiB header: got %d, want 431", code)
	}
	if after := snapshot(t, env); after != before {
		t.Errorf("1 MiB header changed Postgres:\nbefore %s\nafter  %s", before, after)
	}

	// Accepted on purpose: a forged X-Forwarded-For from an untrusted peer is ignored (the
	// stored IP is the peer's), and formula text is stored as text (the CSV export
	// neutralises it, see the export tests).
	post := func(body string, headers ...string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/ingest/messages", strings.NewReader(body))
		req.Header.Set("Content-Type", ctJSON)
		req.Header.Set("X-Inbox-Key", key)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := post(`{"conversation_ref":"hostile-xff","channel":"chat","message":{"role":"visitor","text":"hi"}}`,
		"X-Forwarded-For", "198.51.100.77, 10.0.0.1", "X-Real-IP", "198.51.100.78"); res.StatusCode != http.StatusCreated {
		t.Fatalf("ingest with a forged X-Forwarded-For: %d", res.StatusCode)
	}
	var ip string
	if err := env.Store.DB.QueryRowContext(ctx, `SELECT host(ip) FROM conversations WHERE ref = 'hostile-xff'`).Scan(&ip); err != nil {
		t.Fatal(err)
	}
	if ip != "127.0.0.1" {
		t.Errorf("forged X-Forwarded-For: stored IP %s, want the peer's 127.0.0.1", ip)
	}
	formula := `{"conversation_ref":"hostile-formula","channel":"chat",` +
		`"visitor":{"name":"=HYPERLINK(\"http://evil.example\",\"x\")","email":"+cmd|' /C calc'!A0@x.example","phone":"-2+3"},` +
		`"message":{"role":"visitor","text":"@SUM(1+1)*cmd|' /C calc'!A0"}}`
	if res := post(formula); res.StatusCode != http.StatusCreated {
		t.Errorf("formula payload: %d, want 201 (stored as text)", res.StatusCode)
	}
}

// hugeHeaderStatus sends a request with a 1 MiB header on a raw connection and returns the
// status the server answers; the server may hang up while the header is still being written.
func hugeHeaderStatus(t *testing.T, addr, path, token string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	go func() {
		_, _ = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: inbox\r\nAuthorization: Bearer %s\r\nX-Padding: %s\r\n\r\n",
			path, token, strings.Repeat("p", 1<<20))
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("1 MiB header: no response: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}

// snapshot fingerprints every table: its row count and a hash of its rows. Of conversations
// only what a request could change is hashed; the workflow's run id is left out.
func snapshot(t *testing.T, env *testenv.Env) string {
	t.Helper()
	tables := []struct{ name, rows string }{
		{"workspaces", "workspaces t"},
		{"users", "users t"},
		{"memberships", "memberships t"},
		// A token's last use is bookkeeping, like a session's last_seen, not a change.
		{"api_tokens", "(SELECT id, workspace_id, user_id, name, token_hash, created_at, expires_at FROM api_tokens) t"},
		{"conversations", "(SELECT id, workspace_id, ref, channel, state, unread, assignee_id, last_message_at, closed_at, ip, page_url, summary_status, summary_generation FROM conversations) t"},
		{"messages", "messages t"},
		{"leads", "leads t"},
		{"audit_log", "audit_log t"},
		{"workspace_settings", "workspace_settings t"},
	}
	var b strings.Builder
	for _, tb := range tables {
		var n int
		var sum string
		q := "SELECT count(*), coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM " + tb.rows
		if err := env.Store.DB.QueryRowContext(context.Background(), q).Scan(&n, &sum); err != nil {
			t.Fatalf("snapshot %s: %v", tb.name, err)
		}
		fmt.Fprintf(&b, "%s=%d/%.8s ", tb.name, n, sum)
	}
	return b.String()
}

// settledSnapshot waits until the setup's background work (workflow starts, the removed
// member's unassignment) has stopped changing rows.
func settledSnapshot(t *testing.T, env *testenv.Env) string {
	t.Helper()
	prev := snapshot(t, env)
	deadline := time.Now().Add(30 * time.Second)
	for {
		time.Sleep(300 * time.Millisecond)
		cur := snapshot(t, env)
		if cur == prev || time.Now().After(deadline) {
			return cur
		}
		prev = cur
	}
}
