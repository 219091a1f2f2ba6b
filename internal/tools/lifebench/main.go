// Command lifebench measures the lifecycle side of the inbox on real `inbox dev` processes,
// once per Temporal store (SQLite, Postgres): open<->pending transitions through the API at
// several client counts next to the Postgres floor (the same UPDATE plus audit INSERT as a
// bare transaction, same concurrency, same run), ingest of first and follow-up messages
// over several ingest keys, and close-to-summary-ready for many conversations closed at
// once against a local chat-completions endpoint. It prints a markdown report (and writes
// it to -out) with the date, nproc, the load average before and after, and the command.
//
// Each store gets its own `inbox dev` on free loopback ports, its own data directory and
// database (dropped at the end with Temporal's two). Every phase is closed-loop and bounded
// in clients and time; the whole run stops by itself. `make bench-lifecycle` runs it:
//
//	go run ./internal/tools/lifebench -out bench/lifecycle.md
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/bestai/inbox/internal/loadgen"
)

const (
	maxClients   = 256
	maxPhase     = 2 * time.Minute
	maxSummaries = 2000
	keys         = 4 // ingest keys (workspaces): the demo one and three more
)

type options struct {
	bin, adminURL, out, profileDir string
	stores                         []string
	clients                        []int
	d, floorD, ingestD             time.Duration
	ingestClients, summaries       int
	bulk                           int // conversations of the bulk close (0: skip it)
	summaryDelays                  []time.Duration
	idle                           []int // steps of the idle phase, ascending (none: skip it)
	idleClients                    int
	idleBudget, idleWindow         time.Duration
	idleSettleMax                  time.Duration
	idleMaxRSS                     int64
}

