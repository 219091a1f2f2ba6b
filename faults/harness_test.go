package faults

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
	"go.temporal.io/sdk/client"

	"github.com/bestai/inbox/devserver"
	"github.com/bestai/inbox/internal/devproc"
)

// freePort asks the kernel for a free loopback port. Another process may take it before
// inbox binds it; start() retries with fresh ports when that happens.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// demoCreds are what `inbox dev` keeps in <data dir>/demo.json.
type demoCreds = devproc.Demo

// proc is one OS process of the inbox binary (and its restarts), its output appended to
// stdout and stderr under logDir.
type proc struct {
	t      testing.TB
	name   string
	logDir string

	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

func newProc(t testing.TB, name string) *proc {
	return &proc{t: t, name: name, logDir: t.TempDir()}
}

// connectionShare bounds each process's pools. Postgres refuses every client past
// max_connections (100 here, 3 kept for superusers), and make test runs two packages at
// once: two fault tests' inbox dev, each at most 12 to the inbox's database and 16 to its
// Temporal's (four services, each 3 plus 1 for visibility), leave room for the other
// package's test stores (testenv: 10 each).
var connectionShare = []string{"INBOX_DB_MAX_CONNS=12", "INBOX_TEMPORAL_DB_MAX_CONNS=3"}

// spawn starts `inbox args...` with env (on top of the test's environment) and returns at
// once; the caller waits for whatever says it is ready.
func (p *proc) spawn(env []string, args ...string) error {
	p.starts++
	stdout, err := os.OpenFile(filepath.Join(p.logDir, "stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	stderr, err := os.OpenFile(filepath.Join(p.logDir, "stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		stdout.Close()
		return err
	}
	marker := fmt.Sprintf("\n===== faults: start %d at %s =====\n", p.starts, time.Now().Format(time.RFC3339Nano))
	_, _ = stdout.WriteString(marker)
	_, _ = stderr.WriteString(marker)
	cmd := exec.Command(inboxBin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = append(append(os.Environ(), connectionShare...), env...), stdout, stderr
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		stdout.Close()
		stderr.Close()
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		stdout.Close()
		stderr.Close()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	return nil
}

// newDatabase names a fresh database on the Postgres server of adminURL (the inbox creates
// it) and drops it when the test ends, after the processes registered later are killed,
// together with the two databases the embedded Temporal makes next to it on the postgres
// store (devserver.PostgresDatabases; absent with sqlite, and IF EXISTS says nothing).
func newDatabase(t *testing.T, adminURL string) string {
	t.Helper()
	admin, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("admin URL: %v", err)
	}
	dbName := fmt.Sprintf("faults_%s_%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_")), rand.IntN(1_000_000))
	u := *admin
	u.Path = "/" + dbName
	temporalDB, visibilityDB, err := devserver.PostgresDatabases(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(admin.String())))
		defer db.Close()
		for _, name := range []string{dbName, temporalDB, visibilityDB} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
				t.Logf("drop database %s: %v", name, err)
			}
			cancel()
		}
	})
	return u.String()
}

// inbox is one `inbox dev` OS process (and its restarts) with its own ports, data
// directory and database.
type inbox struct {
	*proc
	dataDir string
	dbURL   string
	httpAdr string
	tmpAdr  string
	uiAdr   string
	openai  string // OPENAI_BASE_URL
	demo    demoCreds
	// env is added to the process's environment on every start.
	env []string
}

// newInbox prepares (does not start) an inbox on the Postgres server of adminURL, in a
// fresh database dropped when the test ends.
func newInbox(t *testing.T, adminURL, openaiURL string) *inbox {
	t.Helper()
	// Cleanups run last-in first-out: the process is killed before its database is dropped.
	in := &inbox{proc: newProc(t, t.Name()), dataDir: t.TempDir(), dbURL: newDatabase(t, adminURL), openai: openaiURL}
	in.pickPorts()
	t.Cleanup(func() {
		in.kill()
		if t.Failed() {
			in.dumpLogs()
		}
	})
	return in
}

func (in *inbox) pickPorts() {
	in.httpAdr = fmt.Sprintf("127.0.0.1:%d", freePort(in.t))
	in.tmpAdr = fmt.Sprintf("127.0.0.1:%d", freePort(in.t))
	in.uiAdr = fmt.Sprintf("127.0.0.1:%d", freePort(in.t))
}

