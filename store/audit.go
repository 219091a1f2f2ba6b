package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// AuditEntry is one append-only row of the audit log.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log,alias:a"`

	ID             uuid.UUID          `bun:"id,pk,type:uuid"`
	WorkspaceID    uuid.UUID          `bun:"workspace_id,type:uuid"`
	ConversationID uuid.NullUUID      `bun:"conversation_id,type:uuid"`
	ActorID        uuid.NullUUID      `bun:"actor_id,type:uuid"`
	ActorName      string             `bun:"actor_name"`
	Action         domain.AuditAction `bun:"action"`
	Before         map[string]any     `bun:"before,type:jsonb"`
	After          map[string]any     `bun:"after,type:jsonb"`
	RequestID      *string            `bun:"request_id"`
	At             time.Time          `bun:"at"`

	Actor *domain.Actor `bun:"-"`
}

// complete fills in what an entry leaves out: its id, its time, the actor's columns and
// empty before and after.
func (e *AuditEntry) complete() {
	if e.ID == uuid.Nil {
		e.ID = uuid.Must(uuid.NewV7())
	}
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	if e.Actor != nil {
		e.ActorID = uuid.NullUUID{UUID: e.Actor.UserID, Valid: true}
		e.ActorName = e.Actor.Name
	}
	if e.Before == nil {
		e.Before = map[string]any{}
	}
	if e.After == nil {
		e.After = map[string]any{}
	}
}

// ErrDuplicateRequest is returned by insertAudit when the request id was already recorded:
// the change it carries has been applied before.
var errDuplicateRequest = errors.New("request already applied")

// insertAudit appends an entry; with a RequestID it is a no-op returning
// errDuplicateRequest when that request was recorded before.
func insertAudit(ctx context.Context, db bun.IDB, e *AuditEntry) error {
	e.complete()
	q := db.NewInsert().Model(e)
	if e.RequestID != nil {
		q = q.On("CONFLICT (conversation_id, request_id) DO NOTHING")
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return fmt.Errorf("insert audit entry: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errDuplicateRequest
	}
	return nil
}

// AuditPage is one page of a conversation's audit log, oldest first.
type AuditPage struct {
	Items      []AuditEntry
	NextCursor string
}

// ListAudit pages through a conversation's audit log, oldest first.
func (s *Store) ListAudit(ctx context.Context, workspaceID, conversationID uuid.UUID, limit int, cursor string) (AuditPage, error) {
	if _, err := s.ConversationIn(ctx, workspaceID, conversationID); err != nil {
		return AuditPage{}, err
	}
	q := s.DB.NewSelect().Model((*AuditEntry)(nil)).
		Where("workspace_id = ? AND conversation_id = ?", workspaceID, conversationID).
		OrderExpr("at, id").Limit(limit + 1)
	if cursor != "" {
		c, err := decodeListCursor(cursor, auditCursorKind)
		if err != nil {
			return AuditPage{}, err
		}
		q = q.Where("(at, id) > (?, ?)", c.At, c.ID)
	}
	var items []AuditEntry
	if err := q.Scan(ctx, &items); err != nil {
		return AuditPage{}, err
	}
	for i := range items {
		if items[i].ActorID.Valid {
			items[i].Actor = &domain.Actor{UserID: items[i].ActorID.UUID, Name: items[i].ActorName}
		}
	}
	var page AuditPage
	page.Items, page.NextCursor = cutPage(items, limit, auditCursorKind,
		func(e AuditEntry) (time.Time, uuid.UUID) { return e.At, e.ID })
	return page, nil
}

// AuditWorkspace records a workspace-level event (a member removed, an export).
func (s *Store) AuditWorkspace(ctx context.Context, workspaceID uuid.UUID, actor *domain.Actor, action domain.AuditAction, before, after map[string]any) error {
	return insertAudit(ctx, s.DB, &AuditEntry{WorkspaceID: workspaceID, Actor: actor, Action: action, Before: before, After: after})
}
