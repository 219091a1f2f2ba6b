package app

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// Page sizes of every list (api.md).
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// MaxQueryLen is the longest q filter a list accepts, in characters.
const MaxQueryLen = store.MaxQueryLen

// Query is a list's query string, checked against the parameters the list accepts. The
// JSON API and the pages read the same names, so a page's URL is also the API's filter.
type Query struct{ values url.Values }

// ReadQuery checks values against the accepted names. An unknown parameter is a 400
// naming it: a typo such as ?stat=closed would otherwise list everything and look like a
// working filter.
func ReadQuery(values url.Values, accepted ...string) (Query, error) {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names) // report the same parameter first every time
	for _, name := range names {
		if !slices.Contains(accepted, name) {
			return Query{}, BadRequest("%s: unknown query parameter (this endpoint takes %s)", name, strings.Join(accepted, ", "))
		}
	}
	return Query{values: values}, nil
}

// One returns the single value of a parameter, trimmed; "" when absent or empty, which is
// the same as no filter. A parameter given twice is a 400.
func (q Query) One(name string) (string, error) {
	vs := q.values[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return strings.TrimSpace(vs[0]), nil
	}
	return "", BadRequest("%s: given more than once", name)
}

// List returns the items of a comma-separated parameter, trimmed, without empty items.
// Repeating the parameter (?state=open&state=closed) adds to the list.
func (q Query) List(name string) []string {
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

// Bool reads true or false; nil when absent.
func (q Query) Bool(name string) (*bool, error) {
	v, err := q.One(name)
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
	return nil, BadRequest("%s: want true or false, not %q", name, v)
}

// Time reads an RFC 3339 time; the zero time when absent. A '+' of an offset that was not
// percent-encoded arrives as a space; it is read as the '+' it was meant to be.
func (q Query) Time(name string) (time.Time, error) {
	v, err := q.One(name)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil && strings.Contains(v, " ") {
		t, err = time.Parse(time.RFC3339, strings.ReplaceAll(v, " ", "+"))
	}
	if err != nil {
		return time.Time{}, BadRequest("%s: want an RFC 3339 time such as 2026-11-24T09:00:00Z, not %q", name, v)
	}
	return t.UTC(), nil
}

// Given returns the parameters among names that the query has, as given: what an export's
// audit entry records.
func (q Query) Given(names ...string) map[string]any {
	out := map[string]any{}
	for _, name := range names {
		if vs, ok := q.values[name]; ok {
			out[name] = strings.Join(vs, ",")
		}
	}
	return out
}

// Page reads ?limit= and ?cursor=; limit defaults to 50 and may not exceed 200. Either
// given twice is a 400, as any repeated single-value parameter is: which one would count is
// a guess.
func (q Query) Page() (limit int, cursor string, err error) {
	for _, name := range []string{"limit", "cursor"} {
		if len(q.values[name]) > 1 {
			return 0, "", BadRequest("%s: given more than once", name)
		}
	}
	limit = DefaultLimit
	if raw, ok := q.values["limit"]; ok {
		n, err := strconv.Atoi(raw[0])
		if err != nil || n < 1 || n > MaxLimit {
			return 0, "", BadRequest("limit: want a whole number from 1 to %d", MaxLimit)
		}
		limit = n
	}
	return limit, q.values.Get("cursor"), nil
}

// createdRange reads created_after (inclusive) and created_before (exclusive).
func (q Query) createdRange() (after, before time.Time, err error) {
	if after, err = q.Time("created_after"); err != nil {
		return
	}
	before, err = q.Time("created_before")
	return
}

// ConversationFilterParams are the inbox list's filters (api.md).
var ConversationFilterParams = []string{
	"state", "include_archived", "unread", "assignee", "channel",
	"created_after", "created_before", "q", "wakes_before", "label", "sla",
}

// ConversationFilter turns the list's filters into a store filter; every bad value is a 400
// whose message starts with the parameter's name. "assignee=me" is the caller.
func (q Query) ConversationFilter(me uuid.UUID) (store.ConversationFilter, error) {
	var f store.ConversationFilter
	for _, v := range q.List("state") {
		st, err := domain.ParseState(v)
		if err != nil {
			return f, BadRequest("state: %v", err)
		}
		f.States = append(f.States, st)
	}
	inclArchived, err := q.Bool("include_archived")
	if err != nil {
		return f, err
	}
	f.IncludeArchived = inclArchived != nil && *inclArchived
	if f.Unread, err = q.Bool("unread"); err != nil {
		return f, err
	}
	switch v, err := q.One("assignee"); {
	case err != nil:
		return f, err
	case v == "":
	case v == "me":
		f.AssigneeID = uuid.NullUUID{UUID: me, Valid: true}
	case v == "none":
		f.Unassigned = true
	default:
		id, err := uuid.Parse(v)
		if err != nil {
			return f, BadRequest(`assignee: want "me", "none" or a user id, not %q`, v)
		}
		f.AssigneeID = uuid.NullUUID{UUID: id, Valid: true}
	}
	for _, v := range q.List("channel") {
		ch, err := domain.ParseChannel(v)
		if err != nil {
			return f, BadRequest("channel: %v", err)
		}
		f.Channels = append(f.Channels, ch)
	}
	if f.CreatedAfter, f.CreatedBefore, err = q.createdRange(); err != nil {
		return f, err
	}
	if f.WakesBefore, err = q.Time("wakes_before"); err != nil {
		return f, err
	}
	labels := q.List("label")
	if len(labels) > domain.MaxLabels {
		return f, BadRequest("label: at most %d labels", domain.MaxLabels)
	}
	for _, v := range labels {
		id, err := uuid.Parse(v)
		if err != nil {
			return f, BadRequest("label: want a label id, not %q", domain.Clip(v, 64))
		}
		f.Labels = append(f.Labels, id)
	}
	text, err := q.One("q")
	if err != nil {
		return f, err
	}
	if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return f, BadRequest("q: not valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(text); n > 0 && (n < store.MinQueryLen || n > store.MaxQueryLen) {
		return f, BadRequest("q: want %d to %d characters, not %d", store.MinQueryLen, store.MaxQueryLen, n)
	}
	f.Query = text
	switch v, err := q.One("sla"); {
	case err != nil:
		return f, err
	case v == "":
	case v == domain.SLAFilterDueSoon || v == domain.SLAFilterBreached:
		if f.Query != "" {
			return f, BadRequest("sla: cannot be combined with q")
		}
		f.SLA = v
		// Due soon: a running clock due within the next hour (or already due, its breach
		// being recorded).
		f.SLADueBefore = time.Now().Add(domain.SLADueSoonWindow)
	default:
		return f, BadRequest("sla: want %q or %q, not %q", domain.SLAFilterDueSoon, domain.SLAFilterBreached, domain.Clip(v, 40))
	}
	return f, nil
}

// LeadFilterParams are the filters the lead list and the export share (api.md).
var LeadFilterParams = []string{"status", "created_after", "created_before"}

// LeadFilter reads the lead filters.
func (q Query) LeadFilter() (store.LeadFilter, error) {
	var f store.LeadFilter
	for _, v := range q.List("status") {
		st, err := domain.ParseLeadStatus(v)
		if err != nil {
			return f, BadRequest("status: %v", err)
		}
		f.Statuses = append(f.Statuses, st)
	}
	var err error
	f.CreatedAfter, f.CreatedBefore, err = q.createdRange()
	return f, err
}

// QueryOf reads values without checking their names, for lists whose only parameters are
// the page's.
func QueryOf(values url.Values) Query { return Query{values: values} }
