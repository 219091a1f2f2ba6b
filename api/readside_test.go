package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

// The read side (issue 5): conversation and lead lists, lead status, CSV export. Fixtures
// are written through the store (no workflow is involved in reading), the requests go
// through the real router.

var rsBase = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

func rsAt(h int) time.Time { return rsBase.Add(time.Duration(h) * time.Hour) }

// rsFixtureConv describes one conversation of the fixture and its lead.
type rsFixtureConv struct {
	ref                string
	channel            domain.Channel
	name, email, phone string
	text               string
	created, last      time.Time
	state              domain.State
	unread             bool
	assignee           *store.Member
	leadStatus         domain.LeadStatus
	summary            string
	pageURL            string

	id     uuid.UUID
	leadID uuid.UUID
}

func rsSeed(t *testing.T, s *store.Store, ws uuid.UUID, convs []*rsFixtureConv) {
	t.Helper()
	ctx := context.Background()
	ptr := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	for _, f := range convs {
		res, err := s.Ingest(ctx, store.IngestMessage{
			WorkspaceID: ws, Ref: f.ref, Channel: f.channel,
			Visitor: store.Visitor{Name: ptr(f.name), Email: ptr(f.email), Phone: ptr(f.phone)},
			Role:    domain.VisitorMessage, Text: f.text, SentAt: f.created,
			Source: store.Source{PageURL: f.pageURL},
		})
		if err != nil {
			t.Fatalf("ingest %s: %v", f.ref, err)
		}
		f.id = res.ConversationID
		if f.state != domain.Open {
			ch := domain.LifecycleChange{
				RequestID: uuid.NewString(), WorkspaceID: ws, ConversationID: f.id, At: f.last,
				FromState: domain.Open, ToState: f.state,
			}
			if f.state.HasClosedAt() {
				closed := f.last
				ch.ToClosedAt = &closed
			}
			if err := s.ApplyLifecycleChange(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
		if f.assignee != nil {
			if err := s.ApplyLifecycleChange(ctx, domain.LifecycleChange{
				RequestID: uuid.NewString(), WorkspaceID: ws, ConversationID: f.id, At: f.last,
				AssigneeChanged: true, ToAssignee: &domain.Actor{UserID: f.assignee.UserID, Name: f.assignee.Name},
			}); err != nil {
				t.Fatal(err)
			}
		}
		if !f.unread {
			if err := s.SetRead(ctx, ws, f.id, true, nil); err != nil {
				t.Fatal(err)
			}
		}
		if f.leadStatus == "" {
			f.leadStatus = domain.LeadNew
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"UPDATE conversations SET created_at = ?, last_message_at = ?, summary_text = ?, summary_status = CASE WHEN ? = '' THEN summary_status ELSE 'ready' END WHERE id = ?",
				[]any{f.created, f.last, f.summary, f.summary, f.id}},
			{"UPDATE leads SET created_at = ?, status = ? WHERE conversation_id = ?", []any{f.created, f.leadStatus, f.id}},
		} {
			if _, err := s.DB.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DB.NewSelect().Table("leads").Column("id").Where("conversation_id = ?", f.id).Scan(ctx, &f.leadID); err != nil {
			t.Fatal(err)
		}
	}
}

func rsMember(t *testing.T, s *store.Store, ws uuid.UUID, email, name string, role domain.Role) (*store.Member, string) {
	t.Helper()
	m, token, err := s.AddMember(context.Background(), ws, email, name, role)
	if err != nil {
		t.Fatal(err)
	}
	return m, token
}

type rsPage[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

type rsConvItem struct {
	ID       uuid.UUID `json:"id"`
	State    string    `json:"state"`
	Channel  string    `json:"channel"`
	Unread   bool      `json:"unread"`
	Assignee *struct {
		UserID uuid.UUID `json:"user_id"`
		Name   string    `json:"name"`
		Role   *string   `json:"role"`
	} `json:"assignee"`
	Visitor struct {
		Name  *string `json:"name"`
		Email *string `json:"email"`
		Phone *string `json:"phone"`
	} `json:"visitor"`
	CreatedAt     time.Time  `json:"created_at"`
	LastMessageAt time.Time  `json:"last_message_at"`
	ClosedAt      *time.Time `json:"closed_at"`
	SummaryStatus string     `json:"summary_status"`
}

type rsLeadItem struct {
	ID             uuid.UUID `json:"id"`
	ConversationID uuid.UUID `json:"conversation_id"`
	Name           *string   `json:"name"`
	Email          *string   `json:"email"`
	Phone          *string   `json:"phone"`
	Status         string    `json:"status"`
	CreatedAt      time.Time `json:"created_at"`
	PageURL        *string   `json:"page_url"`
	Summary        *string   `json:"summary"`
	Assignee       *struct {
		UserID uuid.UUID `json:"user_id"`
		Name   string    `json:"name"`
		Role   *string   `json:"role"`
	} `json:"assignee"`
}

func TestReadSide(t *testing.T) {
	env := testenv.New(t, testenv.Options{NoWorker: true})
	s := env.Store
	wsA := env.NewWorkspace("Read Side A")
	wsB := env.NewWorkspace("Read Side B")
	a := wsA.WorkspaceID
	ownerA, err := s.MemberOf(context.Background(), a, wsA.OwnerUserID)
	if err != nil {
		t.Fatal(err)
	}
	support, supportToken := rsMember(t, s, a, "sam@a.test", "Sam Support", domain.Support)
	_, viewerToken := rsMember(t, s, a, "vic@a.test", "Vic Viewer", domain.Viewer)
	ownerB, err := s.MemberOf(context.Background(), wsB.WorkspaceID, wsB.OwnerUserID)
	if err != nil {
		t.Fatal(err)
	}

	c1 := &rsFixtureConv{ref: "ana", channel: domain.Chat, name: "Ana Silva", email: "ana@example.com", phone: "+64211234567",
		text: "Do you ship to NZ?", created: rsAt(1), last: rsAt(10), state: domain.Open, unread: true,
		pageURL: "https://shop.example/pricing"}
	c2 := &rsFixtureConv{ref: "bob", channel: domain.WebVoice, name: "Bob Jones", email: "bob@corp.test",
		text: "What is the pricing for teams?", created: rsAt(2), last: rsAt(9), state: domain.Pending,
		assignee: support, leadStatus: domain.LeadContacted}
	c3 := &rsFixtureConv{ref: "chloe", channel: domain.Phone, name: "Chloé Martin", email: "chloe@example.org",
		text: "Call me back, please", created: rsAt(3), last: rsAt(8), state: domain.Closed, unread: true,
		assignee: ownerA, leadStatus: domain.LeadWon, summary: "Chloé asked for a call back.", pageURL: "https://shop.example/"}
	c4 := &rsFixtureConv{ref: "dan", channel: domain.Chat, name: "Dan Ship", email: "dan@ship.test",
		text: "hello", created: rsAt(4), last: rsAt(7), state: domain.Archived, assignee: support, leadStatus: domain.LeadLost}
	c5 := &rsFixtureConv{ref: "eve", channel: domain.WebVoice, name: "Eve",
		text: "Is shipping free?", created: rsAt(5), last: rsAt(6), state: domain.Open,
		assignee: ownerA, leadStatus: domain.LeadQualified}
	c6 := &rsFixtureConv{ref: "fay", channel: domain.Phone, email: "fay@example.com",
		text: "bye", created: rsAt(6), last: rsAt(5), state: domain.Closed}
	all := []*rsFixtureConv{c1, c2, c3, c4, c5, c6}
	rsSeed(t, s, a, all)
	// Workspace B holds a twin of Ana: it must never show in A.
	b1 := &rsFixtureConv{ref: "ana", channel: domain.Chat, name: "Ana Silva", email: "ana@example.com",
		text: "Do you ship to NZ?", created: rsAt(1), last: rsAt(11), state: domain.Open, unread: true, assignee: ownerB}
	rsSeed(t, s, wsB.WorkspaceID, []*rsFixtureConv{b1})

	convPath := "/api/v1/workspaces/" + a.String() + "/conversations"
	leadPath := "/api/v1/workspaces/" + a.String() + "/leads"

	listConvs := func(t *testing.T, token, query string) []rsConvItem {
		t.Helper()
		res := env.As(token, http.MethodGet, convPath+"?"+query, nil)
		if res.Code != http.StatusOK {
			t.Fatalf("GET conversations?%s: %d %s", query, res.Code, res.Body)
		}
		var page rsPage[rsConvItem]
		res.JSON(t, &page)
		return page.Items
	}
	ids := func(items []rsConvItem) []uuid.UUID {
		out := make([]uuid.UUID, len(items))
		for i, it := range items {
			out[i] = it.ID
		}
		return out
	}
	convIDs := func(cs ...*rsFixtureConv) []uuid.UUID {
		out := make([]uuid.UUID, len(cs))
		for i, c := range cs {
			out[i] = c.id
		}
		return out
	}
	names := map[uuid.UUID]string{}
	for _, c := range append(all, b1) {
		names[c.id] = c.ref
	}
	refs := func(ids []uuid.UUID) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = names[id]
		}
		return out
	}

	t.Run("conversation filters", func(t *testing.T) {
		after3 := url.QueryEscape(rsAt(3).Format(time.RFC3339))
		after2 := url.QueryEscape(rsAt(2).Format(time.RFC3339))
		before5 := url.QueryEscape(rsAt(5).Format(time.RFC3339))
		// An offset whose '+' was not percent-encoded arrives as a space; it still parses.
		before3NZ := rsAt(3).In(time.FixedZone("NZST", 12*3600)).Format(time.RFC3339)
		cases := []struct {
			query string
			want  []*rsFixtureConv
		}{
			{"", []*rsFixtureConv{c1, c2, c3, c5, c6}},
			{"state=open", []*rsFixtureConv{c1, c5}},
			{"state=open,pending", []*rsFixtureConv{c1, c2, c5}},
			{"state=open&state=pending", []*rsFixtureConv{c1, c2, c5}},
			{"state=closed", []*rsFixtureConv{c3, c6}},
			{"state=archived", []*rsFixtureConv{c4}},
			{"include_archived=true", all},
			{"include_archived=false", []*rsFixtureConv{c1, c2, c3, c5, c6}},
			{"state=open&include_archived=true", []*rsFixtureConv{c1, c4, c5}},
			{"state=open,pending,closed,archived", all},
			{"unread=true", []*rsFixtureConv{c1, c3}},
			{"unread=false", []*rsFixtureConv{c2, c5, c6}},
			{"assignee=me", []*rsFixtureConv{c3, c5}},
			{"assignee=none", []*rsFixtureConv{c1, c6}},
			{"assignee=" + support.UserID.String(), []*rsFixtureConv{c2}},
			{"assignee=" + support.UserID.String() + "&include_archived=true", []*rsFixtureConv{c2, c4}},
			{"assignee=" + uuid.NewString(), nil},
			{"channel=chat", []*rsFixtureConv{c1}},
			{"channel=web_voice,phone", []*rsFixtureConv{c2, c3, c5, c6}},
			{"channel=chat,web_voice,phone", []*rsFixtureConv{c1, c2, c3, c5, c6}},
			{"created_after=" + after3, []*rsFixtureConv{c3, c5, c6}},
			{"created_before=" + after3, []*rsFixtureConv{c1, c2}},
			{"created_before=" + before3NZ, []*rsFixtureConv{c1, c2}},
			{"created_after=" + after2 + "&created_before=" + before5, []*rsFixtureConv{c2, c3}},
			{"q=ship", []*rsFixtureConv{c1, c5}},
			{"q=SHIP&include_archived=true", []*rsFixtureConv{c1, c4, c5}},
			{"q=ana", []*rsFixtureConv{c1}},
			{"q=example.org", []*rsFixtureConv{c3}},
			{"q=fay%40", []*rsFixtureConv{c6}},
			{"q=pricing", []*rsFixtureConv{c2}},
			{"q=CHLO", []*rsFixtureConv{c3}},
			{"q=%20ana%20", []*rsFixtureConv{c1}},
			{"q=nobody-says-this", nil},
			{"q=", []*rsFixtureConv{c1, c2, c3, c5, c6}},
			{"state=open,closed&unread=false&channel=web_voice,phone", []*rsFixtureConv{c5, c6}},
			{"unread=true&assignee=me&state=closed&q=call&created_after=" + url.QueryEscape(rsBase.Format(time.RFC3339)), []*rsFixtureConv{c3}},
			{"channel=chat&q=ship&include_archived=true&assignee=none", []*rsFixtureConv{c1}},
			{"state=closed&unread=true&channel=chat", nil},
		}
		for _, tc := range cases {
			got := ids(listConvs(t, wsA.OwnerToken, tc.query))
			if want := convIDs(tc.want...); !slices.Equal(got, want) {
				t.Errorf("?%s: got %v, want %v", tc.query, refs(got), refs(want))
			}
		}
	})

	t.Run("conversation item fields", func(t *testing.T) {
		items := listConvs(t, viewerToken, "state=closed")
		if len(items) != 2 {
			t.Fatalf("got %d items", len(items))
		}
		it := items[0]
		if it.ID != c3.id || it.State != "closed" || it.Channel != "phone" || !it.Unread ||
			it.Assignee == nil || it.Assignee.UserID != ownerA.UserID || it.Assignee.Role == nil || *it.Assignee.Role != "owner" ||
			it.Visitor.Name == nil || *it.Visitor.Name != "Chloé Martin" || it.Visitor.Phone != nil ||
			!it.CreatedAt.Equal(c3.created) || !it.LastMessageAt.Equal(c3.last) || it.ClosedAt == nil || it.SummaryStatus != "ready" {
			t.Errorf("item: %+v", it)
		}
		raw := env.As(wsA.OwnerToken, http.MethodGet, convPath+"?limit=1", nil)
		var generic struct {
			Items []map[string]any `json:"items"`
		}
		raw.JSON(t, &generic)
		var keys []string
		for k := range generic.Items[0] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"assignee", "channel", "closed_at", "created_at", "id", "labels", "last_message_at", "pending_until", "sla", "state", "summary_status", "unread", "visitor"}
		if !slices.Equal(keys, want) {
			t.Errorf("item keys %v, want %v", keys, want)
		}
	})

	t.Run("conversation pages", func(t *testing.T) {
		var got []uuid.UUID
		query := "limit=2&include_archived=true"
		for range 10 {
			res := env.As(wsA.OwnerToken, http.MethodGet, convPath+"?"+query, nil)
			if res.Code != http.StatusOK {
				t.Fatalf("%d %s", res.Code, res.Body)
			}
			var page rsPage[rsConvItem]
			res.JSON(t, &page)
			if len(page.Items) > 2 {
				t.Fatalf("page of %d", len(page.Items))
			}
			got = append(got, ids(page.Items)...)
			if page.NextCursor == nil {
				break
			}
			query = "limit=2&include_archived=true&cursor=" + url.QueryEscape(*page.NextCursor)
		}
		if want := convIDs(all...); !slices.Equal(got, want) {
			t.Errorf("paged: %v, want %v", refs(got), refs(want))
		}
		res := env.As(wsA.OwnerToken, http.MethodGet, convPath+"?limit=200", nil)
		if res.Code != http.StatusOK {
			t.Errorf("limit=200: %d", res.Code)
		}
	})

	t.Run("workspace isolation", func(t *testing.T) {
		for _, q := range []string{"", "q=ana", "include_archived=true", "assignee=" + ownerB.UserID.String()} {
			for _, id := range ids(listConvs(t, wsA.OwnerToken, q)) {
				if id == b1.id {
					t.Errorf("?%s: workspace B's conversation listed in A", q)
				}
			}
		}
		res := env.As(wsB.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+wsB.WorkspaceID.String()+"/conversations?include_archived=true", nil)
		var page rsPage[rsConvItem]
		res.JSON(t, &page)
		if !slices.Equal(ids(page.Items), []uuid.UUID{b1.id}) {
			t.Errorf("B lists %v", refs(ids(page.Items)))
		}
		// A's token on B's workspace: not a member, 404.
		if res := env.As(wsA.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+wsB.WorkspaceID.String()+"/leads", nil); res.Code != http.StatusNotFound {
			t.Errorf("A's owner listing B's leads: %d", res.Code)
		}
		res = env.As(wsB.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+wsB.WorkspaceID.String()+"/leads", nil)
		var leads rsPage[rsLeadItem]
		res.JSON(t, &leads)
		if len(leads.Items) != 1 || leads.Items[0].ConversationID != b1.id {
			t.Errorf("B's leads: %+v", leads.Items)
		}
		res = env.As(wsB.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+wsB.WorkspaceID.String()+"/leads/export.csv", nil)
		rows := rsCSV(t, res)
		if len(rows) != 2 || rows[1][1] != "Ana Silva" {
			t.Errorf("B's export: %q", rows)
		}
	})

	t.Run("bad conversation filters name the field", func(t *testing.T) {
		long := strings.Repeat("x", 201)
		cases := map[string]string{
			"state=foo":                           "state:",
			"state=open,foo":                      "state:",
			"unread=yes":                          "unread:",
			"unread=true&unread=false":            "unread:",
			"include_archived=1":                  "include_archived:",
			"assignee=bob":                        "assignee:",
			"channel=fax":                         "channel:",
			"created_after=yesterday":             "created_after:",
			"created_before=2026-13-01T00:00:00Z": "created_before:",
			"q=a":                                 "q:",
			"q=ab":                                "q:",
			"q=" + long:                           "q:",
			"q=%FF%FE%FD":                         "q:",
			"stat=open":                           "stat:",
			"limit=0":                             "limit:",
			"limit=201":                           "limit:",
			"limit=x":                             "limit:",
			"cursor=junk":                         "cursor:",
		}
		for query, prefix := range cases {
			res := env.As(wsA.OwnerToken, http.MethodGet, convPath+"?"+query, nil)
			msg := rsErrorMessage(t, res)
			if res.Code != http.StatusBadRequest || res.ErrorCode() != "bad_request" || !strings.HasPrefix(msg, prefix) {
				t.Errorf("?%s: %d %s %q, want 400 bad_request starting %q", query, res.Code, res.ErrorCode(), msg, prefix)
			}
		}
		res := env.As(wsA.OwnerToken, http.MethodGet, convPath+"?state=foo", nil)
		if msg := rsErrorMessage(t, res); !strings.Contains(msg, `"foo"`) {
			t.Errorf("state message does not quote the value: %q", msg)
		}
		// A lead cursor is refused by the conversation list.
		lres := env.As(wsA.OwnerToken, http.MethodGet, leadPath+"?limit=1", nil)
		var lp rsPage[rsLeadItem]
		lres.JSON(t, &lp)
		if lp.NextCursor == nil {
			t.Fatal("no lead cursor")
		}
		res = env.As(wsA.OwnerToken, http.MethodGet, convPath+"?cursor="+url.QueryEscape(*lp.NextCursor), nil)
		if res.Code != http.StatusBadRequest {
			t.Errorf("lead cursor on conversations: %d", res.Code)
		}
	})

	t.Run("lead list", func(t *testing.T) {
		listLeads := func(query string) []rsLeadItem {
			t.Helper()
			res := env.As(viewerToken, http.MethodGet, leadPath+"?"+query, nil)
			if res.Code != http.StatusOK {
				t.Fatalf("GET leads?%s: %d %s", query, res.Code, res.Body)
			}
			var page rsPage[rsLeadItem]
			res.JSON(t, &page)
			return page.Items
		}
		leadConvs := func(items []rsLeadItem) []uuid.UUID {
			out := make([]uuid.UUID, len(items))
			for i, it := range items {
				out[i] = it.ConversationID
			}
			return out
		}
		after3 := url.QueryEscape(rsAt(3).Format(time.RFC3339))
		cases := []struct {
			query string
			want  []*rsFixtureConv
		}{
			{"", []*rsFixtureConv{c6, c5, c4, c3, c2, c1}},
			{"status=new", []*rsFixtureConv{c6, c1}},
			{"status=won,lost", []*rsFixtureConv{c4, c3}},
			{"status=new,contacted,qualified,won,lost", []*rsFixtureConv{c6, c5, c4, c3, c2, c1}},
			{"created_after=" + after3, []*rsFixtureConv{c6, c5, c4, c3}},
			{"created_before=" + url.QueryEscape(rsAt(2).Format(time.RFC3339)), []*rsFixtureConv{c1}},
			{"status=new&created_after=" + after3, []*rsFixtureConv{c6}},
			{"status=contacted&created_after=" + after3, nil},
		}
		for _, tc := range cases {
			got := leadConvs(listLeads(tc.query))
			if want := convIDs(tc.want...); !slices.Equal(got, want) {
				t.Errorf("leads?%s: got %v, want %v", tc.query, refs(got), refs(want))
			}
		}
		items := listLeads("status=won")
		if len(items) != 1 {
			t.Fatalf("won: %d", len(items))
		}
		it := items[0]
		if it.ID != c3.leadID || it.Name == nil || *it.Name != "Chloé Martin" || it.Email == nil || *it.Email != "chloe@example.org" ||
			it.Phone != nil || it.Status != "won" || !it.CreatedAt.Equal(c3.created) ||
			it.PageURL == nil || *it.PageURL != "https://shop.example/" || it.Summary == nil || *it.Summary != c3.summary ||
			it.Assignee == nil || it.Assignee.UserID != ownerA.UserID || it.Assignee.Name != ownerA.Name || it.Assignee.Role == nil || *it.Assignee.Role != "owner" {
			t.Errorf("lead item: %+v", it)
		}
		unassigned := listLeads("status=new")[0]
		if unassigned.Assignee != nil || unassigned.Summary != nil || unassigned.Name != nil || unassigned.PageURL != nil {
			t.Errorf("fay's lead: %+v", unassigned)
		}
		var got []uuid.UUID
		query := "limit=4"
		for range 5 {
			res := env.As(viewerToken, http.MethodGet, leadPath+"?"+query, nil)
			var page rsPage[rsLeadItem]
			res.JSON(t, &page)
			got = append(got, leadConvs(page.Items)...)
			if page.NextCursor == nil {
				break
			}
			query = "limit=4&cursor=" + url.QueryEscape(*page.NextCursor)
		}
		if want := convIDs(c6, c5, c4, c3, c2, c1); !slices.Equal(got, want) {
			t.Errorf("paged leads: %v", refs(got))
		}
		for query, prefix := range map[string]string{
			"status=hot":           "status:",
			"created_after=monday": "created_after:",
			"created_before=1":     "created_before:",
			"state=open":           "state:",
			"limit=0":              "limit:",
			"limit=201":            "limit:",
			"limit=x":              "limit:",
			"cursor=" + url.QueryEscape("eyJrIjoiYyJ9"): "cursor:",
		} {
			res := env.As(viewerToken, http.MethodGet, leadPath+"?"+query, nil)
			if msg := rsErrorMessage(t, res); res.Code != http.StatusBadRequest || !strings.HasPrefix(msg, prefix) {
				t.Errorf("leads?%s: %d %q, want 400 starting %q", query, res.Code, msg, prefix)
			}
		}
	})

	t.Run("patch lead", func(t *testing.T) {
		path := leadPath + "/" + c1.leadID.String()
		res := env.As(supportToken, http.MethodPatch, path, map[string]any{"status": "contacted"})
		if res.Code != http.StatusOK {
			t.Fatalf("patch: %d %s", res.Code, res.Body)
		}
		var lead rsLeadItem
		res.JSON(t, &lead)
		if lead.ID != c1.leadID || lead.Status != "contacted" || lead.ConversationID != c1.id || lead.Phone == nil || *lead.Phone != "+64211234567" {
			t.Errorf("patched lead: %+v", lead)
		}
		// The same status again: 200, nothing recorded.
		if res := env.As(supportToken, http.MethodPatch, path, map[string]any{"status": "contacted"}); res.Code != http.StatusOK {
			t.Errorf("same status: %d %s", res.Code, res.Body)
		}
		audit := env.As(wsA.OwnerToken, http.MethodGet, convPath+"/"+c1.id.String()+"/audit", nil)
		var entries struct {
			Items []struct {
				Action string         `json:"action"`
				Actor  *domain.Actor  `json:"actor"`
				Before map[string]any `json:"before"`
				After  map[string]any `json:"after"`
			} `json:"items"`
		}
		audit.JSON(t, &entries)
		n := 0
		for _, e := range entries.Items {
			if e.Action != string(domain.AuditLeadStatusChanged) {
				continue
			}
			n++
			if e.Actor == nil || e.Actor.UserID != support.UserID || e.Before["status"] != "new" || e.After["status"] != "contacted" {
				t.Errorf("audit entry: %+v", e)
			}
		}
		if n != 1 {
			t.Errorf("%d lead_status_changed entries, want 1 (%s)", n, audit.Body)
		}

		for _, tc := range []struct {
			token string
			path  string
			body  any
			code  int
			start string
		}{
			{viewerToken, path, map[string]any{"status": "won"}, http.StatusForbidden, ""},
			{supportToken, path, map[string]any{"status": "hot"}, http.StatusBadRequest, "status:"},
			{supportToken, path, map[string]any{"status": "won", "note": "x"}, http.StatusBadRequest, "body:"},
			{supportToken, path, map[string]any{}, http.StatusBadRequest, "status:"},
			{supportToken, path, `{"status": null}`, http.StatusBadRequest, "status:"},
			{supportToken, path, `not json`, http.StatusBadRequest, "body:"},
			{supportToken, leadPath + "/not-a-uuid", map[string]any{"status": "won"}, http.StatusBadRequest, "id:"},
			{supportToken, leadPath + "/" + uuid.NewString(), map[string]any{"status": "won"}, http.StatusNotFound, ""},
			{wsB.OwnerToken, "/api/v1/workspaces/" + wsB.WorkspaceID.String() + "/leads/" + c1.leadID.String(), map[string]any{"status": "won"}, http.StatusNotFound, ""},
		} {
			res := env.As(tc.token, http.MethodPatch, tc.path, tc.body)
			if res.Code != tc.code || !strings.HasPrefix(rsErrorMessage(t, res), tc.start) {
				t.Errorf("PATCH %s %v: %d %s, want %d starting %q", tc.path, tc.body, res.Code, res.Body, tc.code, tc.start)
			}
		}
		check := env.As(viewerToken, http.MethodGet, leadPath+"?status=won", nil)
		var won rsPage[rsLeadItem]
		check.JSON(t, &won)
		if len(won.Items) != 1 || won.Items[0].ID != c3.leadID {
			t.Errorf("a refused PATCH changed a lead: %+v", won.Items)
		}
		// Put it back for the export below.
		if res := env.As(supportToken, http.MethodPatch, path, map[string]any{"status": "new"}); res.Code != http.StatusOK {
			t.Fatalf("patch back: %d", res.Code)
		}
	})

	t.Run("export", func(t *testing.T) {
		res := env.As(viewerToken, http.MethodGet, leadPath+"/export.csv", nil)
		if res.Code != http.StatusOK {
			t.Fatalf("export as viewer: %d %s", res.Code, res.Body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		wantCD := fmt.Sprintf(`attachment; filename="leads-%s-%s.csv"`, a, time.Now().UTC().Format("2006-01-02"))
		if cd := res.Header.Get("Content-Disposition"); cd != wantCD {
			t.Errorf("Content-Disposition %q, want %q", cd, wantCD)
		}
		rows := rsCSV(t, res)
		want := [][]string{
			{"created_at", "name", "email", "phone", "summary", "status", "page_url", "assignee", "labels"},
			{"2026-05-01T06:00:00Z", "", "fay@example.com", "", "", "new", "", "", ""},
			{"2026-05-01T05:00:00Z", "Eve", "", "", "", "qualified", "", ownerA.Name, ""},
			{"2026-05-01T04:00:00Z", "Dan Ship", "dan@ship.test", "", "", "lost", "", "Sam Support", ""},
			{"2026-05-01T03:00:00Z", "Chloé Martin", "chloe@example.org", "", "Chloé asked for a call back.", "won", "https://shop.example/", ownerA.Name, ""},
			{"2026-05-01T02:00:00Z", "Bob Jones", "bob@corp.test", "", "", "contacted", "", "Sam Support", ""},
			{"2026-05-01T01:00:00Z", "Ana Silva", "ana@example.com", "+64211234567", "", "new", "https://shop.example/pricing", "", ""},
		}
		if !slices.EqualFunc(rows, want, slices.Equal) {
			t.Errorf("export:\n got %q\nwant %q", rows, want)
		}
		filtered := rsCSV(t, env.As(viewerToken, http.MethodGet, leadPath+"/export.csv?status=won,lost&created_after="+url.QueryEscape(rsAt(4).Format(time.RFC3339)), nil))
		if len(filtered) != 2 || filtered[1][1] != "Dan Ship" {
			t.Errorf("filtered export: %q", filtered)
		}
		empty := rsCSV(t, env.As(viewerToken, http.MethodGet, leadPath+"/export.csv?status=won&created_before="+url.QueryEscape(rsBase.Format(time.RFC3339)), nil))
		if len(empty) != 1 {
			t.Errorf("empty export: %q", empty)
		}
		for query, prefix := range map[string]string{"status=hot": "status:", "limit=10": "limit:", "created_after=x": "created_after:"} {
			res := env.As(viewerToken, http.MethodGet, leadPath+"/export.csv?"+query, nil)
			if msg := rsErrorMessage(t, res); res.Code != http.StatusBadRequest || !strings.HasPrefix(msg, prefix) {
				t.Errorf("export?%s: %d %q", query, res.Code, msg)
			}
		}
		// Each export that ran is audited once, with the caller, the filters and the row count.
		var audits []store.AuditEntry
		if err := s.DB.NewSelect().Model(&audits).Where("workspace_id = ? AND action = ?", a, domain.AuditLeadsExported).
			OrderExpr("at, id").Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(audits) != 3 {
			t.Fatalf("%d leads_exported entries, want 3", len(audits))
		}
		first, second := audits[0], audits[1]
		if !first.ActorID.Valid || first.ActorName != "Vic Viewer" || first.After["rows"] != float64(6) || first.After["complete"] != true || first.ConversationID.Valid {
			t.Errorf("export audit: %+v", first)
		}
		if f, _ := second.Before["filters"].(map[string]any); f["status"] != "won,lost" || f["created_after"] == nil || second.After["rows"] != float64(1) {
			t.Errorf("filtered export audit: before %v after %v", second.Before, second.After)
		}
	})

	t.Run("export neutralises formulas", func(t *testing.T) {
		wsF := env.NewWorkspace("Read Side Formulas")
		evil, _ := rsMember(t, s, wsF.WorkspaceID, "evil@f.test", "@admin", domain.Admin)
		fx := []*rsFixtureConv{
			{ref: "f1", channel: domain.Chat, name: `=HYPERLINK("http://evil.test","click")`, email: "@SUM(1+1)@x.test",
				phone: "+64211234567", text: "x", created: rsAt(1), last: rsAt(1), state: domain.Open, summary: "-1+2"},
			{ref: "f2", channel: domain.Chat, name: "+cmd|' /C calc'!A0", email: "plain@x.test",
				phone: "=1+1", text: "x", created: rsAt(2), last: rsAt(2), state: domain.Open, summary: "\tstarts with a tab", assignee: evil},
			{ref: "f3", channel: domain.Chat, name: "Zoë, \"Z\" O'Neil", email: "z@x.test",
				phone: "+64 (21) 123-4567", text: "x", created: rsAt(3), last: rsAt(3), state: domain.Open, summary: "line one\nline two",
				pageURL: "https://x.test/?a=1,b=2"},
			{ref: "f4", channel: domain.Chat, name: "-", email: "＝cmd@x.test",
				phone: "+6421 =1", text: "x", created: rsAt(4), last: rsAt(4), state: domain.Open, summary: "\rCR first"},
			{ref: "f5", channel: domain.Chat, name: "safe", email: "s@x.test",
				phone: "-123456789", text: "x", created: rsAt(5), last: rsAt(5), state: domain.Open, summary: "\nLF first"},
		}
		rsSeed(t, s, wsF.WorkspaceID, fx)
		res := env.As(wsF.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+wsF.WorkspaceID.String()+"/leads/export.csv", nil)
		rows := rsCSV(t, res)
		want := [][]string{
			{"created_at", "name", "email", "phone", "summary", "status", "page_url", "assignee", "labels"},
			{"2026-05-01T05:00:00Z", "safe", "s@x.test", "'-123456789", "'\nLF first", "new", "", "", ""},
			{"2026-05-01T04:00:00Z", "'-", "'＝cmd@x.test", "'+6421 =1", "'\rCR first", "new", "", "", ""},
			{"2026-05-01T03:00:00Z", "Zoë, \"Z\" O'Neil", "z@x.test", "+64 (21) 123-4567", "line one\nline two", "new", "https://x.test/?a=1,b=2", "", ""},
			{"2026-05-01T02:00:00Z", "'+cmd|' /C calc'!A0", "plain@x.test", "'=1+1", "'\tstarts with a tab", "new", "", "'@admin", ""},
			{"2026-05-01T01:00:00Z", `'=HYPERLINK("http://evil.test","click")`, "'@SUM(1+1)@x.test", "+64211234567", "'-1+2", "new", "", "", ""},
		}
		if !slices.EqualFunc(rows, want, slices.Equal) {
			t.Errorf("export:\n got %q\nwant %q", rows, want)
		}
	})
}

// rsCSV checks an export answer and parses its body as RFC 4180 CSV.
func rsCSV(t *testing.T, res testenv.Response) [][]string {
	t.Helper()
	if res.Code != http.StatusOK {
		t.Fatalf("export: %d %s", res.Code, res.Body)
	}
	r := csv.NewReader(strings.NewReader(string(res.Body)))
	r.FieldsPerRecord = 9
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, res.Body)
	}
	return rows
}

func rsErrorMessage(t *testing.T, res testenv.Response) string {
	t.Helper()
	var body struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(res.Body, &body)
	return body.Error.Message
}
