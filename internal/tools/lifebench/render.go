package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/bestai/inbox/internal/loadgen"
)

func ms(d time.Duration) string {
	if d == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func errs(s loadgen.Stats) string {
	if s.ErrorCount() == 0 {
		return "0"
	}
	return fmt.Sprintf("%d %v", s.ErrorCount(), s.Errors)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

// render is the markdown report: conditions, one table per measurement, and the targets of
// issue 10 with met/not met computed from the figures.
func render(o options, results []storeResult, idle *idleResult, began time.Time, load0, load1, pg string) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	host, _ := os.Hostname()
	w("Run of %s UTC on %s: nproc %d, %s, PostgreSQL %s, client and server on the same host.\n",
		began.UTC().Format("2006-01-02 15:04"), host, runtime.NumCPU(), runtime.Version(), pg)
	w("Load average (1, 5, 15 min) before: %s; after: %s. The run took %s.\n\n", load0, load1, time.Since(began).Round(time.Second))
	args := []string{"go run ./internal/tools/lifebench"}
	for _, a := range os.Args[1:] {
		if a == "" {
			a = "''" // as typed: -stores ''
		}
		args = append(args, a)
	}
	w("```sh\n%s\n```\n\n", strings.Join(args, " "))
	w("`inbox dev` runs with INBOX_INGEST_RATE, INBOX_INGEST_BURST, INBOX_INGEST_CONVERSATION_RATE and\n")
	w("INBOX_INGEST_CONVERSATION_BURST at 1000000 so the ingest limits never answer 429; the\n")
	w("Temporal history shards are the store's default (SQLite 1, Postgres 4). CPU is the inbox\n")
	w("process's user+system time over the run (100%% = one core of %d).\n\n", runtime.NumCPU())
	if len(results) > 0 {
		renderStores(&b, o, results)
	}
	if idle != nil {
		renderIdle(&b, o, *idle)
	}
	return b.String()
}

// ratio is a/b as "1.5x", or "n/a" when b is 0.
func ratio(a, b float64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// cpuPer is the inbox process's CPU per change of a run: its share of one core over the
// run, divided by the changes per second.
func cpuPer(p phase) string {
	if p.stats.Rate() <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f ms", cpuMs(p))
}

// perOp turns a run's share of one core (percent) into milliseconds per operation (0 for a
// run that did nothing).
func perOp(p phase, percent float64) float64 {
	if p.stats.Rate() <= 0 {
		return 0
	}
	return 10 * percent / p.stats.Rate()
}

// cpuMs is cpuPer in milliseconds.
func cpuMs(p phase) float64 { return perOp(p, p.cpu) }

// bareMs is the CPU per Update of a ceiling run, in milliseconds: the server's (inbox) and
// its client's and worker's (lifebench).
func bareMs(c phase) float64 { return perOp(c, c.cpu+c.selfCPU) }

// bareCPU is bareMs with its two parts.
func bareCPU(c phase) string {
	if c.stats.Rate() <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f ms (%.1f + %.1f)", bareMs(c), cpuMs(c), perOp(c, c.selfCPU))
}

func renderStores(b *strings.Builder, o options, results []storeResult) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	w("### Transitions (open<->pending, POST .../state, one conversation per client, %s each) and the Postgres floor (%s each)\n\n", o.d, o.floorD)
	w("| store | clients | transitions/s | p50 | p99 | max | errors | inbox CPU | floor tx/s | floor p50 | floor p99 | floor / API |\n")
	w("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		for i, p := range r.transitions {
			f := r.floor[i].stats
			ratio := "n/a"
			if p.stats.Rate() > 0 {
				ratio = fmt.Sprintf("%.1fx", f.Rate()/p.stats.Rate())
			}
			w("| %s | %d | %.0f | %s | %s | %s | %s | %.0f%% | %.0f | %s | %s | %s |\n", r.store, p.stats.Clients, p.stats.Rate(),
				ms(p.stats.Quantile(0.5)), ms(p.stats.Quantile(0.99)), ms(p.stats.Quantile(1)), errs(p.stats), p.cpu,
				f.Rate(), ms(f.Quantile(0.5)), ms(f.Quantile(0.99)), ratio)
		}
	}
	w("\nThe floor is `BEGIN; UPDATE conversations SET state, closed_at WHERE id AND workspace_id; INSERT INTO audit_log (...); COMMIT`\n")
	w("from a Go loop (database/sql, pgdriver, one connection per client) on the same conversations.\n\n")

	w("### First changes (lazy workflow start: each conversation's first change, all of them at once)\n\n")
	w("| store | conversations | p50 | p99 | max | errors | took |\n| --- | ---: | ---: | ---: | ---: | --- | ---: |\n")
	for _, r := range results {
		for _, p := range r.firstChanges {
			w("| %s | %d | %s | %s | %s | %s | %s |\n", r.store, p.stats.Clients, ms(p.stats.Quantile(0.5)),
				ms(p.stats.Quantile(0.99)), ms(p.stats.Quantile(1)), errs(p.stats), ms(p.stats.Elapsed))
		}
	}
	w("\nBefore each transition run, every one of its conversations (new, never changed: no workflow\n")
	w("yet) is sent its first change, all at once, and moved back to open (not timed). That first\n")
	w("change starts the conversation's workflow with Update-with-Start; the transitions above then\n")
	w("measure warm workflows, as the ceiling below does.\n\n")

	w("### The ceiling: a bare no-op Update on the same embedded server and store (%s each)\n\n", o.floorD)
	w("| store | clients | Updates/s | p50 | p99 | max | errors | inbox CPU (server only) | transitions / ceiling | transition p99 / ceiling p99 | inbox CPU per transition | bare Update CPU: server + client and worker | CPU per transition / per bare Update |\n")
	w("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		for i, c := range r.ceiling {
			p := r.transitions[i]
			w("| %s | %d | %.0f | %s | %s | %s | %s | %.0f%% | %s | %s | %s | %s | %s |\n", r.store, c.stats.Clients, c.stats.Rate(),
				ms(c.stats.Quantile(0.5)), ms(c.stats.Quantile(0.99)), ms(c.stats.Quantile(1)), errs(c.stats), c.cpu,
				ratio(p.stats.Rate(), c.stats.Rate()), ratio(float64(p.stats.Quantile(0.99)), float64(c.stats.Quantile(0.99))), cpuPer(p),
				bareCPU(c), ratio(cpuMs(p), bareMs(c)))
		}
	}
	w("\nEach client owns one workflow (a type of lifebench's own, on its own task queue, run by a worker in\n")
	w("lifebench) and sends the next Update once the last has completed. The Update's handler returns at once:\n")
	w("the workflow task that accepts it completes it, with no activity or other command. It is what one\n")
	w("change through a workflow costs at the least on this machine; each transition figure is a ratio to it.\n")
	w("A bare Update's CPU is what it costs every party, as the inbox process pays them all for a transition:\n")
	w("the embedded server's (the inbox process over the ceiling run) and its client's and worker's\n")
	w("(lifebench's own process over the same run), per Update.\n\n")

	w("### Ingest (%d clients over %d ingest keys, one workspace each, %s each)\n\n", o.ingestClients, keys, o.ingestD)
	w("| store | messages | messages/s | p50 | p99 | max | errors | inbox CPU |\n| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |\n")
	for _, r := range results {
		for _, x := range []struct {
			name string
			p    phase
		}{{"first (a new conversation; no workflow until its first change)", r.ingestFirst}, {"follow-up (to those conversations)", r.ingestFollow}} {
			w("| %s | %s | %.0f | %s | %s | %s | %s | %.0f%% |\n", r.store, x.name, x.p.stats.Rate(), ms(x.p.stats.Quantile(0.5)),
				ms(x.p.stats.Quantile(0.99)), ms(x.p.stats.Quantile(1)), errs(x.p.stats), x.p.cpu)
		}
	}
	w("\n")

	if o.bulk > 0 {
		w("### Bulk close (%d new conversations closed by one bulk action, by ids; progress every half second)\n\n", o.bulk)
		w("| store | took | conversations/s | 202 in | applied | refused | skipped | failed | done after 10 s | 30 s | 60 s | summaries ended (failed) | all ended after |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, r := range results {
			if b := r.bulk; b != nil {
				after := "not within 10 min"
				if b.summariesAfter > 0 {
					after = b.summariesAfter.Round(time.Second).String()
				}
				w("| %s | %s | %.0f | %s | %d | %d | %d | %d | %d | %d | %d | %d (%d) | %s |\n", r.store, b.took.Round(100*time.Millisecond), b.rate(),
					ms(b.accepted), b.applied, b.refused, b.skipped, b.failed, b.doneAt(10*time.Second), b.doneAt(30*time.Second), b.doneAt(time.Minute),
					b.summariesEnded, b.summariesFailed, after)
			}
		}
		w("\n")
	}
	if o.summaries > 0 && len(o.summaryDelays) > 0 {
		w("### Summaries (%d conversations closed at once; local chat-completions endpoint; the database polled every 5 ms)\n\n", o.summaries)
		w("| store | model answers after | ready | failed | close errors | closes answered 202 | watched for | close request p50 | close request p99 | close-to-ready p50 | p99 | max |\n")
		w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, r := range results {
			for _, s := range r.summaries {
				w("| %s | %s | %d/%d | %d | %s | %d | %s | %s | %s | %s | %s | %s |\n", r.store, s.delay, s.ready, s.n, s.failed, countMap(s.closeErrors), s.accepted, s.waitedTill.Round(time.Millisecond),
					ms(loadgen.Quantile(s.closes, 0.5)), ms(loadgen.Quantile(s.closes, 0.99)),
					ms(loadgen.Quantile(s.closeToReady, 0.5)), ms(loadgen.Quantile(s.closeToReady, 0.99)), ms(loadgen.Quantile(s.closeToReady, 1)))
			}
		}
		for _, r := range results {
			for _, s := range r.summaries {
				if s.pollErrors > 0 {
					w("\n%s, model after %s: %d polls of the database failed and were retried.\n", r.store, s.delay, s.pollErrors)
				}
			}
		}
		w("\n")
	}

	w("### Against the targets of issue 10\n\n| store | target | measured | |\n| --- | --- | --- | --- |\n")
	for _, r := range results {
		if i := len(r.transitions) - 1; i >= 0 {
			p, f := r.transitions[i].stats, r.floor[i].stats
			w("| %s | ≥ 500 transitions/s at 32 clients, p99 ≤ 100 ms | %.0f/s, p99 %s at %d clients | %s |\n", r.store,
				p.Rate(), ms(p.Quantile(0.99)), p.Clients, verdict(p.Clients >= 32 && p.Rate() >= 500 && p.Quantile(0.99) <= 100*time.Millisecond))
			ratio := 0.0
			if p.Rate() > 0 {
				ratio = f.Rate() / p.Rate()
			}
			w("| %s | within 10x of the floor | floor %.0f/s is %.1fx the API | %s |\n", r.store, f.Rate(), ratio, verdict(p.Rate() > 0 && ratio <= 10))
		}
		w("| %s | ingest ≥ 1,000 messages/s | first %.0f/s, follow-up %.0f/s | %s |\n", r.store, r.ingestFirst.stats.Rate(), r.ingestFollow.stats.Rate(),
			verdict(r.ingestFirst.stats.Rate() >= 1000 && r.ingestFollow.stats.Rate() >= 1000))
		for _, s := range r.summaries {
			if s.delay != 0 {
				continue
			}
			p50 := loadgen.Quantile(s.closeToReady, 0.5)
			w("| %s | %d closed at once all ready, close-to-ready p50 ≤ 200 ms | %d/%d ready, p50 %s, p99 %s | %s |\n", r.store, s.n,
				s.ready, s.n, ms(p50), ms(loadgen.Quantile(s.closeToReady, 0.99)), verdict(s.ready == s.n && p50 > 0 && p50 <= 200*time.Millisecond))
		}
	}
	renderIssue21(w, results)
	for _, r := range results {
		if r.profile != "" {
			w("\nCPU profile of %s under the largest transition run: `%s` (`go tool pprof -top %s`).\n", r.store, r.profile, r.profile)
		}
	}
}

