package app

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// Internal notes and notifications, as the front doors receive them.
type (
	Note             = store.Note
	NoteMention      = store.Mention
	NotePage         = store.NotePage
	Notification     = store.Notification
	NotificationPage = store.NotificationPage
)

var errNotAuthor = &Error{Status: ErrForbidden.Status, Code: ErrForbidden.Code,
	Message: "only the note's author or an owner may delete it"}

// ListNotes pages through a conversation's internal notes, oldest first. Every member may
// read them.
func (s *Service) ListNotes(ctx context.Context, c *Caller, conversationID uuid.UUID, q Query) (NotePage, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return NotePage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return NotePage{}, err
	}
	return s.Store.ListNotes(ctx, c.WorkspaceID, conversationID, limit, cursor)
}

// TranscriptNotes is the conversation's notes written in [from, to] (zero times leave an
// end open), oldest first, at most MaxLimit: what a page of the transcript shows among
// its messages.
func (s *Service) TranscriptNotes(ctx context.Context, c *Caller, conversationID uuid.UUID, from, to time.Time) ([]Note, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return nil, err
	}
	return s.Store.NotesBetween(ctx, c.WorkspaceID, conversationID, from, to, MaxLimit)
}

// AddNote writes an internal note on the conversation. Its @mentions of the workspace's
// members (by name or email; see domain.FindMentions) are stored and each person
// mentioned, other than the author, is notified. A note is the team's only: it is never
// sent to the visitor's channel, nor given to the summary.
func (s *Service) AddNote(ctx context.Context, c *Caller, conversationID uuid.UUID, text string) (*Note, error) {
	if err := s.Authorize(c, domain.WriteNotes); err != nil {
		return nil, err
	}
	t, err := domain.ParseNoteText(text)
	if err != nil {
		return nil, BadRequest("text: %v", err)
	}
	people, err := s.Store.Mentionable(ctx, c.WorkspaceID)
	if err != nil {
		return nil, err
	}
	n := &Note{ID: uuid.Must(uuid.NewV7()), WorkspaceID: c.WorkspaceID, ConversationID: conversationID,
		AuthorID: uuid.NullUUID{UUID: c.UserID, Valid: true}, AuthorName: cmp.Or(c.Name, c.Email), Text: t,
		CreatedAt: time.Now().UTC()}
	for _, m := range domain.FindMentions(t, people) {
		name := m.Name
		if name == "" {
			name = m.Email
		}
		n.Mentions = append(n.Mentions, NoteMention{UserID: m.UserID, Name: name})
	}
	if err := s.Store.CreateNote(ctx, n, c.Actor()); err != nil {
		return nil, err
	}
	// Ordered as a read answers them, by name.
	slices.SortFunc(n.Mentions, func(a, b NoteMention) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.UserID.String(), b.UserID.String()))
	})
	if n.Mentions == nil {
		n.Mentions = []NoteMention{}
	}
	return n, nil
}

// MayDeleteNote says whether the caller may delete n: its author (who may write notes),
// or an owner. The pages ask it to show the Delete button; DeleteNote asks the same.
func (s *Service) MayDeleteNote(c *Caller, n *Note) bool {
	if s.Can(c, domain.DeleteAnyNote) {
		return true
	}
	return s.Can(c, domain.WriteNotes) && n.AuthorID.Valid && n.AuthorID.UUID == c.UserID
}

// DeleteNote removes an internal note, by its author or an owner, and audits it.
func (s *Service) DeleteNote(ctx context.Context, c *Caller, conversationID, noteID uuid.UUID) error {
	if err := s.Authorize(c, domain.WriteNotes); err != nil {
		return err
	}
	err := s.Store.DeleteNote(ctx, c.WorkspaceID, conversationID, noteID, c.Actor(), s.Can(c, domain.DeleteAnyNote))
	if errors.Is(err, store.ErrNotAuthor) {
		return errNotAuthor
	}
	return err
}
