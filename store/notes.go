package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

const noteCursorKind = "nt"

// ErrNotAuthor is returned when a member who may not delete anyone's note deletes
// another's.
var ErrNotAuthor = errors.New("not the note's author")

// Note is an internal note on a conversation: the team's, never the visitor's.
type Note struct {
	bun.BaseModel `bun:"table:notes,alias:nt"`

	ID             uuid.UUID     `bun:"id,pk,type:uuid"`
	WorkspaceID    uuid.UUID     `bun:"workspace_id,type:uuid"`
	ConversationID uuid.UUID     `bun:"conversation_id,type:uuid"`
	AuthorID       uuid.NullUUID `bun:"author_id,type:uuid"`
	AuthorName     string        `bun:"author_name"`
	Text           string        `bun:"text"`
	CreatedAt      time.Time     `bun:"created_at"`

	// Mentions are the members the note mentions (read back ordered by name).
	Mentions []Mention `bun:"-"`
}

// Mention is a member a note mentions, by the name they had then.
type Mention struct {
	bun.BaseModel `bun:"table:note_mentions,alias:nm"`

	NoteID uuid.UUID `bun:"note_id,pk,type:uuid"`
	UserID uuid.UUID `bun:"user_id,pk,type:uuid"`
	Name   string    `bun:"name"`
}

// NotePage is a page of a conversation's notes, oldest first.
type NotePage struct {
	Items      []Note
	NextCursor string
}

// Mentionable lists the workspace's members as @mentions may name them: every member,
// viewers too (a viewer cannot write notes, but may be told of one).
func (s *Store) Mentionable(ctx context.Context, workspaceID uuid.UUID) ([]domain.Mentionable, error) {
	var out []domain.Mentionable
	err := s.DB.NewSelect().TableExpr("memberships AS m").
		Join("JOIN users AS u ON u.id = m.user_id").
		ColumnExpr("m.user_id, u.name, u.email").
		Where("m.workspace_id = ?", workspaceID).OrderExpr("m.created_at, m.user_id").
		Scan(ctx, &out)
	return out, err
}

// CreateNote stores n with its mentions (members of the workspace, checked again here
// under the transaction, so someone removed meanwhile is not mentioned), notifies the
// people mentioned, announces it on the conversation and audits it (note_added, with the
// note's id and mentions, not its text), in one transaction. A conversation of another
// workspace is ErrNotFound.
func (s *Store) CreateNote(ctx context.Context, n *Note, actor *domain.Actor) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var one int
		err := tx.NewSelect().Table("conversations").ColumnExpr("1").
			Where("workspace_id = ? AND id = ?", n.WorkspaceID, n.ConversationID).For("SHARE").Scan(ctx, &one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(n).Exec(ctx); err != nil {
			return fmt.Errorf("insert note: %w", err)
		}
		kept := n.Mentions[:0:0]
		for _, m := range n.Mentions {
			m.NoteID = n.ID
			res, err := tx.NewRaw(`INSERT INTO note_mentions (note_id, user_id, name)
				SELECT ?, user_id, ? FROM memberships WHERE workspace_id = ? AND user_id = ?`,
				n.ID, m.Name, n.WorkspaceID, m.UserID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("insert mention: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 1 {
				kept = append(kept, m)
			}
		}
		n.Mentions = kept
		people := make([]uuid.UUID, len(kept))
		mentioned := make([]map[string]any, len(kept))
		for i, m := range kept {
			people[i] = m.UserID
			mentioned[i] = map[string]any{"user_id": m.UserID, "name": m.Name}
		}
		if err := notifyPeople(ctx, tx, Notice{WorkspaceID: n.WorkspaceID, ConversationID: n.ConversationID,
			Kind: domain.NotifyMentioned, Actor: actor, NoteID: uuid.NullUUID{UUID: n.ID, Valid: true}, At: n.CreatedAt}, people...); err != nil {
			return err
		}
		if err := notifyChange(ctx, tx, Change{WorkspaceID: n.WorkspaceID, ConversationID: n.ConversationID, Kind: ChangeNote}); err != nil {
			return err
		}
		return insertAudit(ctx, tx, &AuditEntry{
			WorkspaceID: n.WorkspaceID, ConversationID: uuid.NullUUID{UUID: n.ConversationID, Valid: true},
			Actor: actor, Action: domain.AuditNoteAdded, At: n.CreatedAt,
			After: map[string]any{"note_id": n.ID, "mentions": mentioned},
		})
	})
}