func (in *inbox) baseURL() string { return "http://" + in.httpAdr }

// store is the Temporal store the started process runs on, read from what it made: the
// SQLite file under its data directory, else (Postgres) nothing there.
func (in *inbox) store() string {
	if _, err := os.Stat(filepath.Join(in.dataDir, "temporal.sqlite")); err == nil {
		return devserver.StoreSQLite
	}
	return devserver.StorePostgres
}

// start runs `inbox dev` and waits until /readyz answers 200 (and, on the first start,
// until demo.json is written). It returns how long that took.
func (in *inbox) start(ctx context.Context) time.Duration {
	in.t.Helper()
	temporalLog := filepath.Join(in.dataDir, "temporal.log")
	for try := 1; ; try++ {
		logged := fileSize(temporalLog)
		took, err := in.startOnce(ctx)
		if err == nil {
			return took
		}
		// A port taken by another process between freePort and the bind (a listener of a
		// parallel test, or the local end of someone's outgoing connection): the first start
		// moves all its ports. A restart keeps the API and Temporal addresses, as a real
		// deployment would, and waits for the port to come free; only the Web UI's address,
		// which no client holds, may move. The embedded Temporal picks its internal services'
		// ports itself, and when one is taken before it binds, it logs the failure to
		// temporal.log and exits: that is the same clash.
		tail := in.logTail("stderr", 2000)
		tail = tail[strings.LastIndex(tail, "===== faults: start")+1:] // this start's lines only
		if strings.Contains(fileFrom(temporalLog, logged), "address already in use") {
			tail += "\nTemporal: a port was in use"
		}
		if try < 4 && strings.Contains(tail, "in use") {
			in.kill()
			switch {
			case in.starts == 1:
				in.t.Logf("inbox: port taken, retrying with fresh ports: %v", err)
				in.starts = 0
				in.pickPorts()
			case strings.Contains(tail, "INBOX_TEMPORAL_UI_ADDR"):
				in.t.Logf("inbox: the Web UI port was taken during the restart, moving it: %v", err)
				in.uiAdr = fmt.Sprintf("127.0.0.1:%d", freePort(in.t))
			default:
				in.t.Logf("inbox: a port was taken during the restart, waiting for it: %v", err)
				time.Sleep(2 * time.Second)
			}
			continue
		}
		in.t.Fatalf("inbox dev did not become ready: %v\n%s\n--- Temporal's fatal error, if any ---\n%s", err, in.tails(),
			fatalLine(fileFrom(temporalLog, logged)))
	}
}

// fatalLine is the start of the first fatal entry of a Temporal log: the message and the
// error, which the tail of its stack trace does not show.
func fatalLine(log string) string {
	i := strings.Index(log, `"level":"fatal"`)
	if i < 0 {
		return ""
	}
	line := log[strings.LastIndexByte(log[:i], '\n')+1:]
	if j := strings.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	return line[:min(len(line), 800)]
}

func (in *inbox) startOnce(ctx context.Context) (time.Duration, error) {
	env := []string{
		"DATABASE_URL=" + in.dbURL,
		"INBOX_HTTP_ADDR=" + in.httpAdr,
		"TEMPORAL_ADDRESS=" + in.tmpAdr,
		"INBOX_TEMPORAL_UI_ADDR=" + in.uiAdr,
		"INBOX_DATA_DIR=" + in.dataDir,
		"OPENAI_BASE_URL=" + in.openai,
		"OPENAI_API_KEY=sk-faults-test",
		"INBOX_SECRET_KEY=",
		// Several inbox dev run at once; the default metrics port would be taken twice.
		"INBOX_METRICS_ADDR=off",
	}
	env = append(env, in.env...)
	began := time.Now()
	if err := in.spawn(env, "dev"); err != nil {
		return 0, err
	}
	demo, err := devproc.WaitReady(ctx, in.baseURL(), in.dataDir, in.exited, 150*time.Second)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", err, in.cmd.ProcessState)
	}
	in.demo = demo
	return time.Since(began), nil
}

