package faults

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/bestai/inbox/internal/openaitest"
	"github.com/bestai/inbox/secretbox"
	"github.com/bestai/inbox/workflows"

	"github.com/bestai/inbox/internal/testenv"
)

// TestProductionProcesses runs the production layout as separate OS processes on loopback:
// `inbox temporal` (the embedded Temporal alone), `inbox migrate up`, `inbox workspace
// create`, two `inbox serve` and two `inbox worker`. Under a steady load of state changes,
// ingest and summaries spread over both APIs, it kill -9s one worker, then one API process,
// and restarts both. Every change answered 200 (a state change, an ingested message, a close)
// must be in Postgres exactly once, every summary must end ready, every conversation's state
// must be the after-state of its last audit entry, and the survivors must have carried the
// load while the others were down.
func TestProductionProcesses(t *testing.T) {
	suite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	model := openaitest.New(t)
	pc := newProdCluster(t, testenv.AdminURL(), model.URL)
	began := time.Now()
	pc.startTemporal(ctx)
	t.Logf("inbox temporal ready in %.1fs", time.Since(began).Seconds())
	t.Logf("inbox migrate up: %s", strings.ReplaceAll(strings.TrimSpace(string(pc.run(ctx, "migrate", "up"))), "\n", "; "))
	out := pc.run(ctx, "workspace", "create", "--name", "Production test", "--owner-email", "owner@prod.example")
	if err := json.Unmarshal(out, &pc.creds); err != nil || pc.creds.OwnerToken == "" {
		t.Fatalf("inbox workspace create printed %q: %v", out, err)
	}
	for i := range pc.workers {
		pc.startWorker(ctx, i)
	}
	for i := range pc.apis {
		pc.startAPI(ctx, i)
	}
	t.Logf("2 workers and 2 APIs ready %.1fs after the start", time.Since(began).Seconds())
	apis := []*apiClient{newAPIClientAt(pc.baseURL(0), pc.creds), newAPIClientAt(pc.baseURL(1), pc.creds)}

	n := envInt("FAULTS_CLIENTS", 8)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = apis[i%2].createConversation(ctx, t, fmt.Sprintf("prod-toggle-%d-%d", i, rand.IntN(1e9)))
	}
	newWork, stopNew := context.WithCancel(ctx)
	hard, stopHard := context.WithCancel(ctx)
	defer stopHard()
	l := startLoadOn(newWork, hard, apis, ids)
	v := startVisitors(newWork, hard, apis, envInt("FAULTS_VISITORS", 4))
	if !waitFor(ctx, 90*time.Second, func() bool { return l.count200() >= 2*n && v.closed() >= 2 }) {
		t.Logf("only %d changes and %d closes accepted in 90s before the kills", l.count200(), v.closed())
	}

	pc.workers[0].kill9()
	workerDown := time.Now()
	t.Logf("kill -9 worker 0 after %d accepted changes", l.count200())
	sleepCtx(ctx, 5*time.Second)
	pc.apis[0].kill9()
	apiDown := time.Now()
	t.Logf("kill -9 API 0 after %d accepted changes", l.count200())
	sleepCtx(ctx, 8*time.Second) // the survivors alone
	pc.startWorker(ctx, 0)
	workerUp := time.Now()
	pc.startAPI(ctx, 0)
	apiUp := time.Now()
	t.Logf("restarted: worker 0 polling %.1fs after its kill, API 0 ready %.1fs after its kill", workerUp.Sub(workerDown).Seconds(), apiUp.Sub(apiDown).Seconds())
	sleepCtx(ctx, 8*time.Second) // the whole layout again
	// No new work; up to 150 s for every unknown outcome to resolve by retrying, then stop.
	stopNew()
	drained := make(chan struct{})
	go func() { l.wait(); v.wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(150 * time.Second):
	}
	stopHard()
	<-drained

	// The survivors carried the load.
	servedBySurvivor := 0
	for _, a := range apiOnly(apis[1].answersBetween(apiDown, apiUp)) {
		if a.Code == http.StatusOK || a.Code == http.StatusCreated {
			servedBySurvivor++
		}
	}
	changedWithoutWorker := 0
	for _, api := range apis {
		for _, a := range api.answersBetween(workerDown, workerUp) {
			if a.Method == http.MethodPost && strings.HasSuffix(a.Path, "/state") && a.Code == http.StatusOK {
				changedWithoutWorker++
			}
		}
	}
	if servedBySurvivor == 0 {
		t.Errorf("API 1 answered no request with 200/201 while API 0 was down")
	}
	if changedWithoutWorker == 0 {
		t.Errorf("no change completed while worker 0 was down")
	}
	for name, p := range map[string]*proc{"inbox temporal": pc.temporal, "API 1": pc.apis[1], "worker 1": pc.workers[1]} {
		if !p.alive() {
			t.Errorf("%s exited during the test", name)
		}
	}

	db := pc.db()
	f := checkLifecycle(ctx, t, apis[0], db, pc.tc, l)
	if f.Unknown > 0 {
		t.Errorf("%d changes still had an unknown outcome 150s after the restarts", f.Unknown)
	}
	vf := v.check(ctx, t, db)
	closedIDs := v.closedIDs()
	took, notReady := waitSummariesReady(ctx, db, closedIDs, 3*time.Minute)
	for id, s := range notReady {
		t.Errorf("conversation %s: summary not ready %.0fs after the load: %s", id, took.Seconds(), s)
	}
	sumDoubled, sumBad := checkSummaries(ctx, t, apis[1], db, closedIDs)
	mismatch := checkStatesEndChains(ctx, t, db, pc.creds.WorkspaceID)

	served := 0
	for _, api := range apis {
		for _, a := range apiOnly(api.allAnswers()) {
			if a.Code == http.StatusOK || a.Code == http.StatusCreated {
				served++
			}
		}
	}
	t.Logf("FIGURES production processes (temporal, 2 serve, 2 worker; kill -9 worker then API, restart): requests served %d; changes checked %d (state %d, messages %d, closes %d); duplicates %d; lost %d; unknown %d; phantom closes %d; summaries ready %d/%d; states != end of audit chain %d; 200s by the surviving API while the other was down %d; changes completed while a worker was down %d; %s",
		served, f.Checked+vf.messages+vf.closes, f.Checked, vf.messages, vf.closes,
		f.Doubled+vf.doubled+sumDoubled, f.Lost+vf.lost, f.Unknown+vf.unknown, vf.phantom,
		len(closedIDs)-sumBad, len(closedIDs), mismatch, servedBySurvivor, changedWithoutWorker, f)
	if vf.unknown > 0 {
		t.Errorf("%d ingests or closes still had an unknown outcome after the load", vf.unknown)
	}
	if len(closedIDs) == 0 {
		t.Errorf("no conversation was closed, so no summary was checked")
	}
}

