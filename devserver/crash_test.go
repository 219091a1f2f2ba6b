package devserver

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The test binary doubles as the process that gets killed: with these set, it only runs the
// embedded server until it is killed.
const (
	helperDirEnv  = "INBOX_DEVSERVER_HELPER_DIR"
	helperAddrEnv = "INBOX_DEVSERVER_HELPER_ADDR"
	helperPGEnv   = "INBOX_DEVSERVER_HELPER_POSTGRES" // the Postgres URL, for StorePostgres
)

// crashOptions are the options of the helper and of the restart after it is killed.
func crashOptions(dir, addr, postgresURL string) Options {
	o := Options{FrontendAddr: addr, DataDir: dir, Namespace: "default"}
	if postgresURL != "" {
		o.Store, o.PostgresURL = StorePostgres, postgresURL
	}
	return o
}

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperDirEnv); dir != "" {
		if _, err := Start(crashOptions(dir, os.Getenv(helperAddrEnv), os.Getenv(helperPGEnv))); err != nil {
			fmt.Println("helper:", err)
			os.Exit(1)
		}
		fmt.Println("started")
		select {}
	}
	os.Exit(m.Run())
}

const crashQueue = "crash-test"

// waitForUpdate finishes on its first "set" update, like a lifecycle transition would.
func waitForUpdate(ctx workflow.Context) (string, error) {
	got := ""
	if err := workflow.SetUpdateHandler(ctx, "set", func(_ workflow.Context, v string) (string, error) {
		got = v
		return v, nil
	}); err != nil {
		return "", err
	}
	err := workflow.Await(ctx, func() bool { return got != "" })
	return got, err
}

// TestRestartAfterKillServesSoon kills a real server process with SIGKILL, so
// nothing is cleaned up (with ringpop, its membership rows stayed in SQLite and the next
// start waited for them to expire), then starts again on the same store and expects both
// the old workflow and a new one to take an update soon after.
func TestRestartAfterKillServesSoon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal twice")
	}
	t.Run("sqlite", func(t *testing.T) { restartAfterKill(t, "") })
	t.Run("postgres", func(t *testing.T) { restartAfterKill(t, freshPostgres(t)) })
}

func restartAfterKill(t *testing.T, postgresURL string) {
	// A helper that dies before it says "started" is started once more on a fresh port (a
	// CI run once read nothing from one: the port freePort chose can be taken meanwhile).
	dir, addr, helper := startHelper(t, postgresURL)
	if helper == nil {
		t.Log("the helper server died before it started; starting it once more")
		if dir, addr, helper = startHelper(t, postgresURL); helper == nil {
			t.Fatal("the helper server died twice before it started")
		}
	}
	defer helper.Process.Kill() //nolint:errcheck // already dead on the happy path
	c := dial(t, addr, time.Now().Add(60*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "before-kill", TaskQueue: crashQueue}, "WaitForUpdate"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()

	// The target is 10 s (the fault suite reports the figure); the bound is wider so a busy
	// CI machine does not fail it, while the old behaviour (50 s or more, or an exit) does.
	t0 := time.Now()
	deadline := t0.Add(45 * time.Second)
	s, err := Start(crashOptions(dir, addr, postgresURL))
	if err != nil {
		t.Fatalf("restart after kill: %v", err)
	}
	defer s.Stop()
	c = dial(t, addr, deadline)
	defer c.Close()
	w := sdkworker.New(c, crashQueue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(waitForUpdate, workflow.RegisterOptions{Name: "WaitForUpdate"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	uctx, ucancel := context.WithDeadline(context.Background(), deadline)
	defer ucancel()
	if _, err := c.ExecuteWorkflow(uctx, client.StartWorkflowOptions{ID: "after-kill", TaskQueue: crashQueue}, "WaitForUpdate"); err != nil {
		t.Fatalf("start a workflow %v after the restart: %v", time.Since(t0), err)
	}
	for _, id := range []string{"before-kill", "after-kill"} {
		h, err := c.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateName: "set", Args: []any{"x"}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(uctx, nil)
		}
		if err != nil {
			t.Fatalf("update %s %v after the restart: %v", id, time.Since(t0), err)
		}
	}
	t.Logf("restarted after SIGKILL and served updates in %v", time.Since(t0).Round(time.Millisecond))
}

// dial connects to the frontend, retrying until deadline.
func dial(t *testing.T, addr string, deadline time.Time) client.Client {
	t.Helper()
	for {
		c, err := client.Dial(client.Options{HostPort: addr, Namespace: "default"})
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("dial %s: %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startHelper starts the helper server (TestMain) in a fresh directory on a free port and
// waits for it to say "started"; a nil command means it died first (its output is logged).
func startHelper(t *testing.T, postgresURL string) (dir, addr string, helper *exec.Cmd) {
	t.Helper()
	dir = t.TempDir()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", p)
	helper = exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperDirEnv+"="+dir, helperAddrEnv+"="+addr, helperPGEnv+"="+postgresURL)
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		started <- strings.TrimSpace(line)
	}()
	select {
	case line := <-started:
		if line == "started" {
			return dir, addr, helper
		}
		_ = helper.Process.Kill()
		t.Logf("helper server said %q, then: %v", line, helper.Wait())
		return "", "", nil
	case <-time.After(90 * time.Second):
		_ = helper.Process.Kill()
		t.Fatal("helper server did not start in 90s")
	}
	return "", "", nil
}
