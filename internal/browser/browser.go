// Package browser drives Debian's Chromium from tests, headless, through the
// DevTools protocol (chromedp), so that pages are checked in a real browser:
// their scripts run, the Content-Security-Policy holds, htmx swaps happen.
//
// Every tab records what a person would see as breakage: console errors,
// uncaught exceptions, browser log errors (a CSP refusal is one), requests
// that failed or answered 400 and above. A test declares the statuses it
// expects with Tab.Expect and ends with AssertClean.
//
// The package never downloads a browser: it uses /usr/bin/chromium (or
// INBOX_CHROMIUM), and tells how to install it when missing. It is for tests
// only; nothing outside _test.go files may import it.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package puts the browser.
const DefaultPath = "/usr/bin/chromium"

// DefaultTimeout bounds each helper call of a Tab.
const DefaultTimeout = 20 * time.Second

// Path returns the Chromium to use: INBOX_CHROMIUM, else DefaultPath.
func Path() string {
	if p := os.Getenv("INBOX_CHROMIUM"); p != "" {
		return p
	}
	return DefaultPath
}

// Browser is one headless Chromium process, owned by one test.
type Browser struct {
	t      testing.TB
	ctx    context.Context // the browser's root chromedp context
	cancel context.CancelFunc
	cmd    *exec.Cmd

	mu   sync.Mutex
	tabs []*Tab
}

// New starts a headless Chromium for the test and stops it (the whole
// process group) when the test ends. When Chromium is missing the test
// fails, saying how to install it, unless INBOX_BROWSER_OPTIONAL=1, which
// skips it instead.
func New(t testing.TB) *Browser {
	t.Helper()
	path := Path()
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("browser tests need Chromium at %s (set INBOX_CHROMIUM to use another): "+
			"install it with `apt-get install -y chromium` (Debian), or set INBOX_BROWSER_OPTIONAL=1 to skip these tests", path)
		if os.Getenv("INBOX_BROWSER_OPTIONAL") == "1" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	dir, err := os.MkdirTemp("", "inbox-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{t: t}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
		chromedp.Env("LANG=en_US.UTF-8", "LANGUAGE=en_US"),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			// Its own process group, so Close can kill every helper process
			// Chromium forked, and a dying test binary takes it along.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
			b.cmd = cmd
		}),
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b.ctx = ctx
	b.cancel = func() { cancel(); allocCancel() }
	t.Cleanup(func() {
		b.Close()
		_ = os.RemoveAll(dir)
	})
	// The first Run starts the process; it must not carry a timeout (that
	// would end the browser), so bound it from outside.
	started := make(chan error, 1)
	go func() { _, err := chromedp.Run(ctx, chromedp.Sleep(0)); started <- err }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("browser: start %s: %v", path, err)
		}
	case <-time.After(60 * time.Second):
		b.Close()
		t.Fatalf("browser: %s did not start within 60s", path)
	}
	return b
}

// Close stops the browser and kills what is left of its process group. It
// runs on t.Cleanup; calling it earlier is fine.
func (b *Browser) Close() {
	if b.cancel != nil {
		b.cancel()
		b.cancel = nil
	}
	if b.cmd != nil && b.cmd.Process != nil {
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// TabOption changes how NewTab opens a tab.
type TabOption func(*tabConfig)

type tabConfig struct{ isolated bool }

// Isolated opens the tab in a fresh browser context (its own cookies and
// storage), as a second person on another computer would be.
func Isolated() TabOption { return func(c *tabConfig) { c.isolated = true } }

// NewTab opens a tab. Its recorder starts before the tab loads anything.
func (b *Browser) NewTab(opts ...TabOption) *Tab {
	b.t.Helper()
	var cfg tabConfig
	for _, o := range opts {
		o(&cfg)
	}
	tab := &Tab{b: b, t: b.t, Timeout: DefaultTimeout, requests: map[string]string{}, downloads: map[string]bool{}}
	copts := []chromedp.ContextOption{chromedp.WithListener(tab.record)}
	if cfg.isolated {
		copts = append(copts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(b.ctx, copts...)
	tab.ctx, tab.cancel = ctx, cancel
	if _, err := chromedp.Run(ctx, chromedp.Sleep(0)); err != nil {
		b.t.Fatalf("browser: open tab: %v", err)
	}
	b.mu.Lock()
	b.tabs = append(b.tabs, tab)
	b.mu.Unlock()
	return tab
}

// AssertClean fails t listing every problem any tab of the browser recorded.
func (b *Browser) AssertClean(t testing.TB) {
	t.Helper()
	b.mu.Lock()
	tabs := append([]*Tab(nil), b.tabs...)
	b.mu.Unlock()
	for _, tab := range tabs {
		tab.AssertClean(t)
	}
}

// run runs an action on the tab's target with the tab's timeout.
func run[T any](tab *Tab, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(tab.ctx, tab.Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (after %s)", err, tab.Timeout)
	}
	return v, err
}

// call runs a protocol command on the tab's target.
func call[P, R any](tab *Tab, cmd cdp.Command[P, R], params P) (R, error) {
	ctx, cancel := context.WithTimeout(tab.ctx, tab.Timeout)
	defer cancel()
	return chromedp.Call(ctx, cmd, params)
}

func short(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
