package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bestai/inbox/api"
	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/workflows"
)

func TestIngestErrors(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Ingest Errors")
	if res := env.Ingest("inbox_key_wrong", ingestBody("x", "hi")); res.Code != http.StatusUnauthorized {
		t.Errorf("unknown key: %d", res.Code)
	}
	if res := env.Do(http.MethodPost, "/api/v1/ingest/messages", ingestBody("x", "hi")); res.Code != http.StatusUnauthorized {
		t.Errorf("no key: %d", res.Code)
	}
	huge := ingestBody("big", strings.Repeat("a", 1<<20))
	if res := env.Ingest(ws.IngestKey, huge); res.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MB message: %d %s", res.Code, res.Body)
	}
	if res := env.Ingest(ws.IngestKey, `{"conversation_ref":"x"`); res.Code != http.StatusBadRequest || res.ErrorCode() != "bad_request" {
		t.Errorf("malformed JSON: %d %s", res.Code, res.Body)
	}
	// Nothing of the rejected requests was stored.
	n, err := env.Store.DB.NewSelect().Table("conversations").Where("workspace_id = ?", ws.WorkspaceID).Count(context.Background())
	if err != nil || n != 0 {
		t.Errorf("rejected ingests stored %d conversations (%v)", n, err)
	}
}

// Concurrent first messages create one conversation, and no workflow: it starts at the
// conversation's first change (lazystart_test.go).
func TestConcurrentFirstMessagesCreateOneConversation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Concurrent Ingest")
	const n = 8
	ids := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := ingestBody("same-session", fmt.Sprintf("message %d", i))
			res := env.Ingest(ws.IngestKey, body)
			codes[i] = res.Code
			var out struct {
				ConversationID string `json:"conversation_id"`
			}
			res.JSON(t, &out)
			ids[i] = out.ConversationID
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		if ids[i] != ids[0] {
			t.Fatalf("two conversations for one ref: %v", ids)
		}
		if codes[i] == http.StatusCreated {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d requests answered 201, want exactly 1 (codes %v)", created, codes)
	}
	ctx := context.Background()
	// Workflows start lazily: messages alone start none (no SLA policy here).
	var runs []string
	err := env.Store.DB.NewSelect().Table("conversations").Column("workflow_run_id").
		Where("workspace_id = ?", ws.WorkspaceID).Scan(ctx, &runs)
	if err != nil || len(runs) != 1 || runs[0] != "" {
		t.Fatalf("conversations/runs = %v (%v), want one conversation with no run", runs, err)
	}
	if _, err := env.Client.DescribeWorkflowExecution(ctx, "conversation/"+ids[0], ""); !workflows.IsMissing(err) {
		t.Errorf("a workflow runs for a conversation nobody changed: %v", err)
	}
	var msgs int
	msgs, _ = env.Store.DB.NewSelect().Table("messages").Where("conversation_id = ?", ids[0]).Count(ctx)
	if msgs != n {
		t.Errorf("%d messages stored, want %d", msgs, n)
	}
}

func TestIngestRateLimit(t *testing.T) {
	t.Parallel()
	// One token every 1000s: a busy machine cannot refill one between the requests.
	env := testenv.New(t, testenv.Options{IngestRate: 0.001, IngestBurst: 2})
	ws := env.NewWorkspace("Rate Co")
	for i := range 2 {
		if res := env.Ingest(ws.IngestKey, ingestBody("rl", fmt.Sprint(i))); res.Code >= 300 {
			t.Fatalf("within the burst: %d %s", res.Code, res.Body)
		}
	}
	res := env.Ingest(ws.IngestKey, ingestBody("rl", "one too many"))
	if res.Code != http.StatusTooManyRequests || res.ErrorCode() != "rate_limited" || res.Header.Get("Retry-After") == "" {
		t.Errorf("past the burst: %d %s Retry-After=%q", res.Code, res.Body, res.Header.Get("Retry-After"))
	}
}

func TestAssignmentRules(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	ws := env.NewWorkspace("Assign Co")
	other := env.NewWorkspace("Assign Other")
	id := newConversation(t, env, ws, "assign")
	member := func(email string, role domain.Role) string {
		m, _, err := env.Store.AddMember(ctx, ws.WorkspaceID, email, email, role)
		if err != nil {
			t.Fatal(err)
		}
		return m.UserID.String()
	}
	support, viewer, admin := member("sup@a.example", domain.Support), member("view@a.example", domain.Viewer), member("adm@a.example", domain.Admin)
	assign := func(userID any) testenv.Response {
		return env.As(ws.OwnerToken, http.MethodPut, convPath(ws, id, "/assignee"), map[string]any{"user_id": userID})
	}
	for _, who := range []string{support, admin, ws.OwnerUserID.String()} {
		res := assign(who)
		var d detail
		res.JSON(t, &d)
		if res.Code != http.StatusOK || d.Assignee == nil || d.Assignee.UserID != who {
			t.Errorf("assign %s: %d %s", who, res.Code, res.Body)
		}
	}
	for name, who := range map[string]string{"viewer": viewer, "other workspace": other.OwnerUserID.String(), "unknown": "0b9c6a52-9d41-4bb5-a7f4-0e3e6b1c2d11"} {
		if res := assign(who); res.Code != http.StatusUnprocessableEntity || res.ErrorCode() != "not_assignable" {
			t.Errorf("assign %s: want 422 not_assignable, got %d %s", name, res.Code, res.Body)
		}
	}
	if res := assign("not-a-uuid"); res.Code != http.StatusBadRequest {
		t.Errorf("bad id: %d", res.Code)
	}
	res := assign(nil)
	var d detail
	res.JSON(t, &d)
	if res.Code != http.StatusOK || d.Assignee != nil {
		t.Errorf("clear: %d %s", res.Code, res.Body)
	}
	if n := countActions(audit(t, env, ws, id), "assignee_changed"); n != 4 {
		t.Errorf("%d assignee_changed rows, want 4 (three assignments and the clear)", n)
	}

	// Removing a member unassigns their conversations through the workflow, audited.
	if res := assign(support); res.Code != http.StatusOK {
		t.Fatalf("re-assign: %d", res.Code)
	}
	if res := env.As(ws.OwnerToken, http.MethodDelete, fmt.Sprintf("/api/v1/workspaces/%s/members/%s", ws.WorkspaceID, support), nil); res.Code != http.StatusNoContent {
		t.Fatalf("remove member: %d %s", res.Code, res.Body)
	}
	res = env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil)
	res.JSON(t, &d)
	if d.Assignee != nil {
		t.Errorf("the removed member is still assigned: %s", res.Body)
	}
	if n := countActions(audit(t, env, ws, id), "assignee_changed"); n != 6 {
		t.Errorf("%d assignee_changed rows, want 6", n)
	}
}

