package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// MinQueryLen and MaxQueryLen bound the q filter, in characters. Three is the shortest term
// the trigram indexes can look up; a shorter one would read every message of the workspace.
const (
	MinQueryLen = 3
	MaxQueryLen = 200
)

// ConversationFilter narrows the conversation list. Its zero value lists every conversation
// that is not archived. Every set field narrows further (the filters combine with AND).
type ConversationFilter struct {
	// States lists the states to show; empty means open, pending and closed.
	States []domain.State
	// IncludeArchived adds archived to States (or to the default set).
	IncludeArchived bool
	// Unread, when set, keeps only unread (true) or only read (false) conversations.
	Unread *bool
	// Unassigned keeps only conversations without an assignee; AssigneeID only those
	// assigned to that user. At most one of them is set.
	Unassigned bool
	AssigneeID uuid.NullUUID
	// Channels keeps only conversations from these channels; empty means every channel.
	Channels []domain.Channel
	// CreatedAfter (inclusive) and CreatedBefore (exclusive) bound created_at; zero is no bound.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// WakesBefore, when set, keeps only snoozed conversations that wake up before it
	// (exclusive).
	WakesBefore time.Time
	// Labels keeps only conversations carrying every one of these labels.
	Labels []uuid.UUID
	// Query keeps conversations whose visitor name, email or any message contains it,
	// case-insensitively. The caller checks its length (MinQueryLen..MaxQueryLen).
	Query string
	// SLA, when set, keeps only conversations with a clock due before SLADueBefore
	// (domain.SLAFilterDueSoon), soonest first, or with a breached clock
	// (domain.SLAFilterBreached), latest breach first. It is not combined with Query.
	SLA          string
	SLADueBefore time.Time
}

// The SLA orders of the list, and the expressions conversations_sla_due_idx and
// conversations_sla_breached_idx index (they must match exactly).
const (
	slaDueExpr            = "LEAST(c.sla_first_response_due, c.sla_resolution_due)"
	slaBreachedExpr       = "GREATEST(c.sla_first_response_breached_at, c.sla_resolution_breached_at)"
	slaDueCursorKind      = "cd"
	slaBreachedCursorKind = "cb"
)

// SLAKey is the time a conversation is ordered by in the SLA list kind (the due time, or
// the latest breach).
func (v ConversationView) slaKey(kind string) time.Time {
	pick := func(a, b sql.NullTime, later bool) time.Time {
		switch {
		case !a.Valid:
			return b.Time
		case !b.Valid:
			return a.Time
		case a.Time.After(b.Time) == later:
			return a.Time
		}
		return b.Time
	}
	if kind == domain.SLAFilterDueSoon {
		return pick(v.SLAFirstResponseDue, v.SLAResolutionDue, false)
	}
	return pick(v.SLAFirstResponseBreachedAt, v.SLAResolutionBreachedAt, true)
}

// states returns the states the filter shows, in display order; all four means no condition.
func (f ConversationFilter) states() []domain.State {
	want := f.States
	if len(want) == 0 {
		want = []domain.State{domain.Open, domain.Pending, domain.Closed}
	}
	if f.IncludeArchived {
		want = append(slices.Clone(want), domain.Archived)
	}
	out := make([]domain.State, 0, len(domain.States))
	for _, st := range domain.States {
		if slices.Contains(want, st) {
			out = append(out, st)
		}
	}
	return out
}

// ConversationPage is one page of the conversation list, newest activity first.
type ConversationPage struct {
	Items      []ConversationView
	NextCursor string
}

// ListConversations pages through the workspace's conversations that pass f, ordered by
// last activity, newest first (ties broken by id).
//
// Paging is stable: a conversation whose last_message_at does not change while the caller
// pages is returned exactly once. last_message_at only ever moves forward, so a conversation
// that gets a new message meanwhile moves above the cursor: it is never repeated, and if it
// had not been reached yet it is not returned in this pass (it is on the first page now).
// Conversations created meanwhile are likewise above the cursor.
func (s *Store) ListConversations(ctx context.Context, workspaceID uuid.UUID, f ConversationFilter, limit int, cursor string) (ConversationPage, error) {
	kind := conversationCursorKind
	switch f.SLA {
	case domain.SLAFilterDueSoon:
		kind = slaDueCursorKind
	case domain.SLAFilterBreached:
		kind = slaBreachedCursorKind
	}
	var after *listCursor
	if cursor != "" {
		c, err := decodeListCursor(cursor, kind)
		if err != nil {
			return ConversationPage{}, err
		}
		after = &c
	}
	var items []ConversationView
	var err error
	if f.Query == "" {
		q := s.viewOfUnordered(&items, s.filtered(workspaceID, f, after, "c.*").Limit(limit+1))
		switch f.SLA {
		case "":
			q = q.OrderExpr("c.last_message_at DESC, c.id DESC")
		case domain.SLAFilterDueSoon:
			q = q.OrderExpr(slaDueExpr + ", c.id")
		case domain.SLAFilterBreached:
			q = q.OrderExpr(slaBreachedExpr + " DESC, c.id DESC")
		}
		err = q.Scan(ctx)
	} else {
		items, err = s.search(ctx, workspaceID, f, after, limit+1)
	}
	if err != nil {
		return ConversationPage{}, fmt.Errorf("list conversations: %w", err)
	}
	var page ConversationPage
	page.Items, page.NextCursor = cutPage(items, limit, kind, func(v ConversationView) (time.Time, uuid.UUID) {
		if f.SLA != "" {
			return v.slaKey(f.SLA), v.ID
		}
		return v.LastMessageAt, v.ID
	})
	if err := s.attachLabels(ctx, page.Items); err != nil {
		return ConversationPage{}, err
	}
	return page, nil
}

