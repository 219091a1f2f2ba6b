package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

type personJSON struct {
	UserID string `json:"user_id"`
	Name   string `json:"name"`
}

type noteJSON struct {
	ID             string       `json:"id"`
	ConversationID string       `json:"conversation_id"`
	Author         *personJSON  `json:"author"`
	Text           string       `json:"text"`
	Mentions       []personJSON `json:"mentions"`
	CreatedAt      string       `json:"created_at"`
}

type notificationJSON struct {
	ID             string      `json:"id"`
	Kind           string      `json:"kind"`
	ConversationID string      `json:"conversation_id"`
	Actor          *personJSON `json:"actor"`
	NoteID         *string     `json:"note_id"`
	Text           string      `json:"text"`
	CreatedAt      string      `json:"created_at"`
	ReadAt         *string     `json:"read_at"`
}

// teamMember is a member of a test workspace: their user id and API token.
type teamMember struct {
	ID    string
	Token string
}

// addTeam adds a member of each role but owner to ws, named after it ("Admin Person",
// admin@<domain>, ...).
func addTeam(t *testing.T, env *testenv.Env, ws testenv.Workspace, domainName string) map[domain.Role]teamMember {
	t.Helper()
	out := map[domain.Role]teamMember{domain.Owner: {ws.OwnerUserID.String(), ws.OwnerToken}}
	for _, role := range []domain.Role{domain.Admin, domain.Support, domain.Viewer} {
		name := strings.ToUpper(string(role[:1])) + string(role[1:]) + " Person"
		m, tok, err := env.Store.AddMember(t.Context(), ws.WorkspaceID, string(role)+"@"+domainName, name, role)
		if err != nil {
			t.Fatal(err)
		}
		out[role] = teamMember{m.UserID.String(), tok}
	}
	return out
}

func writeNote(env *testenv.Env, token string, ws testenv.Workspace, conv string, text any) testenv.Response {
	return env.As(token, http.MethodPost, convPath(ws, conv, "/notes"), map[string]any{"text": text})
}

func mustNote(t *testing.T, env *testenv.Env, token string, ws testenv.Workspace, conv, text string) noteJSON {
	t.Helper()
	res := writeNote(env, token, ws, conv, text)
	if res.Code != http.StatusCreated {
		t.Fatalf("write note %q: %d %s", domain.Clip(text, 40), res.Code, res.Body)
	}
	var n noteJSON
	res.JSON(t, &n)
	return n
}

func notifications(t *testing.T, env *testenv.Env, token, query string) []notificationJSON {
	t.Helper()
	res := env.As(token, http.MethodGet, "/api/v1/me/notifications"+query, nil)
	if res.Code != http.StatusOK {
		t.Fatalf("notifications%s: %d %s", query, res.Code, res.Body)
	}
	var page struct {
		Items []notificationJSON `json:"items"`
	}
	res.JSON(t, &page)
	return page.Items
}

func kinds(ns []notificationJSON) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Kind
	}
	return out
}

func mentionNames(n noteJSON) []string {
	out := make([]string, len(n.Mentions))
	for i, m := range n.Mentions {
		out[i] = m.Name
	}
	return out
}

