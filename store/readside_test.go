package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

// rsConv creates a conversation through Ingest and pins its times, so the list order is known.
func rsConv(t *testing.T, s *store.Store, ws uuid.UUID, ref, name, text string, created, last time.Time) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	res, err := s.Ingest(ctx, store.IngestMessage{
		WorkspaceID: ws, Ref: ref, Channel: domain.Chat,
		Visitor: store.Visitor{Name: &name},
		Role:    domain.VisitorMessage, Text: text, SentAt: created,
	})
	if err != nil {
		t.Fatalf("ingest %s: %v", ref, err)
	}
	if _, err := s.DB.ExecContext(ctx, "UPDATE conversations SET created_at = ?, last_message_at = ? WHERE id = ?", created, last, res.ConversationID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.ExecContext(ctx, "UPDATE leads SET created_at = ? WHERE conversation_id = ?", created, res.ConversationID); err != nil {
		t.Fatal(err)
	}
	return res.ConversationID
}

func rsWorkspace(t *testing.T, s *store.Store, name string) store.NewWorkspace {
	t.Helper()
	ws, err := s.CreateWorkspace(context.Background(), name, name+"-owner@example.com", name+" Owner")
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// TestListConversationsPagingUnderInserts pages with a small limit while conversations are
// created and touched between pages: every conversation that was not touched is returned
// exactly once, nothing is ever returned twice, and ties on last_message_at are broken by id.
func TestListConversationsPagingUnderInserts(t *testing.T) {
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws := rsWorkspace(t, s, "paging")
	other := rsWorkspace(t, s, "paging-other")

	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var pre []uuid.UUID
	for i := range 40 {
		// Groups of four share a timestamp, so the id decides within a group.
		at := base.Add(time.Duration(i/4) * time.Minute)
		pre = append(pre, rsConv(t, s, ws.WorkspaceID, fmt.Sprintf("pre-%d", i), "Visitor", "hello", at, at))
	}
	rsConv(t, s, other.WorkspaceID, "noise", "Visitor", "hello", base, base)

	seen := map[uuid.UUID]int{}
	var order []store.ConversationView
	touched := map[uuid.UUID]bool{}
	cursor := ""
	for page := 0; ; page++ {
		p, err := s.ListConversations(ctx, ws.WorkspaceID, store.ConversationFilter{}, 7, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range p.Items {
			seen[v.ID]++
			order = append(order, v)
		}
		// Between pages: new conversations arrive, an already-listed one and a not yet
		// listed one get a new message.
		rsNew(t, s, ws.WorkspaceID, fmt.Sprintf("new-%d", page))
		if len(order) > 0 {
			rsTouch(t, s, ws.WorkspaceID, order[0].Ref)
			touched[order[0].ID] = true
		}
		if page == 1 {
			touched[pre[0]] = true // the oldest: not reached yet
			rsTouch(t, s, ws.WorkspaceID, "pre-0")
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("conversation %s listed %d times", id, n)
		}
	}
	for _, id := range pre {
		if seen[id] == 0 && !touched[id] {
			t.Errorf("pre-existing, untouched conversation %s was skipped", id)
		}
	}
	if seen[pre[0]] != 0 {
		t.Errorf("a conversation touched before it was reached should have moved above the cursor")
	}
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if a.LastMessageAt.Before(b.LastMessageAt) || (a.LastMessageAt.Equal(b.LastMessageAt) && a.ID.String() < b.ID.String()) {
			t.Errorf("out of order at %d: %s/%s before %s/%s", i, a.LastMessageAt, a.ID, b.LastMessageAt, b.ID)
		}
	}
	for _, v := range order {
		if v.WorkspaceID != ws.WorkspaceID {
			t.Errorf("another workspace's conversation %s listed", v.ID)
		}
	}

	// A lead cursor is not a conversation cursor.
	lp, err := s.ListLeads(ctx, ws.WorkspaceID, store.LeadFilter{}, 1, "")
	if err != nil || lp.NextCursor == "" {
		t.Fatalf("list leads: %v %q", err, lp.NextCursor)
	}
	if _, err := s.ListConversations(ctx, ws.WorkspaceID, store.ConversationFilter{}, 1, lp.NextCursor); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("lead cursor on the conversation list: got %v, want ErrBadCursor", err)
	}
	if _, err := s.ListLeads(ctx, ws.WorkspaceID, store.LeadFilter{}, 1, "bm90IGEgY3Vyc29y"); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("junk cursor: got %v, want ErrBadCursor", err)
	}
}

