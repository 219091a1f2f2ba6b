package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

var (
	// ErrViewLimit is returned when the scope of a view (its owner's personal views, or the
	// workspace's shared ones) already has the most views it may have.
	ErrViewLimit = errors.New("view limit reached")
	// ErrViewNameTaken is returned when another view of the same scope has the name, in any
	// case.
	ErrViewNameTaken = errors.New("view name taken")
)

const viewCursorKind = "vw"

// SavedView is a named set of the inbox list's filters: personal to its owner, or shared
// with the workspace (OwnerID not valid).
type SavedView struct {
	bun.BaseModel `bun:"table:saved_views,alias:sv"`

	ID          uuid.UUID     `bun:"id,pk,type:uuid"`
	WorkspaceID uuid.UUID     `bun:"workspace_id,type:uuid"`
	OwnerID     uuid.NullUUID `bun:"owner_id,type:uuid"`
	CreatedBy   uuid.NullUUID `bun:"created_by,type:uuid"`
	Name        string        `bun:"name"`
	// Filters are the list's query parameters, each with its values, as the list reads them.
	Filters   map[string][]string `bun:"filters,type:jsonb"`
	CreatedAt time.Time           `bun:"created_at"`
	UpdatedAt time.Time           `bun:"updated_at"`
}

// Shared reports whether the view is shared with the workspace.
func (v *SavedView) Shared() bool { return !v.OwnerID.Valid }

// ViewPage is one page of the views a member sees, ordered by name.
type ViewPage struct {
	Items      []SavedView
	NextCursor string
}

// visibleTo narrows q to the views userID sees in the workspace: the shared ones and their own.
func visibleTo(q *bun.SelectQuery, workspaceID, userID uuid.UUID) *bun.SelectQuery {
	return q.Where("sv.workspace_id = ?", workspaceID).
		Where("(sv.owner_id IS NULL OR sv.owner_id = ?)", userID)
}

// countScope counts the views of owner's scope (NULL: the shared views).
func countScope(ctx context.Context, tx bun.Tx, workspaceID uuid.UUID, owner uuid.NullUUID) (int, error) {
	return tx.NewSelect().Model((*SavedView)(nil)).Where("workspace_id = ?", workspaceID).
		Where("owner_id IS NOT DISTINCT FROM ?", owner).Count(ctx)
}

// lockViews serialises changes of a workspace's views, so two at once cannot both pass a
// count.
func lockViews(ctx context.Context, tx bun.Tx, workspaceID uuid.UUID) error {
	if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(hashtextextended('saved_views:' || ?, 0))", workspaceID.String()).Exec(ctx); err != nil {
		return fmt.Errorf("lock views: %w", err)
	}
	return nil
}

// CreateView stores v, refusing with ErrViewLimit when its scope already has max views and
// ErrViewNameTaken when the name is in use there.
func (s *Store) CreateView(ctx context.Context, v *SavedView, max int) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockViews(ctx, tx, v.WorkspaceID); err != nil {
			return err
		}
		n, err := countScope(ctx, tx, v.WorkspaceID, v.OwnerID)
		if err != nil {
			return fmt.Errorf("count views: %w", err)
		}
		if n >= max {
			return ErrViewLimit
		}
		if _, err := tx.NewInsert().Model(v).Exec(ctx); err != nil {
			if nameTaken(err) {
				return ErrViewNameTaken
			}
			return fmt.Errorf("insert view: %w", err)
		}
		return nil
	})
}

