package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/openaitest"
	"github.com/bestai/inbox/internal/testenv"
)

type summaryView struct {
	Status      string  `json:"status"`
	Text        *string `json:"text"`
	GeneratedAt *string `json:"generated_at"`
	Error       *string `json:"error"`
	Attempts    int     `json:"attempts"`
}

func summaryOf(t *testing.T, env *testenv.Env, ws testenv.Workspace, id string) summaryView {
	t.Helper()
	res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil)
	var d struct {
		SummaryStatus string      `json:"summary_status"`
		Summary       summaryView `json:"summary"`
	}
	res.JSON(t, &d)
	if d.SummaryStatus != d.Summary.Status {
		t.Fatalf("summary_status %q differs from summary.status %q", d.SummaryStatus, d.Summary.Status)
	}
	return d.Summary
}

// waitSummary waits until the summary is ready or failed and returns it.
func waitSummary(t *testing.T, env *testenv.Env, ws testenv.Workspace, id string, want string) summaryView {
	t.Helper()
	var s summaryView
	testenv.Eventually(t, 60*time.Second, "summary "+want, func() bool {
		s = summaryOf(t, env, ws, id)
		return s.Status == want
	})
	return s
}

// waitSummaryText waits until the summary is ready with text: a wait on the status alone
// could be answered by the previous summary, still ready with its old text.
func waitSummaryText(t *testing.T, env *testenv.Env, ws testenv.Workspace, id string, text string) summaryView {
	t.Helper()
	var s summaryView
	testenv.Eventually(t, 60*time.Second, fmt.Sprintf("summary ready with %q", text), func() bool {
		s = summaryOf(t, env, ws, id)
		return s.Status == "ready" && s.Text != nil && *s.Text == text
	})
	return s
}

func closeConv(t *testing.T, env *testenv.Env, ws testenv.Workspace, id string) {
	t.Helper()
	if res := setState(env, ws, id, "closed"); res.Code != http.StatusOK {
		t.Fatalf("close: %d %s", res.Code, res.Body)
	}
}

func TestSummaryHappyPathWithPlatformAndBYOKKeys(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{PlatformKey: "sk-platform-key"})
	ws := env.NewWorkspace("Summary Co")
	id := newConversation(t, env, ws, "sum-1")
	for i := 2; i <= 60; i++ {
		body := ingestBody("sum-1", fmt.Sprintf("msg-%03d", i))
		if i%2 == 0 {
			body["message"].(map[string]any)["role"] = "assistant"
		}
		if res := env.Ingest(ws.IngestKey, body); res.Code != http.StatusOK {
			t.Fatalf("ingest %d: %d", i, res.Code)
		}
	}
	closeConv(t, env, ws, id)
	s := waitSummary(t, env, ws, id, "ready")
	if s.Text == nil || *s.Text != openaitest.DefaultReply || s.GeneratedAt == nil || s.Attempts != 1 {
		t.Errorf("summary = %+v", s)
	}
	reqs := env.OpenAI.Requests()
	if len(reqs) != 1 || reqs[0].Key != "sk-platform-key" || reqs[0].Model != "test-model" {
		t.Fatalf("requests = %+v", reqs)
	}
	prompt := reqs[0].Messages[len(reqs[0].Messages)-1].Content
	if n := strings.Count(prompt, `"text"`); n != 50 {
		t.Errorf("the prompt carried %d messages, want the last 50", n)
	}
	if !strings.Contains(prompt, "msg-060") || !strings.Contains(prompt, "msg-011") || strings.Contains(prompt, "msg-010") {
		t.Error("the prompt does not hold exactly the last 50 messages")
	}

	// With a BYOK key set, the next summary uses it instead of the platform key.
	if res := env.As(ws.OwnerToken, http.MethodPut, fmt.Sprintf("/api/v1/workspaces/%s/settings/openai-key", ws.WorkspaceID),
		map[string]any{"api_key": "sk-byok-abcd"}); res.Code != http.StatusOK || strings.Contains(string(res.Body), "sk-byok") {
		t.Fatalf("set BYOK: %d %s", res.Code, res.Body)
	}
	if res := env.As(ws.OwnerToken, http.MethodPost, convPath(ws, id, "/summary/retry"), nil); res.Code != http.StatusAccepted {
		t.Fatalf("retry: %d %s", res.Code, res.Body)
	}
	testenv.Eventually(t, 30*time.Second, "second model call", func() bool { return env.OpenAI.Count() == 2 })
	if got := env.OpenAI.Requests()[1].Key; got != "sk-byok-abcd" {
		t.Errorf("second call used key %q, want the BYOK key", got)
	}
	// Both summaries have the same text: the BYOK key kind tells the second one apart.
	var keyKind string
	testenv.Eventually(t, 60*time.Second, "the BYOK summary ready", func() bool {
		if err := env.Store.DB.NewSelect().Table("conversations").Column("summary_key_kind").Where("id = ?", id).Scan(t.Context(), &keyKind); err != nil {
			t.Fatal(err)
		}
		return keyKind == "byok" && summaryOf(t, env, ws, id).Status == "ready"
	})
}

