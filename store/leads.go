package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// LeadView is a lead with what the lead list shows of its conversation: the page the
// visitor first wrote from, the latest ready summary and the assignee.
type LeadView struct {
	Lead `bun:",extend"`

	PageURL      string         `bun:"page_url"`
	Summary      string         `bun:"summary"`
	AssigneeID   uuid.NullUUID  `bun:"assignee_id,type:uuid"`
	AssigneeName sql.NullString `bun:"assignee_name"`
	AssigneeRole sql.NullString `bun:"assignee_role"`
}

// LeadFilter narrows the lead list and the export. Its zero value keeps every lead.
type LeadFilter struct {
	// Statuses keeps only leads in these statuses; empty means every status.
	Statuses []domain.LeadStatus
	// CreatedAfter (inclusive) and CreatedBefore (exclusive) bound created_at; zero is no bound.
	CreatedAfter  time.Time
	CreatedBefore time.Time
}

func (f LeadFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if len(f.Statuses) > 0 && len(f.Statuses) < len(domain.LeadStatuses) {
		q = q.Where("l.status IN (?)", bun.In(f.Statuses))
	}
	if !f.CreatedAfter.IsZero() {
		q = q.Where("l.created_at >= ?", f.CreatedAfter)
	}
	if !f.CreatedBefore.IsZero() {
		q = q.Where("l.created_at < ?", f.CreatedBefore)
	}
	return q
}

// selectLeads builds the query every lead read starts from, scoped to one workspace.
// summary_text keeps the last ready summary while a newer one is pending, so it is what
// the list shows.
func (s *Store) selectLeads(workspaceID uuid.UUID, dest any) *bun.SelectQuery {
	return s.DB.NewSelect().Model(dest).
		ColumnExpr("l.*").
		ColumnExpr("c.page_url, c.summary_text AS summary, c.assignee_id").
		ColumnExpr("u.name AS assignee_name, am.role AS assignee_role").
		Join("JOIN conversations AS c ON c.id = l.conversation_id").
		Join("LEFT JOIN users AS u ON u.id = c.assignee_id").
		Join("LEFT JOIN memberships AS am ON am.user_id = c.assignee_id AND am.workspace_id = l.workspace_id").
		Where("l.workspace_id = ?", workspaceID)
}

// LeadPage is one page of the lead list, newest first.
type LeadPage struct {
	Items      []LeadView
	NextCursor string
}

// ListLeads pages through the workspace's leads that pass f, newest first (ties broken by
// id). A lead's created_at never changes, so paging neither skips nor repeats a lead; leads
// created meanwhile sort above the cursor and show on the first page.
func (s *Store) ListLeads(ctx context.Context, workspaceID uuid.UUID, f LeadFilter, limit int, cursor string) (LeadPage, error) {
	var items []LeadView
	q := f.apply(s.selectLeads(workspaceID, &items))
	if cursor != "" {
		c, err := decodeListCursor(cursor, leadCursorKind)
		if err != nil {
			return LeadPage{}, err
		}
		q = q.Where("(l.created_at, l.id) < (?, ?)", c.At, c.ID)
	}
	if err := q.OrderExpr("l.created_at DESC, l.id DESC").Limit(limit + 1).Scan(ctx); err != nil {
		return LeadPage{}, fmt.Errorf("list leads: %w", err)
	}
	var page LeadPage
	page.Items, page.NextCursor = cutPage(items, limit, leadCursorKind,
		func(v LeadView) (time.Time, uuid.UUID) { return v.CreatedAt, v.ID })
	return page, nil
}

// GetLead returns one lead of the workspace, or ErrNotFound: another workspace's lead is
// indistinguishable from a missing one.
func (s *Store) GetLead(ctx context.Context, workspaceID, id uuid.UUID) (*LeadView, error) {
	v := new(LeadView)
	err := s.selectLeads(workspaceID, v).Where("l.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get lead: %w", err)
	}
	return v, nil
}

// SetLeadStatus moves a lead of the workspace to status and audits the change on the lead's
// conversation (lead_status_changed, before and after {"status"}). Setting the status it
// already has changes and records nothing. It returns the lead as it is afterwards, or
// ErrNotFound for another workspace's lead.
func (s *Store) SetLeadStatus(ctx context.Context, workspaceID, id uuid.UUID, status domain.LeadStatus, actor *domain.Actor) (*LeadView, error) {
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var cur struct {
			ConversationID uuid.UUID         `bun:"conversation_id"`
			Status         domain.LeadStatus `bun:"status"`
		}
		err := tx.NewSelect().Table("leads").Column("conversation_id", "status").
			Where("workspace_id = ? AND id = ?", workspaceID, id).For("UPDATE").Scan(ctx, &cur)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read lead: %w", err)
		}
		if cur.Status == status {
			return nil // already so: nothing to record
		}
		if _, err := tx.NewUpdate().Table("leads").Set("status = ?", status).Set("updated_at = now()").
			Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("update lead: %w", err)
		}
		if err := notifyChange(ctx, tx, Change{WorkspaceID: workspaceID, ConversationID: cur.ConversationID, Kind: ChangeLead}); err != nil {
			return err
		}
		if err := leadEvent(ctx, tx, workspaceID, cur.ConversationID, id, cur.Status, status, actor); err != nil {
			return err
		}
		return insertAudit(ctx, tx, &AuditEntry{
			WorkspaceID: workspaceID, ConversationID: uuid.NullUUID{UUID: cur.ConversationID, Valid: true},
			Actor: actor, Action: domain.AuditLeadStatusChanged,
			Before: map[string]any{"status": cur.Status}, After: map[string]any{"status": status},
		})
	})
	if err != nil {
		return nil, err
	}
	return s.GetLead(ctx, workspaceID, id)
}