// prodCluster is the production layout as OS processes sharing one environment: one
// `inbox temporal`, two `inbox worker`, two `inbox serve`, one database.
type prodCluster struct {
	t      *testing.T
	env    []string
	dbURL  string
	tmpAdr string
	apiAdr [2]string
	creds  demoCreds
	tc     client.Client

	temporal *proc
	workers  [2]*proc
	apis     [2]*proc
}

func newProdCluster(t *testing.T, adminURL, openaiURL string) *prodCluster {
	t.Helper()
	pc := &prodCluster{t: t, dbURL: newDatabase(t, adminURL)}
	pc.tmpAdr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	for i := range pc.apiAdr {
		pc.apiAdr[i] = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		pc.workers[i] = newProc(t, fmt.Sprintf("worker %d", i))
		pc.apis[i] = newProc(t, fmt.Sprintf("API %d", i))
	}
	pc.temporal = newProc(t, "inbox temporal")
	pc.env = []string{
		"DATABASE_URL=" + pc.dbURL,
		"TEMPORAL_ADDRESS=" + pc.tmpAdr,
		fmt.Sprintf("INBOX_TEMPORAL_UI_ADDR=127.0.0.1:%d", freePort(t)),
		"INBOX_DATA_DIR=" + t.TempDir(),
		// Every replica must share the key that encrypts BYOK keys.
		"INBOX_SECRET_KEY=" + secretbox.NewKey(),
		"OPENAI_BASE_URL=" + openaiURL,
		"OPENAI_API_KEY=sk-faults-test",
		// Two APIs and two workers on one machine would share the default metrics port.
		"INBOX_METRICS_ADDR=off",
	}
	// Registered after newDatabase: the processes die before their database is dropped.
	t.Cleanup(func() {
		all := []*proc{pc.apis[0], pc.apis[1], pc.workers[0], pc.workers[1], pc.temporal}
		for _, p := range all {
			p.kill()
		}
		if t.Failed() {
			for _, p := range all {
				t.Logf("--- %s stdout (tail) ---\n%s\n--- %s stderr (tail) ---\n%s", p.name, p.logTail("stdout", 2000), p.name, p.logTail("stderr", 4000))
			}
		}
	})
	return pc
}

