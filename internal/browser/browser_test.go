package browser

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// site serves a few pages with known faults.
func site() *httptest.Server {
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; img-src 'self' data:")
			fmt.Fprint(w, `<!doctype html><title>t</title><link rel="icon" href="data:,">`+body)
		}
	}
	script := func(js string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, js)
		}
	}
	mux.HandleFunc("/clean", page(`<p id="p">hello</p><a id="dl" href="/leads.csv">Export CSV</a>`))
	mux.HandleFunc("/links", page(`<h1>Start</h1><a id="to-slow" href="/slow">Slow</a>`))
	// slow sends its heading and first row, then the rest of its table a moment later, as a
	// busy server's page arrives.
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>t</title><link rel="icon" href="data:,"><h1>Slow page</h1><table><tbody><tr><td>1</td></tr>`)
		w.(http.Flusher).Flush()
		time.Sleep(700 * time.Millisecond)
		fmt.Fprint(w, `<tr><td>2</td></tr><tr><td>3</td></tr></tbody></table>`)
	})
	mux.HandleFunc("/console", page(`<script src="/console.js"></script>`))
	mux.HandleFunc("/console.js", script(`console.error("boom from the page")`))
	mux.HandleFunc("/throw", page(`<script src="/throw.js"></script>`))
	mux.HandleFunc("/throw.js", script(`throw new Error("uncaught on purpose")`))
	mux.HandleFunc("/missing", page(`<img src="/nope.png" alt="">`))
	mux.HandleFunc("/inline", page(`<script>window.x = 1</script>`))
	mux.HandleFunc("/leads.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Disposition", `attachment; filename="leads.csv"`)
		fmt.Fprint(w, "id,status\n1,new\n")
	})
	mux.HandleFunc("/setcookie", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "who", Value: "first", Path: "/"})
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/cookie", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("who")
		if c == nil {
			fmt.Fprint(w, "none")
			return
		}
		fmt.Fprint(w, c.Value)
	})
	return httptest.NewServer(mux)
}

func TestRecorder(t *testing.T) {
	srv := site()
	t.Cleanup(srv.Close) // after the browser's (cleanups run last first): no page outlives its server
	b := New(t)

	clean := b.NewTab()
	clean.Navigate(srv.URL + "/clean")
	clean.WaitText("#p", "hello", 5*time.Second)
	clean.AssertClean(t)

	for path, want := range map[string]string{
		"/console": "console.error: boom from the page",
		"/throw":   "uncaught on purpose",
		"/missing": "response 404",
		"/inline":  "Content Security Policy",
	} {
		tab := b.NewTab()
		tab.Navigate(srv.URL + path)
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(strings.Join(tab.Problems(), "\n"), want) {
			if time.Now().After(deadline) {
				t.Errorf("%s: want a problem with %q, got %q", path, want, tab.Problems())
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	expected := b.NewTab()
	expected.Expect("/nope.png", 404)
	expected.Navigate(srv.URL + "/missing")
	expected.AssertClean(t)
}

// TestWaitTextWaitsForTheWholePage: a click that navigates returns at once, and the new
// page's heading arrives before its table's rows; what a test reads after WaitText is the
// whole page (a CI run once counted 3 rows of a page's 4).
func TestWaitTextWaitsForTheWholePage(t *testing.T) {
	srv := site()
	t.Cleanup(srv.Close)
	tab := New(t).NewTab()
	tab.Navigate(srv.URL + "/links")
	tab.Click("#to-slow")
	tab.WaitText("h1", "Slow page", 5*time.Second)
	if n := Eval[int](tab, `document.querySelectorAll("tbody tr").length`); n != 3 {
		t.Fatalf("rows after the heading showed: %d, want 3", n)
	}
}

func TestDownloadsAndIsolation(t *testing.T) {
	srv := site()
	t.Cleanup(srv.Close) // after the browser's (cleanups run last first): no page outlives its server
	b := New(t)

	tab := b.NewTab()
	dir := t.TempDir()
	dl := tab.Downloads(dir)
	tab.Navigate(srv.URL + "/clean")
	tab.Click("#dl")
	got := dl.Wait(10 * time.Second)
	body, err := os.ReadFile(got.Path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "leads.csv" || string(body) != "id,status\n1,new\n" || filepath.Dir(got.Path) != dir {
		t.Fatalf("download %+v: %q", got, body)
	}
	tab.AssertClean(t)

	// Tabs share cookies unless one is Isolated.
	tab.Navigate(srv.URL + "/setcookie")
	same := b.NewTab()
	same.Navigate(srv.URL + "/cookie")
	if got := same.Text("body"); got != "first" {
		t.Errorf("a second tab sees cookie %q, want first", got)
	}
	other := b.NewTab(Isolated())
	other.Navigate(srv.URL + "/cookie")
	if got := other.Text("body"); got != "none" {
		t.Errorf("an isolated tab sees cookie %q, want none", got)
	}
}

func TestCloseEndsTheProcess(t *testing.T) {
	b := New(t)
	pid := b.cmd.Process.Pid
	b.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The group leader is waited for by os/exec, so once gone, it is gone.
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromium %d still runs after Close", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestMissingChromium(t *testing.T) {
	t.Setenv("INBOX_CHROMIUM", "/nonexistent/chromium")
	t.Setenv("INBOX_BROWSER_OPTIONAL", "1")
	ran := false
	t.Run("optional", func(t *testing.T) {
		defer func() { ran = !t.Skipped() }()
		New(t)
	})
	if ran {
		t.Fatal("a missing browser with INBOX_BROWSER_OPTIONAL=1 should skip")
	}
}