// GetView is one view userID sees; ErrNotFound for another member's personal view, as for
// one that does not exist.
func (s *Store) GetView(ctx context.Context, workspaceID, userID, id uuid.UUID) (*SavedView, error) {
	v := new(SavedView)
	err := visibleTo(s.DB.NewSelect().Model(v), workspaceID, userID).Where("sv.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return v, err
}

// ListViews pages through the views userID sees, ordered by name (case-insensitively, ties
// broken by id).
func (s *Store) ListViews(ctx context.Context, workspaceID, userID uuid.UUID, limit int, cursor string) (ViewPage, error) {
	var items []SavedView
	q := visibleTo(s.DB.NewSelect().Model(&items), workspaceID, userID).
		OrderExpr("lower(sv.name), sv.id").Limit(limit + 1)
	if cursor != "" {
		name, id, err := decodeNameCursor(cursor, viewCursorKind)
		if err != nil {
			return ViewPage{}, err
		}
		q = q.Where("(lower(sv.name), sv.id) > (lower(?), ?)", name, id)
	}
	if err := q.Scan(ctx); err != nil {
		return ViewPage{}, fmt.Errorf("list views: %w", err)
	}
	var page ViewPage
	if len(items) > limit {
		last := items[limit-1]
		items = items[:limit]
		page.NextCursor = encodeNameCursor(viewCursorKind, last.Name, last.ID)
	}
	page.Items = items
	return page, nil
}

// AllViews is every view userID sees, ordered by name: what the inbox's side list shows (at
// most domain.MaxPersonalViews + domain.MaxSharedViews).
func (s *Store) AllViews(ctx context.Context, workspaceID, userID uuid.UUID) ([]SavedView, error) {
	var items []SavedView
	err := visibleTo(s.DB.NewSelect().Model(&items), workspaceID, userID).
		OrderExpr("lower(sv.name), sv.id").Scan(ctx)
	return items, err
}

// ViewPatch holds the fields to change; nil leaves a field as it is. Owner moves the view to
// another scope when set: a valid id makes it that member's personal view, an invalid one
// shares it.
type ViewPatch struct {
	Name    *string
	Filters map[string][]string
	Owner   *uuid.NullUUID
}

// UpdateView applies p to the view whose scope is still from (the scope its caller saw and
// was allowed to change; another is ErrNotFound). A move to another scope counts against
// that scope's max.
func (s *Store) UpdateView(ctx context.Context, workspaceID, id uuid.UUID, from uuid.NullUUID, p ViewPatch, max int) (*SavedView, error) {
	out := new(SavedView)
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockViews(ctx, tx, workspaceID); err != nil {
			return err
		}
		err := tx.NewSelect().Model(out).Where("sv.workspace_id = ? AND sv.id = ?", workspaceID, id).
			Where("sv.owner_id IS NOT DISTINCT FROM ?", from).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if p.Owner != nil && *p.Owner != out.OwnerID {
			n, err := countScope(ctx, tx, workspaceID, *p.Owner)
			if err != nil {
				return fmt.Errorf("count views: %w", err)
			}
			if n >= max {
				return ErrViewLimit
			}
			out.OwnerID = *p.Owner
		}
		if p.Name != nil {
			out.Name = *p.Name
		}
		if p.Filters != nil {
			out.Filters = p.Filters
		}
		out.UpdatedAt = time.Now().UTC()
		if _, err := tx.NewUpdate().Model(out).Column("owner_id", "name", "filters", "updated_at").WherePK().Exec(ctx); err != nil {
			if nameTaken(err) {
				return ErrViewNameTaken
			}
			return fmt.Errorf("update view: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteView removes the view whose scope is still from; another is ErrNotFound.
func (s *Store) DeleteView(ctx context.Context, workspaceID, id uuid.UUID, from uuid.NullUUID) error {
	res, err := s.DB.NewDelete().Model((*SavedView)(nil)).Where("workspace_id = ? AND id = ?", workspaceID, id).
		Where("owner_id IS NOT DISTINCT FROM ?", from).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete view: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return ErrNotFound
	}
	return nil
}

// CountConversations counts the workspace's conversations that pass f, up to max: a saved
// view's unread count reads at most max rows however large the inbox is.
func (s *Store) CountConversations(ctx context.Context, workspaceID uuid.UUID, f ConversationFilter, max int) (int, error) {
	q := s.filtered(workspaceID, f, nil, "c.id")
	if f.Query != "" {
		pattern := "%" + escapeLike(f.Query) + "%"
		q = q.Where(`c.id IN (
			SELECT ql.conversation_id FROM leads AS ql
			WHERE ql.workspace_id = ? AND (ql.name || ' ' || ql.email) ILIKE ?
			UNION
			SELECT qm.conversation_id FROM messages AS qm WHERE qm.text ILIKE ?)`,
			workspaceID, pattern, pattern)
	}
	n, err := s.DB.NewSelect().TableExpr("(?) AS x", q.Limit(max)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count conversations: %w", err)
	}
	return n, nil
}

// encodeNameCursor is the keyset position after a page ordered by name: the last name and
// id (the labels' cursor, of another kind).
func encodeNameCursor(kind, name string, id uuid.UUID) string {
	b, _ := json.Marshal(labelCursor{Kind: kind, Name: name, ID: id}) // a plain struct always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeNameCursor(s, kind string) (string, uuid.UUID, error) {
	var c labelCursor
	if len(s) > 512 {
		return "", uuid.Nil, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Kind != kind || c.ID == uuid.Nil {
		return "", uuid.Nil, ErrBadCursor
	}
	return c.Name, c.ID, nil
}