func (pc *prodCluster) baseURL(i int) string { return "http://" + pc.apiAdr[i] }

// run runs a one-shot command (migrate, workspace create) and returns its stdout.
func (pc *prodCluster) run(ctx context.Context, args ...string) []byte {
	pc.t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(rctx, inboxBin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = append(os.Environ(), pc.env...), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		pc.t.Fatalf("inbox %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

// waitReady polls ready every 250 ms until it holds, the process exits or bound runs out.
func waitReady(ctx context.Context, p *proc, bound time.Duration, ready func() bool) error {
	deadline := time.Now().Add(bound)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited: %v", p.name, p.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if ready() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s", p.name, bound)
		}
	}
}

func (pc *prodCluster) fail(p *proc, err error) {
	pc.t.Helper()
	pc.t.Fatalf("%v\n--- %s stdout ---\n%s\n--- %s stderr ---\n%s", err, p.name, p.logTail("stdout", 3000), p.name, p.logTail("stderr", 6000))
}

// saidSinceStart says whether the process wrote text to its stdout or stderr since its
// latest start. Readiness waits for it too: a port taken by another process between
// freePort and the bind would otherwise answer in its place.
func (p *proc) saidSinceStart(name, text string) bool {
	out := p.logTail(name, 1<<20)
	if i := strings.LastIndex(out, "===== faults: start"); i >= 0 {
		out = out[i:]
	}
	return strings.Contains(out, text)
}

// portTaken says whether the process exited because its address was in use.
func (p *proc) portTaken() bool {
	return !p.alive() && strings.Contains(p.logTail("stderr", 4000), "in use")
}

// startTemporal starts `inbox temporal` and dials it; the client serves the checks.
func (pc *prodCluster) startTemporal(ctx context.Context) {
	pc.t.Helper()
	for try := 1; ; try++ {
		err := pc.startTemporalOnce(ctx)
		if err == nil {
			break
		}
		if try < 3 && pc.temporal.portTaken() {
			pc.t.Logf("inbox temporal: port taken, retrying on a fresh one: %v", err)
			pc.tmpAdr = fmt.Sprintf("127.0.0.1:%d", freePort(pc.t))
			pc.setEnv("TEMPORAL_ADDRESS", pc.tmpAdr)
			pc.setEnv("INBOX_TEMPORAL_UI_ADDR", fmt.Sprintf("127.0.0.1:%d", freePort(pc.t)))
			continue
		}
		pc.fail(pc.temporal, err)
	}
	pc.t.Cleanup(pc.tc.Close)
}

func (pc *prodCluster) setEnv(name, value string) {
	for i, kv := range pc.env {
		if strings.HasPrefix(kv, name+"=") {
			pc.env[i] = name + "=" + value
		}
	}
}

