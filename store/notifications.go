package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// ChangeNotification is the kind of Change that tells one person (Change.UserID) that
// their notifications changed: the bell re-fetches its count. It reaches only that
// person's pages in that workspace.
const ChangeNotification = "notification"

const notificationCursorKind = "n"

// MaxReadIDs bounds how many notifications one request may mark read by id.
const MaxReadIDs = 100

// Notification is one of a person's notifications, with the words a page needs.
type Notification struct {
	bun.BaseModel `bun:"table:notifications,alias:n"`

	ID             uuid.UUID               `bun:"id,pk,type:uuid"`
	WorkspaceID    uuid.UUID               `bun:"workspace_id,type:uuid"`
	UserID         uuid.UUID               `bun:"user_id,type:uuid"`
	Kind           domain.NotificationKind `bun:"kind"`
	ConversationID uuid.UUID               `bun:"conversation_id,type:uuid"`
	ActorID        uuid.NullUUID           `bun:"actor_id,type:uuid"`
	ActorName      string                  `bun:"actor_name"`
	NoteID         uuid.NullUUID           `bun:"note_id,type:uuid"`
	CreatedAt      time.Time               `bun:"created_at"`
	ReadAt         sql.NullTime            `bun:"read_at"`

	// VisitorName names the conversation in the notification's words (read with it).
	VisitorName string `bun:"visitor_name,scanonly"`
}

// Text is the notification in words.
func (n *Notification) Text() string {
	return domain.NotificationText(n.Kind, n.ActorName, n.VisitorName)
}

// NotificationPage is a page of a person's notifications, newest first.
type NotificationPage struct {
	Items      []Notification
	NextCursor string
}

// Notice is what happened, for notifyPeople: a kind of notification about a conversation,
// caused by Actor (nil for the system or the visitor), about a note when NoteID is set.
type Notice struct {
	WorkspaceID    uuid.UUID
	ConversationID uuid.UUID
	Kind           domain.NotificationKind
	Actor          *domain.Actor
	NoteID         uuid.NullUUID
	At             time.Time
}

// notifyPeople writes notice n for each of people, inside db, which must be the
// transaction of the change that caused it: the notification then commits (and is
// announced to the person's open pages) with that change, or neither does, so none is lost
// on a crash and none tells of a change that never happened.
//
// The rules of who hears what are kept here, so every caller gets them: nobody is told of
// their own action (the actor is skipped), only current members of the workspace are
// told, and a person has at most one unread notification per kind and conversation: a
// second one while the first is unread freshens its time, actor and note instead of
// adding a row (the partial unique index notifications_unread_once).
func notifyPeople(ctx context.Context, db bun.IDB, n Notice, people ...uuid.UUID) error {
	if n.At.IsZero() {
		n.At = time.Now().UTC()
	}
	var actorID uuid.NullUUID
	var actorName string
	if n.Actor != nil {
		actorID = uuid.NullUUID{UUID: n.Actor.UserID, Valid: n.Actor.UserID != uuid.Nil}
		actorName = n.Actor.Name
	}
	done := map[uuid.UUID]bool{}
	for _, person := range people {
		if person == uuid.Nil || done[person] || (actorID.Valid && person == actorID.UUID) {
			continue
		}
		done[person] = true
		var told []uuid.UUID
		err := db.NewRaw(`INSERT INTO notifications
			(id, workspace_id, user_id, kind, conversation_id, actor_id, actor_name, note_id, created_at)
			SELECT ?, m.workspace_id, m.user_id, ?, ?, ?, ?, ?, ?
			FROM memberships AS m WHERE m.workspace_id = ? AND m.user_id = ?
			ON CONFLICT (workspace_id, user_id, kind, conversation_id) WHERE read_at IS NULL
			DO UPDATE SET created_at = EXCLUDED.created_at, actor_id = EXCLUDED.actor_id,
				actor_name = EXCLUDED.actor_name, note_id = EXCLUDED.note_id
			RETURNING user_id`,
			uuid.Must(uuid.NewV7()), n.Kind, n.ConversationID, actorID, actorName, n.NoteID, n.At,
			n.WorkspaceID, person).Scan(ctx, &told)
		if err != nil {
			return fmt.Errorf("notify %s: %w", n.Kind, err)
		}
		if len(told) == 0 {
			continue // not a member (any more)
		}
		if err := announce(ctx, db, Change{WorkspaceID: n.WorkspaceID, ConversationID: n.ConversationID,
			Kind: ChangeNotification, UserID: person}); err != nil {
			return err
		}
	}
	return nil
}

