package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/server/temporaltest"

	"github.com/bestai/inbox/internal/openaitest"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/secretbox"
	"github.com/bestai/inbox/store"
)

// These tests run the real binary as separate processes, as production does, and stop them
// with SIGTERM as an orchestrator would.

var (
	binDir   string
	buildBin sync.Once
	binPath  string
	binErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// inboxBinary builds cmd/inbox once per test run, only for the tests that need it.
func inboxBinary(t *testing.T) string {
	t.Helper()
	buildBin.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "inbox-bin-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "inbox")
		start := time.Now()
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
		t.Logf("built %s in %s", binPath, time.Since(start).Round(time.Millisecond))
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// prodEnv is an external Temporal, a database migrated by `inbox migrate up`, a model server
// and a workspace: what `inbox serve` and `inbox worker` run against.
type prodEnv struct {
	t        *testing.T
	bin      string
	env      []string
	dbURL    string
	openai   *openaitest.Server
	ws       store.NewWorkspace
	apiURL   string
	postgres *store.Store
}

func newProdEnv(t *testing.T) *prodEnv {
	t.Helper()
	e := &prodEnv{t: t, bin: inboxBinary(t), openai: openaitest.New(t)}
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	testenv.RegisterSearchAttributes(t, ts.GetDefaultClient(), ts.GetDefaultNamespace())

	admin, err := url.Parse(testenv.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	db := *admin
	name := fmt.Sprintf("inbox_shutdown_test_%d", time.Now().UnixNano())
	db.Path = "/" + name
	e.dbURL = db.String()
	t.Cleanup(func() {
		if s, err := store.Open(context.Background(), admin.String()); err == nil {
			_, _ = s.DB.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`)
			_ = s.Close()
		}
	})
	e.env = append(os.Environ(),
		"DATABASE_URL="+e.dbURL,
		"TEMPORAL_ADDRESS="+ts.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE="+ts.GetDefaultNamespace(),
		"INBOX_SECRET_KEY="+secretbox.NewKey(),
		"INBOX_HTTP_ADDR=127.0.0.1:0",
		"INBOX_METRICS_ADDR=127.0.0.1:0", // tests run in parallel: no fixed port
		"OPENAI_API_KEY=sk-test",
		"OPENAI_BASE_URL="+e.openai.URL,
	)
	if out, err := e.command("migrate", "up").CombinedOutput(); err != nil {
		t.Fatalf("inbox migrate up: %v\n%s", err, out)
	}
	out, err := e.command("workspace", "create", "--name", "Drain", "--owner-email", "ops@drain.example").Output()
	if err != nil {
		t.Fatalf("inbox workspace create: %v", err)
	}
	if err := json.Unmarshal(out, &e.ws); err != nil {
		t.Fatalf("workspace create printed %q", out)
	}
	if e.postgres, err = store.Open(context.Background(), e.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.postgres.Close() })
	return e
}

func (e *prodEnv) command(args ...string) *exec.Cmd {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = e.env
	return cmd
}

// proc is one running inbox process.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *testenv.LogBuffer
	done chan struct{}
	err  error // set when done is closed
}

func (e *prodEnv) start(extraEnv []string, args ...string) *proc {
	e.t.Helper()
	p := &proc{name: "inbox " + strings.Join(args, " "), cmd: e.command(args...), out: &testenv.LogBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(p.cmd.Env, extraEnv...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if e.t.Failed() {
			e.t.Logf("output of %s:\n%s", p.name, p.out)
		}
	})
	return p
}

// waitFor waits until the output matches re and returns the first submatch.
func (p *proc) waitFor(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			if len(m) > 1 {
				return m[1]
			}
			return m[0]
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited (%v) before printing %s:\n%s", p.name, p.err, re, p.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %s within %s:\n%s", p.name, re, timeout, p.out)
		}
	}
}

// exitCode waits for the process to exit and returns its code.
func (p *proc) exitCode(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("%s still running %s after SIGTERM:\n%s", p.name, timeout, p.out)
	}
	var exitErr *exec.ExitError
	if errors.As(p.err, &exitErr) {
		return exitErr.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return 0
}

func (p *proc) sigterm(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

var (
	listening     = regexp.MustCompile(`inbox API listening"? addr=(\S+)`)
	workerPolling = regexp.MustCompile(`inbox worker polling`)
)

func (e *prodEnv) startServe() *proc {
	e.t.Helper()
	p := e.start(nil, "serve")
	e.apiURL = "http://" + p.waitFor(e.t, listening, 45*time.Second)
	return p
}

// request sends one API request and returns the status and body.
func (e *prodEnv) request(method, path, body string, headers ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, e.apiURL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	// A client of its own: no idle connection is shared between requests.
	res, err := (&http.Client{Timeout: 50 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// ingest stores a visitor message in a new conversation and returns its id.
func (e *prodEnv) ingest(ref string) string {
	e.t.Helper()
	code, body, err := e.request(http.MethodPost, "/api/v1/ingest/messages",
		`{"conversation_ref":"`+ref+`","channel":"chat","visitor":{"name":"Sam"},"message":{"role":"visitor","text":"Where is my order?"}}`,
		"X-Inbox-Key", e.ws.IngestKey)
	if err != nil || code != http.StatusCreated {
		e.t.Fatalf("ingest: %d %s %v", code, body, err)
	}
	var out struct {
		ConversationID string `json:"conversation_id"`
	}
	_ = json.Unmarshal(body, &out)
	return out.ConversationID
}

// closeConversation asks for the state change closed, which starts a summary.
func (e *prodEnv) closeConversation(id, idempotencyKey string) (int, []byte, error) {
	return e.request(http.MethodPost, "/api/v1/workspaces/"+e.ws.WorkspaceID.String()+"/conversations/"+id+"/state",
		`{"state":"closed"}`, "Authorization", "Bearer "+e.ws.OwnerToken, "Idempotency-Key", idempotencyKey)
}

func (e *prodEnv) summaryStatus(id string) string {
	var status string
	_ = e.postgres.DB.NewSelect().Table("conversations").Column("summary_status").Where("id = ?", id).Scan(context.Background(), &status)
	return status
}

func TestServeDrainsInFlightRequestsOnSIGTERM(t *testing.T) {
	e := newProdEnv(t)
	serve := e.startServe()
	conv := e.ingest("drain-1")

	// No worker runs yet, so the lifecycle request waits on its workflow: in flight.
	type result struct {
		code int
		body []byte
		err  error
	}
	inFlight := make(chan result, 1)
	go func() {
		code, body, err := e.closeConversation(conv, "drain-close-1")
		inFlight <- result{code, body, err}
	}()
	// The claimed Idempotency-Key shows the handler is past its checks and waiting.
	testenv.Eventually(t, 30*time.Second, "the close request to be in flight", func() bool {
		n, _ := e.postgres.DB.NewSelect().Table("idempotency_keys").Where("key = ?", "drain-close-1").Count(context.Background())
		return n == 1
	})

	serve.sigterm(t)
	addr := strings.TrimPrefix(e.apiURL, "http://")
	testenv.Eventually(t, 10*time.Second, "new connections to be refused", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return false
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	select {
	case r := <-inFlight:
		t.Fatalf("the in-flight request ended before its workflow could answer: %d %s %v", r.code, r.body, r.err)
	case <-serve.done:
		t.Fatalf("serve exited with a request in flight:\n%s", serve.out)
	default:
	}

	// A worker arrives: the workflow applies the change and the draining API answers.
	e.start(nil, "worker").waitFor(t, workerPolling, 45*time.Second)
	select {
	case r := <-inFlight:
		if r.err != nil || r.code != http.StatusOK || !strings.Contains(string(r.body), `"state":"closed"`) {
			t.Fatalf("in-flight request: %d %s %v", r.code, r.body, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the in-flight request did not complete")
	}
	if code := serve.exitCode(t, 30*time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM:\n%s", code, serve.out)
	}
	t.Logf("serve after SIGTERM:\n%s", tail(serve.out.String(), 3))
}

func TestWorkerDrainsInFlightActivitiesOnSIGTERM(t *testing.T) {
	e := newProdEnv(t)
	e.startServe()
	worker := e.start(nil, "worker")
	worker.waitFor(t, workerPolling, 45*time.Second)

	// A slow model: the summary activity is still running when SIGTERM arrives.
	const modelDelay = 4 * time.Second
	e.openai.Enqueue(openaitest.Response{Delay: modelDelay, Body: "Sam asked where the order is."})
	conv := e.ingest("drain-worker-1")
	if code, body, err := e.closeConversation(conv, "drain-worker-close-1"); err != nil || code != http.StatusOK {
		t.Fatalf("close: %d %s %v", code, body, err)
	}
	testenv.Eventually(t, 30*time.Second, "the summary call to reach the model", func() bool { return e.openai.Count() >= 1 })

	sent := time.Now()
	worker.sigterm(t)
	if code := worker.exitCode(t, 40*time.Second); code != 0 {
		t.Fatalf("worker exited %d after SIGTERM:\n%s", code, worker.out)
	}
	took := time.Since(sent)
	if got := e.summaryStatus(conv); got != "ready" {
		t.Fatalf("the in-flight summary was not finished before exit: summary_status %q (exit after %s)", got, took)
	}
	if took > 30*time.Second+10*time.Second {
		t.Fatalf("the worker took %s to stop, past its 30s bound", took)
	}
	t.Logf("worker exited 0 %s after SIGTERM with the summary recorded:\n%s", took.Round(time.Millisecond), tail(worker.out.String(), 2))

	// Past INBOX_WORKER_STOP_TIMEOUT an activity is cut and the worker still exits 0.
	short := e.start([]string{"INBOX_WORKER_STOP_TIMEOUT=2s"}, "worker")
	short.waitFor(t, workerPolling, 45*time.Second)
	e.openai.Enqueue(openaitest.Response{Hang: true})
	conv2 := e.ingest("drain-worker-2")
	if code, body, err := e.closeConversation(conv2, "drain-worker-close-2"); err != nil || code != http.StatusOK {
		t.Fatalf("close: %d %s %v", code, body, err)
	}
	testenv.Eventually(t, 30*time.Second, "the second summary call to reach the model", func() bool { return e.openai.Count() >= 2 })
	sent = time.Now()
	short.sigterm(t)
	if code := short.exitCode(t, 20*time.Second); code != 0 {
		t.Fatalf("worker exited %d after SIGTERM:\n%s", code, short.out)
	}
	took = time.Since(sent)
	if took < 2*time.Second {
		t.Errorf("the worker exited after %s, before its 2s bound, with an activity in flight", took)
	}
	if got := e.summaryStatus(conv2); got != "pending" {
		t.Errorf("the cut summary should stay pending for a retry elsewhere, got %q", got)
	}
	t.Logf("worker with a hung activity exited 0 %s after SIGTERM (bound 2s)", took.Round(time.Millisecond))
}

func TestStartRefusesANamespaceWithoutSearchAttributes(t *testing.T) {
	bin := inboxBinary(t)
	ts := temporaltest.NewServer(temporaltest.WithT(t)) // no search attributes registered
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "worker")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+testenv.AdminURL(),
		"TEMPORAL_ADDRESS="+ts.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE="+ts.GetDefaultNamespace(),
		"INBOX_SECRET_KEY="+secretbox.NewKey(),
	)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("inbox worker without search attributes: %v\n%s", err, out)
	}
	for _, want := range []string{"InboxWorkspace: missing", "InboxSummary: missing",
		"temporal operator search-attribute create --namespace " + ts.GetDefaultNamespace() + " --name InboxState --type Keyword"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("inbox worker printed:\n%s", out)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