func rsNew(t *testing.T, s *store.Store, ws uuid.UUID, ref string) {
	t.Helper()
	if _, err := s.Ingest(context.Background(), store.IngestMessage{
		WorkspaceID: ws, Ref: ref, Channel: domain.Chat, Role: domain.VisitorMessage, Text: "new", SentAt: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}
}

func rsTouch(t *testing.T, s *store.Store, ws uuid.UUID, ref string) {
	t.Helper()
	if _, err := s.Ingest(context.Background(), store.IngestMessage{
		WorkspaceID: ws, Ref: ref, Channel: domain.Chat, Role: domain.VisitorMessage, Text: "again", SentAt: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}
}

// TestListLeadsPaging pages through leads with leads arriving between pages.
func TestListLeadsPaging(t *testing.T) {
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws := rsWorkspace(t, s, "leadpaging")
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	want := map[uuid.UUID]bool{}
	for i := range 25 {
		at := base.Add(time.Duration(i/3) * time.Hour)
		conv := rsConv(t, s, ws.WorkspaceID, fmt.Sprintf("l-%d", i), "V", "hi", at, at)
		v, err := s.GetConversation(ctx, ws.WorkspaceID, conv)
		if err != nil {
			t.Fatal(err)
		}
		want[v.LeadID] = true
	}
	seen := map[uuid.UUID]int{}
	cursor := ""
	var prev *store.LeadView
	for page := 0; ; page++ {
		p, err := s.ListLeads(ctx, ws.WorkspaceID, store.LeadFilter{}, 4, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.Items {
			v := p.Items[i]
			seen[v.ID]++
			if prev != nil && (prev.CreatedAt.Before(v.CreatedAt) || (prev.CreatedAt.Equal(v.CreatedAt) && prev.ID.String() < v.ID.String())) {
				t.Errorf("out of order: %s then %s", prev.ID, v.ID)
			}
			prev = &v
		}
		rsNew(t, s, ws.WorkspaceID, fmt.Sprintf("arrived-%d", page))
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("lead %s listed %d times, want once", id, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("lead %s listed %d times", id, n)
		}
	}
}

// TestSetLeadStatus changes a lead's status once (audited) and again to the same (not audited),
// and cannot reach another workspace's lead.
func TestSetLeadStatus(t *testing.T) {
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws := rsWorkspace(t, s, "leadstatus")
	other := rsWorkspace(t, s, "leadstatus-other")
	conv := rsConv(t, s, ws.WorkspaceID, "r", "Ana", "hi", time.Now(), time.Now())
	v, err := s.GetConversation(ctx, ws.WorkspaceID, conv)
	if err != nil {
		t.Fatal(err)
	}
	actor := &domain.Actor{UserID: ws.OwnerUserID, Name: "leadstatus Owner"}
	for range 2 {
		lead, err := s.SetLeadStatus(ctx, ws.WorkspaceID, v.LeadID, domain.LeadContacted, actor)
		if err != nil {
			t.Fatal(err)
		}
		if lead.Status != domain.LeadContacted || lead.ConversationID != conv {
			t.Fatalf("lead after change: %+v", lead)
		}
	}
	if _, err := s.SetLeadStatus(ctx, other.WorkspaceID, v.LeadID, domain.LeadWon, actor); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another workspace's lead: got %v, want ErrNotFound", err)
	}
	audit, err := s.ListAudit(ctx, ws.WorkspaceID, conv, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	var changes []store.AuditEntry
	for _, e := range audit.Items {
		if e.Action == domain.AuditLeadStatusChanged {
			changes = append(changes, e)
		}
	}
	if len(changes) != 1 {
		t.Fatalf("want 1 lead_status_changed entry, got %d", len(changes))
	}
	e := changes[0]
	if e.Before["status"] != "new" || e.After["status"] != "contacted" || e.Actor == nil || e.Actor.UserID != ws.OwnerUserID {
		t.Errorf("audit entry: before %v after %v actor %+v", e.Before, e.After, e.Actor)
	}
}

// TestExportLeadsStreams reads more rows than one cursor batch, in order, filtered, and stops
// when the consumer fails.
func TestExportLeadsStreams(t *testing.T) {
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws := rsWorkspace(t, s, "export")
	other := rsWorkspace(t, s, "export-other")
	// 2,500 leads straight in SQL: more than two FETCH batches.
	if _, err := s.DB.ExecContext(ctx, `
		WITH c AS (
			INSERT INTO conversations (id, workspace_id, ref, channel, workflow_id, created_at, last_message_at, page_url)
			SELECT gen_random_uuid(), ?, 'r' || g, 'chat', 'wf' || g, ?::timestamptz + g * interval '1 second', now(), 'https://x.test/' || g
			FROM generate_series(1, 2500) AS g
			RETURNING id, created_at, ref)
		INSERT INTO leads (id, workspace_id, conversation_id, name, status, created_at)
		SELECT gen_random_uuid(), ?, c.id, 'Lead ' || substr(c.ref, 2), CASE WHEN substr(c.ref, 2)::int % 5 = 0 THEN 'won' ELSE 'new' END, c.created_at FROM c`,
		ws.WorkspaceID, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), ws.WorkspaceID); err != nil {
		t.Fatal(err)
	}
	rsConv(t, s, other.WorkspaceID, "noise", "Noise", "hi", time.Now(), time.Now())

	var got []store.LeadExportRow
	n, err := s.ExportLeads(ctx, ws.WorkspaceID, store.LeadFilter{}, func(r *store.LeadExportRow) error {
		got = append(got, *r)
		return nil
	})
	if err != nil || n != 2500 || len(got) != 2500 {
		t.Fatalf("export: n=%d rows=%d err=%v", n, len(got), err)
	}
	if got[0].Name != "Lead 2500" || got[2499].Name != "Lead 1" || got[0].PageURL != "https://x.test/2500" {
		t.Errorf("order or columns wrong: first %+v last %+v", got[0], got[2499])
	}
	won := 0
	n, err = s.ExportLeads(ctx, ws.WorkspaceID, store.LeadFilter{Statuses: []domain.LeadStatus{domain.LeadWon}}, func(r *store.LeadExportRow) error {
		if r.Status != domain.LeadWon {
			t.Errorf("status filter let %s through", r.Status)
		}
		won++
		return nil
	})
	if err != nil || n != 500 || won != 500 {
		t.Errorf("won export: n=%d won=%d err=%v", n, won, err)
	}
	stop := errors.New("consumer gone")
	n, err = s.ExportLeads(ctx, ws.WorkspaceID, store.LeadFilter{}, func(r *store.LeadExportRow) error {
		if r.Name == "Lead 1200" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 1300 {
		t.Errorf("stopped export: n=%d err=%v", n, err)
	}
	// The connection went back to the pool in a usable state.
	if _, err := s.ListLeads(ctx, ws.WorkspaceID, store.LeadFilter{}, 1, ""); err != nil {
		t.Errorf("list after stopped export: %v", err)
	}
}

func TestQueryIsLiteral(t *testing.T) {
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws := rsWorkspace(t, s, "literal")
	now := time.Now()
	pct := rsConv(t, s, ws.WorkspaceID, "pct", "Visitor", "I want a 100% refund", now, now)
	rsConv(t, s, ws.WorkspaceID, "other", "Visitor", "1000 refunds", now, now)
	under := rsConv(t, s, ws.WorkspaceID, "under", "a_b", "x", now, now)
	rsConv(t, s, ws.WorkspaceID, "axb", "axb", "x", now, now)
	for q, want := range map[string][]uuid.UUID{"100%": {pct}, "a_b": {under}} {
		p, err := s.ListConversations(ctx, ws.WorkspaceID, store.ConversationFilter{Query: q}, 50, "")
		if err != nil {
			t.Fatal(err)
		}
		var ids []uuid.UUID
		for _, v := range p.Items {
			ids = append(ids, v.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("q=%q: got %v, want %v", q, ids, want)
		}
	}
}

// TestSearchPlansAgree checks that the narrow (index) and broad (walk) plans of the text
// search, and the walk that gives up and falls back, all page to the same answer as a plain
// scan in Go.
func TestSearchPlansAgree(t *testing.T) {
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws := rsWorkspace(t, s, "search")
	other := rsWorkspace(t, s, "search-other")
	names := []string{"Ana Silva", "Bob Order", "Carla Ship", "Dan", "Eve Warranty"}
	texts := []string{"where is my order?", "do you ship to Fiji?", "warranty please", "hello there", "ORDER 66"}
	states := []domain.State{domain.Open, domain.Pending, domain.Closed, domain.Archived}
	type conv struct {
		id       uuid.UUID
		last     time.Time
		haystack []string
		state    domain.State
	}
	var convs []conv
	base := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for i := range 60 {
		at := base.Add(time.Duration(i/2) * time.Minute) // pairs share a time
		name, text := names[i%len(names)], texts[(i/3)%len(texts)]
		id := rsConv(t, s, ws.WorkspaceID, fmt.Sprintf("s-%d", i), name, text, at, at)
		hay := []string{strings.ToLower(name + " "), strings.ToLower(text)}
		if i%4 == 0 {
			second := texts[(i+1)%len(texts)]
			if _, err := s.DB.ExecContext(ctx, "INSERT INTO messages (id, conversation_id, role, text, sent_at) VALUES (?, ?, 'assistant', ?, ?)",
				uuid.New(), id, second, at); err != nil {
				t.Fatal(err)
			}
			hay = append(hay, strings.ToLower(second))
		}
		st := states[i%len(states)]
		if _, err := s.DB.ExecContext(ctx, "UPDATE conversations SET state = ? WHERE id = ?", st, id); err != nil {
			t.Fatal(err)
		}
		convs = append(convs, conv{id, at, hay, st})
		rsConv(t, s, other.WorkspaceID, fmt.Sprintf("o-%d", i), name, text, at, at)
	}
	slices.SortFunc(convs, func(a, b conv) int {
		if c := b.last.Compare(a.last); c != 0 {
			return c
		}
		return strings.Compare(b.id.String(), a.id.String())
	})
	expect := func(term string, f store.ConversationFilter) []uuid.UUID {
		var out []uuid.UUID
		for _, c := range convs {
			if c.state == domain.Archived && !f.IncludeArchived {
				continue
			}
			if len(f.States) > 0 && !slices.Contains(f.States, c.state) {
				continue
			}
			if slices.ContainsFunc(c.haystack, func(h string) bool { return strings.Contains(h, strings.ToLower(term)) }) {
				out = append(out, c.id)
			}
		}
		return out
	}
	plans := []struct {
		name              string
		narrowMax, budget int
	}{
		{"estimate decides", 5000, 5000},
		{"always walk", -1, 5000},
		{"walk gives up at once", -1, 2},
		{"walk gives up midway", -1, 17},
	}
	filters := []store.ConversationFilter{
		{},
		{IncludeArchived: true},
		{States: []domain.State{domain.Closed, domain.Pending}},
	}
	for _, plan := range plans {
		restore := store.SetSearchPlan(float64(plan.narrowMax), plan.budget)
		for _, term := range []string{"order", "ship", "warranty", "ana", "nobody", "o"} {
			for _, f := range filters {
				f.Query = term
				want := expect(term, f)
				for _, limit := range []int{1, 4, 50} {
					var got []uuid.UUID
					cursor := ""
					for range 100 {
						p, err := s.ListConversations(ctx, ws.WorkspaceID, f, limit, cursor)
						if err != nil {
							t.Fatal(err)
						}
						for _, v := range p.Items {
							got = append(got, v.ID)
						}
						if cursor = p.NextCursor; cursor == "" {
							break
						}
					}
					if !slices.Equal(got, want) {
						t.Errorf("%s, q=%q, states %v archived %v, limit %d: got %d ids, want %d", plan.name, term, f.States, f.IncludeArchived, limit, len(got), len(want))
					}
				}
			}
		}
		restore()
	}
}

// TestExportLeadsCancelled stops an export by cancelling its context midway: it ends with
// the context's error, and the store keeps working.
func TestExportLeadsCancelled(t *testing.T) {
	s := testenv.NewStore(t)
	ws := rsWorkspace(t, s, "cancel")
	if _, err := s.DB.ExecContext(context.Background(), `
		WITH c AS (
			INSERT INTO conversations (id, workspace_id, ref, channel, workflow_id)
			SELECT gen_random_uuid(), ?, 'r' || g, 'chat', 'wf' || g FROM generate_series(1, 20000) AS g
			RETURNING id)
		INSERT INTO leads (id, workspace_id, conversation_id) SELECT gen_random_uuid(), ?, c.id FROM c`,
		ws.WorkspaceID, ws.WorkspaceID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n, err := s.ExportLeads(ctx, ws.WorkspaceID, store.LeadFilter{}, func(*store.LeadExportRow) error {
		cancel() // the client goes away after the first row
		time.Sleep(time.Millisecond)
		return nil
	})
	if !errors.Is(err, context.Canceled) || n >= 20000 {
		t.Errorf("cancelled export: n=%d err=%v", n, err)
	}
	if _, err := s.ListLeads(context.Background(), ws.WorkspaceID, store.LeadFilter{}, 1, ""); err != nil {
		t.Errorf("list after a cancelled export: %v", err)
	}
	// Cancelled before it starts.
	if _, err := s.ExportLeads(ctx, ws.WorkspaceID, store.LeadFilter{}, func(*store.LeadExportRow) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("export with a done context: %v", err)
	}
}

// TestRecentMessagesWalksBackFromTheNewest: the transcript opens on its newest messages,
// each page shown oldest first, and walks back page by page to the first message without
// a gap or a repeat, even when messages share a timestamp; a message that arrives meanwhile
// is on the newest page, and another conversation's cursor or workspace is refused.
func TestRecentMessagesWalksBackFromTheNewest(t *testing.T) {
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws := rsWorkspace(t, s, "transcript")
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var conv uuid.UUID
	for i := range 23 {
		res, err := s.Ingest(ctx, store.IngestMessage{
			WorkspaceID: ws.WorkspaceID, Ref: "long", Channel: domain.Chat, Role: domain.VisitorMessage,
			Text: fmt.Sprintf("m%02d", i), SentAt: base.Add(time.Duration(i/2) * time.Minute), // pairs share a time
		})
		if err != nil {
			t.Fatal(err)
		}
		conv = res.ConversationID
	}
	texts := func(ms []store.Message) []string {
		out := make([]string, len(ms))
		for i, m := range ms {
			out[i] = m.Text
		}
		return out
	}
	page, earlier, err := s.RecentMessages(ctx, ws.WorkspaceID, conv, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(page); len(got) != 10 || got[9] != "m22" || earlier == "" {
		t.Fatalf("newest page: %v (earlier %q), want m13..m22", got, earlier)
	}
	var seen []string
	seen = append(texts(page), seen...)
	for earlier != "" {
		if page, earlier, err = s.RecentMessages(ctx, ws.WorkspaceID, conv, 10, earlier); err != nil {
			t.Fatal(err)
		}
		seen = append(texts(page), seen...)
	}
	if len(seen) != 23 || !slices.IsSortedFunc(seen, strings.Compare) || seen[0] != "m00" {
		t.Fatalf("walked back: %v, want m00..m22 once each, in order", seen)
	}
	other := rsWorkspace(t, s, "stranger")
	if _, _, err := s.RecentMessages(ctx, other.WorkspaceID, conv, 10, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another workspace: %v, want ErrNotFound", err)
	}
	list, err := s.ListMessages(ctx, ws.WorkspaceID, conv, 5, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecentMessages(ctx, ws.WorkspaceID, conv, 10, list.NextCursor); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("a forward cursor: %v, want ErrBadCursor", err)
	}
}

// TestGetConversationReadsItsLabelsWithTheRow: the detail (the answer to every change) is
// one query, labels included, ordered by name without regard to case, then id; none is an
// empty list, not nil.
func TestGetConversationReadsItsLabelsWithTheRow(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	queries := &testenv.QueryLog{}
	s.DB.AddQueryHook(queries)
	ctx := context.Background()
	ws := rsWorkspace(t, s, "labels-read")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	conv := rsConv(t, s, ws.WorkspaceID, "labelled", "Ada", "hello", base, base)
	bare := rsConv(t, s, ws.WorkspaceID, "bare", "Bob", "hello", base, base)

	var ids []uuid.UUID
	for _, name := range []string{"billing", "Urgent", "api"} {
		l := &store.Label{ID: uuid.New(), WorkspaceID: ws.WorkspaceID, Name: name, Color: domain.LabelColors[0]}
		if err := s.CreateLabel(ctx, l, 100, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.ID)
	}
	if err := s.SetConversationLabels(ctx, ws.WorkspaceID, conv, ids, nil); err != nil {
		t.Fatal(err)
	}

	queries.Reset()
	v, err := s.GetConversation(ctx, ws.WorkspaceID, conv)
	if err != nil {
		t.Fatal(err)
	}
	// (The messages that made the conversations are announced after their commit, by the
	// store's announcer: such a notification may land after the Reset, and is not counted.)
	var made []string
	for _, q := range queries.Matching("") {
		if !strings.Contains(q, "pg_notify") {
			made = append(made, q)
		}
	}
	if len(made) != 1 {
		t.Errorf("GetConversation made %d queries, want 1: %q", len(made), made)
	}
	var names []string
	for _, l := range v.Labels {
		names = append(names, l.Name)
		if l.ID == uuid.Nil || l.Color != domain.LabelColors[0] {
			t.Errorf("label %q read as %+v", l.Name, l)
		}
	}
	if want := []string{"api", "billing", "Urgent"}; !slices.Equal(names, want) {
		t.Errorf("labels %v, want %v", names, want)
	}
	if v.LabelsJSON != nil {
		t.Errorf("LabelsJSON kept after decoding: %s", v.LabelsJSON)
	}

	none, err := s.GetConversation(ctx, ws.WorkspaceID, bare)
	if err != nil {
		t.Fatal(err)
	}
	if none.Labels == nil || len(none.Labels) != 0 {
		t.Errorf("labels of an unlabelled conversation: %#v, want an empty list", none.Labels)
	}
}