func TestSummaryRetriesAfterServerError(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{PlatformKey: "sk-platform"})
	ws := env.NewWorkspace("Retry 500")
	id := newConversation(t, env, ws, "s500")
	env.OpenAI.Enqueue(openaitest.Response{Status: 500})
	closeConv(t, env, ws, id)
	s := waitSummary(t, env, ws, id, "ready")
	if s.Attempts != 2 || env.OpenAI.Count() != 2 {
		t.Errorf("attempts = %d, calls = %d, want 2 and 2", s.Attempts, env.OpenAI.Count())
	}
}

func TestSummaryHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{PlatformKey: "sk-platform"})
	ws := env.NewWorkspace("Retry 429")
	id := newConversation(t, env, ws, "s429")
	env.OpenAI.Enqueue(openaitest.Response{Status: 429, Headers: map[string]string{"Retry-After": "3"}})
	closeConv(t, env, ws, id)
	waitSummary(t, env, ws, id, "ready")
	reqs := env.OpenAI.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d calls, want 2", len(reqs))
	}
	if gap := reqs[1].Received.Sub(reqs[0].Received); gap < 3*time.Second {
		t.Errorf("retried after %s, before the 3s Retry-After", gap)
	}
}

func TestSummaryNonRetryableFailuresStopAtOnce(t *testing.T) {
	t.Parallel()
	for name, resp := range map[string]openaitest.Response{
		"insufficient_quota": {Status: 429, ErrorCode: "insufficient_quota"},
		"unauthorized":       {Status: 401},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := testenv.New(t, testenv.Options{PlatformKey: "sk-platform"})
			ws := env.NewWorkspace("Fail " + name)
			id := newConversation(t, env, ws, "fail")
			env.OpenAI.SetDefault(resp)
			closeConv(t, env, ws, id)
			s := waitSummary(t, env, ws, id, "failed")
			if s.Error == nil || *s.Error == "" {
				t.Error("a failed summary has no readable error")
			}
			time.Sleep(2 * time.Second) // longer than the first retry interval
			if n := env.OpenAI.Count(); n != 1 {
				t.Errorf("%d calls, want exactly 1", n)
			}
		})
	}
}

func TestSummaryWithoutKeyFailsThenRetryWorks(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("No Key")
	id := newConversation(t, env, ws, "nokey")
	closeConv(t, env, ws, id)
	s := waitSummary(t, env, ws, id, "failed")
	if s.Error == nil || !strings.Contains(*s.Error, "no OpenAI key configured") || env.OpenAI.Count() != 0 {
		t.Errorf("summary = %+v, calls = %d", s, env.OpenAI.Count())
	}
	env.As(ws.OwnerToken, http.MethodPut, fmt.Sprintf("/api/v1/workspaces/%s/settings/openai-key", ws.WorkspaceID), map[string]any{"api_key": "sk-late-key-9999"})
	if res := env.As(ws.OwnerToken, http.MethodPost, convPath(ws, id, "/summary/retry"), nil); res.Code != http.StatusAccepted {
		t.Fatalf("retry: %d %s", res.Code, res.Body)
	}
	s = waitSummary(t, env, ws, id, "ready")
	if s.Error != nil {
		t.Errorf("the old error survived a ready summary: %+v", s)
	}
}

