package web

import (
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
)

// ctlNote is the note form, whose refusals are shown next to it.
const ctlNote = "note"

// transcriptEntry is one line of the transcript: a message, or an internal note (shown
// apart, with a Delete button for those who may).
type transcriptEntry struct {
	Message   *app.Message
	Note      *app.Note
	CanDelete bool
}

// transcript merges a page of messages with the notes written over the same span, by time.
// The span runs from the page's first message (from the start, on the first page) to its
// last (to now, on the newest page), so every note is on some page.
func (s *Site) transcript(c *gin.Context, caller *app.Caller, conversationID uuid.UUID, msgs []app.Message, first, newest bool) ([]transcriptEntry, error) {
	var from, to time.Time
	if !first && len(msgs) > 0 {
		from = msgs[0].SentAt
	}
	if !newest && len(msgs) > 0 {
		to = msgs[len(msgs)-1].SentAt
	}
	notes, err := s.App.TranscriptNotes(c.Request.Context(), caller, conversationID, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]transcriptEntry, 0, len(msgs)+len(notes))
	i, j := 0, 0
	for i < len(msgs) || j < len(notes) {
		if j == len(notes) || (i < len(msgs) && !msgs[i].SentAt.After(notes[j].CreatedAt)) {
			out = append(out, transcriptEntry{Message: &msgs[i]})
			i++
			continue
		}
		out = append(out, transcriptEntry{Note: &notes[j], CanDelete: s.App.MayDeleteNote(caller, &notes[j])})
		j++
	}
	return out, nil
}

// addNote writes an internal note from the conversation page's note form.
func (s *Site) addNote(c *gin.Context) {
	id, ok := s.conversationID(c)
	if !ok {
		return
	}
	caller := callerOf(c)
	if _, err := s.App.AddNote(c.Request.Context(), caller, id, c.PostForm("text")); err != nil {
		s.refused(c, id, ctlNote, err)
		return
	}
	s.written(c, id, conversationPath(caller.WorkspaceID.String(), id.String())+"#transcript-end")
}

// deleteNote deletes a note: its author's or, for an owner, anyone's.
func (s *Site) deleteNote(c *gin.Context) {
	id, ok := s.conversationID(c)
	if !ok {
		return
	}
	noteID, err := uuid.Parse(c.Param("note_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	caller := callerOf(c)
	if err := s.App.DeleteNote(c.Request.Context(), caller, id, noteID); err != nil {
		s.refused(c, id, ctlNote, err)
		return
	}
	s.written(c, id, conversationPath(caller.WorkspaceID.String(), id.String()))
}
