package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

var (
	errLabelLimit = Conflict(fmt.Sprintf("this workspace has %d labels, the most it may have: delete one first", domain.MaxLabels))
	errLabelName  = Conflict("this workspace already has a label of that name (names are compared ignoring case): choose another name or use that label")
)

// LabelChanges changes a label; nil fields stay as they are.
type LabelChanges struct {
	Name  *string
	Color *string
}

// ListLabels is a page of the workspace's labels ordered by name. Every member may read
// them: they are shown on the conversations everyone reads.
func (s *Service) ListLabels(ctx context.Context, c *Caller, q Query) (store.LabelPage, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return store.LabelPage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return store.LabelPage{}, err
	}
	return s.Store.ListLabels(ctx, c.WorkspaceID, limit, cursor)
}

// AllLabels is every label of the workspace ordered by name (at most domain.MaxLabels):
// what the pages offer to pick and filter by.
func (s *Service) AllLabels(ctx context.Context, c *Caller) ([]store.Label, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return nil, err
	}
	return s.Store.AllLabels(ctx, c.WorkspaceID)
}

// CreateLabel adds a label; color "" is the default colour.
func (s *Service) CreateLabel(ctx context.Context, c *Caller, name, color string) (*store.Label, error) {
	if err := s.Authorize(c, domain.ManageLabels); err != nil {
		return nil, err
	}
	n, err := domain.ParseLabelName(name)
	if err != nil {
		return nil, BadRequest("name: %v", err)
	}
	col, err := domain.ParseLabelColor(color)
	if err != nil {
		return nil, BadRequest("color: %v", err)
	}
	l := &store.Label{ID: uuid.Must(uuid.NewV7()), WorkspaceID: c.WorkspaceID, Name: n, Color: col,
		CreatedAt: time.Now().UTC()}
	if err := labelError(s.Store.CreateLabel(ctx, l, domain.MaxLabels, c.Actor())); err != nil {
		return nil, err
	}
	return l, nil
}

// UpdateLabel renames or recolours a label; the conversations carrying it show the change.
func (s *Service) UpdateLabel(ctx context.Context, c *Caller, id uuid.UUID, ch LabelChanges) (*store.Label, error) {
	if err := s.Authorize(c, domain.ManageLabels); err != nil {
		return nil, err
	}
	if ch.Name == nil && ch.Color == nil {
		return nil, BadRequest("body: give at least one of name, color")
	}
	var p store.LabelPatch
	if ch.Name != nil {
		n, err := domain.ParseLabelName(*ch.Name)
		if err != nil {
			return nil, BadRequest("name: %v", err)
		}
		p.Name = &n
	}
	if ch.Color != nil {
		if *ch.Color == "" {
			return nil, BadRequest("color: want one of %v", domain.LabelColors)
		}
		col, err := domain.ParseLabelColor(*ch.Color)
		if err != nil {
			return nil, BadRequest("color: %v", err)
		}
		p.Color = &col
	}
	l, err := s.Store.UpdateLabel(ctx, c.WorkspaceID, id, p, c.Actor())
	return l, labelError(err)
}

// DeleteLabel removes a label from the workspace and from every conversation carrying it.
func (s *Service) DeleteLabel(ctx context.Context, c *Caller, id uuid.UUID) error {
	if err := s.Authorize(c, domain.ManageLabels); err != nil {
		return err
	}
	return s.Store.DeleteLabel(ctx, c.WorkspaceID, id, c.Actor())
}

// SetConversationLabels makes ids the conversation's labels (duplicates count once) and
// returns the conversation. A label or conversation of another workspace is a 404.
func (s *Service) SetConversationLabels(ctx context.Context, c *Caller, conversationID uuid.UUID, ids []uuid.UUID) (*store.ConversationView, error) {
	if err := s.setLabels(ctx, c, conversationID, ids); err != nil {
		return nil, err
	}
	return s.Store.GetConversation(ctx, c.WorkspaceID, conversationID)
}

// setLabels is the labels change of one conversation, single or in a batch.
func (s *Service) setLabels(ctx context.Context, c *Caller, conversationID uuid.UUID, ids []uuid.UUID) error {
	if err := s.Authorize(c, domain.ChangeConversations); err != nil {
		return err
	}
	set, err := labelSet(ids)
	if err != nil {
		return err
	}
	return s.Store.SetConversationLabels(ctx, c.WorkspaceID, conversationID, set, c.Actor())
}

// labelSet is ids without repeats, within the labels one conversation may carry.
func labelSet(ids []uuid.UUID) ([]uuid.UUID, error) {
	set := make([]uuid.UUID, 0, len(ids))
	seen := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			set = append(set, id)
		}
	}
	if len(set) > domain.MaxConversationLabels {
		return nil, BadRequest("labels: at most %d labels on one conversation, not %d", domain.MaxConversationLabels, len(set))
	}
	return set, nil
}

// labelSet checks a bulk labels action's set: each label of the workspace, within the limit.
func (s *Service) labelSet(ctx context.Context, c *Caller, ids []uuid.UUID) ([]uuid.UUID, error) {
	set, err := labelSet(ids)
	if err != nil {
		return nil, err
	}
	all, err := s.Store.AllLabels(ctx, c.WorkspaceID)
	if err != nil {
		return nil, err
	}
	known := make(map[uuid.UUID]bool, len(all))
	for _, l := range all {
		known[l.ID] = true
	}
	for _, id := range set {
		if !known[id] {
			return nil, Invalid("labels: no label %s in this workspace", id)
		}
	}
	return set, nil
}

func labelError(err error) error {
	switch {
	case errors.Is(err, store.ErrLabelLimit):
		return errLabelLimit
	case errors.Is(err, store.ErrLabelNameTaken):
		return errLabelName
	}
	return err
}