func TestSummaryAttemptTimesOutAndIsRetried(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{PlatformKey: "sk-platform", SummaryTimeout: 300 * time.Millisecond})
	ws := env.NewWorkspace("Hang")
	id := newConversation(t, env, ws, "hang")
	env.OpenAI.Enqueue(openaitest.Response{Hang: true})
	closeConv(t, env, ws, id)
	s := waitSummary(t, env, ws, id, "ready")
	if s.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", s.Attempts)
	}
}

func TestSummaryCompletesOnceAfterWorkerRestart(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{PlatformKey: "sk-platform", SummaryTimeout: 30 * time.Second})
	ws := env.NewWorkspace("Restart")
	id := newConversation(t, env, ws, "restart")
	env.OpenAI.Enqueue(openaitest.Response{Hang: true})
	closeConv(t, env, ws, id)
	testenv.Eventually(t, 30*time.Second, "the model call", func() bool { return env.OpenAI.Count() == 1 })
	env.StopWorker()
	env.StartWorker()
	waitSummary(t, env, ws, id, "ready")
	if n := countActions(audit(t, env, ws, id), "summary_ready"); n != 1 {
		t.Errorf("%d summary_ready rows, want 1", n)
	}
}

func TestSummaryRetryReopenAndReclose(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{PlatformKey: "sk-platform"})
	ws := env.NewWorkspace("Lifecycle Summary")
	id := newConversation(t, env, ws, "life")
	reply := func(text string) { env.OpenAI.SetDefault(openaitest.Response{Body: text}) }

	reply("First summary. It has two more. Like this.")
	if res := env.As(ws.OwnerToken, http.MethodPost, convPath(ws, id, "/summary/retry"), nil); res.Code != http.StatusConflict || res.ErrorCode() != "invalid_transition" {
		t.Errorf("retry while open: %d %s", res.Code, res.Body)
	}
	closeConv(t, env, ws, id)
	s := waitSummary(t, env, ws, id, "ready")
	if *s.Text != "First summary. It has two more. Like this." {
		t.Fatalf("first summary %q", *s.Text)
	}
	const retried = "Retried summary. Fresh text. Overwrites."
	reply(retried)
	res := env.As(ws.OwnerToken, http.MethodPost, convPath(ws, id, "/summary/retry"), nil)
	var accepted struct {
		Summary summaryView `json:"summary"`
	}
	res.JSON(t, &accepted)
	// The 202 shows the summary as read after the retry was accepted: still pending, or
	// already ready with the new text when the model answered before the body was read.
	a := accepted.Summary
	if res.Code != http.StatusAccepted || !(a.Status == "pending" || a.Status == "ready" && a.Text != nil && *a.Text == retried) {
		t.Fatalf("retry: %d %s", res.Code, res.Body)
	}
	waitSummaryText(t, env, ws, id, retried)
	if res := setState(env, ws, id, "open"); res.Code != http.StatusOK {
		t.Fatal(res.Code)
	}
	if s = summaryOf(t, env, ws, id); s.Status != "ready" || *s.Text != retried {
		t.Errorf("reopening lost the summary: %+v", s)
	}
	reply("Closed again. New text. Replaces.")
	closeConv(t, env, ws, id)
	waitSummaryText(t, env, ws, id, "Closed again. New text. Replaces.")
}

func TestStaleSummaryAttemptLoses(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{PlatformKey: "sk-platform", SummaryTimeout: 20 * time.Second})
	ws := env.NewWorkspace("Stale")
	id := newConversation(t, env, ws, "stale")
	env.OpenAI.Enqueue(openaitest.Response{Body: "Old summary. Late. Stale.", Delay: 3 * time.Second})
	env.OpenAI.SetDefault(openaitest.Response{Body: "New summary. Quick. Wins."})
	closeConv(t, env, ws, id)
	testenv.Eventually(t, 30*time.Second, "the slow call", func() bool { return env.OpenAI.Count() == 1 })
	if res := env.As(ws.OwnerToken, http.MethodPost, convPath(ws, id, "/summary/retry"), nil); res.Code != http.StatusAccepted {
		t.Fatalf("retry: %d %s", res.Code, res.Body)
	}
	waitSummary(t, env, ws, id, "ready")
	time.Sleep(4 * time.Second) // past the slow answer
	if s := summaryOf(t, env, ws, id); *s.Text != "New summary. Quick. Wins." {
		t.Errorf("a stale attempt overwrote the newer summary: %q", *s.Text)
	}
}