// ListNotes pages through the conversation's notes, oldest first. A conversation of
// another workspace is ErrNotFound.
func (s *Store) ListNotes(ctx context.Context, workspaceID, conversationID uuid.UUID, limit int, cursor string) (NotePage, error) {
	if err := s.conversationExists(ctx, workspaceID, conversationID); err != nil {
		return NotePage{}, err
	}
	q := s.DB.NewSelect().Model((*Note)(nil)).
		Where("workspace_id = ? AND conversation_id = ?", workspaceID, conversationID).
		OrderExpr("created_at, id").Limit(limit + 1)
	if cursor != "" {
		c, err := decodeListCursor(cursor, noteCursorKind)
		if err != nil {
			return NotePage{}, err
		}
		q = q.Where("(created_at, id) > (?, ?)", c.At, c.ID)
	}
	var items []Note
	if err := q.Scan(ctx, &items); err != nil {
		return NotePage{}, fmt.Errorf("list notes: %w", err)
	}
	items, next := cutPage(items, limit, noteCursorKind, func(n Note) (time.Time, uuid.UUID) { return n.CreatedAt, n.ID })
	if err := s.attachMentions(ctx, items); err != nil {
		return NotePage{}, err
	}
	return NotePage{Items: items, NextCursor: next}, nil
}

// NotesBetween is the conversation's notes written in [from, to] (a zero time leaves that
// end open), oldest first, at most limit of them (the newest, when there are more): what a
// page of the transcript shows among its messages.
func (s *Store) NotesBetween(ctx context.Context, workspaceID, conversationID uuid.UUID, from, to time.Time, limit int) ([]Note, error) {
	q := s.DB.NewSelect().Model((*Note)(nil)).
		Where("workspace_id = ? AND conversation_id = ?", workspaceID, conversationID).
		OrderExpr("created_at DESC, id DESC").Limit(limit)
	if !from.IsZero() {
		q = q.Where("created_at >= ?", from)
	}
	if !to.IsZero() {
		q = q.Where("created_at <= ?", to)
	}
	var items []Note
	if err := q.Scan(ctx, &items); err != nil {
		return nil, fmt.Errorf("notes of a transcript page: %w", err)
	}
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	if err := s.attachMentions(ctx, items); err != nil {
		return nil, err
	}
	return items, nil
}

// DeleteNote removes a note of the conversation and audits it (note_deleted, with its
// author). Unless anyone is set, only its author may: another member gets ErrNotAuthor.
// A note or conversation of another workspace is ErrNotFound.
func (s *Store) DeleteNote(ctx context.Context, workspaceID, conversationID, noteID uuid.UUID, actor *domain.Actor, anyone bool) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		n := new(Note)
		err := tx.NewSelect().Model(n).
			Where("workspace_id = ? AND conversation_id = ? AND id = ?", workspaceID, conversationID, noteID).
			For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !anyone && (actor == nil || !n.AuthorID.Valid || n.AuthorID.UUID != actor.UserID) {
			return ErrNotAuthor
		}
		if _, err := tx.NewDelete().Model((*Note)(nil)).Where("id = ?", noteID).Exec(ctx); err != nil {
			return fmt.Errorf("delete note: %w", err)
		}
		if err := notifyChange(ctx, tx, Change{WorkspaceID: workspaceID, ConversationID: conversationID, Kind: ChangeNote}); err != nil {
			return err
		}
		var author any
		if n.AuthorID.Valid {
			author = map[string]any{"user_id": n.AuthorID.UUID, "name": n.AuthorName}
		}
		return insertAudit(ctx, tx, &AuditEntry{
			WorkspaceID: workspaceID, ConversationID: uuid.NullUUID{UUID: conversationID, Valid: true},
			Actor: actor, Action: domain.AuditNoteDeleted,
			Before: map[string]any{"note_id": n.ID, "author": author, "created_at": n.CreatedAt},
		})
	})
}

func (s *Store) conversationExists(ctx context.Context, workspaceID, conversationID uuid.UUID) error {
	ok, err := s.DB.NewSelect().Table("conversations").
		Where("workspace_id = ? AND id = ?", workspaceID, conversationID).Exists(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// attachMentions fills the Mentions of notes with one query.
func (s *Store) attachMentions(ctx context.Context, notes []Note) error {
	if len(notes) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(notes))
	at := make(map[uuid.UUID]int, len(notes))
	for i := range notes {
		ids[i] = notes[i].ID
		at[notes[i].ID] = i
		notes[i].Mentions = []Mention{}
	}
	var rows []Mention
	if err := s.DB.NewSelect().Model(&rows).Where("note_id IN (?)", bun.In(ids)).
		OrderExpr("note_id, lower(name), user_id").Scan(ctx); err != nil {
		return fmt.Errorf("mentions of notes: %w", err)
	}
	for _, m := range rows {
		i := at[m.NoteID]
		notes[i].Mentions = append(notes[i].Mentions, m)
	}
	return nil
}
