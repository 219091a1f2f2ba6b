package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// SavedView is a saved view as the front doors receive it.
type SavedView = store.SavedView

// MaxViewUnreadCount is where a view's unread count stops counting: the side list says
// "999+" rather than read a whole large inbox for each view.
const MaxViewUnreadCount = 1000

var (
	errPersonalViewLimit = Conflict(fmt.Sprintf("you have %d personal views, the most one may have: delete one first", domain.MaxPersonalViews))
	errSharedViewLimit   = Conflict(fmt.Sprintf("this workspace shares %d views, the most it may: delete one first", domain.MaxSharedViews))
	errViewName          = Conflict("a view of that name already exists (names are compared ignoring case, among your personal views, and among the shared views): choose another name")
)

// InvalidFilters is a 422: a saved view's filters are ones the inbox list refuses. The message
// names the filter, as filters.<name>.
func InvalidFilters(message string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_filters", Message: "filters." + message}
}

// ViewInput is a new view.
type ViewInput struct {
	Name    string
	Filters url.Values
	Shared  bool
}

// ViewChanges changes a view; nil fields stay as they are. Shared moves the view: true shares
// it with the workspace, false makes it the caller's personal view.
type ViewChanges struct {
	Name    *string
	Filters url.Values
	Shared  *bool
}

// ViewWithCount is a view as the inbox's side list shows it.
type ViewWithCount struct {
	SavedView
	// Unread is how many conversations of the view are unread, up to MaxViewUnreadCount.
	Unread int
}

// viewFilters checks a view's filters with the inbox list's own rules (ReadQuery and
// ConversationFilter: one rule, one place) and returns them as the list reads them: each
// parameter with its trimmed values, lists split at commas, empty ones left out. A label
// that is not the workspace's is refused too: the view would never list anything.
func (s *Service) viewFilters(ctx context.Context, c *Caller, in url.Values) (map[string][]string, error) {
	q, err := ReadQuery(in, ConversationFilterParams...)
	if err == nil {
		_, err = q.ConversationFilter(c.UserID)
	}
	var refused *Error
	if errors.As(err, &refused) && refused.Status == http.StatusBadRequest {
		return nil, InvalidFilters(refused.Message)
	}
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, name := range ConversationFilterParams {
		switch name {
		case "state", "channel", "label":
			if vs := q.List(name); len(vs) > 0 {
				out[name] = vs
			}
		case "created_after", "created_before", "wakes_before":
			if t, _ := q.Time(name); !t.IsZero() {
				out[name] = []string{t.Format(time.RFC3339)}
			}
		default:
			if v, _ := q.One(name); v != "" {
				out[name] = []string{v}
			}
		}
	}
	if ids := out["label"]; len(ids) > 0 {
		known, err := s.labelIDs(ctx, c)
		if err != nil {
			return nil, err
		}
		for _, v := range ids {
			if id, _ := uuid.Parse(v); !known[id] {
				return nil, InvalidFilters(fmt.Sprintf("label: %s is not a label of this workspace", domain.Clip(v, 64)))
			}
		}
	}
	return out, nil
}

func (s *Service) labelIDs(ctx context.Context, c *Caller) (map[uuid.UUID]bool, error) {
	labels, err := s.Store.AllLabels(ctx, c.WorkspaceID)
	if err != nil {
		return nil, err
	}
	known := make(map[uuid.UUID]bool, len(labels))
	for _, l := range labels {
		known[l.ID] = true
	}
	return known, nil
}

// dropDeletedLabels takes out of each view's filters the labels deleted since it was saved,
// so the view keeps working with its other filters (a label filter naming a deleted label
// would otherwise list nothing).
func dropDeletedLabels(views []SavedView, known map[uuid.UUID]bool) {
	for i := range views {
		ids, ok := views[i].Filters["label"]
		if !ok {
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(ids), func(v string) bool {
			id, err := uuid.Parse(v)
			return err != nil || !known[id]
		})
		if len(kept) == 0 {
			delete(views[i].Filters, "label")
		} else {
			views[i].Filters["label"] = kept
		}
	}
}

// checkViewScope says whether the caller may change a view of this scope: their own
// personal views with ManageOwnViews, shared ones with ManageSharedViews.
func (s *Service) checkViewScope(c *Caller, shared bool) error {
	if shared {
		return s.Authorize(c, domain.ManageSharedViews)
	}
	return s.Authorize(c, domain.ManageOwnViews)
}

