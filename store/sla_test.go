package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

// A breach written three times (a retried activity) is recorded once: one sla_breached
// audit entry by the system and one sla.breached event; another workspace's id is refused.
func TestWriteSLABreachOnce(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	addWebhook(t, s, ws, true, domain.EventSLABreached)
	due := time.Now().UTC().Truncate(time.Microsecond)
	w := domain.SLAWrite{WorkspaceID: ws, ConversationID: conv, FirstResponseBreachedAt: &due,
		Breach: &domain.SLABreach{Clock: domain.SLAFirstResponse, Due: due}}
	for range 3 {
		if err := s.WriteSLA(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	got := outbox(t, s, ws, domain.EventSLABreached)
	if len(got) != 1 || got[0]["clock"] != "first_response" || got[0]["conversation_id"] != conv.String() {
		t.Fatalf("sla.breached deliveries: %v", got)
	}
	var n int
	if err := s.DB.NewRaw(`SELECT count(*) FROM audit_log WHERE conversation_id = ? AND action = 'sla_breached' AND actor_id IS NULL`,
		conv).Scan(ctx, &n); err != nil || n != 1 {
		t.Errorf("sla_breached audit entries by the system: %d (%v)", n, err)
	}
	w.WorkspaceID = uuid.New()
	if err := s.WriteSLA(ctx, w); err != store.ErrNotFound {
		t.Errorf("another workspace's conversation: %v", err)
	}
}

// sla=due_soon lists running clocks due before the bound, soonest first, in stable keyset
// pages; sla=breached lists breached ones, latest breach first.
func TestListConversationsBySLA(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws := rsWorkspace(t, s, "sla-list").WorkspaceID
	now := time.Now().UTC().Truncate(time.Microsecond)
	ids := make([]uuid.UUID, 6)
	for i := range ids {
		ids[i] = rsConv(t, s, ws, "sla-"+string(rune('a'+i)), "V", "hi", now.Add(-time.Hour), now.Add(-time.Duration(i)*time.Minute))
	}
	at := func(m int) *time.Time { t := now.Add(time.Duration(m) * time.Minute); return &t }
	writes := []domain.SLAWrite{
		{FirstResponseDue: at(30)},                                        // 0: due in 30 min
		{ResolutionDue: at(10), FirstResponseDue: at(50)},                 // 1: due in 10 min (the earlier)
		{ResolutionDue: at(120)},                                          // 2: not soon
		{FirstResponseBreachedAt: at(-5)},                                 // 3: breached 5 min ago
		{ResolutionBreachedAt: at(-60), FirstResponseBreachedAt: at(-90)}, // 4: breached an hour ago
		{FirstResponseDue: at(-1)},                                        // 5: due a minute ago, breach being recorded
	}
	for i, w := range writes {
		w.WorkspaceID, w.ConversationID = ws, ids[i]
		if err := s.WriteSLA(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	list := func(f store.ConversationFilter) []uuid.UUID {
		var out []uuid.UUID
		cursor := ""
		for {
			page, err := s.ListConversations(ctx, ws, f, 1, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range page.Items {
				out = append(out, v.ID)
			}
			if cursor = page.NextCursor; cursor == "" {
				return out
			}
		}
	}
	soon := list(store.ConversationFilter{SLA: domain.SLAFilterDueSoon, SLADueBefore: now.Add(domain.SLADueSoonWindow)})
	if want := []uuid.UUID{ids[5], ids[1], ids[0]}; !equalIDs(soon, want) {
		t.Errorf("due soon: %v, want %v", soon, want)
	}
	breached := list(store.ConversationFilter{SLA: domain.SLAFilterBreached})
	if want := []uuid.UUID{ids[3], ids[4]}; !equalIDs(breached, want) {
		t.Errorf("breached: %v, want %v", breached, want)
	}
	// A cursor of one order is refused by the other.
	page, err := s.ListConversations(ctx, ws, store.ConversationFilter{SLA: domain.SLAFilterBreached}, 1, "")
	if err != nil || page.NextCursor == "" {
		t.Fatalf("first breached page: %v", err)
	}
	if _, err := s.ListConversations(ctx, ws, store.ConversationFilter{}, 1, page.NextCursor); err == nil {
		t.Error("the breached order's cursor was taken by the default order")
	}
}

func equalIDs(a, b []uuid.UUID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A breach tells the assignee once (a retried write adds nothing); an unassigned
// conversation's breach tells the owners and admins, and never support or viewers.
func TestSLABreachNotifiesOnce(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	admin, _, err := s.AddMember(ctx, ws, "admin@breach.example", "Ada", domain.Admin)
	if err != nil {
		t.Fatal(err)
	}
	support, _, err := s.AddMember(ctx, ws, "support@breach.example", "Sam", domain.Support)
	if err != nil {
		t.Fatal(err)
	}
	var owner uuid.UUID
	if err := s.DB.NewRaw(`SELECT user_id FROM memberships WHERE workspace_id = ? AND role = 'owner'`, ws).Scan(ctx, &owner); err != nil {
		t.Fatal(err)
	}
	told := func() map[uuid.UUID]int {
		t.Helper()
		var rows []struct {
			UserID uuid.UUID `bun:"user_id"`
			N      int       `bun:"n"`
		}
		if err := s.DB.NewRaw(`SELECT user_id, count(*) AS n FROM notifications WHERE conversation_id = ? AND kind = 'sla_breached' GROUP BY user_id`,
			conv).Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		out := map[uuid.UUID]int{}
		for _, r := range rows {
			out[r.UserID] = r.N
		}
		return out
	}
	due := time.Now().UTC().Truncate(time.Microsecond)
	first := domain.SLAWrite{WorkspaceID: ws, ConversationID: conv, FirstResponseBreachedAt: &due,
		Breach: &domain.SLABreach{Clock: domain.SLAFirstResponse, Due: due}}
	for range 2 {
		if err := s.WriteSLA(ctx, first); err != nil {
			t.Fatal(err)
		}
	}
	if got := told(); len(got) != 2 || got[owner] != 1 || got[admin.UserID] != 1 {
		t.Fatalf("an unassigned breach told %v; want the owner %s and the admin %s once each (not support %s)", got, owner, admin.UserID, support.UserID)
	}
	// Read them, assign the conversation to support, and breach the resolution clock.
	if _, err := s.DB.NewRaw(`UPDATE notifications SET read_at = now() WHERE conversation_id = ?`, conv).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.NewRaw(`UPDATE conversations SET assignee_id = ? WHERE id = ?`, support.UserID, conv).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	resolution := domain.SLAWrite{WorkspaceID: ws, ConversationID: conv, FirstResponseBreachedAt: &due, ResolutionBreachedAt: &due,
		Breach: &domain.SLABreach{Clock: domain.SLAResolution, Due: due}}
	if err := s.WriteSLA(ctx, resolution); err != nil {
		t.Fatal(err)
	}
	var unread []uuid.UUID
	if err := s.DB.NewRaw(`SELECT user_id FROM notifications WHERE conversation_id = ? AND read_at IS NULL`, conv).Scan(ctx, &unread); err != nil {
		t.Fatal(err)
	}
	if len(unread) != 1 || unread[0] != support.UserID {
		t.Errorf("an assigned breach told %v; want only the assignee %s", unread, support.UserID)
	}
}
