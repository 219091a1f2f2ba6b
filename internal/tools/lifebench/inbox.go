package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/bestai/inbox/internal/devproc"
)

// freeAddr asks the kernel for a free loopback port. Another process may take it before
// inbox binds it; start retries with fresh ports once when that happens.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// creds are a workspace's secrets: demo.json of `inbox dev`, or what `inbox workspace
// create` prints.
type creds struct {
	WorkspaceID string `json:"workspace_id"`
	IngestKey   string `json:"ingest_key"`
	OwnerToken  string `json:"owner_token"`
}

// inbox is one `inbox dev` process with its own ports, data directory and database.
type inbox struct {
	bin, store, adminURL   string
	shards                 string // "" for the store's default
	dbName, dbURL, dataDir string
	httpAddr, tmpAddr, ui  string
	pprofAddr, openaiURL   string
	cmd                    *exec.Cmd
	exited                 chan struct{}
	demo                   creds
}

func newInbox(bin, store, adminURL, openaiURL string, pprof bool) (*inbox, error) {
	admin, err := url.Parse(adminURL)
	if err != nil {
		return nil, err
	}
	// "postgres@16" is the postgres store with 16 history shards.
	name, shards, _ := strings.Cut(store, "@")
	in := &inbox{bin: bin, store: name, shards: shards, adminURL: adminURL, openaiURL: openaiURL}
	in.dbName = fmt.Sprintf("lifebench_%s%s_%d", name, shards, time.Now().UnixNano()%1_000_000)
	u := *admin
	u.Path = "/" + in.dbName
	in.dbURL = u.String()
	if in.dataDir, err = os.MkdirTemp("", "inbox-lifebench-"); err != nil {
		return nil, err
	}
	if pprof {
		in.pprofAddr = "-" // picked with the other ports
	}
	return in, nil
}

func (in *inbox) base() string { return "http://" + in.httpAddr }

func (in *inbox) env() []string {
	env := append(os.Environ(),
		"DATABASE_URL="+in.dbURL,
		"INBOX_HTTP_ADDR="+in.httpAddr,
		"TEMPORAL_ADDRESS="+in.tmpAddr,
		"INBOX_TEMPORAL_UI_ADDR="+in.ui,
		"INBOX_DATA_DIR="+in.dataDir,
		"INBOX_TEMPORAL_STORE="+in.store,
		"INBOX_TEMPORAL_SHARDS="+in.shards, // empty: the store's default
		"OPENAI_BASE_URL="+in.openaiURL,
		"OPENAI_API_KEY=sk-lifebench",
		"INBOX_SECRET_KEY=",
		// The limits must not cap the ingest figures: far above anything 2 cores can send.
		"INBOX_INGEST_RATE=1000000", "INBOX_INGEST_BURST=1000000",
		"INBOX_INGEST_CONVERSATION_RATE=1000000", "INBOX_INGEST_CONVERSATION_BURST=1000000",
		"INBOX_PPROF_ADDR=",
		"INBOX_METRICS_ADDR=off", // not read; its default port may be taken
	)
	if in.pprofAddr != "" {
		env = append(env, "INBOX_PPROF_ADDR="+in.pprofAddr)
	}
	return env
}

// start runs `inbox dev` and waits (at most 150 s) for /readyz and demo.json.
func (in *inbox) start(ctx context.Context) (time.Duration, error) {
	for try := 1; ; try++ {
		took, err := in.startOnce(ctx)
		if err == nil {
			return took, nil
		}
		if try < 3 && strings.Contains(tail(filepath.Join(in.dataDir, "stderr"), 2000), "in use") {
			in.kill()
			continue
		}
		return 0, fmt.Errorf("%w\n--- stderr (tail) ---\n%s", err, tail(filepath.Join(in.dataDir, "stderr"), 4000))
	}
}

func (in *inbox) startOnce(ctx context.Context) (time.Duration, error) {
	for _, a := range []*string{&in.httpAddr, &in.tmpAddr, &in.ui} {
		var err error
		if *a, err = freeAddr(); err != nil {
			return 0, err
		}
	}
	if in.pprofAddr != "" {
		var err error
		if in.pprofAddr, err = freeAddr(); err != nil {
			return 0, err
		}
	}
	stdout, err := os.Create(filepath.Join(in.dataDir, "stdout"))
	if err != nil {
		return 0, err
	}
	stderr, err := os.Create(filepath.Join(in.dataDir, "stderr"))
	if err != nil {
		stdout.Close()
		return 0, err
	}
	cmd := exec.Command(in.bin, "dev")
	cmd.Env, cmd.Stdout, cmd.Stderr = in.env(), stdout, stderr
	cmd.SysProcAttr = procAttr()
	began := time.Now()
	if err := cmd.Start(); err != nil {
		stdout.Close()
		stderr.Close()
		return 0, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		stdout.Close()
		stderr.Close()
		close(exited)
	}()
	in.cmd, in.exited = cmd, exited
	demo, err := devproc.WaitReady(ctx, in.base(), in.dataDir, exited, 150*time.Second)
	if err != nil {
		return 0, fmt.Errorf("inbox dev: %w: %v", err, cmd.ProcessState)
	}
	in.demo = creds{WorkspaceID: demo.WorkspaceID, IngestKey: demo.IngestKey, OwnerToken: demo.OwnerToken}
	return time.Since(began), nil
}

// createWorkspace runs `inbox workspace create` against the same database.
func (in *inbox) createWorkspace(ctx context.Context, name string) (creds, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, in.bin, "workspace", "create", "--name", name, "--owner-email", name+"@bench.invalid")
	cmd.Env = in.env()
	out, err := cmd.Output()
	if err != nil {
		return creds{}, fmt.Errorf("inbox workspace create: %w", err)
	}
	var c creds
	if err := json.Unmarshal(out, &c); err != nil || c.IngestKey == "" {
		return creds{}, fmt.Errorf("inbox workspace create printed %q", out)
	}
	return c, nil
}

// cpu is the process's user+system CPU time so far, from /proc (0 elsewhere).
func (in *inbox) cpu() time.Duration {
	if in.cmd == nil || in.cmd.Process == nil {
		return 0
	}
	return procCPU(in.cmd.Process.Pid)
}

// procCPU is process pid's user+system CPU time so far, from /proc (0 elsewhere).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) ends with ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// stop ends the process (SIGTERM, then SIGKILL after 20 s).
func (in *inbox) stop() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(20 * time.Second):
		in.kill()
	}
}

func (in *inbox) kill() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	_ = in.cmd.Process.Kill()
	select {
	case <-in.exited:
	case <-time.After(30 * time.Second):
	}
}

// cleanup stops the process and drops its databases and data directory.
func (in *inbox) cleanup() error {
	in.stop()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(in.adminURL)))
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for _, name := range []string{in.dbName, in.dbName + "_temporal", in.dbName + "_temporal_visibility"} {
		if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", name, err))
		}
	}
	if err := os.RemoveAll(in.dataDir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