// filtered selects the workspace's conversations that pass every filter but the text
// search, after the cursor, in list order.
func (s *Store) filtered(workspaceID uuid.UUID, f ConversationFilter, after *listCursor, columns string) *bun.SelectQuery {
	q := s.DB.NewSelect().TableExpr("conversations AS c").ColumnExpr(columns).
		Where("c.workspace_id = ?", workspaceID)
	switch states := f.states(); {
	case len(states) == len(domain.States):
	case len(states) == 3 && !slices.Contains(states, domain.Archived):
		// Written as the predicate of conversations_active_idx, so the default list uses it.
		q = q.Where("c.state <> ?", domain.Archived)
	default:
		q = q.Where("c.state IN (?)", bun.In(states))
	}
	if f.Unread != nil {
		if *f.Unread {
			q = q.Where("c.unread") // the predicate of conversations_unread_idx
		} else {
			q = q.Where("NOT c.unread")
		}
	}
	switch {
	case f.Unassigned:
		q = q.Where("c.assignee_id IS NULL")
	case f.AssigneeID.Valid:
		q = q.Where("c.assignee_id = ?", f.AssigneeID.UUID)
	}
	if len(f.Channels) > 0 && len(f.Channels) < len(domain.Channels) {
		q = q.Where("c.channel IN (?)", bun.In(f.Channels))
	}
	if !f.CreatedAfter.IsZero() {
		q = q.Where("c.created_at >= ?", f.CreatedAfter)
	}
	if !f.CreatedBefore.IsZero() {
		q = q.Where("c.created_at < ?", f.CreatedBefore)
	}
	if !f.WakesBefore.IsZero() {
		q = q.Where("c.pending_until < ?", f.WakesBefore)
	}
	for _, id := range f.Labels {
		q = q.Where("EXISTS (SELECT 1 FROM conversation_labels AS fl WHERE fl.conversation_id = c.id AND fl.label_id = ?)", id)
	}
	switch f.SLA {
	case domain.SLAFilterDueSoon:
		// The predicate of conversations_sla_due_idx, and its order.
		q = q.Where("(c.sla_first_response_due IS NOT NULL OR c.sla_resolution_due IS NOT NULL)").
			Where(slaDueExpr+" < ?", f.SLADueBefore)
		if after != nil {
			q = q.Where("("+slaDueExpr+", c.id) > (?, ?)", after.At, after.ID)
		}
		return q.OrderExpr(slaDueExpr + ", c.id")
	case domain.SLAFilterBreached:
		q = q.Where("(c.sla_first_response_breached_at IS NOT NULL OR c.sla_resolution_breached_at IS NOT NULL)")
		if after != nil {
			q = q.Where("("+slaBreachedExpr+", c.id) < (?, ?)", after.At, after.ID)
		}
		return q.OrderExpr(slaBreachedExpr + " DESC, c.id DESC")
	}
	if after != nil {
		q = q.Where("(c.last_message_at, c.id) < (?, ?)", after.At, after.ID)
	}
	return q.OrderExpr("c.last_message_at DESC, c.id DESC")
}

// viewOf joins the lead and the assignee to the conversations inner selects (already cut to
// a page), so the joins run for the rows shown and not for every candidate.
func (s *Store) viewOf(dest *[]ConversationView, inner *bun.SelectQuery) *bun.SelectQuery {
	return s.viewOfUnordered(dest, inner).OrderExpr("c.last_message_at DESC, c.id DESC")
}

func (s *Store) viewOfUnordered(dest any, inner *bun.SelectQuery) *bun.SelectQuery {
	return s.DB.NewSelect().Model(dest).ModelTableExpr("(?) AS c", inner).
		ColumnExpr("c.*").
		ColumnExpr("l.id AS lead_id, l.status AS lead_status, l.name AS visitor_name, l.email AS visitor_email, l.phone AS visitor_phone").
		ColumnExpr("u.name AS assignee_name, am.role AS assignee_role").
		Join("JOIN leads AS l ON l.conversation_id = c.id").
		Join("LEFT JOIN users AS u ON u.id = c.assignee_id").
		Join("LEFT JOIN memberships AS am ON am.user_id = c.assignee_id AND am.workspace_id = c.workspace_id")
}

