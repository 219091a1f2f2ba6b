package api

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// leadCSVHeader is the export's header row (api.md); the columns of LeadExportRow in order.
var leadCSVHeader = []string{"created_at", "name", "email", "phone", "summary", "status", "page_url", "assignee"}

// csvFlushEvery is how many rows are written between flushes to the client (about 200 KB),
// so the download makes visible progress and nothing piles up in this process.
const csvFlushEvery = 1000

// exportLeads streams the workspace's leads that pass the lead filters as CSV, newest first.
// Rows go from the database cursor to the client one at a time through a 64 KiB buffer, so
// memory does not grow with the row count. The export is audited once, when it ends, with
// the rows sent and whether it completed.
func (s *server) exportLeads(c *gin.Context) {
	q, err := readListQuery(c, leadFilterParams...)
	if err != nil {
		respond(c, err)
		return
	}
	f, err := leadFilter(q)
	if err != nil {
		respond(c, err)
		return
	}
	ws := workspaceID(c)

	// The response starts with the first row (or the end of an empty export), so a query that
	// fails at once is still answered with a JSON error instead of a 200.
	var w *csv.Writer
	var out *bufio.Writer
	record := make([]string, len(leadCSVHeader))
	start := func() error {
		h := c.Writer.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="leads-%s-%s.csv"`, ws, time.Now().UTC().Format(time.DateOnly)))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		c.Status(http.StatusOK)
		extendWriteDeadline(c)
		// A large buffer under the CSV writer: one write (one chunk) per 64 KiB, not per 4.
		out = bufio.NewWriterSize(c.Writer, 64<<10)
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
		c.Writer.Flush()
		return nil
	}
	sent := 0
	n, err := s.Store.ExportLeads(c.Request.Context(), ws, f, func(r *store.LeadExportRow) error {
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
			extendWriteDeadline(c)
		}
		return nil
	})
	if w == nil && err == nil {
		err = start()
	}
	if w == nil {
		if c.Request.Context().Err() != nil {
			c.Abort() // the client left before the first row: nobody to answer
			return
		}
		respond(c, err) // nothing was sent: an ordinary error answer
		return
	}
	if ferr := flush(); err == nil {
		err = ferr
	}

	// Audit even when the client went away mid-download: rows did leave the server.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 10*time.Second)
	defer cancel()
	if aerr := s.Store.AuditWorkspace(ctx, ws, actor(c), domain.AuditLeadsExported,
		map[string]any{"filters": filtersForAudit(q, leadFilterParams...)},
		map[string]any{"rows": n, "complete": err == nil}); aerr != nil {
		_ = c.Error(fmt.Errorf("audit leads export: %w", aerr))
	}
	if err != nil && c.Request.Context().Err() == nil {
		// The headers are out: the only honest signal left is to cut the download short, so
		// the client sees a broken transfer instead of a complete-looking file.
		_ = c.Error(fmt.Errorf("leads export failed after %d rows: %w", n, err))
		abortResponse(c)
	}
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
func extendWriteDeadline(c *gin.Context) {
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(exportWriteWindow))
}

// abortResponse cuts the connection under a response that is already under way, so the
// client sees an incomplete transfer (no final chunk) rather than a short but well-formed
// file. Gin refuses to hijack once the body has started, so this asks net/http's own writer.
// Where the connection cannot be taken over (HTTP/2, a recorder) the response just ends.
func abortResponse(c *gin.Context) {
	c.Abort()
	var rw http.ResponseWriter = c.Writer
	if u, ok := rw.(interface{ Unwrap() http.ResponseWriter }); ok {
		rw = u.Unwrap()
	}
	if conn, _, err := http.NewResponseController(rw).Hijack(); err == nil {
		_ = conn.Close()
	}
}