func TestNotesRolesLimitsMentionsAndAudit(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Notes Co")
	other := env.NewWorkspace("Other Notes Co")
	team := addTeam(t, env, ws, "notes.example")
	outsider := addTeam(t, env, other, "elsewhere.example")
	conv := newConversation(t, env, ws, "notes-1")
	otherConv := newConversation(t, env, other, "notes-other")

	// Support writes a note: members resolve by name or email (viewers too), a member of
	// another workspace does not, and an email inside a word mentions nobody.
	n := mustNote(t, env, team[domain.Support].Token, ws, conv,
		"  Hey @viewer person, @admin@notes.example, @support@elsewhere.example and ops@viewer@notes.example: refund?  ")
	if n.Text != "Hey @viewer person, @admin@notes.example, @support@elsewhere.example and ops@viewer@notes.example: refund?" {
		t.Errorf("text %q is not trimmed as written", n.Text)
	}
	if n.Author == nil || n.Author.UserID != team[domain.Support].ID || n.Author.Name != "Support Person" || n.ConversationID != conv {
		t.Errorf("note = %+v", n)
	}
	if got := mentionNames(n); !slices.Equal(got, []string{"Admin Person", "Viewer Person"}) {
		t.Errorf("mentions = %v, want Admin Person and Viewer Person (not the other workspace's member)", got)
	}

	// Roles: a viewer reads but cannot write.
	if res := writeNote(env, team[domain.Viewer].Token, ws, conv, "viewer note"); res.Code != http.StatusForbidden {
		t.Errorf("viewer writes: %d %s", res.Code, res.Body)
	}
	for _, role := range []domain.Role{domain.Owner, domain.Admin, domain.Support, domain.Viewer} {
		var page struct {
			Items []noteJSON `json:"items"`
		}
		res := env.As(team[role].Token, http.MethodGet, convPath(ws, conv, "/notes"), nil)
		res.JSON(t, &page)
		if res.Code != http.StatusOK || len(page.Items) != 1 || page.Items[0].ID != n.ID || len(page.Items[0].Mentions) != 2 {
			t.Errorf("%s lists notes: %d %s", role, res.Code, res.Body)
		}
	}

	// Limits: 1 to 10,000 characters after trimming, text required, strict body.
	for _, body := range []map[string]any{
		{"text": ""}, {"text": " \n\t "}, {"text": strings.Repeat("é", 10_001)}, {}, {"text": "x", "private": true},
		{"text": 42}, {"text": "bad\x00nul"},
	} {
		if res := env.As(team[domain.Admin].Token, http.MethodPost, convPath(ws, conv, "/notes"), body); res.Code != http.StatusBadRequest {
			t.Errorf("note %v: %d %s", domain.Clip(fmt.Sprint(body), 60), res.Code, res.Body)
		} else if _, ok := body["text"].(string); ok && len(body) == 1 && !strings.Contains(string(res.Body), "text") {
			t.Errorf("the 400 does not name the field: %s", res.Body)
		}
	}
	long := mustNote(t, env, team[domain.Admin].Token, ws, conv, strings.Repeat("é", 10_000))
	own := mustNote(t, env, team[domain.Owner].Token, ws, conv, "owner's note")

	// Paging, oldest first, with a bounded limit.
	res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, conv, "/notes?limit=2"), nil)
	var page struct {
		Items      []noteJSON `json:"items"`
		NextCursor *string    `json:"next_cursor"`
	}
	res.JSON(t, &page)
	if len(page.Items) != 2 || page.Items[0].ID != n.ID || page.Items[1].ID != long.ID || page.NextCursor == nil {
		t.Fatalf("first page: %s", res.Body)
	}
	res = env.As(ws.OwnerToken, http.MethodGet, convPath(ws, conv, "/notes?limit=2&cursor="+*page.NextCursor), nil)
	page.NextCursor = nil
	res.JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != own.ID || page.NextCursor != nil {
		t.Errorf("second page: %s", res.Body)
	}
	for _, q := range []string{"?limit=201", "?limit=0", "?cursor=nope", "?sort=asc"} {
		if res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, conv, "/notes"+q), nil); res.Code != http.StatusBadRequest {
			t.Errorf("notes%s: %d", q, res.Code)
		}
	}

	// Another workspace's conversation and notes are not found, from either side.
	if res := writeNote(env, ws.OwnerToken, ws, otherConv, "hello"); res.Code != http.StatusNotFound {
		t.Errorf("note on another workspace's conversation: %d", res.Code)
	}
	if res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, otherConv, "/notes"), nil); res.Code != http.StatusNotFound {
		t.Errorf("notes of another workspace's conversation: %d", res.Code)
	}
	if res := env.As(other.OwnerToken, http.MethodDelete, convPath(other, otherConv, "/notes/"+n.ID), nil); res.Code != http.StatusNotFound {
		t.Errorf("delete our note from another workspace: %d", res.Code)
	}
	if res := env.As(outsider[domain.Owner].Token, http.MethodGet, convPath(ws, conv, "/notes"), nil); res.Code != http.StatusNotFound {
		t.Errorf("another workspace's owner lists our notes: %d", res.Code)
	}

	// Deleting: the author or an owner; an admin may not delete support's note.
	if res := env.As(team[domain.Admin].Token, http.MethodDelete, convPath(ws, conv, "/notes/"+n.ID), nil); res.Code != http.StatusForbidden {
		t.Errorf("admin deletes support's note: %d %s", res.Code, res.Body)
	}
	if res := env.As(team[domain.Viewer].Token, http.MethodDelete, convPath(ws, conv, "/notes/"+n.ID), nil); res.Code != http.StatusForbidden {
		t.Errorf("viewer deletes: %d", res.Code)
	}
	if res := env.As(team[domain.Support].Token, http.MethodDelete, convPath(ws, conv, "/notes/"+n.ID), nil); res.Code != http.StatusNoContent {
		t.Errorf("the author deletes: %d %s", res.Code, res.Body)
	}
	if res := env.As(ws.OwnerToken, http.MethodDelete, convPath(ws, conv, "/notes/"+long.ID), nil); res.Code != http.StatusNoContent {
		t.Errorf("an owner deletes admin's note: %d %s", res.Code, res.Body)
	}
	if res := env.As(ws.OwnerToken, http.MethodDelete, convPath(ws, conv, "/notes/"+n.ID), nil); res.Code != http.StatusNotFound {
		t.Errorf("delete twice: %d", res.Code)
	}

	// The audit log has each note written and deleted, with who did it.
	var added, deleted int
	for _, e := range audit(t, env, ws, conv) {
		switch e.Action {
		case "note_added":
			added++
			if e.After["note_id"] == n.ID && len(e.After["mentions"].([]any)) != 2 {
				t.Errorf("note_added of the first note: %+v", e.After)
			}
		case "note_deleted":
			deleted++
			if e.Before["note_id"] == n.ID && e.Before["author"].(map[string]any)["user_id"] != team[domain.Support].ID {
				t.Errorf("note_deleted: %+v", e.Before)
			}
		}
	}
	if added != 3 || deleted != 2 {
		t.Errorf("audit: %d note_added, %d note_deleted; want 3 and 2", added, deleted)
	}
}

