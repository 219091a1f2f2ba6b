package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/bestai/inbox/internal/loadgen"
)

const (
	maxIdle       = 200_000          // conversations, the largest step -idle accepts
	maxIdleBudget = 40 * time.Minute // creation time over all steps (100,000 at 66/s takes 25), and the longest settle
	settleMin     = 20 * time.Second // every step waits at least this long before it samples
	settleProbe   = 5 * time.Second  // CPU window of each settle probe
	settleCPU     = 10.0             // percent of one core under which the process counts as idle
)

// idleSample is the process and its databases at one step of the idle phase.
type idleSample struct {
	target, conversations int           // asked for, and rows in conversations
	running               int           // running workflows in Temporal's visibility (-1: unknown)
	backlog               int           // rows in Temporal's tasks table: tasks not yet taken by the worker (-1: unknown)
	created               loadgen.Stats // the ingest of this step's first messages
	createCPU             float64       // inbox CPU over that ingest (percent of one core)
	settled               time.Duration // from the end of the ingest to the start of the window
	settledIdle           bool          // the CPU dropped under settleCPU (else o.idleSettleMax ran out)
	rss, hwm              int64         // VmRSS and VmHWM, bytes
	cpu                   float64       // over the idle window, percent of one core
	window                time.Duration
	heapInuse, goSys      int64 // runtime.MemStats HeapInuse and Sys, from pprof (-1: unknown)
	goroutines            int   // -1: unknown
	dbInbox, dbTemporal   int64 // pg_database_size, bytes
	dbVisibility          int64
	budgetHit             bool // creation stopped at -idle-budget before target
	rssHit                bool // creation stopped at -idle-max-rss before target
}

type idleResult struct {
	startup time.Duration
	steps   []idleSample // steps[0] is the baseline (no conversations of the phase)
	stopped string       // why steps were left out, if any
}

// runIdle starts one `inbox dev` on the Postgres store and grows the number of open, idle
// conversations (each a running workflow) step by step, sampling the process and the
// databases at the baseline and after each step once the workflows have settled.
func runIdle(ctx context.Context, o options, bin, openaiURL string) (res idleResult, err error) {
	in, err := newInbox(bin, "postgres", o.adminURL, openaiURL, true)
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := in.cleanup(); cerr != nil {
			err = fmt.Errorf("%w; cleanup: %w", err, cerr)
		}
	}()
	log.Printf("idle: starting inbox dev (postgres store, database %s)", in.dbName)
	if res.startup, err = in.start(ctx); err != nil {
		return res, err
	}
	ws := []creds{in.demo}
	for i := 1; i < keys; i++ {
		c, err := in.createWorkspace(ctx, fmt.Sprintf("idle%d", i))
		if err != nil {
			return res, err
		}
		ws = append(ws, c)
	}
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(o.adminURL)))
	defer db.Close()
	db.SetMaxOpenConns(1)
	c := loadgen.NewClient(in.base(), maxClients+16)
	runID := uuid.NewString()[:8]

	sample := func(s *idleSample) error {
		t0 := time.Now()
		s.settledIdle = false
		for time.Since(t0) < o.idleSettleMax && ctx.Err() == nil {
			c0, p0 := in.cpu(), time.Now()
			time.Sleep(settleProbe)
			cpu := 100 * float64(in.cpu()-c0) / float64(time.Since(p0))
			if time.Since(t0) >= settleMin && cpu < settleCPU {
				s.settledIdle = true
				break
			}
		}
		s.settled = time.Since(t0)
		log.Printf("idle: settled after %s (under %.0f%% CPU: %v); %s idle window", s.settled.Round(time.Second), settleCPU, s.settledIdle, o.idleWindow)
		c0, w0 := in.cpu(), time.Now()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.idleWindow):
		}
		s.window = time.Since(w0)
		s.cpu = 100 * float64(in.cpu()-c0) / float64(s.window)
		s.rss, s.hwm = procStatus(in.cmd.Process.Pid)
		s.heapInuse, s.goSys, s.goroutines = goMem(ctx, in.pprofAddr)
		for _, x := range []struct {
			name string
			v    *int64
		}{{in.dbName, &s.dbInbox}, {in.dbName + "_temporal", &s.dbTemporal}, {in.dbName + "_temporal_visibility", &s.dbVisibility}} {
			if err := db.QueryRowContext(ctx, `SELECT pg_database_size($1)`, x.name).Scan(x.v); err != nil {
				return fmt.Errorf("pg_database_size(%s): %w", x.name, err)
			}
		}
		s.conversations, s.running, s.backlog = counts(ctx, in)
		log.Printf("idle: %d conversations (%d running workflows, %d queued tasks): RSS %s (peak %s), heap in use %s, goroutines %d, idle CPU %.1f%%, databases %s + %s + %s",
			s.conversations, s.running, s.backlog, mib(s.rss), mib(s.hwm), mib(s.heapInuse), s.goroutines, s.cpu, mib(s.dbInbox), mib(s.dbTemporal), mib(s.dbVisibility))
		return nil
	}

	base := idleSample{}
	if err := sample(&base); err != nil {
		return res, err
	}
	res.steps = append(res.steps, base)
	var spent time.Duration // creating, over the steps so far: the budget counts only this
	made := 0
	for _, n := range o.idle {
		if n <= made {
			continue
		}
		if len(res.steps) > 1 {
			// The rate of the last step says whether this one fits what is left of the budget.
			prev := res.steps[len(res.steps)-1]
			if rate := prev.created.Rate(); rate > 0 {
				need := time.Duration(float64(n-made) / rate * float64(time.Second))
				if left := o.idleBudget - spent; need > left {
					log.Printf("idle: %d more conversations at %.0f/s would take %s, %s of the budget left: creating what fits", n-made, rate, need.Round(time.Second), left.Round(time.Second))
				}
			}
		}
		s := idleSample{target: n}
		log.Printf("idle: creating conversations %d to %d, %d clients over %d keys", made, n, o.idleClients, len(ws))
		// A guard for the machine: creation stops once the process's RSS passes -idle-max-rss.
		var overRSS atomic.Bool
		mctx, mstop := context.WithCancel(ctx)
		go func() {
			for mctx.Err() == nil {
				if rss, _ := procStatus(in.cmd.Process.Pid); rss > o.idleMaxRSS {
					overRSS.Store(true)
					return
				}
				select {
				case <-mctx.Done():
				case <-time.After(time.Second):
				}
			}
		}()
		c0, t0 := in.cpu(), time.Now()
		deadline := t0.Add(o.idleBudget - spent)
		s.created = createN(ctx, o.idleClients, n-made, deadline, overRSS.Load, func(ctx context.Context, k int) loadgen.Outcome {
			t := time.Now()
			code, _, err := c.Ingest(ctx, ws[k%len(ws)].IngestKey, fmt.Sprintf("idle-%s-%d-%d", runID, n, k), "Hello, where is my order?")
			return loadgen.Classify(code, err, time.Since(t), http.StatusCreated)
		})
		s.createCPU = 100 * float64(in.cpu()-c0) / float64(time.Since(t0))
		mstop()
		spent += time.Since(t0)
		made += len(s.created.OK)
		s.rssHit = overRSS.Load()
		s.budgetHit = made < n && !time.Now().Before(deadline)
		log.Printf("idle: %s  cpu %.0f%%", s.created, s.createCPU)
		if err := sample(&s); err != nil {
			return res, err
		}
		res.steps = append(res.steps, s)
		if s.rssHit {
			res.stopped = fmt.Sprintf("the process's RSS passed -idle-max-rss (%s) at %d of %d conversations", mib(o.idleMaxRSS), s.conversations, n)
			break
		}
		if s.budgetHit {
			res.stopped = fmt.Sprintf("the creation budget (%s) ran out at %d of %d conversations", o.idleBudget, s.conversations, n)
			break
		}
	}
	return res, nil
}

