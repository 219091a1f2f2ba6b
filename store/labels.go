package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/bestai/inbox/domain"
)

var (
	// ErrLabelLimit is returned when a workspace already has the most labels it may have.
	ErrLabelLimit = errors.New("label limit reached")
	// ErrLabelNameTaken is returned when another label of the workspace has the name, in
	// any case.
	ErrLabelNameTaken = errors.New("label name taken")
)

const labelCursorKind = "lb"

// Label is one of a workspace's labels.
type Label struct {
	bun.BaseModel `bun:"table:labels,alias:lb"`

	ID          uuid.UUID         `bun:"id,pk,type:uuid"`
	WorkspaceID uuid.UUID         `bun:"workspace_id,type:uuid"`
	Name        string            `bun:"name"`
	Color       domain.LabelColor `bun:"color"`
	CreatedAt   time.Time         `bun:"created_at"`
}

// LabelRef is a label as a conversation carries it.
type LabelRef struct {
	ID    uuid.UUID         `bun:"id,type:uuid" json:"id"`
	Name  string            `bun:"name" json:"name"`
	Color domain.LabelColor `bun:"color" json:"color"`
}

// conversationLabel says that a conversation carries a label.
type conversationLabel struct {
	bun.BaseModel `bun:"table:conversation_labels"`

	ConversationID uuid.UUID `bun:"conversation_id,pk,type:uuid"`
	LabelID        uuid.UUID `bun:"label_id,pk,type:uuid"`
}

// LabelPage is one page of a workspace's labels, ordered by name.
type LabelPage struct {
	Items      []Label
	NextCursor string
}

// nameTaken reports whether err is the unique index on (workspace_id, lower(name)).
func nameTaken(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "23505"
}

// CreateLabel stores l, refusing with ErrLabelLimit when the workspace already has max
// labels and ErrLabelNameTaken when the name is in use, and audits it, in one transaction.
func (s *Store) CreateLabel(ctx context.Context, l *Label, max int, actor *domain.Actor) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Serialise creations in the workspace so two at once cannot both pass the count.
		if _, err := tx.NewRaw("SELECT 1 FROM workspaces WHERE id = ? FOR UPDATE", l.WorkspaceID).Exec(ctx); err != nil {
			return fmt.Errorf("lock workspace: %w", err)
		}
		n, err := tx.NewSelect().Model((*Label)(nil)).Where("workspace_id = ?", l.WorkspaceID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count labels: %w", err)
		}
		if n >= max {
			return ErrLabelLimit
		}
		if _, err := tx.NewInsert().Model(l).Exec(ctx); err != nil {
			if nameTaken(err) {
				return ErrLabelNameTaken
			}
			return fmt.Errorf("insert label: %w", err)
		}
		return insertAudit(ctx, tx, &AuditEntry{WorkspaceID: l.WorkspaceID, Actor: actor, Action: domain.AuditLabelCreated,
			After: map[string]any{"label_id": l.ID, "name": l.Name, "color": l.Color}})
	})
}

// ListLabels pages through the workspace's labels ordered by name (case-insensitively,
// ties broken by id).
func (s *Store) ListLabels(ctx context.Context, workspaceID uuid.UUID, limit int, cursor string) (LabelPage, error) {
	q := s.DB.NewSelect().Model((*Label)(nil)).Where("workspace_id = ?", workspaceID).
		OrderExpr("lower(name), id").Limit(limit + 1)
	if cursor != "" {
		// The cursor carries the last name and id: names change, but a keyset on them
		// still neither repeats nor skips a label that keeps its name while paging.
		name, id, err := decodeLabelCursor(cursor)
		if err != nil {
			return LabelPage{}, err
		}
		q = q.Where("(lower(name), id) > (lower(?), ?)", name, id)
	}
	var items []Label
	if err := q.Scan(ctx, &items); err != nil {
		return LabelPage{}, err
	}
	var page LabelPage
	if len(items) > limit {
		last := items[limit-1]
		items = items[:limit]
		page.NextCursor = encodeLabelCursor(last.Name, last.ID)
	}
	page.Items = items
	return page, nil
}

// AllLabels is every label of the workspace ordered by name: what the pages offer (at most
// domain.MaxLabels).
func (s *Store) AllLabels(ctx context.Context, workspaceID uuid.UUID) ([]Label, error) {
	var items []Label
	err := s.DB.NewSelect().Model(&items).Where("workspace_id = ?", workspaceID).
		OrderExpr("lower(name), id").Scan(ctx)
	return items, err
}