func TestMentionNotificationsOncePerConversationWhileUnread(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Mention Co")
	other := env.NewWorkspace("Mention Elsewhere")
	team := addTeam(t, env, ws, "mention.example")
	conv := newConversation(t, env, ws, "m-1")
	conv2 := newConversation(t, env, ws, "m-2")

	// Mentioning yourself tells nobody; mentioning a viewer tells them, with the note.
	n1 := mustNote(t, env, team[domain.Admin].Token, ws, conv, "@Admin Person and @viewer@mention.example, look")
	if got := mentionNames(n1); !slices.Equal(got, []string{"Admin Person", "Viewer Person"}) {
		t.Fatalf("mentions = %v", got)
	}
	if got := notifications(t, env, team[domain.Admin].Token, ""); len(got) != 0 {
		t.Errorf("the author was notified of their own mention: %+v", got)
	}
	got := notifications(t, env, team[domain.Viewer].Token, "")
	if len(got) != 1 {
		t.Fatalf("viewer notifications = %+v", got)
	}
	first := got[0]
	if first.Kind != "mentioned" || first.ConversationID != conv || first.Actor == nil || first.Actor.UserID != team[domain.Admin].ID ||
		first.NoteID == nil || *first.NoteID != n1.ID || first.ReadAt != nil || !strings.Contains(first.Text, "Admin Person mentioned you") {
		t.Errorf("notification = %+v", first)
	}

	// A second mention on the same conversation while the first is unread freshens it;
	// one on another conversation is a second notification.
	n2 := mustNote(t, env, team[domain.Support].Token, ws, conv, "cc @Viewer Person")
	mustNote(t, env, team[domain.Support].Token, ws, conv2, "and here @viewer person")
	got = notifications(t, env, team[domain.Viewer].Token, "")
	if len(got) != 2 || got[0].ConversationID != conv2 || got[1].ID != first.ID || *got[1].NoteID != n2.ID || got[1].Actor.UserID != team[domain.Support].ID {
		t.Fatalf("after two more mentions: %+v", got)
	}

	// Marking read: by id, then a new mention makes a new unread one.
	res := env.As(team[domain.Viewer].Token, http.MethodPost, "/api/v1/me/notifications/read", map[string]any{"ids": []string{first.ID}})
	var left struct {
		UnreadCount int `json:"unread_count"`
	}
	res.JSON(t, &left)
	if res.Code != http.StatusOK || left.UnreadCount != 1 {
		t.Fatalf("read one: %d %s", res.Code, res.Body)
	}
	mustNote(t, env, team[domain.Support].Token, ws, conv, "again @viewer person")
	if got := notifications(t, env, team[domain.Viewer].Token, "?unread=true"); len(got) != 2 || got[0].ConversationID != conv || got[0].ID == first.ID {
		t.Errorf("unread after a new mention: %+v", got)
	}
	all := notifications(t, env, team[domain.Viewer].Token, "")
	if len(all) != 3 || all[2].ReadAt == nil {
		t.Errorf("all: %+v", all)
	}
	if got := notifications(t, env, team[domain.Viewer].Token, "?limit=1"); len(got) != 1 {
		t.Errorf("limit=1 gave %d", len(got))
	}
	for _, q := range []string{"?limit=201", "?unread=maybe", "?cursor=x", "?kind=assigned"} {
		if res := env.As(team[domain.Viewer].Token, http.MethodGet, "/api/v1/me/notifications"+q, nil); res.Code != http.StatusBadRequest {
			t.Errorf("notifications%s: %d", q, res.Code)
		}
	}

	if res := env.Do(http.MethodGet, "/api/v1/me/notifications", nil); res.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", res.Code)
	}
	if res := env.Do(http.MethodPost, "/api/v1/me/notifications/read", map[string]any{"all": true}); res.Code != http.StatusUnauthorized {
		t.Errorf("read without a token: %d", res.Code)
	}

	// Nobody else's notifications: another member's, or another workspace's, ids are 404
	// and mark nothing; other people's lists never show them.
	if got := notifications(t, env, team[domain.Owner].Token, ""); len(got) != 0 {
		t.Errorf("the owner sees %+v", got)
	}
	if got := notifications(t, env, other.OwnerToken, ""); len(got) != 0 {
		t.Errorf("another workspace's owner sees %+v", got)
	}
	for _, token := range []string{team[domain.Owner].Token, other.OwnerToken} {
		res := env.As(token, http.MethodPost, "/api/v1/me/notifications/read", map[string]any{"ids": []string{all[0].ID}})
		if res.Code != http.StatusNotFound {
			t.Errorf("marking another's notification: %d %s", res.Code, res.Body)
		}
	}
	res = env.As(team[domain.Viewer].Token, http.MethodPost, "/api/v1/me/notifications/read",
		map[string]any{"ids": []string{all[0].ID, uuid.Must(uuid.NewV7()).String()}})
	if res.Code != http.StatusNotFound {
		t.Errorf("one unknown id among them: %d", res.Code)
	}
	if got := notifications(t, env, team[domain.Viewer].Token, "?unread=true"); len(got) != 2 {
		t.Errorf("a refused request marked something: %+v", got)
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = uuid.Must(uuid.NewV7()).String()
	}
	for _, body := range []map[string]any{{}, {"ids": []string{}}, {"ids": []string{"nope"}}, {"all": true, "ids": []string{all[0].ID}},
		{"ids": many}, {"all": false}, {"all": true, "also": 1}} {
		if res := env.As(team[domain.Viewer].Token, http.MethodPost, "/api/v1/me/notifications/read", body); res.Code != http.StatusBadRequest {
			t.Errorf("read %v: %d %s", domain.Clip(fmt.Sprint(body), 60), res.Code, res.Body)
		}
	}
	res = env.As(team[domain.Viewer].Token, http.MethodPost, "/api/v1/me/notifications/read", map[string]any{"all": true})
	res.JSON(t, &left)
	if res.Code != http.StatusOK || left.UnreadCount != 0 || len(notifications(t, env, team[domain.Viewer].Token, "?unread=true")) != 0 {
		t.Errorf("read all: %d %s", res.Code, res.Body)
	}
}