// LeadExportRow is one line of the leads CSV, in the export's column order.
type LeadExportRow struct {
	CreatedAt time.Time
	Name      string
	Email     string
	Phone     string
	Summary   string
	Status    domain.LeadStatus
	PageURL   string
	// Assignee is the assignee's name, their email when they have no name, "" when unassigned.
	Assignee string
	// Labels are the conversation's label names ordered by name, joined by "; ".
	Labels string
}

// ExportLeadsQuery is the SQL of the export of f, with its values in it: one row per lead in
// LeadExportRow's column order, newest first. The benchmark runs the same text through
// psql's \copy.
func (s *Store) ExportLeadsQuery(workspaceID uuid.UUID, f LeadFilter) string {
	q := s.DB.NewSelect().TableExpr("leads AS l").
		ColumnExpr("l.created_at, l.name, l.email, l.phone, c.summary_text, l.status, c.page_url").
		ColumnExpr("coalesce(nullif(u.name, ''), u.email, '') AS assignee").
		// A lookup by the conversation per row (conversation_labels' primary key).
		ColumnExpr(`coalesce((SELECT string_agg(lb.name, '; ' ORDER BY lower(lb.name), lb.id)
			FROM conversation_labels AS cl JOIN labels AS lb ON lb.id = cl.label_id
			WHERE cl.conversation_id = c.id), '') AS labels`).
		Join("JOIN conversations AS c ON c.id = l.conversation_id").
		Join("LEFT JOIN users AS u ON u.id = c.assignee_id").
		Where("l.workspace_id = ?", workspaceID).
		OrderExpr("l.created_at DESC, l.id DESC")
	return f.apply(q).String()
}

// ExportLeads streams every lead of the workspace that passes f to each, newest first, and
// returns how many rows each accepted. It is one query (one consistent snapshot, and
// Postgres may run it in parallel) whose rows are read as they arrive, so the process holds
// one row at a time whatever the count. An error from each, or ctx ending (the client went
// away), stops it: the query is cancelled on the server rather than read to the end.
//
// The first row comes once Postgres has joined and sorted the workspace's leads; that wait
// counts against the driver's read timeout (read_timeout in DATABASE_URL, 10 s by default).
func (s *Store) ExportLeads(ctx context.Context, workspaceID uuid.UUID, f LeadFilter, each func(*LeadExportRow) error) (int, error) {
	query := s.ExportLeadsQuery(workspaceID, f)
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("export leads: %w", err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return 0, fmt.Errorf("export leads: %w", err)
	}
	// The driver cannot interrupt a running query, and closing its rows early reads them all
	// to the end; so a stopped export asks Postgres, from another connection, to cancel it.
	cancel := func() {
		cctx, done := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer done()
		_, _ = s.DB.ExecContext(cctx, "SELECT pg_cancel_backend(?)", pid)
	}
	finished := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Go(func() {
		select {
		case <-ctx.Done():
			cancel()
		case <-finished:
		}
	})
	defer watcher.Wait() // before conn.Close: never cancel a query the connection runs later
	defer close(finished)

	// The SQL is complete (bun formatted it), so it goes to the driver as is.
	rows, err := conn.Conn.QueryContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return 0, exportError(ctx, err)
	}
	if ctx.Err() != nil { // ended while the query was being sent: the watcher was too early
		cancel()
		_ = rows.Close()
		return 0, exportError(ctx, ctx.Err())
	}
	n := 0
	var row LeadExportRow
	for rows.Next() {
		if ctx.Err() != nil { // the rows may all be in the socket already: stop reading them
			cancel()
			_ = rows.Close()
			return n, exportError(ctx, ctx.Err())
		}
		if err := rows.Scan(&row.CreatedAt, &row.Name, &row.Email, &row.Phone,
			&row.Summary, &row.Status, &row.PageURL, &row.Assignee, &row.Labels); err != nil {
			cancel()
			_ = rows.Close()
			return n, fmt.Errorf("export leads: %w", err)
		}
		if err := each(&row); err != nil {
			cancel()
			_ = rows.Close()
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		_ = rows.Close()
		return n, exportError(ctx, err)
	}
	return n, rows.Close()
}

// exportError prefers the context's error when the query failed because it was cancelled.
func exportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("export leads: %w", ctx.Err())
	}
	return fmt.Errorf("export leads: %w", err)
}
