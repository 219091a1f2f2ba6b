package app

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// leadCSVHeader is the export's header row (api.md); the columns of LeadExportRow in order.
var leadCSVHeader = []string{"created_at", "name", "email", "phone", "summary", "status", "page_url", "assignee", "labels"}

// csvFlushEvery is how many rows are written between flushes to the client (about 200 KB),
// so the download makes visible progress and nothing piles up in this process.
const csvFlushEvery = 1000

// ExportLeads streams the workspace's leads that pass the query's lead filters to rw as a
// CSV download, newest first. It is the one operation here that writes an HTTP response,
// because the file is the answer: the API's endpoint and the Leads page's button serve the
// same bytes. Rows go from the database cursor to the client one at a time through a 64 KiB
// buffer, so memory does not grow with the row count. The response starts with the first
// row (or the end of an empty export): when ExportLeads returns an error with started
// false, nothing was written and the caller answers with it. The export is audited once,
// when it ends, with the rows sent and whether it completed.
func (s *Service) ExportLeads(ctx context.Context, c *Caller, q Query, rw http.ResponseWriter) (started bool, err error) {
	if err := s.Authorize(c, domain.ExportLeads); err != nil {
		return false, err
	}
	f, err := q.LeadFilter()
	if err != nil {
		return false, err
	}
	ws := c.WorkspaceID
	var w *csv.Writer
	var out *bufio.Writer
	record := make([]string, len(leadCSVHeader))
	start := func() error {
		h := rw.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="leads-%s-%s.csv"`, ws, time.Now().UTC().Format(time.DateOnly)))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		rw.WriteHeader(http.StatusOK)
		extendWriteDeadline(rw)
		// A large buffer under the CSV writer: one write (one chunk) per 64 KiB, not per 4.
		out = bufio.NewWriterSize(rw, 64<<10)
		w = csv.NewWriter(out)
		return w.Write(leadCSVHeader)
	}
	flush := func() error {
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		return http.NewResponseController(rw).Flush()
	}
	sent := 0
	n, err := s.Store.ExportLeads(ctx, ws, f, func(r *store.LeadExportRow) error {
		if w == nil {
			if err := start(); err != nil {
				return err
			}
		}
		leadCSVRecord(record, r)
		if err := w.Write(record); err != nil {
			return err
		}
		if sent++; sent%csvFlushEvery == 0 {
			if err := flush(); err != nil {
				return err
			}
			extendWriteDeadline(rw)
		}
		return nil
	})
	if w == nil && err == nil {
		err = start()
	}
	if w == nil {
		return false, err
	}
	if ferr := flush(); err == nil {
		err = ferr
	}

	// Audit even when the client went away mid-download: rows did leave the server.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if aerr := s.Store.AuditWorkspace(actx, ws, c.Actor(), domain.AuditLeadsExported,
		map[string]any{"filters": q.Given(LeadFilterParams...)},
		map[string]any{"rows": n, "complete": err == nil}); aerr != nil {
		s.Logger.Error("audit leads export", "error", aerr)
	}
	if err != nil && ctx.Err() == nil {
		// The headers are out: the only honest signal left is to cut the download short, so
		// the client sees a broken transfer instead of a complete-looking file.
		s.Logger.Error("leads export failed", "rows", n, "error", err)
		abortResponse(rw)
	}
	return true, err
}

// leadCSVRecord fills record with r's cells, neutralised.
func leadCSVRecord(record []string, r *store.LeadExportRow) {
	record[0] = r.CreatedAt.UTC().Format(time.RFC3339)
	record[1] = neutralise(r.Name)
	record[2] = neutralise(r.Email)
	record[3] = neutralisePhone(r.Phone)
	record[4] = neutralise(r.Summary)
	record[5] = string(r.Status)
	record[6] = neutralise(r.PageURL)
	record[7] = neutralise(r.Assignee)
	record[8] = neutralise(r.Labels)
}

// neutralise keeps a spreadsheet from running a cell as a formula: a cell whose first
// character is =, +, -, @, a tab, CR or LF (or the full-width ＝ ＋ － ＠, which some
// spreadsheets also accept) is prefixed with a single quote, which spreadsheets show as text.
func neutralise(v string) string {
	if v == "" {
		return v
	}
	switch r, _ := utf8.DecodeRuneInString(v); r {
	case '=', '+', '-', '@', '\t', '\r', '\n', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20':
		return "'" + v
	}
	return v
}

// neutralisePhone is neutralise, except for a phone number in international form: a '+'
// followed by at least six characters, all digits, spaces, dots, parentheses or hyphens
// (^\+[0-9 ().-]{6,}$). Such a cell can neither call a function nor reference another cell,
// so it is left as is and stays usable for dialling.
func neutralisePhone(v string) string {
	if phoneShaped(v) {
		return v
	}
	return neutralise(v)
}

func phoneShaped(v string) bool {
	if len(v) < 7 || v[0] != '+' {
		return false
	}
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9', c == ' ', c == '.', c == '(', c == ')', c == '-':
		default:
			return false
		}
	}
	return true
}

// exportWriteWindow is how long the client may take to accept the next batch of rows.
const exportWriteWindow = time.Minute

// extendWriteDeadline pushes the connection's write deadline forward while the export makes
// progress, so a server-wide write timeout sized for JSON answers does not cut a large
// export, while a client that stops reading is still let go.
func extendWriteDeadline(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(exportWriteWindow))
}

// abortResponse cuts the connection under a response that is already under way, so the
// client sees an incomplete transfer (no final chunk) rather than a short but well-formed
// file. Gin refuses to hijack once the body has started, so this asks net/http's own writer.
// Where the connection cannot be taken over (HTTP/2, a recorder) the response just ends.
func abortResponse(rw http.ResponseWriter) {
	if u, ok := rw.(interface{ Unwrap() http.ResponseWriter }); ok {
		rw = u.Unwrap()
	}
	if conn, _, err := http.NewResponseController(rw).Hijack(); err == nil {
		_ = conn.Close()
	}
}