// LabelPatch holds the fields to change; nil leaves a field as it is.
type LabelPatch struct {
	Name  *string
	Color *domain.LabelColor
}

// UpdateLabel applies p and audits the change; a patch that changes nothing records
// nothing. Conversations carrying the label are announced, since their pages show it.
func (s *Store) UpdateLabel(ctx context.Context, workspaceID, id uuid.UUID, p LabelPatch, actor *domain.Actor) (*Label, error) {
	var out *Label
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		l := new(Label)
		err := tx.NewSelect().Model(l).Where("workspace_id = ? AND id = ?", workspaceID, id).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		out = l
		before, after := map[string]any{}, map[string]any{}
		q := tx.NewUpdate().Model((*Label)(nil)).Where("id = ?", id)
		if p.Name != nil && *p.Name != l.Name {
			before["name"], after["name"] = l.Name, *p.Name
			q = q.Set("name = ?", *p.Name)
			l.Name = *p.Name
		}
		if p.Color != nil && *p.Color != l.Color {
			before["color"], after["color"] = l.Color, *p.Color
			q = q.Set("color = ?", *p.Color)
			l.Color = *p.Color
		}
		if len(after) == 0 {
			return nil
		}
		if _, err := q.Exec(ctx); err != nil {
			if nameTaken(err) {
				return ErrLabelNameTaken
			}
			return fmt.Errorf("update label: %w", err)
		}
		if err := notifyLabelled(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		after["label_id"] = id
		return insertAudit(ctx, tx, &AuditEntry{WorkspaceID: workspaceID, Actor: actor, Action: domain.AuditLabelUpdated,
			Before: before, After: after})
	})
	return out, err
}

// DeleteLabel removes a label, and with it the label from every conversation, and audits
// it.
func (s *Store) DeleteLabel(ctx context.Context, workspaceID, id uuid.UUID, actor *domain.Actor) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Announce before the cascade removes the rows that say which conversations show it.
		if err := notifyLabelled(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		var name string
		err := tx.NewDelete().Model((*Label)(nil)).Where("workspace_id = ? AND id = ?", workspaceID, id).
			Returning("name").Scan(ctx, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("delete label: %w", err)
		}
		return insertAudit(ctx, tx, &AuditEntry{WorkspaceID: workspaceID, Actor: actor, Action: domain.AuditLabelDeleted,
			Before: map[string]any{"label_id": id, "name": name}})
	})
}

// notifyLabelled announces every conversation of the workspace carrying the label.
func notifyLabelled(ctx context.Context, tx bun.Tx, workspaceID, labelID uuid.UUID) error {
	var ids []uuid.UUID
	if err := tx.NewSelect().Table("conversation_labels").Column("conversation_id").
		Where("label_id = ?", labelID).Scan(ctx, &ids); err != nil {
		return fmt.Errorf("labelled conversations: %w", err)
	}
	for _, id := range ids {
		if err := notifyChange(ctx, tx, Change{WorkspaceID: workspaceID, ConversationID: id, Kind: ChangeLabels}); err != nil {
			return err
		}
	}
	return nil
}