// renderIssue21 checks the figures against the targets of issue 21. The transitions
// target may instead be met within 1.5x of the ceiling, when the ceiling is itself below it.
func renderIssue21(w func(string, ...any), results []storeResult) {
	w("\n### Against the targets of issue 21\n\n| store | target | measured | |\n| --- | --- | --- | --- |\n")
	for _, r := range results {
		last := len(r.transitions) - 1
		if last < 0 {
			continue
		}
		p := r.transitions[last]
		ok := p.stats.Clients >= 32 && p.stats.Rate() >= 150 && p.stats.Quantile(0.99) <= 300*time.Millisecond
		measured := fmt.Sprintf("%.0f/s, p99 %s at %d clients", p.stats.Rate(), ms(p.stats.Quantile(0.99)), p.stats.Clients)
		if last < len(r.ceiling) {
			c := r.ceiling[last].stats
			if c.Rate() < 150 || c.Quantile(0.99) > 300*time.Millisecond {
				ok = ok || (p.stats.Rate() > 0 && c.Rate()/p.stats.Rate() <= 1.5 && float64(p.stats.Quantile(0.99)) <= 1.5*float64(c.Quantile(0.99)))
			}
			measured += fmt.Sprintf("; ceiling %.0f/s, p99 %s", c.Rate(), ms(c.Quantile(0.99)))
		}
		w("| %s | ≥ 150 transitions/s at 32 clients, p99 ≤ 300 ms (or within 1.5x of a ceiling below that) | %s | %s |\n", r.store, measured, verdict(ok))
		one := r.transitions[0].stats
		w("| %s | at 1 client, p50 ≤ 15 ms | p50 %s at %d client(s) | %s |\n", r.store, ms(one.Quantile(0.5)), one.Clients,
			verdict(one.Clients == 1 && one.Rate() > 0 && one.Quantile(0.5) <= 15*time.Millisecond))
		// The exception of the issue: a bare Update that itself costs over 5 ms (server,
		// client and worker) puts the target out of reach; the change must then cost
		// within 1.5x of it.
		perChange, cpuOK := cpuMs(p), p.stats.Rate() > 0 && cpuMs(p) <= 5
		cpuMeasured := fmt.Sprintf("%s at %d clients", cpuPer(p), p.stats.Clients)
		if last < len(r.ceiling) {
			bare := bareMs(r.ceiling[last])
			if bare > 5 {
				cpuOK = cpuOK || (p.stats.Rate() > 0 && perChange <= 1.5*bare)
			}
			cpuMeasured += fmt.Sprintf("; a bare Update costs %s, server + client and worker (%s)", bareCPU(r.ceiling[last]), ratio(perChange, bare))
		}
		w("| %s | inbox CPU per change ≤ 5 ms (or within 1.5x of a bare Update above that) | %s | %s |\n", r.store, cpuMeasured, verdict(cpuOK))
		w("| %s | first messages ≥ 400/s, follow-ups ≥ 1,000/s | first %.0f/s, follow-up %.0f/s | %s |\n", r.store,
			r.ingestFirst.stats.Rate(), r.ingestFollow.stats.Rate(), verdict(r.ingestFirst.stats.Rate() >= 400 && r.ingestFollow.stats.Rate() >= 1000))
		for _, s := range r.summaries {
			if s.delay != 0 {
				continue
			}
			closeErrs := 0
			for _, v := range s.closeErrors {
				closeErrs += v
			}
			w("| %s | %d closes at once: 0 errors, every summary ready | %d errors, %d answered 202, %d/%d ready, close-to-ready p99 %s | %s |\n", r.store, s.n,
				closeErrs, s.accepted, s.ready, s.n, ms(loadgen.Quantile(s.closeToReady, 0.99)), verdict(closeErrs == 0 && s.ready == s.n))
		}
		if b := r.bulk; b != nil {
			w("| %s | a bulk close of 5,000 finished within 60 s | %d in %s (%.0f/s), %d applied, %d failed | %s |\n", r.store,
				b.n, b.took.Round(100*time.Millisecond), b.rate(), b.applied, b.failed,
				verdict(b.n >= 5000 && b.took <= time.Minute && b.applied == b.n))
		}
	}
}

