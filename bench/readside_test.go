package bench

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"golang.org/x/crypto/bcrypt"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/api"
	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/migrations"
	"github.com/bestai/inbox/policies"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/web"
)

// Knobs, read from the environment:
//
//	INBOX_BENCH=1                      run at all
//	INBOX_BENCH_CONVERSATIONS=1000000  conversations in the measured workspace
//	INBOX_BENCH_NOISE=100000           conversations in each of the two other workspaces
//	INBOX_BENCH_REQUESTS=200           measured requests per list scenario
//	INBOX_BENCH_REPORT_REQUESTS=20     measured requests per report scenario
//	INBOX_BENCH_REPORTS_ONLY=1         measure the reports only (no lists, no export)
//	INBOX_BENCH_KEEP_DB=1              seed a database named inbox_bench once and keep it
//	                                   (for iterating on queries), instead of a fresh one
//	INBOX_BENCH_EXPLAIN=1              print EXPLAIN (ANALYZE, BUFFERS) of each list query
func BenchmarkReadSide(b *testing.B) {
	if os.Getenv("INBOX_BENCH") == "" {
		b.Skip("set INBOX_BENCH=1 (make bench-read): this seeds 1,000,000 conversations")
	}
	n := envInt("INBOX_BENCH_CONVERSATIONS", 1_000_000)
	noise := envInt("INBOX_BENCH_NOISE", 100_000)
	requests := envInt("INBOX_BENCH_REQUESTS", 200)
	ctx := context.Background()

	s, dsn := benchStore(b)
	hook := &lastQuery{}
	s.DB.AddQueryHook(hook)
	// Seeding statements run for minutes: a handle without the driver's 10 s read timeout.
	bulk := bun.NewDB(sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn),
		pgdriver.WithReadTimeout(time.Hour), pgdriver.WithWriteTimeout(time.Hour))), pgdialect.New())
	defer bulk.Close()
	fx := seed(b, s, bulk, n, noise)

	authz, err := policies.New()
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	accts := &accounts.Accounts{Store: s, BcryptCost: bcrypt.MinCost}
	application := app.New(app.Service{Store: s, Authorizer: authz, Logger: logger, Accounts: accts})
	router := api.NewRouter(api.Deps{App: application, Logger: logger})
	// The pages too, for the Reports page's render time.
	site, err := web.NewSite(web.SiteDeps{App: application, Secret: bytes.Repeat([]byte{7}, 32), Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	site.Register(router, api.NotFound)
	srv := httptest.NewServer(router)
	defer srv.Close()
	client := srv.Client()
	base := srv.URL + "/api/v1/workspaces/" + fx.workspace.String()

	get := func(path string) (int, []byte) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+fx.token)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			b.Fatal(err)
		}
		return res.StatusCode, body
	}

	// A cursor 20 pages deep, for the "later page" scenario.
	deep := ""
	for range 20 {
		code, body := get("/conversations?cursor=" + url.QueryEscape(deep))
		if code != http.StatusOK {
			b.Fatalf("paging: %d %s", code, body)
		}
		deep = nextCursor(b, body)
	}

	scenarios := []struct{ name, path string }{
		{"default", "/conversations"},
		{"unread=true", "/conversations?unread=true"},
		{"assignee=me", "/conversations?assignee=me"},
		{"state=closed", "/conversations?state=closed"},
		{"q=warranty (≈0.1%)", "/conversations?q=warranty"},
		{"q=zephyrine (10 conversations)", "/conversations?q=zephyrine"},
		{"q=smith (≈1%, visitor names)", "/conversations?q=smith"},
		{"q=auckland (≈10%)", "/conversations?q=auckland"},
		{"q=order (≈30%)", "/conversations?q=order"},
		{"unread=true&assignee=me&channel=chat", "/conversations?unread=true&assignee=me&channel=chat"},
		{"default, page 21 (cursor)", "/conversations?cursor=" + url.QueryEscape(deep)},
		{"leads default", "/leads"},
		{"leads status=won", "/leads?status=won"},
	}
	type result struct {
		name          string
		items         int
		p50, p99, max time.Duration
	}
	var results []result
	reportsOnly := os.Getenv("INBOX_BENCH_REPORTS_ONLY") != ""
	if reportsOnly {
		scenarios = nil
	}
	for _, sc := range scenarios {
		code, body := get(sc.path)
		if code != http.StatusOK {
			b.Fatalf("%s: %d %s", sc.path, code, body)
		}
		items := countItems(b, body)
		if os.Getenv("INBOX_BENCH_EXPLAIN") != "" {
			explain(b, bulk, sc.name, hook.get())
		}
		for range 20 { // warm-up
			get(sc.path)
		}
		lat := make([]time.Duration, requests)
		for i := range lat {
			start := time.Now()
			if code, body := get(sc.path); code != http.StatusOK {
				b.Fatalf("%s: %d %s", sc.path, code, body)
			}
			lat[i] = time.Since(start)
		}
		slices.Sort(lat)
		results = append(results, result{sc.name, items, percentile(lat, 50), percentile(lat, 99), lat[len(lat)-1]})
	}

	// Reports: the API's JSON and CSV and the Reports page (signed in, SVG charts and tables
	// rendered), for the default 30 days and the longest range (366 days).
	pageGet := signedInPages(b, ctx, s, accts, fx, srv.URL)
	// Business hours make every duration a walk over the calendar (the costly path).
	week := []string{"09:00-12:30", "13:30-17:30"}
	hours, err := domain.BusinessHoursSpec{TimeZone: "Pacific/Auckland", Holidays: []string{"2026-12-25"},
		Weekly: map[string][]string{"mon": week, "tue": week, "wed": week, "thu": week, "fri": week}}.Normalize()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.SetBusinessHours(ctx, fx.workspace, hours, nil); err != nil {
		b.Fatal(err)
	}
	today := time.Now().UTC()
	year := "?from=" + today.AddDate(0, 0, -365).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly)
	pagePath := "/w/" + fx.workspace.String() + "/reports"
	reportScenarios := []struct {
		name string
		get  func() (int, []byte)
	}{
		{"GET /reports (default: last 30 days)", func() (int, []byte) { return get("/reports") }},
		{"GET /reports?format=csv (30 days)", func() (int, []byte) { return get("/reports?format=csv") }},
		{"Reports page /w/<ws>/reports (30 days)", func() (int, []byte) { return pageGet(pagePath) }},
		{"GET /reports (366 days)", func() (int, []byte) { return get("/reports" + year) }},
		{"Reports page (366 days)", func() (int, []byte) { return pageGet(pagePath + year) }},
	}
	reportRequests := envInt("INBOX_BENCH_REPORT_REQUESTS", 20)
	var reportResults []result
	for _, sc := range reportScenarios {
		code, body := sc.get()
		if code != http.StatusOK {
			b.Fatalf("%s: %d %s", sc.name, code, body)
		}
		if strings.Contains(sc.name, "page") && !bytes.Contains(body, []byte(`class="bar"`)) {
			b.Fatalf("%s: no chart bars in the page", sc.name)
		}
		for range 3 { // warm-up
			sc.get()
		}
		lat := make([]time.Duration, reportRequests)
		for i := range lat {
			start := time.Now()
			if code, body := sc.get(); code != http.StatusOK {
				b.Fatalf("%s: %d %s", sc.name, code, body)
			}
			lat[i] = time.Since(start)
		}
		slices.Sort(lat)
		reportResults = append(reportResults, result{sc.name, len(body), percentile(lat, 50), percentile(lat, 99), lat[len(lat)-1]})
	}

	if reportsOnly {
		fmt.Printf("\n| report request (%d sequential) | bytes | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |\n", reportRequests)
		for _, r := range reportResults {
			fmt.Printf("| %s | %d | %s | %s | %s |\n", r.name, r.items, ms(r.p50), ms(r.p99), ms(r.max))
		}
		return
	}

	// Export: the HTTP handler against psql's \copy of the same query, alternating, three runs
	// each; memory sampled from /proc while the handler streams.
	query := s.ExportLeadsQuery(fx.workspace, store.LeadFilter{})
	type run struct {
		seconds float64
		rows    int
		bytes   int64
	}
	var httpRuns, psqlRuns []run
	runtime.GC()
	debug.FreeOSMemory()
	rssBefore, hwmBefore := procStatus(b, "VmRSS"), procStatus(b, "VmHWM")
	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if v := procStatus(b, "VmRSS"); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	})
	for range 3 {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/leads/export.csv", nil)
		req.Header.Set("Authorization", "Bearer "+fx.token)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		cw := &countingWriter{}
		if _, err := io.Copy(cw, res.Body); err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("export: %d", res.StatusCode)
		}
		httpRuns = append(httpRuns, run{time.Since(start).Seconds(), cw.lines - 1, cw.n})

		start = time.Now()
		cmd := exec.CommandContext(ctx, "psql", dsn, "-X", "-q", "-v", "ON_ERROR_STOP=1",
			"-c", `\copy (`+query+`) TO STDOUT WITH (FORMAT csv, HEADER)`)
		pw := &countingWriter{}
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = pw, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("psql: %v: %s", err, stderr.String())
		}
		psqlRuns = append(psqlRuns, run{time.Since(start).Seconds(), pw.lines - 1, pw.n})
	}
	close(stop)
	sampler.Wait()
	hwmAfter := procStatus(b, "VmHWM")
	for _, r := range httpRuns {
		if r.rows != n {
			b.Fatalf("export returned %d rows, want %d", r.rows, n)
		}
	}
	best := func(rs []run) run {
		return slices.MinFunc(rs, func(a, b run) int { return int((a.seconds - b.seconds) * 1e6) })
	}
	h, p := best(httpRuns), best(psqlRuns)

	var out strings.Builder
	fmt.Fprintf(&out, "\nSeeded %d conversations (+%d messages, leads) in the measured workspace, %d in each of 2 others; %s\n",
		n, fx.messages, noise, fx.seedTime.Round(time.Second))
	fmt.Fprintf(&out, "\n| list request (first page, limit 50) | items | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		fmt.Fprintf(&out, "| %s | %d | %s | %s | %s |\n", r.name, r.items, ms(r.p50), ms(r.p99), ms(r.max))
	}
	fmt.Fprintf(&out, "\n| report request (%d sequential) | bytes | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |\n", reportRequests)
	for _, r := range reportResults {
		fmt.Fprintf(&out, "| %s | %d | %s | %s | %s |\n", r.name, r.items, ms(r.p50), ms(r.p99), ms(r.max))
	}
	fmt.Fprintf(&out, "\n| export of %d leads | seconds (best of 3) | all runs | rows/s | MB |\n| --- | ---: | --- | ---: | ---: |\n", n)
	fmt.Fprintf(&out, "| GET /leads/export.csv (HTTP handler) | %.2f | %s | %.0f | %.1f |\n", h.seconds, secs(httpRuns, func(r run) float64 { return r.seconds }), float64(h.rows)/h.seconds, float64(h.bytes)/1e6)
	fmt.Fprintf(&out, "| psql \\copy (same query) TO STDOUT (FORMAT csv) | %.2f | %s | %.0f | %.1f |\n", p.seconds, secs(psqlRuns, func(r run) float64 { return r.seconds }), float64(p.rows)/p.seconds, float64(p.bytes)/1e6)
	fmt.Fprintf(&out, "\nexport / COPY time ratio: %.2f\n", h.seconds/p.seconds)
	fmt.Fprintf(&out, "process RSS: %.1f MB before the exports, peak %.1f MB while streaming (growth %.1f MB); VmHWM %.1f MB -> %.1f MB\n",
		mb(rssBefore), mb(peak.Load()), mb(peak.Load()-rssBefore), mb(hwmBefore), mb(hwmAfter))
	fmt.Print(out.String())
	b.ReportMetric(h.seconds/p.seconds, "export/copy")
	b.ReportMetric(mb(peak.Load()-rssBefore), "rss-growth-MB")
}