// ListViews is a page of the views the caller sees (their own and the shared ones), ordered
// by name, each with its unread count.
func (s *Service) ListViews(ctx context.Context, c *Caller, q Query) ([]ViewWithCount, string, error) {
	if err := s.Authorize(c, domain.ManageOwnViews); err != nil {
		return nil, "", err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return nil, "", err
	}
	page, err := s.Store.ListViews(ctx, c.WorkspaceID, c.UserID, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	items, err := s.withCounts(ctx, c, page.Items)
	return items, page.NextCursor, err
}

// AllViews is every view the caller sees, each with its unread count: the inbox's side list.
func (s *Service) AllViews(ctx context.Context, c *Caller) ([]ViewWithCount, error) {
	if err := s.Authorize(c, domain.ManageOwnViews); err != nil {
		return nil, err
	}
	views, err := s.Store.AllViews(ctx, c.WorkspaceID, c.UserID)
	if err != nil {
		return nil, err
	}
	return s.withCounts(ctx, c, views)
}

func (s *Service) withCounts(ctx context.Context, c *Caller, views []SavedView) ([]ViewWithCount, error) {
	if len(views) == 0 {
		return []ViewWithCount{}, nil
	}
	known, err := s.labelIDs(ctx, c)
	if err != nil {
		return nil, err
	}
	dropDeletedLabels(views, known)
	out := make([]ViewWithCount, len(views))
	for i := range views {
		out[i].SavedView = views[i]
		if out[i].Unread, err = s.unreadCount(ctx, c, &views[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// unreadCount counts the view's unread conversations, up to MaxViewUnreadCount.
func (s *Service) unreadCount(ctx context.Context, c *Caller, v *SavedView) (int, error) {
	f, err := QueryOf(url.Values(v.Filters)).ConversationFilter(c.UserID)
	if err != nil {
		// Saved filters were checked when saved; one the list no longer takes counts nothing.
		return 0, nil
	}
	if f.Unread != nil && !*f.Unread {
		return 0, nil
	}
	unread := true
	f.Unread = &unread
	return s.Store.CountConversations(ctx, c.WorkspaceID, f, MaxViewUnreadCount)
}

// View is one view the caller sees, with the labels deleted since it was saved dropped from
// its filters; another member's personal view is ErrNotFound.
func (s *Service) View(ctx context.Context, c *Caller, id uuid.UUID) (*SavedView, error) {
	if err := s.Authorize(c, domain.ManageOwnViews); err != nil {
		return nil, err
	}
	v, err := s.Store.GetView(ctx, c.WorkspaceID, c.UserID, id)
	if err != nil {
		return nil, err
	}
	known, err := s.labelIDs(ctx, c)
	if err != nil {
		return nil, err
	}
	views := []SavedView{*v}
	dropDeletedLabels(views, known)
	return &views[0], nil
}

// CreateView saves a view of the caller's, or one shared with the workspace (owners and
// admins).
func (s *Service) CreateView(ctx context.Context, c *Caller, in ViewInput) (*SavedView, error) {
	if err := s.checkViewScope(c, in.Shared); err != nil {
		return nil, err
	}
	name, err := domain.ParseViewName(in.Name)
	if err != nil {
		return nil, BadRequest("name: %v", err)
	}
	filters, err := s.viewFilters(ctx, c, in.Filters)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	v := &SavedView{ID: uuid.Must(uuid.NewV7()), WorkspaceID: c.WorkspaceID, Name: name, Filters: filters,
		CreatedBy: uuid.NullUUID{UUID: c.UserID, Valid: true}, CreatedAt: now, UpdatedAt: now}
	max := domain.MaxSharedViews
	if !in.Shared {
		v.OwnerID, max = uuid.NullUUID{UUID: c.UserID, Valid: true}, domain.MaxPersonalViews
	}
	if err := viewError(s.Store.CreateView(ctx, v, max), in.Shared); err != nil {
		return nil, err
	}
	return v, nil
}

// UpdateView renames a view, replaces its filters or moves it between the caller's personal
// views and the shared ones. Shared views are changed by owners and admins only.
func (s *Service) UpdateView(ctx context.Context, c *Caller, id uuid.UUID, ch ViewChanges) (*SavedView, error) {
	if err := s.Authorize(c, domain.ManageOwnViews); err != nil {
		return nil, err
	}
	if ch.Name == nil && ch.Filters == nil && ch.Shared == nil {
		return nil, BadRequest("body: give at least one of name, filters, shared")
	}
	v, err := s.Store.GetView(ctx, c.WorkspaceID, c.UserID, id)
	if err != nil {
		return nil, err
	}
	if err := s.checkViewScope(c, v.Shared()); err != nil {
		return nil, err
	}
	var p store.ViewPatch
	max, toShared := 0, v.Shared()
	if ch.Shared != nil && *ch.Shared != v.Shared() {
		if err := s.checkViewScope(c, true); err != nil { // sharing one, or taking one back
			return nil, err
		}
		owner := uuid.NullUUID{}
		max, toShared = domain.MaxSharedViews, true
		if !*ch.Shared {
			owner, max, toShared = uuid.NullUUID{UUID: c.UserID, Valid: true}, domain.MaxPersonalViews, false
		}
		p.Owner = &owner
	}
	if ch.Name != nil {
		name, err := domain.ParseViewName(*ch.Name)
		if err != nil {
			return nil, BadRequest("name: %v", err)
		}
		p.Name = &name
	}
	if ch.Filters != nil {
		if p.Filters, err = s.viewFilters(ctx, c, ch.Filters); err != nil {
			return nil, err
		}
	}
	out, err := s.Store.UpdateView(ctx, c.WorkspaceID, id, v.OwnerID, p, max)
	return out, viewError(err, toShared)
}

// DeleteView deletes one of the caller's personal views, or (owners and admins) a shared one.
func (s *Service) DeleteView(ctx context.Context, c *Caller, id uuid.UUID) error {
	if err := s.Authorize(c, domain.ManageOwnViews); err != nil {
		return err
	}
	v, err := s.Store.GetView(ctx, c.WorkspaceID, c.UserID, id)
	if err != nil {
		return err
	}
	if err := s.checkViewScope(c, v.Shared()); err != nil {
		return err
	}
	return s.Store.DeleteView(ctx, c.WorkspaceID, id, v.OwnerID)
}

// ViewQuery is the inbox list's query of a view's filters: what opening it applies.
func ViewQuery(v *SavedView) url.Values {
	out := url.Values{}
	for name, vs := range v.Filters {
		out[name] = slices.Clone(vs)
	}
	return out
}

func viewError(err error, shared bool) error {
	switch {
	case errors.Is(err, store.ErrViewLimit) && shared:
		return errSharedViewLimit
	case errors.Is(err, store.ErrViewLimit):
		return errPersonalViewLimit
	case errors.Is(err, store.ErrViewNameTaken):
		return errViewName
	}
	return err
}
