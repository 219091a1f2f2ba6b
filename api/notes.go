package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// personRef names a member: a note's author, a mention, a notification's actor.
type personRef struct {
	UserID uuid.UUID `json:"user_id"`
	Name   string    `json:"name"`
}

// noteItem is an internal note as the API answers it.
type noteItem struct {
	ID             uuid.UUID   `json:"id"`
	ConversationID uuid.UUID   `json:"conversation_id"`
	Author         *personRef  `json:"author"`
	Text           string      `json:"text"`
	Mentions       []personRef `json:"mentions"`
	CreatedAt      time.Time   `json:"created_at"`
}

func toNote(n *app.Note) noteItem {
	out := noteItem{ID: n.ID, ConversationID: n.ConversationID, Text: n.Text, CreatedAt: n.CreatedAt.UTC(),
		Mentions: make([]personRef, len(n.Mentions))}
	if n.AuthorID.Valid {
		out.Author = &personRef{UserID: n.AuthorID.UUID, Name: n.AuthorName}
	}
	for i, m := range n.Mentions {
		out.Mentions[i] = personRef{UserID: m.UserID, Name: m.Name}
	}
	return out
}

func (s *server) listNotes(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	q, err := app.ReadQuery(c.Request.URL.Query(), "limit", "cursor")
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.App.ListNotes(c.Request.Context(), caller(c), id, q)
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]noteItem, len(page.Items))
	for i := range page.Items {
		items[i] = toNote(&page.Items[i])
	}
	writePage(c, items, page.NextCursor)
}

func (s *server) createNote(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	var body struct {
		Text *string `json:"text"`
	}
	if err := decodeBodyUpTo(c, &body, maxNoteBody); err != nil {
		respond(c, err)
		return
	}
	if body.Text == nil {
		respond(c, badRequest("text: required"))
		return
	}
	n, err := s.App.AddNote(c.Request.Context(), caller(c), id, *body.Text)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusCreated, toNote(n))
}

func (s *server) deleteNote(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		respond(c, err)
		return
	}
	noteID, err := pathID(c, "note_id")
	if err != nil {
		respond(c, err)
		return
	}
	if err := s.App.DeleteNote(c.Request.Context(), caller(c), id, noteID); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// notificationItem is one of a person's notifications as the API answers it.
type notificationItem struct {
	ID             uuid.UUID               `json:"id"`
	Kind           domain.NotificationKind `json:"kind"`
	ConversationID uuid.UUID               `json:"conversation_id"`
	Actor          *personRef              `json:"actor"`
	NoteID         *uuid.UUID              `json:"note_id"`
	Text           string                  `json:"text"`
	CreatedAt      time.Time               `json:"created_at"`
	ReadAt         *time.Time              `json:"read_at"`
}

func toNotification(n *app.Notification) notificationItem {
	out := notificationItem{ID: n.ID, Kind: n.Kind, ConversationID: n.ConversationID, Text: n.Text(),
		CreatedAt: n.CreatedAt.UTC()}
	if n.ActorID.Valid {
		out.Actor = &personRef{UserID: n.ActorID.UUID, Name: n.ActorName}
	}
	if n.NoteID.Valid {
		out.NoteID = &n.NoteID.UUID
	}
	if n.ReadAt.Valid {
		t := n.ReadAt.Time.UTC()
		out.ReadAt = &t
	}
	return out
}

// listNotifications pages through the token's person's notifications in its workspace.
func (s *server) listNotifications(c *gin.Context) {
	q, err := app.ReadQuery(c.Request.URL.Query(), "limit", "cursor", "unread")
	if err != nil {
		respond(c, err)
		return
	}
	unread, err := q.Bool("unread")
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.App.ListNotifications(c.Request.Context(), caller(c), unread != nil && *unread, q)
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]notificationItem, len(page.Items))
	for i := range page.Items {
		items[i] = toNotification(&page.Items[i])
	}
	writePage(c, items, page.NextCursor)
}

// markNotificationsRead marks some ({"ids": [...]}) or all ({"all": true}) of the
// person's notifications read, and answers how many stay unread.
func (s *server) markNotificationsRead(c *gin.Context) {
	var body struct {
		IDs []string `json:"ids"`
		All bool     `json:"all"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	ids := make([]uuid.UUID, len(body.IDs))
	for i, raw := range body.IDs {
		id, err := uuid.Parse(raw)
		if err != nil {
			respond(c, badRequest("ids: %q is not a notification id", domain.Clip(raw, 64)))
			return
		}
		ids[i] = id
	}
	ctx, who := c.Request.Context(), caller(c)
	if err := s.App.MarkNotificationsRead(ctx, who, ids, body.All); err != nil {
		respond(c, err)
		return
	}
	n, err := s.App.UnreadNotifications(ctx, who)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"unread_count": n})
}