func TestNotificationsOfAssignmentVisitorMessageAndFailedSummary(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{}) // no OpenAI key: every summary fails
	ws := env.NewWorkspace("Assign Notify Co")
	team := addTeam(t, env, ws, "assign.example")
	support := team[domain.Support]
	conv := newConversation(t, env, ws, "an-1")
	mine := newConversation(t, env, ws, "an-2")

	assign := func(token, conv, user string) {
		t.Helper()
		if res := env.As(token, http.MethodPut, convPath(ws, conv, "/assignee"), map[string]any{"user_id": user}); res.Code != http.StatusOK {
			t.Fatalf("assign: %d %s", res.Code, res.Body)
		}
	}
	wait := func(what string, want ...string) []notificationJSON {
		t.Helper()
		var got []notificationJSON
		testenv.Eventually(t, 30*time.Second, what, func() bool {
			got = notifications(t, env, support.Token, "?unread=true")
			return slices.Equal(kinds(got), want)
		})
		return got
	}

	// The owner assigns a conversation to support: support is told, by the owner. Support
	// taking one for themselves is their own action: nothing.
	assign(ws.OwnerToken, conv, support.ID)
	assign(support.Token, mine, support.ID)
	got := wait("assigned", "assigned")
	if got[0].ConversationID != conv || got[0].Actor == nil || got[0].Actor.UserID != ws.OwnerUserID.String() || got[0].NoteID != nil ||
		!strings.Contains(got[0].Text, "Owner assigned you the conversation with Ana") {
		t.Errorf("assigned = %+v", got[0])
	}

	// Visitor messages on a conversation assigned to support: one unread notification
	// however many arrive; the assistant's messages tell nobody.
	for i, role := range []string{"visitor", "visitor", "assistant"} {
		body := ingestBody("an-2", fmt.Sprintf("message %d", i))
		body["message"].(map[string]any)["role"] = role
		if res := env.Ingest(ws.IngestKey, body); res.Code != http.StatusOK {
			t.Fatalf("ingest: %d %s", res.Code, res.Body)
		}
	}
	got = wait("one visitor_message", "visitor_message", "assigned")
	if got[0].ConversationID != mine || got[0].Actor != nil {
		t.Errorf("visitor_message = %+v", got[0])
	}
	// The owner, not assigned, hears nothing of visitor messages.
	if got := notifications(t, env, ws.OwnerToken, ""); len(got) != 0 {
		t.Errorf("owner: %+v", got)
	}

	// The summary of a conversation assigned to support fails (no key): support is told.
	closeConv(t, env, ws, mine)
	waitSummary(t, env, ws, mine, "failed")
	got = wait("summary_failed", "summary_failed", "visitor_message", "assigned")
	if got[0].ConversationID != mine || got[0].Actor != nil || !strings.Contains(got[0].Text, "summary failed") {
		t.Errorf("summary_failed = %+v", got[0])
	}

	// Reassigning to the same person while unread does not add a second one.
	assign(ws.OwnerToken, conv, team[domain.Admin].ID)
	assign(ws.OwnerToken, conv, support.ID)
	wait("still one assigned", "assigned", "summary_failed", "visitor_message")
}

