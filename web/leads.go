package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// The Leads page's own query parameters. Its filters are the API's (status, and the created
// range), but the range is two date inputs: from and to, whole days, both included.
const (
	leadsFrom   = "from"
	leadsTo     = "to"
	leadsStatus = "status"
	leadsCursor = "cursor"
)

// excerptRunes is how much of a summary the table shows.
const excerptRunes = 140

// leadFilters is the Leads page's filter form as the person filled it in.
type leadFilters struct {
	Statuses map[domain.LeadStatus]bool
	From, To string
}

// Any reports whether any filter is set.
func (f leadFilters) Any() bool { return len(f.Statuses) > 0 || f.From != "" || f.To != "" }

// readLeadFilters turns the page's query into the application's lead query (status,
// created_after, created_before, cursor): a date becomes the RFC 3339 start of that day in
// UTC, and "to" the start of the day after, so the day itself is included. A date that is
// not a date is a 400 naming the field.
func readLeadFilters(values url.Values) (leadFilters, url.Values, error) {
	f := leadFilters{Statuses: map[domain.LeadStatus]bool{}}
	out := url.Values{}
	q := app.QueryOf(values)
	for _, v := range q.List(leadsStatus) {
		st, err := domain.ParseLeadStatus(v)
		if err != nil {
			return f, nil, app.BadRequest("status: %v", err)
		}
		f.Statuses[st] = true
		out.Add(leadsStatus, string(st))
	}
	for _, d := range []struct {
		name, param string
		days        int
		into        *string
	}{{leadsFrom, "created_after", 0, &f.From}, {leadsTo, "created_before", 1, &f.To}} {
		v, err := q.One(d.name)
		if err != nil {
			return f, nil, err
		}
		if v == "" {
			continue
		}
		day, err := time.Parse(dateLayout, v)
		if err != nil {
			return f, nil, app.BadRequest("%s: want a date such as 2026-11-24, not %q", d.name, v)
		}
		*d.into = v
		out.Set(d.param, day.AddDate(0, 0, d.days).Format(time.RFC3339))
	}
	if c := values.Get(leadsCursor); c != "" {
		out.Set(leadsCursor, c)
	}
	return f, out, nil
}

// leadRow is one row of the table; it is also the fragment that a status change swaps in.
type leadRow struct {
	Lead        app.LeadView
	Workspace   string
	Excerpt     string
	CanChange   bool
	CSRFField   template.HTML
	Next        string // the Leads page to come back to after a change without htmx
	Error       string
	Statuses    []domain.LeadStatus
	Highlighted bool
}

// ConversationPath is the conversation of the lead.
func (r leadRow) ConversationPath() string {
	return WorkspacePath(r.Workspace, "c") + "/" + r.Lead.ConversationID.String()
}

// StatusPath is where the status change posts.
func (r leadRow) StatusPath() string {
	return WorkspacePath(r.Workspace, SectionLeads) + "/" + r.Lead.ID.String() + "/status"
}

// leadsData is the Data of the Leads page.
type leadsData struct {
	Workspace string
	Filters   leadFilters
	Statuses  []domain.LeadStatus
	Rows      []leadRow
	Error     string
	// OlderURL is the next page; NewestURL the first page of the same filters.
	OlderURL, NewestURL string
	ExportURL           string
	CanExport           bool
}

func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= excerptRunes {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:excerptRunes])) + "…"
}

func (s *Site) leadRow(c *gin.Context, v app.LeadView, next string) leadRow {
	caller := callerOf(c)
	return leadRow{
		Lead: v, Workspace: caller.WorkspaceID.String(), Excerpt: excerpt(v.Summary),
		CanChange: s.App.Can(caller, domain.ChangeLeads),
		CSRFField: View{CSRFToken: s.web.CSRF.Token(c)}.CSRFField(),
		Next:      next, Statuses: domain.LeadStatuses,
	}
}

// leads is the Leads page: the filtered table, newest first, an "Older" page at a time.
func (s *Site) leads(c *gin.Context) {
	caller := callerOf(c)
	ws := caller.WorkspaceID.String()
	SetTitle(c, "Leads")
	SetSection(c, SectionLeads)
	path := WorkspacePath(ws, SectionLeads)
	d := leadsData{Workspace: ws, Statuses: domain.LeadStatuses, CanExport: s.App.Can(caller, domain.ExportLeads)}

	filters, values, err := readLeadFilters(c.Request.URL.Query())
	d.Filters = filters
	if err == nil {
		var q app.Query
		if q, err = app.ReadQuery(values, app.LeadListParams...); err == nil {
			var page app.LeadPage
			if page, err = s.App.ListLeads(c.Request.Context(), caller, q); err == nil {
				next := c.Request.URL.RequestURI()
				for _, v := range page.Items {
					d.Rows = append(d.Rows, s.leadRow(c, v, next))
				}
				own := filterQuery(c.Request.URL.Query())
				if page.NextCursor != "" {
					older := cloneValues(own)
					older.Set(leadsCursor, page.NextCursor)
					d.OlderURL = path + "?" + older.Encode()
				}
				if values.Get(leadsCursor) != "" {
					d.NewestURL = withQuery(path, own)
				}
				d.ExportURL = withQuery(path+"/export.csv", own)
			}
		}
	}
	if err != nil {
		e, _ := app.Classify(err)
		if e.Status != http.StatusBadRequest {
			s.fail(c, err)
			return
		}
		d.Error = e.Message
		s.web.Render.Page(c, http.StatusBadRequest, "leads", d)
		return
	}
	s.web.Render.Page(c, http.StatusOK, "leads", d)
}

// filterQuery is the page's query without the cursor: the filters, as the person set them.
func filterQuery(values url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{leadsStatus, leadsFrom, leadsTo} {
		for _, v := range values[k] {
			if v != "" {
				out.Add(k, v)
			}
		}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// exportLeads downloads the leads of the page's filters as CSV: the same streamed file as
// the API's GET /leads/export.csv, written by the same operation.
func (s *Site) exportLeads(c *gin.Context) {
	_, values, err := readLeadFilters(c.Request.URL.Query())
	var q app.Query
	if err == nil {
		values.Del(leadsCursor)
		q, err = app.ReadQuery(values, app.LeadFilterParams...)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	started, err := s.App.ExportLeads(c.Request.Context(), callerOf(c), q, c.Writer)
	if err != nil && !started {
		s.fail(c, err)
		return
	}
	c.Abort() // the answer is written (or cut short); nothing else may write
}

// setLeadStatus changes a lead's status from its row: htmx gets the row back (with the
// refusal in words when there is one), a plain form goes back to the Leads page.
func (s *Site) setLeadStatus(c *gin.Context) {
	id, err := uuid.Parse(c.Param("lead_id"))
	if err != nil {
		s.web.Render.NotFound(c)
		return
	}
	status, err := domain.ParseLeadStatus(c.PostForm("status"))
	if err != nil {
		s.fail(c, app.BadRequest("status: %v", err))
		return
	}
	caller := callerOf(c)
	next := SafeNext(c.PostForm("next"))
	if !strings.HasPrefix(next, WorkspacePath(caller.WorkspaceID.String(), SectionLeads)) {
		next = WorkspacePath(caller.WorkspaceID.String(), SectionLeads)
	}
	v, err := s.App.SetLeadStatus(c.Request.Context(), caller, id, status)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !IsHTMX(c) {
		SeeOther(c, next)
		return
	}
	row := s.leadRow(c, *v, next)
	row.Highlighted = true
	s.web.Render.Fragment(c, http.StatusOK, "leads", "lead-row-fragment", row)
}
