package api

import (
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// listQuery is a list endpoint's query string, checked against the parameters it accepts.
// An unknown parameter is a 400 naming it: a typo such as ?stat=closed would otherwise list
// everything and look like a working filter.
type listQuery struct{ values url.Values }

func readListQuery(c *gin.Context, accepted ...string) (listQuery, error) {
	values := c.Request.URL.Query()
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names) // report the same parameter first every time
	for _, name := range names {
		if !slices.Contains(accepted, name) {
			return listQuery{}, badRequest("%s: unknown query parameter (this endpoint takes %s)", name, strings.Join(accepted, ", "))
		}
	}
	return listQuery{values: values}, nil
}

// one returns the single value of a parameter, trimmed; "" when absent or empty, which is
// the same as no filter. A parameter given twice is a 400.
func (q listQuery) one(name string) (string, error) {
	vs := q.values[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return strings.TrimSpace(vs[0]), nil
	}
	return "", badRequest("%s: given more than once", name)
}

// list returns the items of a comma-separated parameter, trimmed, without empty items.
// Repeating the parameter (?state=open&state=closed) adds to the list.
func (q listQuery) list(name string) []string {
	var out []string
	for _, v := range q.values[name] {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// boolean reads true or false; nil when absent.
func (q listQuery) boolean(name string) (*bool, error) {
	v, err := q.one(name)
	switch {
	case err != nil:
		return nil, err
	case v == "":
		return nil, nil
	case v == "true":
		t := true
		return &t, nil
	case v == "false":
		f := false
		return &f, nil
	}
	return nil, badRequest("%s: want true or false, not %q", name, v)
}

// time reads an RFC 3339 time; the zero time when absent. A '+' of an offset that was not
// percent-encoded arrives as a space; it is read as the '+' it was meant to be.
func (q listQuery) time(name string) (time.Time, error) {
	v, err := q.one(name)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil && strings.Contains(v, " ") {
		t, err = time.Parse(time.RFC3339, strings.ReplaceAll(v, " ", "+"))
	}
	if err != nil {
		return time.Time{}, badRequest("%s: want an RFC 3339 time such as 2026-11-24T09:00:00Z, not %q", name, v)
	}
	return t.UTC(), nil
}

// createdRange reads created_after (inclusive) and created_before (exclusive).
func (q listQuery) createdRange() (after, before time.Time, err error) {
	if after, err = q.time("created_after"); err != nil {
		return
	}
	before, err = q.time("created_before")
	return
}

var conversationListParams = []string{
	"state", "include_archived", "unread", "assignee", "channel",
	"created_after", "created_before", "q", "limit", "cursor",
}

// conversationFilter turns the list's query string into a store filter; every bad value is
// a 400 whose message starts with the parameter's name.
func conversationFilter(c *gin.Context, q listQuery) (store.ConversationFilter, error) {
	var f store.ConversationFilter
	for _, v := range q.list("state") {
		st, err := domain.ParseState(v)
		if err != nil {
			return f, badRequest("state: %v", err)
		}
		f.States = append(f.States, st)
	}
	inclArchived, err := q.boolean("include_archived")
	if err != nil {
		return f, err
	}
	f.IncludeArchived = inclArchived != nil && *inclArchived
	if f.Unread, err = q.boolean("unread"); err != nil {
		return f, err
	}
	switch v, err := q.one("assignee"); {
	case err != nil:
		return f, err
	case v == "":
	case v == "me":
		f.AssigneeID = uuid.NullUUID{UUID: caller(c).UserID, Valid: true}
	case v == "none":
		f.Unassigned = true
	default:
		id, err := uuid.Parse(v)
		if err != nil {
			return f, badRequest(`assignee: want "me", "none" or a user id, not %q`, v)
		}
		f.AssigneeID = uuid.NullUUID{UUID: id, Valid: true}
	}
	for _, v := range q.list("channel") {
		ch, err := domain.ParseChannel(v)
		if err != nil {
			return f, badRequest("channel: %v", err)
		}
		f.Channels = append(f.Channels, ch)
	}
	if f.CreatedAfter, f.CreatedBefore, err = q.createdRange(); err != nil {
		return f, err
	}
	text, err := q.one("q")
	if err != nil {
		return f, err
	}
	if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return f, badRequest("q: not valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(text); n > 0 && (n < store.MinQueryLen || n > store.MaxQueryLen) {
		return f, badRequest("q: want %d to %d characters, not %d", store.MinQueryLen, store.MaxQueryLen, n)
	}
	f.Query = text
	return f, nil
}

// listConversations is the inbox list: filters of api.md, newest activity first, keyset pages.
func (s *server) listConversations(c *gin.Context) {
	q, err := readListQuery(c, conversationListParams...)
	if err != nil {
		respond(c, err)
		return
	}
	limit, cursor, err := pageParams(c)
	if err != nil {
		respond(c, err)
		return
	}
	f, err := conversationFilter(c, q)
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.Store.ListConversations(c.Request.Context(), workspaceID(c), f, limit, cursor)
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]conversationItem, len(page.Items))
	for i := range page.Items {
		items[i] = toItem(&page.Items[i])
	}
	writePage(c, items, page.NextCursor)
}

// filtersForAudit records the filters an export was asked for, as given.
func filtersForAudit(q listQuery, names ...string) map[string]any {
	out := map[string]any{}
	for _, name := range names {
		if vs, ok := q.values[name]; ok {
			out[name] = strings.Join(vs, ",")
		}
	}
	return out
}
