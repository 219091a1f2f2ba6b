package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// viewItem is a saved view as the API shows it.
type viewItem struct {
	ID      string         `json:"id"`
	Name    string         `json:"name"`
	Filters map[string]any `json:"filters"`
	// Query is the filters as the query string of GET /conversations.
	Query       string    `json:"query"`
	Shared      bool      `json:"shared"`
	UnreadCount *int      `json:"unread_count,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// listFilters are the filters that take several values; booleans are true or false; the
// rest are one string each.
var (
	listFilters = []string{"state", "channel", "label"}
	boolFilters = []string{"unread", "include_archived"}
)

func toView(v *app.SavedView, unread *int) viewItem {
	filters := map[string]any{}
	for name, vs := range v.Filters {
		switch {
		case slices.Contains(listFilters, name):
			filters[name] = vs
		case slices.Contains(boolFilters, name) && len(vs) == 1:
			filters[name] = vs[0] == "true"
		case len(vs) == 1:
			filters[name] = vs[0]
		}
	}
	return viewItem{ID: v.ID.String(), Name: v.Name, Filters: filters, Query: app.ViewQuery(v).Encode(),
		Shared: v.Shared(), UnreadCount: unread, CreatedAt: v.CreatedAt.UTC(), UpdatedAt: v.UpdatedAt.UTC()}
}

// filterValues reads a body's filters: each a string, true or false, a number, or a list of
// strings; what they mean is the inbox list's to say (app checks them with its rules).
func filterValues(raw map[string]json.RawMessage) (url.Values, error) {
	return filterValuesOf("filters", raw)
}

// filterValuesOf is filterValues for the body field named field.
func filterValuesOf(field string, raw map[string]json.RawMessage) (url.Values, error) {
	out := url.Values{}
	for name, r := range raw {
		var s string
		var b bool
		var n json.Number
		var list []string
		switch {
		case json.Unmarshal(r, &s) == nil:
			out.Add(name, s)
		case json.Unmarshal(r, &b) == nil:
			if b {
				out.Add(name, "true")
			} else {
				out.Add(name, "false")
			}
		case json.Unmarshal(r, &n) == nil:
			out.Add(name, n.String())
		case json.Unmarshal(r, &list) == nil:
			out[name] = append(out[name], list...)
		default:
			return nil, badRequest("%s.%s: want a string, true or false, or a list of strings", field, domain.Clip(name, 64))
		}
	}
	return out, nil
}

func (s *server) listViews(c *gin.Context) {
	q, err := app.ReadQuery(c.Request.URL.Query(), "limit", "cursor")
	if err != nil {
		respond(c, err)
		return
	}
	views, next, err := s.App.ListViews(c.Request.Context(), caller(c), q)
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]viewItem, len(views))
	for i := range views {
		items[i] = toView(&views[i].SavedView, &views[i].Unread)
	}
	writePage(c, items, next)
}

func (s *server) createView(c *gin.Context) {
	var body struct {
		Name    *string                    `json:"name"`
		Filters map[string]json.RawMessage `json:"filters"`
		Shared  bool                       `json:"shared"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	if body.Name == nil {
		respond(c, badRequest("name: required"))
		return
	}
	filters, err := filterValues(body.Filters)
	if err != nil {
		respond(c, err)
		return
	}
	v, err := s.App.CreateView(c.Request.Context(), caller(c), app.ViewInput{Name: *body.Name, Filters: filters, Shared: body.Shared})
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusCreated, toView(v, nil))
}

func (s *server) patchView(c *gin.Context) {
	id, err := pathID(c, "view_id")
	if err != nil {
		respond(c, err)
		return
	}
	var body struct {
		Name    *string                    `json:"name"`
		Filters map[string]json.RawMessage `json:"filters"`
		Shared  *bool                      `json:"shared"`
	}
	if err := decodeBody(c, &body); err != nil {
		respond(c, err)
		return
	}
	ch := app.ViewChanges{Name: body.Name, Shared: body.Shared}
	if body.Filters != nil {
		if ch.Filters, err = filterValues(body.Filters); err != nil {
			respond(c, err)
			return
		}
	}
	v, err := s.App.UpdateView(c.Request.Context(), caller(c), id, ch)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toView(v, nil))
}

func (s *server) deleteView(c *gin.Context) {
	id, err := pathID(c, "view_id")
	if err != nil {
		respond(c, err)
		return
	}
	if err := s.App.DeleteView(c.Request.Context(), caller(c), id); err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