// SetConversationLabels makes labelIDs the conversation's labels. It answers ErrNotFound
// when the conversation, or any label, is not the workspace's. When the set changes it
// audits the change on the conversation (labels_changed, before and after as ids and
// names), queues the conversation.labels_changed webhook event and announces it, in one
// transaction; the same set again writes nothing.
func (s *Store) SetConversationLabels(ctx context.Context, workspaceID, conversationID uuid.UUID, labelIDs []uuid.UUID, actor *domain.Actor) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The row lock serialises two changes of the same conversation's labels.
		var one int
		err := tx.NewSelect().Table("conversations").ColumnExpr("1").
			Where("workspace_id = ? AND id = ?", workspaceID, conversationID).For("UPDATE").Scan(ctx, &one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var after []LabelRef
		if len(labelIDs) > 0 {
			if err := tx.NewSelect().Table("labels").Column("id", "name", "color").
				Where("workspace_id = ? AND id IN (?)", workspaceID, bun.In(labelIDs)).
				OrderExpr("lower(name), id").Scan(ctx, &after); err != nil {
				return fmt.Errorf("find labels: %w", err)
			}
			if len(after) != len(labelIDs) {
				return ErrNotFound // another workspace's label is indistinguishable from none
			}
		}
		before, err := labelsOf(ctx, tx, conversationID)
		if err != nil {
			return err
		}
		if sameLabels(before, after) {
			return nil
		}
		if _, err := tx.NewDelete().Table("conversation_labels").
			Where("conversation_id = ?", conversationID).Exec(ctx); err != nil {
			return fmt.Errorf("clear labels: %w", err)
		}
		if len(after) > 0 {
			rows := make([]conversationLabel, len(after))
			for i, l := range after {
				rows[i] = conversationLabel{ConversationID: conversationID, LabelID: l.ID}
			}
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return fmt.Errorf("insert labels: %w", err)
			}
		}
		if err := notifyChange(ctx, tx, Change{WorkspaceID: workspaceID, ConversationID: conversationID, Kind: ChangeLabels}); err != nil {
			return err
		}
		if err := enqueueWebhookEvent(ctx, tx, workspaceID, domain.EventConversationLabelsChanged, map[string]any{
			"conversation_id": conversationID, "labels": nonNilRefs(after), "previous_labels": nonNilRefs(before),
			"actor": actorData(actor),
		}); err != nil {
			return err
		}
		return insertAudit(ctx, tx, &AuditEntry{
			WorkspaceID: workspaceID, ConversationID: uuid.NullUUID{UUID: conversationID, Valid: true},
			Actor: actor, Action: domain.AuditLabelsChanged,
			Before: map[string]any{"labels": auditRefs(before)}, After: map[string]any{"labels": auditRefs(after)},
		})
	})
}

func labelsOf(ctx context.Context, db bun.IDB, conversationID uuid.UUID) ([]LabelRef, error) {
	var out []LabelRef
	err := db.NewSelect().TableExpr("conversation_labels AS cl").
		ColumnExpr("lb.id, lb.name, lb.color").
		Join("JOIN labels AS lb ON lb.id = cl.label_id").
		Where("cl.conversation_id = ?", conversationID).
		OrderExpr("lower(lb.name), lb.id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("labels of conversation: %w", err)
	}
	return out, nil
}

func sameLabels(a, b []LabelRef) bool {
	return slices.EqualFunc(a, b, func(x, y LabelRef) bool { return x.ID == y.ID })
}

func nonNilRefs(r []LabelRef) []LabelRef {
	if r == nil {
		return []LabelRef{}
	}
	return r
}

// auditRefs is a set of labels as the audit log records it: ids and names, as they were.
func auditRefs(r []LabelRef) []map[string]any {
	out := make([]map[string]any, len(r))
	for i, l := range r {
		out[i] = map[string]any{"id": l.ID, "name": l.Name}
	}
	return out
}

// attachLabels fills the Labels of the page's conversations with one query.
func (s *Store) attachLabels(ctx context.Context, items []ConversationView) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(items))
	for i := range items {
		ids[i] = items[i].ID
		items[i].Labels = []LabelRef{}
	}
	var rows []struct {
		ConversationID uuid.UUID `bun:"conversation_id,type:uuid"`
		LabelRef       `bun:",extend"`
	}
	if err := s.DB.NewSelect().TableExpr("conversation_labels AS cl").
		ColumnExpr("cl.conversation_id, lb.id, lb.name, lb.color").
		Join("JOIN labels AS lb ON lb.id = cl.label_id").
		Where("cl.conversation_id IN (?)", bun.In(ids)).
		OrderExpr("lower(lb.name), lb.id").Scan(ctx, &rows); err != nil {
		return fmt.Errorf("labels of conversations: %w", err)
	}
	at := make(map[uuid.UUID]int, len(items))
	for i := range items {
		at[items[i].ID] = i
	}
	for _, r := range rows {
		i := at[r.ConversationID]
		items[i].Labels = append(items[i].Labels, r.LabelRef)
	}
	return nil
}

// labelCursor is the keyset position after a page of labels: the last name and id.
type labelCursor struct {
	Kind string    `json:"k"`
	Name string    `json:"n"`
	ID   uuid.UUID `json:"i"`
}

func encodeLabelCursor(name string, id uuid.UUID) string {
	b, _ := json.Marshal(labelCursor{Kind: labelCursorKind, Name: name, ID: id}) // a plain struct always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeLabelCursor(s string) (string, uuid.UUID, error) {
	var c labelCursor
	if len(s) > 512 {
		return "", uuid.Nil, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Kind != labelCursorKind || c.ID == uuid.Nil {
		return "", uuid.Nil, ErrBadCursor
	}
	return c.Name, c.ID, nil
}