// kill9 sends SIGKILL to the process and waits until it is gone.
func (p *proc) kill9() {
	p.t.Helper()
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		p.t.Fatalf("kill -9 %d: %v", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("%s (pid %d) still running 30s after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// kill is kill9 for cleanups: never fails the test.
func (p *proc) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
	}
}

// alive says whether the process is still running.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return p.cmd != nil
	}
}

func (p *proc) logTail(name string, n int) string {
	b, _ := os.ReadFile(filepath.Join(p.logDir, name))
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func (in *inbox) tails() string {
	return fmt.Sprintf("--- %s stdout (tail) ---\n%s\n--- %s stderr (tail) ---\n%s\n--- temporal.log (tail) ---\n%s",
		in.name, in.logTail("stdout", 3000), in.name, in.logTail("stderr", 6000), tailFile(filepath.Join(in.dataDir, "temporal.log"), 3000))
}

func (in *inbox) dumpLogs() { in.t.Logf("process logs of %s:\n%s", in.name, in.tails()) }

// fileSize is the size of the file at path, 0 when there is none.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// fileFrom is what the file at path holds from offset on.
func fileFrom(path string, offset int64) string {
	b, _ := os.ReadFile(path)
	if int64(len(b)) < offset {
		return string(b)
	}
	return string(b[offset:])
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// db opens the inbox's database directly, for the checks.
func (in *inbox) db() *sql.DB { return openDB(in.t, in.dbURL) }

func openDB(t testing.TB, dbURL string) *sql.DB {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dbURL)))
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// temporal dials the embedded Temporal of the running process, retrying for a while.
func (in *inbox) temporal(ctx context.Context) client.Client {
	in.t.Helper()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	var last error
	for i := 0; i < 60 && ctx.Err() == nil; i++ {
		c, err := client.DialContext(ctx, client.Options{HostPort: in.tmpAdr, Namespace: "default", Logger: quiet})
		if err == nil {
			in.t.Cleanup(c.Close)
			return c
		}
		last = err
		time.Sleep(time.Second)
	}
	in.t.Fatalf("dial Temporal at %s: %v", in.tmpAdr, last)
	return nil
}

// cluster is a second Postgres cluster of our own, so a test may stop it without touching
// the machine's main cluster (which other work uses).
type cluster struct {
	t       testing.TB
	version string
	name    string
	port    int
}

// newCluster creates and starts a throwaway cluster with trust auth on a free port; it is
// stopped and dropped when the test ends. It skips the test without the Debian tools.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	for _, tool := range []string{"pg_createcluster", "pg_ctlcluster", "pg_dropcluster"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found (Debian's postgresql-common): this test needs a Postgres cluster of its own to stop", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("pg_createcluster needs root (or the postgres user) here")
	}
	version := os.Getenv("FAULTS_PG_VERSION")
	if version == "" {
		versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		sort.Strings(versions)
		if len(versions) == 0 {
			t.Skip("no /usr/lib/postgresql/*/bin/initdb: cannot create a second cluster")
		}
		version = filepath.Base(filepath.Dir(filepath.Dir(versions[len(versions)-1])))
	}
	c := &cluster{t: t, version: version, name: fmt.Sprintf("faults%d", rand.IntN(1_000_000)), port: freePort(t)}
	// --start-conf=manual: never started at boot; --auth=trust (initdb): like the main cluster.
	c.run(60*time.Second, "pg_createcluster", version, c.name, "-p", fmt.Sprint(c.port), "--start-conf=manual", "--", "--auth=trust")
	t.Cleanup(func() {
		cmd := exec.Command("pg_dropcluster", "--stop", c.version, c.name)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("pg_dropcluster %s %s: %v\n%s", c.version, c.name, err, out)
		}
	})
	c.start()
	return c
}

func (c *cluster) adminURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

func (c *cluster) start() { c.run(60*time.Second, "pg_ctlcluster", c.version, c.name, "start") }

// stop stops it the way a crash-free failover or a restart would: fast shutdown, every
// connection cut.
func (c *cluster) stop() {
	c.run(60*time.Second, "pg_ctlcluster", c.version, c.name, "stop", "-m", "fast")
}

func (c *cluster) run(bound time.Duration, name string, args ...string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
}