// announce is notifyChange on any bun.IDB (which must be a transaction, for the same reason).
func announce(ctx context.Context, db bun.IDB, ch Change) error {
	payload, err := json.Marshal(ch)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "SELECT pg_notify(?, ?)", ChangesChannel, string(payload)); err != nil {
		return fmt.Errorf("notify %s: %w", ch.Kind, err)
	}
	return nil
}

// ListNotifications pages through the person's notifications in the workspace, newest
// first; unreadOnly keeps the unread ones.
func (s *Store) ListNotifications(ctx context.Context, workspaceID, userID uuid.UUID, unreadOnly bool, limit int, cursor string) (NotificationPage, error) {
	q := s.DB.NewSelect().Model((*Notification)(nil)).ColumnExpr("n.*").
		ColumnExpr("coalesce(l.name, '') AS visitor_name").
		Join("LEFT JOIN leads AS l ON l.conversation_id = n.conversation_id").
		Where("n.workspace_id = ? AND n.user_id = ?", workspaceID, userID).
		OrderExpr("n.created_at DESC, n.id DESC").Limit(limit + 1)
	if unreadOnly {
		q = q.Where("n.read_at IS NULL")
	}
	if cursor != "" {
		c, err := decodeListCursor(cursor, notificationCursorKind)
		if err != nil {
			return NotificationPage{}, err
		}
		q = q.Where("(n.created_at, n.id) < (?, ?)", c.At, c.ID)
	}
	var items []Notification
	if err := q.Scan(ctx, &items); err != nil {
		return NotificationPage{}, fmt.Errorf("list notifications: %w", err)
	}
	items, next := cutPage(items, limit, notificationCursorKind, func(n Notification) (time.Time, uuid.UUID) { return n.CreatedAt, n.ID })
	return NotificationPage{Items: items, NextCursor: next}, nil
}

// UnreadNotifications counts the person's unread notifications in the workspace.
func (s *Store) UnreadNotifications(ctx context.Context, workspaceID, userID uuid.UUID) (int, error) {
	return s.DB.NewSelect().Model((*Notification)(nil)).
		Where("workspace_id = ? AND user_id = ? AND read_at IS NULL", workspaceID, userID).Count(ctx)
}

// GetNotification is one of the person's notifications, or ErrNotFound (also for anyone
// else's).
func (s *Store) GetNotification(ctx context.Context, workspaceID, userID, id uuid.UUID) (*Notification, error) {
	var items []Notification
	if err := s.DB.NewSelect().Model(&items).
		Where("workspace_id = ? AND user_id = ? AND id = ?", workspaceID, userID, id).Scan(ctx); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, ErrNotFound
	}
	return &items[0], nil
}

// MarkNotificationsRead marks the person's notifications read: those of ids, or every
// unread one when all. An id that is not one of the person's notifications in the
// workspace is ErrNotFound, and then nothing is marked. Marking a read one again keeps
// its first read time. Their pages hear of it, so every tab's bell agrees.
func (s *Store) MarkNotificationsRead(ctx context.Context, workspaceID, userID uuid.UUID, ids []uuid.UUID, all bool) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		now := time.Now().UTC()
		q := tx.NewUpdate().Model((*Notification)(nil)).Set("read_at = coalesce(read_at, ?)", now).
			Where("workspace_id = ? AND user_id = ?", workspaceID, userID)
		if all {
			q = q.Where("read_at IS NULL")
		} else {
			if len(ids) == 0 {
				return nil
			}
			n, err := tx.NewSelect().Model((*Notification)(nil)).
				Where("workspace_id = ? AND user_id = ? AND id IN (?)", workspaceID, userID, bun.In(ids)).Count(ctx)
			if err != nil {
				return err
			}
			if n != len(ids) {
				return ErrNotFound
			}
			q = q.Where("id IN (?)", bun.In(ids))
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("mark notifications read: %w", err)
		}
		return announce(ctx, tx, Change{WorkspaceID: workspaceID, Kind: ChangeNotification, UserID: userID})
	})
}