// countMap is "0", or the total and the counts by kind.
func countMap(m map[string]int) string {
	n := 0
	for _, v := range m {
		n += v
	}
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%d %v", n, m)
}

// renderIdle is the idle phase's table: the process and its databases at each step, and
// RSS and CPU per 1,000 conversations against the baseline.
func renderIdle(b *strings.Builder, o options, r idleResult) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	w("### Cost of idle conversations (one `inbox dev`, Temporal on Postgres, default shards; started in %s)\n\n", r.startup.Round(time.Second))
	w("Each step creates conversations with first messages (%d clients over %d ingest keys; since the lazy\n", o.idleClients, keys)
	w("start none has a workflow until someone changes it), waits until the process is idle (at least %s, then until a %s\n", settleMin, settleProbe)
	w("probe is under %.0f%% of a core, at most %s), then measures the CPU over a %s window and reads\n", settleCPU, o.idleSettleMax, o.idleWindow)
	w("VmRSS/VmHWM from /proc, HeapInuse and goroutines from the pprof listener, pg_database_size, and\n")
	w("the queued tasks (rows of Temporal's `tasks` table: workflow tasks the worker has not taken yet).\n\n")
	w("| conversations | running workflows | queued tasks | created at | settled in | RSS | RSS per 1,000 (vs. baseline) | peak RSS | Go heap in use | goroutines | idle CPU | CPU per 1,000 | inbox DB | temporal DB | visibility DB |\n")
	w("| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	if len(r.steps) == 0 {
		return
	}
	b0 := r.steps[0]
	for i, s := range r.steps {
		created, per, cpuPer := "baseline", "", ""
		if i > 0 {
			created = fmt.Sprintf("%.0f/s (p99 %s, %s errors)", s.created.Rate(), ms(s.created.Quantile(0.99)), errs(s.created))
			if k := float64(s.conversations-b0.conversations) / 1000; k > 0 {
				per = fmt.Sprintf("%.1f MiB", float64(s.rss-b0.rss)/(1<<20)/k)
				cpuPer = fmt.Sprintf("%.3f%%", (s.cpu-b0.cpu)/k)
			}
		}
		settled := s.settled.Round(time.Second).String()
		if !s.settledIdle {
			settled += " (not idle)"
		}
		gor := "n/a"
		if s.goroutines >= 0 {
			gor = fmt.Sprint(s.goroutines)
		}
		w("| %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %.1f%% | %s | %s | %s | %s |\n", s.conversations, s.running, s.backlog, created, settled,
			mib(s.rss), per, mib(s.hwm), mib(s.heapInuse), gor, s.cpu, cpuPer, mib(s.dbInbox), mib(s.dbTemporal), mib(s.dbVisibility))
	}
	if r.stopped != "" {
		w("\nStopped early: %s.\n", r.stopped)
	}
	w("\n")
}