// A note is the team's: the summary's model request carries the transcript, never a note.
func TestNotesNeverReachTheSummarizer(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{PlatformKey: "sk-platform-notes"})
	ws := env.NewWorkspace("Private Notes Co")
	id := newConversation(t, env, ws, "private-1")
	body := ingestBody("private-1", "Where is my parcel 7731?")
	if res := env.Ingest(ws.IngestKey, body); res.Code != http.StatusOK {
		t.Fatalf("ingest: %d %s", res.Code, res.Body)
	}
	const secret = "INTERNAL-ONLY refund approved by finance, do not tell the visitor"
	mustNote(t, env, ws.OwnerToken, ws, id, secret)
	closeConv(t, env, ws, id)
	waitSummary(t, env, ws, id, "ready")
	reqs := env.OpenAI.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d model calls, want 1", len(reqs))
	}
	var all strings.Builder
	for _, m := range reqs[0].Messages {
		all.WriteString(m.Content)
	}
	prompt := all.String()
	if !strings.Contains(prompt, "Where is my parcel 7731?") || !strings.Contains(prompt, "Hi, do you ship to NZ?") {
		t.Errorf("the prompt lacks the transcript: %q", prompt)
	}
	if strings.Contains(prompt, "INTERNAL-ONLY") || strings.Contains(prompt, "finance") {
		t.Errorf("the note reached the summarizer: %q", prompt)
	}
}
