package faults

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// inboxBin is the binary every test runs, built once per run in TestMain.
var inboxBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	// -short skips the suite (and its build): it starts real processes for minutes.
	if testing.Short() {
		fmt.Println("faults: skipped in -short mode")
		return m.Run()
	}
	// FAULTS_INBOX_BIN reuses a binary built beforehand (saves a build on a busy machine).
	if bin := os.Getenv("FAULTS_INBOX_BIN"); bin != "" {
		inboxBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "inbox-faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults: find the module root:", err)
		return 1
	}
	inboxBin = filepath.Join(dir, "inbox")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", inboxBin, "./cmd/inbox")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "faults: go build ./cmd/inbox: %v\n%s", err, out)
		return 1
	}
	fmt.Printf("faults: built %s in %.0fs\n", inboxBin, time.Since(start).Seconds())
	return m.Run()
}

// moduleRoot is the directory of the go.mod this package belongs to.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a module")
	}
	return filepath.Dir(gomod), nil
}

// suite starts a fault test: skipped under -short, parallel otherwise (`make test-faults`
// runs two at a time, which two busy cores can carry).
func suite(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("fault suite: skipped in -short mode")
	}
	t.Parallel()
}