// createN runs step for k = 0..n-1 over clients closed-loop clients (each takes the next k
// when its answer is in) until every k is done, the deadline passes or stop says so, and gathers the
// outcomes like loadgen.Run. A step that asks for a backoff is followed by a 10 ms pause;
// a failed k is not retried.
func createN(ctx context.Context, clients, n int, deadline time.Time, stop func() bool, step func(ctx context.Context, k int) loadgen.Outcome) loadgen.Stats {
	var next atomic.Int64
	var mu sync.Mutex
	s := loadgen.Stats{Clients: clients, Errors: map[string]int{}}
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok []time.Duration
			errs := map[string]int{}
			for time.Now().Before(deadline) && ctx.Err() == nil && !stop() {
				k := int(next.Add(1)) - 1
				if k >= n {
					break
				}
				o := step(ctx, k)
				if o.OK {
					ok = append(ok, o.Took)
				} else {
					errs[o.Err]++
				}
				if o.Backoff {
					time.Sleep(10 * time.Millisecond)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			s.OK = append(s.OK, ok...)
			for k, v := range errs {
				s.Errors[k] += v
			}
		}()
	}
	wg.Wait()
	s.Elapsed = time.Since(start)
	slices.Sort(s.OK)
	return s
}

// procStatus reads VmRSS and VmHWM (bytes) of pid from /proc (0 elsewhere).
func procStatus(pid int) (rss, hwm int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		kb, _ := strconv.ParseInt(fs[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// goMem reads HeapInuse and Sys (runtime.MemStats, the end of the debug=1 heap profile) and
// the number of goroutines from the process's pprof listener; -1 for what it cannot get.
func goMem(ctx context.Context, addr string) (heapInuse, sys int64, goroutines int) {
	heapInuse, sys, goroutines = -1, -1, -1
	get := func(path string) string {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return ""
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return ""
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	for line := range strings.SplitSeq(get("/debug/pprof/heap?debug=1"), "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapInuse = "); ok {
			heapInuse, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
		if v, ok := strings.CutPrefix(line, "# Sys = "); ok {
			sys, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	first, _, _ := strings.Cut(get("/debug/pprof/goroutine?debug=1"), "\n")
	if v, ok := strings.CutPrefix(first, "goroutine profile: total "); ok {
		goroutines, _ = strconv.Atoi(strings.TrimSpace(v))
	}
	return heapInuse, sys, goroutines
}

// counts is the number of conversations in the inbox database, of running workflows in
// Temporal's visibility database and of queued tasks (matching's tasks table) in Temporal's
// database (-1 for what it cannot read).
func counts(ctx context.Context, in *inbox) (conversations, running, backlog int) {
	conversations, running, backlog = -1, -1, -1
	one := func(dsn, q string, v *int) {
		db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
		defer db.Close()
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := db.QueryRowContext(ctx, q).Scan(v); err != nil {
			log.Printf("idle: %s: %v", q, err)
		}
	}
	one(in.dbURL, `SELECT count(*) FROM conversations`, &conversations)
	vis := strings.Replace(in.dbURL, "/"+in.dbName, "/"+in.dbName+"_temporal_visibility", 1)
	one(vis, `SELECT count(*) FROM executions_visibility WHERE status = 1`, &running)
	tmp := strings.Replace(in.dbURL, "/"+in.dbName, "/"+in.dbName+"_temporal", 1)
	one(tmp, `SELECT count(*) FROM tasks`, &backlog)
	return conversations, running, backlog
}

func mib(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}