// fixture is what seed made.
type fixture struct {
	workspace uuid.UUID
	token     string // the owner's; "me" in assignee=me
	messages  int
	seedTime  time.Duration
}

// benchStore is a fresh database (dropped at the end), or with INBOX_BENCH_KEEP_DB the
// database inbox_bench, kept between runs. It returns the store and the database's URL.
func benchStore(b *testing.B) (*store.Store, string) {
	admin, err := url.Parse(testenv.AdminURL())
	if err != nil {
		b.Fatal(err)
	}
	if os.Getenv("INBOX_BENCH_KEEP_DB") == "" {
		s := testenv.NewStore(b)
		var name string
		if err := s.DB.QueryRowContext(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
			b.Fatal(err)
		}
		u := *admin
		u.Path = "/" + name
		return s, u.String()
	}
	u := *admin
	u.Path = "/inbox_bench"
	s, err := store.Open(context.Background(), u.String())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := migrations.Up(context.Background(), s.DB); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s, u.String()
}

// seed fills the measured workspace and two noise workspaces, or, with a kept database that
// is already seeded, issues a fresh token for its owner.
func seed(b *testing.B, s *store.Store, bulk *bun.DB, n, noise int) fixture {
	ctx := context.Background()
	start := time.Now()
	var existing uuid.UUID
	err := s.DB.QueryRowContext(ctx, "SELECT id FROM workspaces WHERE name = 'bench'").Scan(&existing)
	if err == nil {
		var seeded bool
		if err := s.DB.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM conversations WHERE workspace_id = ?)", existing).Scan(&seeded); err != nil || !seeded {
			b.Fatalf("inbox_bench was left half-seeded by an interrupted run; drop it (DROP DATABASE inbox_bench) and run again")
		}
		var owner uuid.UUID
		if err := s.DB.QueryRowContext(ctx, "SELECT user_id FROM memberships WHERE workspace_id = ? AND role = 'owner'", existing).Scan(&owner); err != nil {
			b.Fatal(err)
		}
		token := store.NewSecret("inbox_tok_")
		if _, err := s.DB.ExecContext(ctx, "INSERT INTO api_tokens (id, user_id, workspace_id, token_hash, name, expires_at) VALUES (?, ?, ?, ?, 'bench', now() + interval '1 day')",
			uuid.New(), owner, existing, store.Hash(token)); err != nil {
			b.Fatal(err)
		}
		var msgs int
		_ = s.DB.QueryRowContext(ctx, "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.workspace_id = ?", existing).Scan(&msgs)
		fmt.Printf("reusing the seeded database inbox_bench\n")
		return fixture{workspace: existing, token: token, messages: msgs}
	} else if !errors.Is(err, sql.ErrNoRows) {
		b.Fatal(err)
	}

	ws, err := s.CreateWorkspace(ctx, "bench", "owner@bench.test", "Bench Owner")
	if err != nil {
		b.Fatal(err)
	}
	assignees := []uuid.UUID{ws.OwnerUserID}
	for i, role := range []domain.Role{domain.Admin, domain.Support, domain.Support} {
		m, _, err := s.AddMember(ctx, ws.WorkspaceID, fmt.Sprintf("m%d@bench.test", i), fmt.Sprintf("Member %d", i), role)
		if err != nil {
			b.Fatal(err)
		}
		assignees = append(assignees, m.UserID)
	}
	type target struct {
		ws        uuid.UUID
		n         int
		assignees []uuid.UUID
	}
	targets := []target{{ws.WorkspaceID, n, assignees}}
	for i := range 2 {
		other, err := s.CreateWorkspace(ctx, fmt.Sprintf("noise %d", i), fmt.Sprintf("owner%d@noise.test", i), "Noise Owner")
		if err != nil {
			b.Fatal(err)
		}
		targets = append(targets, target{other.WorkspaceID, noise, []uuid.UUID{other.OwnerUserID}})
	}

	// Bulk load: drop the secondary indexes, load without FK triggers, build the indexes back
	// from their own definitions (so the migrations' indexes are the ones measured).
	indexes := secondaryIndexes(b, bulk)
	for _, ix := range indexes {
		mustExec(b, bulk, `DROP INDEX "`+ix.name+`"`)
	}
	now := time.Now().UTC()
	for _, t := range targets {
		conn, err := bulk.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		mustExec(b, conn, "SET session_replication_role = replica")
		mustExec(b, conn, conversationsSQL(t.ws, t.n, t.assignees, now))
		_ = conn.Close()
		var g group
		for _, q := range []string{leadsSQL(t.ws), messagesSQL(t.ws), assignedAuditSQL(t.ws)} {
			g.Go(func() error {
				conn, err := bulk.Conn(ctx)
				if err != nil {
					return err
				}
				defer conn.Close()
				if _, err := conn.ExecContext(ctx, "SET session_replication_role = replica"); err != nil {
					return err
				}
				_, err = conn.ExecContext(ctx, q)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	loaded := time.Since(start)
	g := group{limit: make(chan struct{}, 2)}
	for _, ix := range indexes {
		g.Go(func() error {
			conn, err := bulk.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, "SET maintenance_work_mem = '1GB'"); err != nil {
				return err
			}
			_, err = conn.ExecContext(ctx, ix.def)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	indexed := time.Since(start)
	mustExec(b, bulk, "VACUUM (ANALYZE) conversations, leads, messages, users, memberships, audit_log")
	var msgs int
	if err := bulk.QueryRowContext(ctx, "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.workspace_id = ?", ws.WorkspaceID).Scan(&msgs); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("seeded: rows loaded in %s, indexes built by %s, vacuumed by %s\n",
		loaded.Round(time.Second), indexed.Round(time.Second), time.Since(start).Round(time.Second))
	return fixture{workspace: ws.WorkspaceID, token: ws.OwnerToken, messages: msgs, seedTime: time.Since(start)}
}

type index struct{ name, def string }

// secondaryIndexes lists the indexes of the three big tables that no constraint owns.
func secondaryIndexes(b *testing.B, db *bun.DB) []index {
	rows, err := db.QueryContext(context.Background(), `
		SELECT i.relname, pg_get_indexdef(i.oid)
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		WHERE t.relname IN ('conversations', 'leads', 'messages', 'audit_log')
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
		ORDER BY i.relname`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []index
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.def); err != nil {
			b.Fatal(err)
		}
		out = append(out, ix)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	// The trigram (GIN) builds are the long ones: start them first.
	slices.SortStableFunc(out, func(a, b index) int {
		return boolInt(!strings.Contains(a.def, "gin")) - boolInt(!strings.Contains(b.def, "gin"))
	})
	return out
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

// conversationsSQL inserts n conversations: 40% open, 10% pending, 30% closed, 20% archived;
// unread mostly among open ones; 30% unassigned, the rest spread over the assignees (the first
// is the owner, "me"); created over two years, last activity up to three days later.
func conversationsSQL(ws uuid.UUID, n int, assignees []uuid.UUID, now time.Time) string {
	ids := make([]string, len(assignees))
	for i, a := range assignees {
		ids[i] = "'" + a.String() + "'"
	}
	return fmt.Sprintf(`
WITH src AS (
	SELECT g, gen_random_uuid() AS id, random() AS r_state, random() AS r_unread, random() AS r_assignee, random() AS r_sla,
	       '%[4]s'::timestamptz - random() * interval '730 days' AS created, random() * interval '3 days' AS gap
	FROM generate_series(1, %[2]d) AS g
), shaped AS (
	SELECT *,
	       CASE WHEN r_state < 0.4 THEN 'open' WHEN r_state < 0.5 THEN 'pending'
	            WHEN r_state < 0.8 THEN 'closed' ELSE 'archived' END AS state,
	       least('%[4]s'::timestamptz, created + gap) AS last
	FROM src
)
INSERT INTO conversations (id, workspace_id, ref, channel, state, unread, assignee_id, created_at,
	last_message_at, closed_at, page_url, referrer, user_agent, ip, workflow_id,
	summary_status, summary_text, summary_generation, summary_generated_at, first_assigned_at,
	sla_first_response_met_at, sla_first_response_breached_at, sla_resolution_met_at, sla_resolution_breached_at)
SELECT id, '%[1]s', 'r' || g,
	(ARRAY['chat','chat','chat','chat','chat','chat','web_voice','web_voice','web_voice','phone'])[1 + g %% 10],
	state,
	r_unread < CASE state WHEN 'open' THEN 0.5 WHEN 'pending' THEN 0.3 ELSE 0.03 END,
	CASE WHEN r_assignee < 0.3 THEN NULL
	     ELSE (ARRAY[%[3]s]::uuid[])[1 + floor((r_assignee - 0.3) / 0.7 * %[5]d)::int] END,
	created, last,
	CASE WHEN state IN ('closed', 'archived') THEN last END,
	'https://shop.example/products/' || (g %% 500), 'https://www.google.com/', 'Mozilla/5.0 (bench)',
	('203.0.' || (g %% 250) || '.' || (g %% 200))::inet,
	'conversation/' || id,
	CASE WHEN state IN ('closed', 'archived') THEN 'ready' ELSE 'none' END,
	CASE WHEN state IN ('closed', 'archived')
	     THEN 'The visitor asked about order ' || g || '. The assistant answered with the delivery times. A follow-up call is booked.'
	     ELSE '' END,
	CASE WHEN state IN ('closed', 'archived') THEN 1 ELSE 0 END,
	CASE WHEN state IN ('closed', 'archived') THEN last END,
	CASE WHEN r_assignee >= 0.3 THEN created + r_unread * interval '4 hours' END,
	CASE WHEN r_sla < 0.6 THEN created + r_sla * interval '1 hour' END,
	CASE WHEN r_sla >= 0.6 AND r_sla < 0.7 THEN created + interval '1 hour' END,
	CASE WHEN state IN ('closed', 'archived') AND r_sla < 0.8 THEN last END,
	CASE WHEN r_sla >= 0.8 THEN created + interval '1 day' END
FROM shaped`, ws, n, strings.Join(ids, ","), now.Format(time.RFC3339Nano), len(assignees))
}

// assignedAuditSQL gives every assigned conversation of ws the audit entry of its first
// assignment, at its first_assigned_at (up to four hours after it was created).
func assignedAuditSQL(ws uuid.UUID) string {
	return fmt.Sprintf(`
INSERT INTO audit_log (id, workspace_id, conversation_id, actor_name, action, before, after, at)
SELECT gen_random_uuid(), c.workspace_id, c.id, 'Bench', 'assignee_changed', '{"assignee": null}',
	jsonb_build_object('assignee', jsonb_build_object('user_id', c.assignee_id, 'name', 'Bench')),
	c.first_assigned_at
FROM conversations AS c
WHERE c.workspace_id = '%s' AND c.assignee_id IS NOT NULL`, ws)
}

// signedInPages signs the measured workspace's owner in to the pages and returns a GET of
// a page path with that session.
func signedInPages(b *testing.B, ctx context.Context, s *store.Store, accts *accounts.Accounts, fx fixture, base string) func(string) (int, []byte) {
	const password = "bench password 1234"
	var owner uuid.UUID
	if err := s.DB.QueryRowContext(ctx, "SELECT user_id FROM memberships WHERE workspace_id = ? AND role = 'owner'", fx.workspace).Scan(&owner); err != nil {
		b.Fatal(err)
	}
	var email string
	if err := s.DB.QueryRowContext(ctx, "SELECT email FROM users WHERE id = ?", owner).Scan(&email); err != nil {
		b.Fatal(err)
	}
	if err := accts.SetPassword(ctx, owner, password); err != nil {
		b.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, []byte) {
		res, err := client.Get(base + path)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			b.Fatal(err)
		}
		return res.StatusCode, body
	}
	_, page := get(web.SignInPath)
	m := regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`).FindSubmatch(page)
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	form := url.Values{"email": {email}, "password": {password}, web.CSRFFormField: {string(m[1])}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+web.SignInPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-in: %d", res.StatusCode)
	}
	return get
}

// leadsSQL gives every conversation of ws its lead: 50 first names x 100 last names, a
// unique email and phone; ten in a million are named Zephyrine Quiller (the rare search).
func leadsSQL(ws uuid.UUID) string {
	return fmt.Sprintf(`
INSERT INTO leads (id, workspace_id, conversation_id, name, email, phone, status, created_at, updated_at)
SELECT gen_random_uuid(), c.workspace_id, c.id,
	CASE WHEN x.g %% 100000 = 4242 THEN 'Zephyrine Quiller'
	     ELSE (ARRAY['Ana','Ben','Carla','David','Elena','Farid','Grace','Hiro','Isla','Jack','Kiri','Liam','Maya','Noah','Olivia','Priya','Quinn','Ravi','Sofia','Tane','Uma','Victor','Wiremu','Xin','Yara','Zoe','Aroha','Bruno','Chen','Dmitri','Eva','Finn','Gita','Hana','Ivan','Jade','Kai','Lena','Mateo','Nina','Oscar','Pita','Rosa','Sam','Tui','Uri','Vera','Will','Yusuf','Zara'])[1 + x.g %% 50]
	          || ' ' ||
	          (ARRAY['Smith','Ngata','Garcia','Wang','Kumar','Brown','Tane','Rossi','Silva','Kim','Patel','Jones','Muller','Lopez','Chen','Walker','Singh','Taylor','Martin','Lee','Wilson','Moore','Clark','Hall','Young','King','Wright','Scott','Green','Baker','Adams','Nelson','Hill','Ramirez','Campbell','Mitchell','Roberts','Carter','Phillips','Evans','Turner','Torres','Parker','Collins','Edwards','Stewart','Morris','Murphy','Cook','Rogers','Morgan','Peterson','Cooper','Reed','Bailey','Bell','Gomez','Kelly','Howard','Ward','Cox','Diaz','Richardson','Wood','Watson','Brooks','Bennett','Gray','James','Reyes','Cruz','Hughes','Price','Myers','Long','Foster','Sanders','Ross','Morales','Powell','Sullivan','Russell','Ortiz','Jenkins','Gutierrez','Perry','Butler','Barnes','Fisher','Henderson','Coleman','Simmons','Patterson','Jordan','Reynolds','Hamilton','Graham','Kim','Gonzales','Alexander'])[1 + (x.g / 50) %% 100]
	END,
	'visitor' || x.g || '@' || (ARRAY['gmail.com','outlook.com','yahoo.com','xtra.co.nz','icloud.com','proton.me','example.com','company.co.nz','shop.test','mail.test'])[1 + x.g %% 10],
	'+6421' || lpad((x.g %% 10000000)::text, 7, '0'),
	CASE WHEN x.r < 0.5 THEN 'new' WHEN x.r < 0.7 THEN 'contacted' WHEN x.r < 0.85 THEN 'qualified'
	     WHEN x.r < 0.95 THEN 'won' ELSE 'lost' END,
	c.created_at, c.created_at
FROM conversations AS c
CROSS JOIN LATERAL (SELECT substr(c.ref, 2)::int AS g, random() AS r) AS x
WHERE c.workspace_id = '%s'`, ws)
}

// messagesSQL gives every conversation of ws a visitor message and half of them an assistant
// reply. One in a thousand mentions a warranty (the medium search); "order" is in about a
// third of the conversations (the broad search).
func messagesSQL(ws uuid.UUID) string {
	return fmt.Sprintf(`
INSERT INTO messages (id, conversation_id, role, text, sent_at, created_at)
SELECT gen_random_uuid(), c.id, 'visitor',
	CASE WHEN x.g %% 1000 = 7 THEN 'Hello, I have a warranty question about item ' || x.g
	     ELSE (ARRAY[
	       'Hi, do you ship to ' || (ARRAY['New Zealand','Australia','Fiji','Samoa','Tonga','Canada','Japan','Chile'])[1 + x.g %% 8] || '?',
	       'What is the price of the ' || (ARRAY['starter','team','business','enterprise'])[1 + x.g %% 4] || ' plan?',
	       'Can I change the delivery address of my order ' || x.g || '?',
	       'Where is my order? It was due ' || (1 + x.g %% 28) || ' days ago.',
	       'Do you have this in size ' || (ARRAY['S','M','L','XL'])[1 + x.g %% 4] || '?',
	       'I would like to book a demo next week.',
	       'My order number is ' || x.g || ', can you help?',
	       'Is there a discount for students?',
	       'How long does delivery take to Auckland?',
	       'Can I speak to a person please?'
	     ])[1 + (x.g / 7) %% 10]
	END,
	c.created_at, c.created_at
FROM conversations AS c
CROSS JOIN LATERAL (SELECT substr(c.ref, 2)::int AS g) AS x
WHERE c.workspace_id = '%[1]s'
UNION ALL
SELECT gen_random_uuid(), c.id, 'assistant',
	'Thanks for reaching out! Someone from our team will get back to you within ' || (1 + x.g %% 24) || ' hours.',
	c.last_message_at, c.last_message_at
FROM conversations AS c
CROSS JOIN LATERAL (SELECT substr(c.ref, 2)::int AS g) AS x
WHERE c.workspace_id = '%[1]s' AND x.g %% 2 = 0`, ws)
}

func mustExec(b *testing.B, db bun.IConn, q string) {
	b.Helper()
	if _, err := db.ExecContext(context.Background(), q); err != nil {
		b.Fatalf("%v\n%s", err, q)
	}
}

// lastQuery remembers the last list query the store ran, for EXPLAIN.
type lastQuery struct {
	mu sync.Mutex
	q  string
}

func (h *lastQuery) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h *lastQuery) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.Contains(e.Query, "ORDER BY c.last_message_at DESC") || strings.Contains(e.Query, "ORDER BY l.created_at DESC") {
		h.mu.Lock()
		h.q = e.Query
		h.mu.Unlock()
	}
}

func (h *lastQuery) get() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.q
}

func explain(b *testing.B, db *bun.DB, name, q string) {
	rows, err := db.QueryContext(context.Background(), "EXPLAIN (ANALYZE, BUFFERS) "+q)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	fmt.Printf("\n--- %s\n%s\n", name, q)
	for rows.Next() {
		var line string
		_ = rows.Scan(&line)
		fmt.Println(line)
	}
}

func nextCursor(b *testing.B, body []byte) string {
	var page struct {
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil || page.NextCursor == nil {
		b.Fatalf("no next_cursor in %s", body)
	}
	return *page.NextCursor
}

func countItems(b *testing.B, body []byte) int {
	var page struct {
		Items []struct{} `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		b.Fatal(err)
	}
	return len(page.Items)
}

func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

// procStatus reads a kB field of /proc/self/status, in bytes.
func procStatus(b *testing.B, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	b.Fatalf("%s not in /proc/self/status", field)
	return 0
}

type countingWriter struct {
	n     int64
	lines int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	w.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func mb(v int64) float64 { return float64(v) / (1 << 20) }

func secs[T any](rs []T, f func(T) float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%.2f", f(r))
	}
	return strings.Join(parts, ", ")
}

// group runs functions concurrently, at most cap(limit) at a time when limit is set, and
// returns the first error.
type group struct {
	wg    sync.WaitGroup
	limit chan struct{}
	mu    sync.Mutex
	err   error
}

func (g *group) Go(f func() error) {
	if g.limit != nil {
		g.limit <- struct{}{}
	}
	g.wg.Go(func() {
		err := f()
		if g.limit != nil {
			<-g.limit
		}
		if err != nil {
			g.mu.Lock()
			if g.err == nil {
				g.err = err
			}
			g.mu.Unlock()
		}
	})
}

func (g *group) Wait() error {
	g.wg.Wait()
	return g.err
}