// The text search has two plans, because messages carry no workspace and no order:
//
//   - narrow: ask the trigram indexes for every matching message and contact, then sort just
//     those conversations. Its cost grows with the number of matches.
//   - broad: walk the list in order and test each conversation's contact and messages,
//     stopping when the page is full. Its cost grows with the rarity of the term.
//
// Postgres's estimate of the matching contacts and messages (from its column statistics,
// across all workspaces) picks one: above searchNarrowMax, the walk. The walk reads at most
// searchWalkBudget conversations; when that does not fill the page (the estimate was too
// high, e.g. the term is common in other workspaces only) the narrow plan finishes the job.
// Around 1% of a million conversations both plans cost tens of milliseconds (BENCHMARKS.md).
var (
	searchNarrowMax  = 10000.0
	searchWalkBudget = 10000
)

func (s *Store) search(ctx context.Context, workspaceID uuid.UUID, f ConversationFilter, after *listCursor, n int) ([]ConversationView, error) {
	pattern := "%" + escapeLike(f.Query) + "%"
	estimate, err := s.searchEstimate(ctx, workspaceID, pattern)
	if err != nil {
		return nil, err
	}
	var items []ConversationView
	if estimate > searchNarrowMax {
		// The walk reads only the list's keys (index-only where it can) and tests each
		// conversation's contact and messages; OFFSET 0 keeps each test a lookup by
		// conversation id rather than a hash of every match. The page's rows are read last.
		window := s.filtered(workspaceID, f, after, "c.id, c.last_message_at").Limit(searchWalkBudget)
		matches := s.DB.NewSelect().TableExpr("(?) AS w", window).ColumnExpr("w.id").
			Where(`EXISTS (SELECT 1 FROM leads AS ql
					WHERE ql.conversation_id = w.id AND (ql.name || ' ' || ql.email) ILIKE ? OFFSET 0)
				OR EXISTS (SELECT 1 FROM messages AS qm
					WHERE qm.conversation_id = w.id AND qm.text ILIKE ? OFFSET 0)`, pattern, pattern).
			OrderExpr("w.last_message_at DESC, w.id DESC").Limit(n)
		page := s.DB.NewSelect().TableExpr("conversations AS c").ColumnExpr("c.*").
			Where("c.id IN (?)", matches).OrderExpr("c.last_message_at DESC, c.id DESC")
		if err := s.viewOf(&items, page).Scan(ctx); err != nil {
			return nil, err
		}
		if len(items) == n {
			return items, nil
		}
		// Short of a page: either the walk saw every candidate, or it gave up.
		seen, err := s.DB.NewSelect().TableExpr("(?) AS w", window).Count(ctx)
		if err != nil {
			return nil, err
		}
		if seen < searchWalkBudget {
			return items, nil
		}
		items = nil
	}
	// Each branch is answered by a trigram index (leads_contact_trgm_idx,
	// messages_text_trgm_idx); the expressions must match the indexes' exactly.
	narrow := s.filtered(workspaceID, f, after, "c.*").
		Where(`c.id IN (
			SELECT ql.conversation_id FROM leads AS ql
			WHERE ql.workspace_id = ? AND (ql.name || ' ' || ql.email) ILIKE ?
			UNION
			SELECT qm.conversation_id FROM messages AS qm WHERE qm.text ILIKE ?)`,
			workspaceID, pattern, pattern).
		Limit(n)
	err = s.viewOf(&items, narrow).Scan(ctx)
	return items, err
}

// searchEstimate is Postgres's estimate of the contacts and messages matching pattern.
func (s *Store) searchEstimate(ctx context.Context, workspaceID uuid.UUID, pattern string) (float64, error) {
	var out string
	err := s.DB.NewRaw(`EXPLAIN (FORMAT JSON)
		SELECT 1 FROM leads AS ql WHERE ql.workspace_id = ? AND (ql.name || ' ' || ql.email) ILIKE ?
		UNION ALL
		SELECT 1 FROM messages AS qm WHERE qm.text ILIKE ?`, workspaceID, pattern, pattern).Scan(ctx, &out)
	if err != nil {
		return 0, fmt.Errorf("estimate search: %w", err)
	}
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan) == 0 {
		return 0, fmt.Errorf("estimate search: unexpected EXPLAIN output: %.200s", out)
	}
	return plan[0].Plan.Rows, nil
}

// escapeLike makes s match itself literally inside a LIKE pattern (backslash is the escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