func (pc *prodCluster) startTemporalOnce(ctx context.Context) error {
	if err := pc.temporal.spawn(pc.env, "temporal"); err != nil {
		pc.t.Fatalf("start inbox temporal: %v", err)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	return waitReady(ctx, pc.temporal, 150*time.Second, func() bool {
		if !pc.temporal.saidSinceStart("stdout", "inbox temporal is running") {
			return false
		}
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c, err := client.DialContext(dctx, client.Options{HostPort: pc.tmpAdr, Namespace: "default", Logger: quiet})
		if err != nil {
			return false
		}
		pc.tc = c
		return true
	})
}

// startWorker starts (or restarts) worker i and waits until Temporal lists it, by its pid
// (the SDK's identity is pid@host), among the pollers of the workflow task queue.
func (pc *prodCluster) startWorker(ctx context.Context, i int) {
	pc.t.Helper()
	p := pc.workers[i]
	if err := p.spawn(pc.env, "worker"); err != nil {
		pc.t.Fatalf("start %s: %v", p.name, err)
	}
	self := fmt.Sprintf("%d@", p.cmd.Process.Pid)
	err := waitReady(ctx, p, 120*time.Second, func() bool {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		res, err := pc.tc.DescribeTaskQueue(dctx, workflows.TaskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW)
		if err != nil {
			return false
		}
		for _, poller := range res.GetPollers() {
			if strings.HasPrefix(poller.GetIdentity(), self) {
				return true
			}
		}
		return false
	})
	if err != nil {
		pc.fail(p, err)
	}
}

// startAPI starts (or restarts, on the same address) API process i and waits for /readyz 200.
func (pc *prodCluster) startAPI(ctx context.Context, i int) {
	pc.t.Helper()
	p := pc.apis[i]
	for try := 1; ; try++ {
		err := pc.startAPIOnce(ctx, i)
		if err == nil {
			return
		}
		// Only the first start may move: a restart keeps its address, as behind a balancer.
		if p.starts == try && try < 3 && p.portTaken() {
			pc.t.Logf("%s: port taken, retrying on a fresh one: %v", p.name, err)
			pc.apiAdr[i] = fmt.Sprintf("127.0.0.1:%d", freePort(pc.t))
			continue
		}
		pc.fail(p, err)
	}
}

func (pc *prodCluster) startAPIOnce(ctx context.Context, i int) error {
	p := pc.apis[i]
	if err := p.spawn(append([]string{"INBOX_HTTP_ADDR=" + pc.apiAdr[i]}, pc.env...), "serve"); err != nil {
		pc.t.Fatalf("start %s: %v", p.name, err)
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	return waitReady(ctx, p, 120*time.Second, func() bool {
		if !p.saidSinceStart("stderr", "listening") {
			return false
		}
		res, err := hc.Get(pc.baseURL(i) + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
}

func (pc *prodCluster) db() *sql.DB { return openDB(pc.t, pc.dbURL) }

// visit is one visitor's conversation: a few messages ingested, then closed by an admin
// (which starts its summary).
type visit struct {
	Ref       string
	Conv      string
	Msgs      []string // message ids answered 200/201
	Unknown   int      // messages (or the close) whose outcome stayed unknown
	CloseKey  string
	CloseCode int // 200 once closed; 0 while unknown or not tried
}

// visitors run sequential clients, each opening conversation after conversation through
// the ingest API and closing it. An unknown outcome is retried with the same message id or
// Idempotency-Key on the other API process.
type visitors struct {
	apis []*apiClient
	wg   sync.WaitGroup

	mu     sync.Mutex
	visits []*visit
}

const messagesPerVisit = 3

func startVisitors(newWork, hard context.Context, apis []*apiClient, n int) *visitors {
	v := &visitors{apis: apis}
	for i := range n {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			v.client(newWork, hard, i)
		}()
	}
	return v
}

func (v *visitors) wait() { v.wg.Wait() }

func (v *visitors) client(newWork, hard context.Context, i int) {
	at := i % len(v.apis)
	for k := 0; newWork.Err() == nil; k++ {
		vis := &visit{Ref: fmt.Sprintf("prod-visit-%d-%d-%d", i, k, rand.IntN(1e9))}
		v.mu.Lock()
		v.visits = append(v.visits, vis)
		v.mu.Unlock()
		for m := range messagesPerVisit {
			id := fmt.Sprintf("%s-m%d", vis.Ref, m)
			body := map[string]any{
				"conversation_ref": vis.Ref, "channel": "chat",
				"visitor": map[string]string{"name": "Visitor " + vis.Ref},
				"message": map[string]string{"id": id, "role": "visitor", "text": fmt.Sprintf("Message %d: where is my order %s?", m, vis.Ref)},
			}
			a, ok := v.untilKnown(hard, &at, func(api *apiClient) answer {
				return api.do(hard, http.MethodPost, "/api/v1/ingest/messages", map[string]string{"X-Inbox-Key": api.ingest}, body)
			})
			v.mu.Lock()
			switch {
			case !ok:
				vis.Unknown++
			case a.Code == http.StatusOK || a.Code == http.StatusCreated:
				var out struct {
					ConversationID string `json:"conversation_id"`
				}
				_ = json.Unmarshal(a.Body, &out)
				vis.Conv = out.ConversationID
				vis.Msgs = append(vis.Msgs, id)
			}
			v.mu.Unlock()
			if !ok {
				return
			}
			at = (at + 1) % len(v.apis)
			sleepCtx(hard, 200*time.Millisecond) // well under the per-process ingest rate limit
		}
		if vis.Conv == "" {
			continue
		}
		key := uuid.NewString()
		v.mu.Lock()
		vis.CloseKey = key
		v.mu.Unlock()
		a, ok := v.untilKnown(hard, &at, func(api *apiClient) answer { return api.transition(hard, vis.Conv, "closed", key) })
		v.mu.Lock()
		if ok {
			vis.CloseCode = a.Code
		} else {
			vis.Unknown++
		}
		v.mu.Unlock()
		if !ok {
			return
		}
		at = (at + 1) % len(v.apis)
	}
}

// untilKnown repeats send, moving to the next API after every unknown outcome, until the
// outcome is known; false when hard ended first.
func (v *visitors) untilKnown(hard context.Context, at *int, send func(*apiClient) answer) (answer, bool) {
	for {
		a := send(v.apis[*at])
		if !a.unknown() {
			return a, true
		}
		if hard.Err() != nil {
			return a, false
		}
		*at = (*at + 1) % len(v.apis)
		sleepCtx(hard, min(retryDelay(a), time.Second))
	}
}

func (v *visitors) snapshot() []visit {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]visit, len(v.visits))
	for i, vis := range v.visits {
		out[i] = *vis
		out[i].Msgs = append([]string(nil), vis.Msgs...)
	}
	return out
}

func (v *visitors) closed() int { return len(v.closedIDs()) }

func (v *visitors) closedIDs() []string {
	var ids []string
	for _, vis := range v.snapshot() {
		if vis.CloseCode == http.StatusOK {
			ids = append(ids, vis.Conv)
		}
	}
	return ids
}

type visitFigures struct {
	messages, closes, lost, doubled, phantom, unknown int
}

// check asserts that every message answered 200/201 is stored exactly once and every close
// answered 200 is in audit_log exactly once (matched on its Idempotency-Key).
func (v *visitors) check(ctx context.Context, t *testing.T, db *sql.DB) visitFigures {
	t.Helper()
	var f visitFigures
	for _, vis := range v.snapshot() {
		f.unknown += vis.Unknown
		for _, id := range vis.Msgs {
			f.messages++
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND external_id = $2`, vis.Conv, id).Scan(&n); err != nil {
				t.Fatalf("read message %s: %v", id, err)
			}
			switch {
			case n == 0:
				f.lost++
				t.Errorf("conversation %s: message %s answered 2xx but is not stored", vis.Conv, id)
			case n > 1:
				f.doubled += n - 1
				t.Errorf("conversation %s: message %s stored %d times", vis.Conv, id, n)
			}
		}
		if vis.Conv == "" {
			continue
		}
		rows, err := stateChanges(ctx, db, vis.Conv)
		if err != nil {
			t.Fatalf("read audit of %s: %v", vis.Conv, err)
		}
		n := 0
		for _, r := range rows {
			if vis.CloseKey != "" && keyOf(r.RequestID) == vis.CloseKey {
				n++
			} else {
				f.phantom++
				t.Errorf("conversation %s: audit row %s->%s (request %q) is not its close", vis.Conv, r.Before, r.After, r.RequestID)
			}
		}
		switch {
		case vis.CloseCode == http.StatusOK:
			f.closes++
			if n == 0 {
				f.lost++
				t.Errorf("conversation %s: close (key %s) answered 200 but is not in audit_log", vis.Conv, vis.CloseKey)
			}
		case vis.CloseCode != 0:
			t.Errorf("conversation %s: close answered %d", vis.Conv, vis.CloseCode)
		}
		if n > 1 {
			f.doubled += n - 1
			t.Errorf("conversation %s: close key %s is in audit_log %d times", vis.Conv, vis.CloseKey, n)
		}
	}
	return f
}

// checkStatesEndChains asserts, for every conversation of the workspace, that its state in
// the read model is the after-state of its last state_changed audit entry ("open" without
// one). It returns how many differ.
func checkStatesEndChains(ctx context.Context, t *testing.T, db *sql.DB, workspace string) int {
	t.Helper()
	rows, err := db.QueryContext(ctx, `
		SELECT c.id, c.state, coalesce((
			SELECT a.after->>'state' FROM audit_log a
			WHERE a.conversation_id = c.id AND a.action = 'state_changed'
			ORDER BY a.at DESC, a.id DESC LIMIT 1), 'open')
		FROM conversations c WHERE c.workspace_id = $1`, workspace)
	if err != nil {
		t.Fatalf("read states: %v", err)
	}
	defer rows.Close()
	bad, all := 0, 0
	for rows.Next() {
		var id, state, last string
		if err := rows.Scan(&id, &state, &last); err != nil {
			t.Fatalf("read states: %v", err)
		}
		all++
		if state != last {
			bad++
			t.Errorf("conversation %s: state %q, but its last audit entry ends in %q", id, state, last)
		}
	}
	if err := rows.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("read states: %v", err)
	}
	if all == 0 {
		t.Errorf("no conversation in workspace %s", workspace)
	}
	return bad
}
