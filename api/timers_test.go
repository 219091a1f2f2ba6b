package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

type snoozeItem struct {
	ID           string  `json:"id"`
	State        string  `json:"state"`
	Unread       bool    `json:"unread"`
	PendingUntil *string `json:"pending_until"`
}

// shortSnooze is how long the tests that wait for a snooze's own timer snooze for: long
// enough that the requests made before it ends have answered (under the race detector on a
// loaded machine one can take several seconds), short enough to wait for.
func shortSnooze() time.Duration {
	if testenv.Race {
		return 20 * time.Second
	}
	return 2 * time.Second
}

func snoozeState(env *testenv.Env, ws testenv.Workspace, id string, body map[string]any) testenv.Response {
	return env.As(ws.OwnerToken, http.MethodPost, convPath(ws, id, "/state"), body)
}

// A conversation snoozed for a short while (shortSnooze) wakes by itself: open, unread, audited
// with a null actor, pending_until null again. wakes_before finds it while it sleeps.
func TestSnoozeWakesThroughTheWorkflow(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Snooze Co")
	id := newConversation(t, env, ws, "snooze-1")
	other := newConversation(t, env, ws, "snooze-other")

	until := time.Now().Add(shortSnooze()).UTC().Truncate(time.Millisecond)
	res := snoozeState(env, ws, id, map[string]any{"state": "pending", "until": until.Format(time.RFC3339Nano)})
	if res.Code != http.StatusOK {
		t.Fatalf("snooze: %d %s", res.Code, res.Body)
	}
	var d snoozeItem
	res.JSON(t, &d)
	if d.State != "pending" || d.PendingUntil == nil {
		t.Fatalf("snoozed: %+v", d)
	}
	if got, err := time.Parse(time.RFC3339, *d.PendingUntil); err != nil || !got.Equal(until) {
		t.Fatalf("pending_until = %s, want %s", *d.PendingUntil, until.Format(time.RFC3339Nano))
	}
	// Read it, so the wake-up's unread is the workflow's doing.
	if r := env.As(ws.OwnerToken, http.MethodPost, convPath(ws, id, "/read"), nil); r.Code != http.StatusNoContent {
		t.Fatalf("read: %d", r.Code)
	}

	list := func(query string) []snoozeItem {
		r := env.As(ws.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations?"+query, nil)
		if r.Code != http.StatusOK {
			t.Fatalf("list %s: %d %s", query, r.Code, r.Body)
		}
		var page struct {
			Items []snoozeItem `json:"items"`
		}
		r.JSON(t, &page)
		return page.Items
	}
	soon := list("wakes_before=" + until.Add(time.Minute).Format(time.RFC3339))
	if len(soon) != 1 || soon[0].ID != id {
		t.Errorf("wakes_before: %+v, want only %s (not %s)", soon, id, other)
	}
	if got := list("wakes_before=" + until.Add(-time.Hour).Format(time.RFC3339)); len(got) != 0 {
		t.Errorf("wakes_before an hour earlier: %+v", got)
	}

	testenv.Eventually(t, 20*time.Second+shortSnooze(), "the snoozed conversation wakes", func() bool {
		for _, it := range list("state=open") {
			if it.ID == id {
				return true
			}
		}
		return false
	})
	var woken snoozeItem
	for _, it := range list("") {
		if it.ID == id {
			woken = it
		}
	}
	if woken.State != "open" || !woken.Unread || woken.PendingUntil != nil {
		t.Errorf("woken: %+v, want open, unread, pending_until null", woken)
	}
	items := audit(t, env, ws, id)
	last := items[len(items)-1]
	for _, it := range items {
		if it.Action == "state_changed" && it.After["state"] == "open" {
			last = it
		}
	}
	if last.Action != "state_changed" || last.Actor != nil || last.After["state"] != "open" || last.Before["state"] != "pending" || last.After["unread"] != true {
		t.Errorf("wake-up audit: %+v (actor %v)", last, last.Actor)
	}
	if len(list("wakes_before="+until.Add(time.Hour).Format(time.RFC3339))) != 0 {
		t.Error("a woken conversation still matches wakes_before")
	}
}

// A visitor's message wakes a snoozed conversation at once.
func TestVisitorMessageWakesSnoozed(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Wake Co")
	id := newConversation(t, env, ws, "wake-1")
	until := time.Now().Add(time.Hour).UTC()
	if res := snoozeState(env, ws, id, map[string]any{"state": "pending", "until": until.Format(time.RFC3339)}); res.Code != http.StatusOK {
		t.Fatalf("snooze: %d %s", res.Code, res.Body)
	}
	if res := env.Ingest(ws.IngestKey, ingestBody("wake-1", "Any news?")); res.Code != http.StatusOK {
		t.Fatalf("ingest: %d %s", res.Code, res.Body)
	}
	testenv.Eventually(t, 20*time.Second, "the message wakes it", func() bool {
		v, err := env.Store.GetConversation(context.Background(), ws.WorkspaceID, mustUUID(t, id))
		return err == nil && v.State == domain.Open && !v.PendingUntil.Valid
	})
}

// Bad snoozes are 400s that change nothing.
func TestSnoozeValidation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Snooze Rules Co")
	id := newConversation(t, env, ws, "rules-1")
	now := time.Now().UTC()
	for name, body := range map[string]map[string]any{
		"past":          {"state": "pending", "until": now.Add(-time.Minute).Format(time.RFC3339)},
		"over a year":   {"state": "pending", "until": now.AddDate(1, 0, 2).Format(time.RFC3339)},
		"not a time":    {"state": "pending", "until": "tomorrow"},
		"not a string":  {"state": "pending", "until": 12},
		"with closed":   {"state": "closed", "until": now.Add(time.Hour).Format(time.RFC3339)},
		"unknown field": {"state": "pending", "wake": now.Add(time.Hour).Format(time.RFC3339)},
	} {
		res := snoozeState(env, ws, id, body)
		if res.Code != http.StatusBadRequest || res.ErrorCode() != "bad_request" {
			t.Errorf("%s: want 400 bad_request, got %d %s", name, res.Code, res.Body)
		}
	}
	for _, q := range []string{"wakes_before=soon", "wakes_before=2026-13-01T00:00:00Z"} {
		res := env.As(ws.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations?"+q, nil)
		if res.Code != http.StatusBadRequest {
			t.Errorf("%s: want 400, got %d %s", q, res.Code, res.Body)
		}
	}
	v, err := env.Store.GetConversation(context.Background(), ws.WorkspaceID, mustUUID(t, id))
	if err != nil || v.State != domain.Open || v.PendingUntil.Valid {
		t.Errorf("after refused snoozes: %+v %v", v, err)
	}
	if n := countActions(audit(t, env, ws, id), "state_changed"); n != 0 {
		t.Errorf("refused snoozes audited %d changes", n)
	}
}

// PATCH /settings: owners and admins set auto_archive_days; support may not; bad values
// are 400; GET shows it, and the BYOK key only to owners.
func TestAutoArchiveSetting(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Archive Co")
	ctx := context.Background()
	_, adminTok, err := env.Store.AddMember(ctx, ws.WorkspaceID, "admin@archive.example", "Adm", domain.Admin)
	if err != nil {
		t.Fatal(err)
	}
	_, supportTok, err := env.Store.AddMember(ctx, ws.WorkspaceID, "support@archive.example", "Sup", domain.Support)
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/workspaces/" + ws.WorkspaceID.String() + "/settings"
	get := func(tok string) map[string]any {
		res := env.As(tok, http.MethodGet, path, nil)
		if res.Code != http.StatusOK {
			t.Fatalf("GET settings: %d %s", res.Code, res.Body)
		}
		var out map[string]any
		res.JSON(t, &out)
		return out
	}
	if v, ok := get(ws.OwnerToken)["auto_archive_days"]; !ok || v != nil {
		t.Errorf("default auto_archive_days = %v (present %v), want null", v, ok)
	}
	res := env.As(adminTok, http.MethodPatch, path, map[string]any{"auto_archive_days": 30})
	if res.Code != http.StatusOK {
		t.Fatalf("PATCH as admin: %d %s", res.Code, res.Body)
	}
	if got := get(ws.OwnerToken)["auto_archive_days"]; got != float64(30) {
		t.Errorf("auto_archive_days = %v, want 30", got)
	}
	adminView := get(adminTok)
	if _, ok := adminView["openai_key"]; ok {
		t.Errorf("an admin sees the BYOK setting: %v", adminView)
	}
	if _, ok := get(ws.OwnerToken)["openai_key"]; !ok {
		t.Error("the owner does not see the BYOK setting")
	}
	if res := env.As(supportTok, http.MethodPatch, path, map[string]any{"auto_archive_days": 5}); res.Code != http.StatusForbidden {
		t.Errorf("PATCH as support: want 403, got %d %s", res.Code, res.Body)
	}
	for _, body := range []any{
		map[string]any{"auto_archive_days": 0}, map[string]any{"auto_archive_days": 3651},
		map[string]any{"auto_archive_days": 2.5}, map[string]any{"auto_archive_days": "30"},
		map[string]any{}, map[string]any{"auto_archive_days": 3, "x": 1},
	} {
		if res := env.As(ws.OwnerToken, http.MethodPatch, path, body); res.Code != http.StatusBadRequest {
			t.Errorf("PATCH %v: want 400, got %d %s", body, res.Code, res.Body)
		}
	}
	if got := get(ws.OwnerToken)["auto_archive_days"]; got != float64(30) {
		t.Errorf("after refused PATCHes auto_archive_days = %v, want 30", got)
	}
	if res := env.As(ws.OwnerToken, http.MethodPatch, path, map[string]any{"auto_archive_days": nil}); res.Code != http.StatusOK {
		t.Fatalf("PATCH null: %d %s", res.Code, res.Body)
	}
	if v := get(ws.OwnerToken)["auto_archive_days"]; v != nil {
		t.Errorf("turned off: %v", v)
	}
}

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The order a support agent uses: read it, then snooze it. When the snooze ends, by its
// timer or by a visitor's message, the conversation must be unread again on its list item
// and in ?unread=true, over a real HTTP server. (The detail is no witness: opening it marks
// it read.)
func TestSnoozedReadConversationWakesUnread(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	base := env.Serve("")
	ws := env.NewWorkspace("Read Snooze Co")
	byTimer := newConversation(t, env, ws, "read-snooze-timer")
	byMessage := newConversation(t, env, ws, "read-snooze-message")
	call := func(method, path, body string) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, base+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+ws.OwnerToken)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, out
	}
	list := func(query string) map[string]snoozeItem {
		t.Helper()
		code, body := call(http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations"+query, "")
		if code != http.StatusOK {
			t.Fatalf("list %s: %d %s", query, code, body)
		}
		var page struct {
			Items []snoozeItem `json:"items"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		out := map[string]snoozeItem{}
		for _, it := range page.Items {
			out[it.ID] = it
		}
		return out
	}

	untils := map[string]time.Time{byTimer: time.Now().Add(shortSnooze() + time.Second), byMessage: time.Now().Add(time.Hour)}
	for id, until := range untils {
		if code, body := call(http.MethodPost, convPath(ws, id, "/read"), ""); code != http.StatusNoContent {
			t.Fatalf("read: %d %s", code, body)
		}
		body := `{"state":"pending","until":"` + until.UTC().Format(time.RFC3339Nano) + `"}`
		if code, out := call(http.MethodPost, convPath(ws, id, "/state"), body); code != http.StatusOK {
			t.Fatalf("snooze: %d %s", code, out)
		}
	}
	if got := list("?unread=true"); len(got) != 0 {
		t.Fatalf("unread while snoozed: %+v", got)
	}
	if res := env.Ingest(ws.IngestKey, ingestBody("read-snooze-message", "Any news?")); res.Code != http.StatusOK {
		t.Fatalf("ingest: %d %s", res.Code, res.Body)
	}
	testenv.Eventually(t, 30*time.Second+shortSnooze(), "both wake", func() bool {
		all := list("")
		return all[byTimer].State == "open" && all[byMessage].State == "open"
	})
	all, unread := list(""), list("?unread=true")
	for name, id := range map[string]string{"woken by its timer": byTimer, "woken by a message": byMessage} {
		if it := all[id]; !it.Unread || it.PendingUntil != nil {
			t.Errorf("%s: item %+v, want open, unread, pending_until null", name, it)
		}
		if _, ok := unread[id]; !ok {
			t.Errorf("%s: missing from ?unread=true", name)
		}
	}
}