func main() {
	var o options
	stores := flag.String("stores", "sqlite,postgres", "Temporal stores to measure, in order; store@N sets N history shards (postgres@16)")
	clients := flag.String("clients", "1,8,32", "client counts for the transitions and the floor")
	delays := flag.String("summary-delays", "0s,500ms", "answer delays of the local chat-completions endpoint, one summary round each")
	flag.StringVar(&o.bin, "bin", "", "inbox binary (default: go build ./cmd/inbox into a temp dir)")
	flag.StringVar(&o.adminURL, "db", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "Postgres server (admin database) on which to create the benchmark's databases")
	flag.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	flag.StringVar(&o.profileDir, "profile-dir", "", "take a CPU profile of inbox during the largest transition run of each store into this directory (INBOX_PPROF_ADDR)")
	flag.DurationVar(&o.d, "d", 10*time.Second, "duration of each transition run")
	flag.DurationVar(&o.floorD, "floor-d", 5*time.Second, "duration of each Postgres floor run")
	flag.DurationVar(&o.ingestD, "ingest-d", 10*time.Second, "duration of each ingest run")
	flag.IntVar(&o.ingestClients, "ingest-clients", 32, "ingest clients")
	flag.IntVar(&o.summaries, "summaries", 500, "conversations closed at once per summary round (0: skip)")
	flag.IntVar(&o.bulk, "bulk", 0, "conversations closed by one bulk action, after the other phases (0: skip)")
	idle := flag.String("idle", "", "idle phase: open conversations to grow to, in steps, e.g. 10000,100000 (empty: skip); on its own inbox dev with the postgres store")
	flag.IntVar(&o.idleClients, "idle-clients", 32, "ingest clients creating the idle phase's conversations")
	flag.DurationVar(&o.idleBudget, "idle-budget", 12*time.Minute, "time for creating the idle phase's conversations, all steps together; the step that runs out stops there and is measured")
	flag.DurationVar(&o.idleSettleMax, "idle-settle-max", 10*time.Minute, "longest wait, after each step's creation, for the process's CPU to drop before the idle window")
	flag.DurationVar(&o.idleWindow, "idle-window", 30*time.Second, "idle window over which each step's CPU is measured")
	maxRSS := flag.Int("idle-max-rss", 8192, "MiB: the idle phase stops creating conversations once the process's RSS passes this (a guard for the machine)")
	flag.Parse()
	o.idleMaxRSS = int64(*maxRSS) << 20
	var err error
	if *stores != "" {
		o.stores = strings.Split(*stores, ",")
	}
	if slices.ContainsFunc(o.stores, func(s string) bool {
		name, shards, withShards := strings.Cut(s, "@")
		n, e := strconv.Atoi(shards)
		return (name != "sqlite" && name != "postgres") || (withShards && (e != nil || n < 1 || n > 1024))
	}) {
		err = errors.New("-stores: sqlite and/or postgres, each optionally @<history shards 1..1024>")
	}
	for _, f := range strings.Split(*clients, ",") {
		n, e := strconv.Atoi(strings.TrimSpace(f))
		if e != nil || n < 1 || n > maxClients {
			err = errors.Join(err, fmt.Errorf("-clients: %q is not 1..%d", f, maxClients))
		}
		o.clients = append(o.clients, n)
	}
	for _, f := range strings.Split(*delays, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d, e := time.ParseDuration(f)
		if e != nil || d < 0 || d > 10*time.Second {
			err = errors.Join(err, fmt.Errorf("-summary-delays: %q is not 0..10s", f))
		}
		o.summaryDelays = append(o.summaryDelays, d)
	}
	for _, d := range []time.Duration{o.d, o.floorD, o.ingestD} {
		if d <= 0 || d > maxPhase {
			err = errors.Join(err, fmt.Errorf("durations must be in (0, %s]", maxPhase))
		}
	}
	if o.ingestClients < 1 || o.ingestClients > maxClients || o.summaries < 0 || o.summaries > maxSummaries || o.bulk < 0 || o.bulk > maxBulk {
		err = errors.Join(err, fmt.Errorf("-ingest-clients 1..%d, -summaries 0..%d, -bulk 0..%d", maxClients, maxSummaries, maxBulk))
	}
	for f := range strings.SplitSeq(*idle, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, e := strconv.Atoi(f)
		if e != nil || n < 1 || n > maxIdle || (len(o.idle) > 0 && n <= o.idle[len(o.idle)-1]) {
			err = errors.Join(err, fmt.Errorf("-idle: %q is not 1..%d, ascending", f, maxIdle))
		}
		o.idle = append(o.idle, n)
	}
	if o.idleClients < 1 || o.idleClients > maxClients || o.idleBudget <= 0 || o.idleBudget > maxIdleBudget || o.idleWindow < 5*time.Second || o.idleWindow > 5*time.Minute || o.idleSettleMax < settleMin || o.idleSettleMax > maxIdleBudget {
		err = errors.Join(err, fmt.Errorf("-idle-clients 1..%d, -idle-budget (0, %s], -idle-window 5s..5m, -idle-settle-max %s..%s", maxClients, maxIdleBudget, settleMin, maxIdleBudget))
	}
	if *maxRSS < 256 {
		err = errors.Join(err, errors.New("-idle-max-rss: at least 256 (MiB)"))
	}
	if len(o.stores) == 0 && len(o.idle) == 0 {
		err = errors.Join(err, errors.New("nothing to measure: -stores and -idle are both empty"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		flag.Usage()
		os.Exit(2)
	}
	log.SetFlags(log.Ltime)
	log.SetPrefix("lifebench: ")
	// Bounded as a whole, and a ^C still stops the processes and drops the databases.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 45*time.Minute+o.idleBudget+time.Duration(len(o.idle)+1)*o.idleSettleMax)
	defer cancel()
	if err := run(ctx, o); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

// phase is one timed run and the inbox process's CPU over it (percent of one core), and
// lifebench's own: the load's (for the ceiling, the Updates' client and worker).
type phase struct {
	stats        loadgen.Stats
	cpu, selfCPU float64
}

type summaryRound struct {
	delay                time.Duration
	n, ready, failed     int
	accepted             int             // closes answered 202: accepted, applied after the answer
	closes, closeToReady []time.Duration // sorted
	closeErrors          map[string]int  // by HTTP status (with its error code) or "transport"
	waitedTill           time.Duration
	pollErrors           int // failed polls of the database, retried
}

type storeResult struct {
	store                     string
	startup                   time.Duration
	transitions, floor        []phase
	firstChanges              []phase // per client count: each conversation's first change, all at once
	ceiling                   []phase // bare no-op Updates, per client count (see ceiling)
	ingestFirst, ingestFollow phase
	summaries                 []summaryRound
	bulk                      *bulkRun
	profile                   string
}

func run(ctx context.Context, o options) error {
	began := time.Now()
	load0 := loadAvg()
	bin := o.bin
	if bin == "" {
		dir, err := os.MkdirTemp("", "inbox-lifebench-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "inbox")
		log.Print("go build ./cmd/inbox")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/inbox")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/inbox: %w", err)
		}
	}
	// The local chat-completions endpoint, its delay switched per summary round.
	var delay atomic.Int64
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fake := loadgen.FakeOpenAI(0)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := time.Duration(delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		fake.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	openaiURL := "http://" + l.Addr().String() + "/v1"

	var results []storeResult
	for _, store := range o.stores {
		r, err := runStore(ctx, o, bin, store, openaiURL, &delay)
		if err != nil {
			return fmt.Errorf("%s: %w", store, err)
		}
		results = append(results, r)
	}
	var idle *idleResult
	if len(o.idle) > 0 {
		r, err := runIdle(ctx, o, bin, openaiURL)
		if err != nil {
			return fmt.Errorf("idle: %w", err)
		}
		idle = &r
	}
	report := render(o, results, idle, began, load0, loadAvg(), pgVersion(ctx, o.adminURL))
	fmt.Print(report)
	if o.out != "" {
		return os.WriteFile(o.out, []byte(report), 0o644)
	}
	return nil
}

func runStore(ctx context.Context, o options, bin, store, openaiURL string, delay *atomic.Int64) (res storeResult, err error) {
	res.store = store
	in, err := newInbox(bin, store, o.adminURL, openaiURL, o.profileDir != "")
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := in.cleanup(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	log.Printf("%s: starting inbox dev (database %s)", store, in.dbName)
	if res.startup, err = in.start(ctx); err != nil {
		return res, err
	}
	ws := []creds{in.demo}
	for i := 1; i < keys; i++ {
		c, err := in.createWorkspace(ctx, fmt.Sprintf("bench%d", i))
		if err != nil {
			return res, err
		}
		ws = append(ws, c)
	}
	c := loadgen.NewClient(in.base(), maxClients+16)
	runID := uuid.NewString()[:8]
	measure := func(f func() loadgen.Stats) phase {
		c0, self0, t0 := in.cpu(), procCPU(os.Getpid()), time.Now()
		s := f()
		took := float64(time.Since(t0))
		return phase{stats: s, cpu: 100 * float64(in.cpu()-c0) / took, selfCPU: 100 * float64(procCPU(os.Getpid())-self0) / took}
	}
	settle := func() { time.Sleep(2 * time.Second) } // let the workflows' own tasks drain

	// Transitions, each run on fresh conversations (one per client, all open).
	var floorIDs []string
	for _, n := range o.clients {
		ids, err := ingestMany(ctx, c, ws[:1], fmt.Sprintf("tr-%s-%d", runID, n), n)
		if err != nil {
			return res, err
		}
		// Their first changes, all at once, measured apart: each starts its conversation's
		// workflow (lazy start). The transitions then measure warm workflows, as the ceiling
		// does.
		log.Printf("%s: first changes, %d conversations at once", store, n)
		first := measure(func() loadgen.Stats {
			return loadgen.FirstChanges(ctx, c, in.demo.OwnerToken, in.demo.WorkspaceID, ids)
		})
		log.Printf("%s: first changes %s", store, first.stats)
		res.firstChanges = append(res.firstChanges, first)
		settle()
		var prof chan error
		if o.profileDir != "" && n == slices.Max(o.clients) {
			res.profile = filepath.Join(o.profileDir, fmt.Sprintf("%s-transitions-%d.pprof", store, n))
			prof = make(chan error, 1)
			go func() {
				prof <- fetchProfile(ctx, in.pprofAddr, max(1, int((o.d-2*time.Second)/time.Second)), res.profile)
			}()
		}
		log.Printf("%s: transitions, %d clients, %s", store, n, o.d)
		p := measure(func() loadgen.Stats {
			return loadgen.Transitions(ctx, c, in.demo.OwnerToken, in.demo.WorkspaceID, ids, o.d)
		})
		log.Printf("%s: %s  cpu %.0f%%", store, p.stats, p.cpu)
		res.transitions = append(res.transitions, p)
		if prof != nil {
			if err := <-prof; err != nil {
				return res, fmt.Errorf("profile: %w", err)
			}
		}
		if len(ids) > len(floorIDs) {
			floorIDs = ids
		}
	}
	// The floor, in the same run: the same conversation rows, straight against Postgres.
	for _, n := range o.clients {
		log.Printf("%s: Postgres floor, %d clients, %s", store, n, o.floorD)
		s, err := floor(ctx, in.dbURL, in.demo.WorkspaceID, floorIDs[:n], o.floorD)
		if err != nil {
			return res, err
		}
		log.Printf("%s: floor %s", store, s)
		res.floor = append(res.floor, phase{stats: s})
	}
	// The ceiling, in the same run: bare no-op Updates on this process's Temporal server.
	log.Printf("%s: ceiling (no-op Updates), clients %v, %s each", store, o.clients, o.floorD)
	if res.ceiling, err = ceiling(ctx, in.tmpAddr, o.clients, o.floorD, measure); err != nil {
		return res, err
	}
	for _, p := range res.ceiling {
		log.Printf("%s: ceiling %s  inbox cpu %.0f%%", store, p.stats, p.cpu)
	}

	// Ingest: first messages (new conversations; workflows start lazily) over the keys, then follow-ups to the
	// conversations those created.
	type conv struct{ key, ref string }
	made := make([][]conv, o.ingestClients)
	settle()
	log.Printf("%s: ingest first messages, %d clients, %d keys, %s", store, o.ingestClients, keys, o.ingestD)
	res.ingestFirst = measure(func() loadgen.Stats {
		return loadgen.Run(ctx, o.ingestClients, o.ingestD, func(ctx context.Context, i, iter int) loadgen.Outcome {
			key := ws[i%len(ws)].IngestKey
			ref := fmt.Sprintf("first-%s-%d-%d", runID, i, iter)
			t0 := time.Now()
			code, _, err := c.Ingest(ctx, key, ref, "Hello, where is my order?")
			out := loadgen.Classify(code, err, time.Since(t0), http.StatusCreated)
			if out.OK && len(made[i]) < 64 {
				made[i] = append(made[i], conv{key, ref})
			}
			return out
		})
	})
	log.Printf("%s: %s  cpu %.0f%%", store, res.ingestFirst.stats, res.ingestFirst.cpu)
	settle()
	log.Printf("%s: ingest follow-up messages, %d clients, %s", store, o.ingestClients, o.ingestD)
	res.ingestFollow = measure(func() loadgen.Stats {
		return loadgen.Run(ctx, o.ingestClients, o.ingestD, func(ctx context.Context, i, iter int) loadgen.Outcome {
			if len(made[i]) == 0 {
				time.Sleep(10 * time.Millisecond)
				return loadgen.Outcome{Err: "no conversation"}
			}
			cv := made[i][iter%len(made[i])]
			t0 := time.Now()
			code, _, err := c.Ingest(ctx, cv.key, cv.ref, fmt.Sprintf("And another thing (%d).", iter))
			return loadgen.Classify(code, err, time.Since(t0), http.StatusOK)
		})
	})
	log.Printf("%s: %s  cpu %.0f%%", store, res.ingestFollow.stats, res.ingestFollow.cpu)

	for _, d := range o.summaryDelays {
		if o.summaries == 0 {
			break
		}
		delay.Store(int64(d))
		settle()
		log.Printf("%s: %d conversations closed at once, model answers after %s", store, o.summaries, d)
		r, err := summaries(ctx, c, in, ws[:1], fmt.Sprintf("sum-%s-%d", runID, d.Milliseconds()), o.summaries)
		if err != nil {
			return res, err
		}
		r.delay = d
		log.Printf("%s: ready %d/%d failed %d, close-to-ready p50 %s p99 %s", store, r.ready, r.n, r.failed,
			loadgen.Quantile(r.closeToReady, 0.5), loadgen.Quantile(r.closeToReady, 0.99))
		res.summaries = append(res.summaries, r)
	}
	if o.bulk > 0 {
		delay.Store(0)
		settle()
		log.Printf("%s: one bulk close of %d conversations", store, o.bulk)
		r, err := bulkClose(ctx, c, in, "bulk-"+runID, o.bulk)
		if err != nil {
			return res, err
		}
		log.Printf("%s: %s", store, r)
		res.bulk = &r
	}
	return res, nil
}

// ingestMany creates n conversations (not timed), 16 at a time, over the keys of ws.
func ingestMany(ctx context.Context, c *loadgen.Client, ws []creds, prefix string, n int) ([]string, error) {
	ids := make([]string, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ids[i], errs[i] = c.MustIngest(ctx, ws[i%len(ws)].IngestKey, fmt.Sprintf("%s-%d", prefix, i), "Where is my order? It was due on Monday.")
		}()
	}
	wg.Wait()
	return ids, errors.Join(errs...)
}

// floor runs the write a transition makes (the conversation's UPDATE and its audit INSERT,
// one transaction) straight against Postgres, one client per conversation, for d; the
// probe rows are deleted afterwards.
func floor(ctx context.Context, dbURL, workspace string, ids []string, d time.Duration) (loadgen.Stats, error) {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dbURL)))
	defer db.Close()
	db.SetMaxOpenConns(len(ids))
	db.SetMaxIdleConns(len(ids))
	tag := uuid.NewString()[:8]
	s := loadgen.Run(ctx, len(ids), d, func(ctx context.Context, i, iter int) loadgen.Outcome {
		from, to := "open", "pending"
		if iter%2 == 1 {
			from, to = to, from
		}
		t0 := time.Now()
		err := func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback() }()
			if _, err := tx.ExecContext(ctx, `UPDATE conversations SET state = $1, closed_at = NULL WHERE id = $2 AND workspace_id = $3`,
				to, ids[i], workspace); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (id, workspace_id, conversation_id, action, before, after, request_id, at)
				VALUES ($1, $2, $3, 'bench_floor', $4, $5, $6, now())`,
				uuid.New(), workspace, ids[i], `{"state":"`+from+`","closed_at":null}`, `{"state":"`+to+`","closed_at":null}`,
				fmt.Sprintf("floor/%s/%d/%d", tag, i, iter)); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			if ctx.Err() != nil {
				return loadgen.Outcome{Err: "canceled"}
			}
			return loadgen.Outcome{Err: "sql", Backoff: true}
		}
		return loadgen.Outcome{OK: true, Took: time.Since(t0)}
	})
	dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := db.ExecContext(dctx, `DELETE FROM audit_log WHERE action = 'bench_floor'`)
	return s, err
}

// summaries creates n conversations, closes them all at once (one request each, all in
// flight together) and watches the database every 5 ms until each summary is ready or
// failed, for at most 3 minutes. Close-to-ready runs from sending the close request to the
// first poll that sees "ready".
func summaries(ctx context.Context, c *loadgen.Client, in *inbox, ws []creds, prefix string, n int) (summaryRound, error) {
	r := summaryRound{n: n, closeErrors: map[string]int{}}
	ids, err := ingestMany(ctx, c, ws, prefix, n)
	if err != nil {
		return r, err
	}
	time.Sleep(2 * time.Second)
	// One connection, taken before the closes: a server near max_connections must not stop
	// the watch (a failed poll is retried until the bound).
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(in.dbURL)))
	defer db.Close()
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		return r, err
	}
	sent := make([]time.Time, n)
	closes := make([]time.Duration, n)
	closeErr := make([]string, n)
	late := make([]bool, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sent[i] = time.Now()
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/api/v1/workspaces/%s/conversations/%s/state", in.demo.WorkspaceID, ids[i])
			code, body, _, err := c.Do(ctx, http.MethodPost, path, "Authorization", "Bearer "+in.demo.OwnerToken, map[string]any{"state": "closed"})
			closes[i] = time.Since(sent[i])
			switch {
			case err != nil:
				closeErr[i] = "transport"
			case code == http.StatusAccepted:
				late[i] = true
			case code != http.StatusOK:
				var e struct {
					Error struct {
						Code string `json:"code"`
					} `json:"error"`
				}
				_ = json.Unmarshal(body, &e)
				closeErr[i] = strings.TrimSpace(fmt.Sprintf("%d %s", code, e.Error.Code))
			}
		}()
	}
	index := make(map[string]int, n)
	for i, id := range ids {
		index[id] = i
	}
	done := make(map[string]bool, n)
	for len(done) < n && time.Since(start) < 3*time.Minute && ctx.Err() == nil {
		rows, err := db.QueryContext(ctx, `SELECT id::text, summary_status FROM conversations
			WHERE workspace_id = $1 AND id = ANY($2::uuid[]) AND summary_status IN ('ready', 'failed')`,
			in.demo.WorkspaceID, "{"+strings.Join(ids, ",")+"}")
		if err != nil {
			if ctx.Err() != nil {
				return r, err
			}
			r.pollErrors++
			time.Sleep(50 * time.Millisecond)
			continue
		}
		now := time.Now()
		for rows.Next() {
			var id, st string
			if err := rows.Scan(&id, &st); err != nil {
				rows.Close()
				return r, err
			}
			if done[id] {
				continue
			}
			done[id] = true
			if st == "failed" {
				r.failed++
				continue
			}
			r.ready++
			if i := index[id]; !sent[i].IsZero() {
				r.closeToReady = append(r.closeToReady, now.Sub(sent[i]))
			}
		}
		rows.Close()
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	r.waitedTill = time.Since(start)
	for i := range n {
		switch {
		case closeErr[i] != "":
			r.closeErrors[closeErr[i]]++
		case late[i]:
			r.accepted++
		default:
			r.closes = append(r.closes, closes[i])
		}
	}
	slices.Sort(r.closes)
	slices.Sort(r.closeToReady)
	return r, nil
}

func fetchProfile(ctx context.Context, addr string, seconds int, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds), nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", res.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

func pgVersion(ctx context.Context, adminURL string) string {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(adminURL)))
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, `SHOW server_version`).Scan(&v); err != nil {
		return "?"
	}
	return v
}