// escapeAll spells every character of s as a JSON \u escape, a surrogate pair outside the BMP.
func escapeAll(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, `\u%04x`, u)
	}
	return b.String()
}

// A client may escape every character of a message, and a 16,000-character message is
// valid however it is spelled: the body limit is sized from the field limits at the worst
// escape (12 bytes for a character outside the BMP). A byte over that limit is a 413.
func TestIngestBodyLimitFitsEscapedMessages(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Escaped Ingest")
	ingest := func(body string) (int, string) {
		t.Helper()
		res := env.Ingest(ws.IngestKey, body)
		var out struct {
			ConversationID string `json:"conversation_id"`
		}
		if res.Code == http.StatusCreated || res.Code == http.StatusOK {
			res.JSON(t, &out)
		}
		return res.Code, out.ConversationID
	}
	storedText := func(id string) string {
		t.Helper()
		res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, "/messages"), nil)
		var page struct {
			Items []struct {
				Text string `json:"text"`
			} `json:"items"`
		}
		res.JSON(t, &page)
		if len(page.Items) != 1 {
			t.Fatalf("messages of %s: %s", id, res.Body)
		}
		return page.Items[0].Text
	}

	for ref, text := range map[string]string{
		"escaped-bmp":    strings.Repeat("é", 16_000), // \u00e9: 6 bytes each, 96,000 in all
		"escaped-astral": strings.Repeat("😀", 16_000), // \ud83d\ude00: 12 bytes each, 192,000
	} {
		body := `{"conversation_ref":"` + ref + `","channel":"chat","message":{"role":"visitor","text":"` + escapeAll(text) + `"}}`
		code, id := ingest(body)
		if code != http.StatusCreated {
			t.Errorf("%s (%d bytes): %d, want 201", ref, len(body), code)
			continue
		}
		if got := storedText(id); got != text {
			t.Errorf("%s: stored %d characters, not the message sent", ref, utf8.RuneCountInString(got))
		}
	}

	// Every field at its limit, every character a surrogate pair; sent_at in its longest form.
	astral := func(n int) string { return escapeAll(strings.Repeat("😀", n)) }
	sentAt := time.Now().In(time.FixedZone("", 3600)).Format("2006-01-02T15:04:05.000000000-07:00")
	largest := `{"conversation_ref":"` + astral(200) + `","channel":"` + escapeAll("web_voice") + `",` +
		`"visitor":{"name":"` + astral(app.MaxNameLen) + `","email":"` + astral(app.MaxEmailLen-1) + escapeAll("@") +
		`","phone":"` + astral(40) + `"},` +
		`"message":{"id":"` + astral(200) + `","role":"` + escapeAll("assistant") + `","text":"` + astral(16_000) +
		`","sent_at":"` + sentAt + `"},` +
		`"source":{"page_url":"` + astral(2048) + `","referrer":"` + astral(2048) + `","user_agent":"` + astral(1024) + `"}}`
	if len(largest) > api.MaxIngestBody {
		t.Fatalf("the largest valid body is %d bytes, over the limit of %d", len(largest), api.MaxIngestBody)
	}
	if code, _ := ingest(largest); code != http.StatusCreated {
		t.Fatalf("the largest valid body (%d bytes): %d, want 201", len(largest), code)
	}
	// The same message padded to the limit is taken (a repeat: 200); one byte more is not.
	atLimit := largest + strings.Repeat(" ", api.MaxIngestBody-len(largest))
	if code, _ := ingest(atLimit); code != http.StatusOK {
		t.Errorf("body of exactly %d bytes: %d, want 200", len(atLimit), code)
	}
	if code, _ := ingest(atLimit + " "); code != http.StatusRequestEntityTooLarge {
		t.Errorf("body of %d bytes: %d, want 413", len(atLimit)+1, code)
	}
	// The OpenAPI document states the limit; it must follow the constant.
	stated := fmt.Sprintf("%d,%03d bytes", api.MaxIngestBody/1000, api.MaxIngestBody%1000)
	if doc := env.Do(http.MethodGet, "/api/v1/openapi.json", nil); !strings.Contains(string(doc.Body), stated) {
		t.Errorf("openapi.json does not state the ingest body limit %q", stated)
	}
}
