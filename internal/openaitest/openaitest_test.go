package openaitest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/openaitest"
)

func post(t *testing.T, ctx context.Context, url, key, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("response is not JSON: %q", b)
	}
	return res, m
}

const reqBody = `{"model":"m1","messages":[{"role":"system","content":"sys"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`

func TestScriptDefaultAndRecording(t *testing.T) {
	s := openaitest.New(t)
	if !strings.HasSuffix(s.URL, "/v1") {
		t.Fatalf("URL %q does not end in /v1", s.URL)
	}
	s.Enqueue(openaitest.Response{Status: 429, ErrorCode: "insufficient_quota", Body: "quota", Headers: map[string]string{"Retry-After": "7"}})
	s.Enqueue(openaitest.Response{Body: "scripted"})

	res, m := post(t, context.Background(), s.URL, "k1", reqBody)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "7" {
		t.Fatalf("status %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	e := m["error"].(map[string]any)
	if e["code"] != "insufficient_quota" || e["type"] != "insufficient_quota" || e["message"] != "quota" {
		t.Fatalf("error = %v", e)
	}

	_, m = post(t, context.Background(), s.URL, "k2", reqBody)
	choice := m["choices"].([]any)[0].(map[string]any)
	msg := choice["message"].(map[string]any)
	if m["object"] != "chat.completion" || m["model"] != "m1" || msg["role"] != "assistant" || msg["content"] != "scripted" || choice["finish_reason"] != "stop" || m["usage"] == nil {
		t.Fatalf("completion = %v", m)
	}

	_, m = post(t, context.Background(), s.URL, "k3", reqBody)
	if got := m["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"]; got != openaitest.DefaultReply {
		t.Fatalf("default content = %v", got)
	}
	s.SetDefault(openaitest.Response{Status: 500})
	if res, _ := post(t, context.Background(), s.URL, "k4", reqBody); res.StatusCode != 500 {
		t.Fatalf("status after SetDefault = %d", res.StatusCode)
	}

	reqs := s.Requests()
	if s.Count() != 4 || len(reqs) != 4 {
		t.Fatalf("Count=%d len(Requests)=%d", s.Count(), len(reqs))
	}
	r := reqs[0]
	if r.Key != "k1" || r.Model != "m1" || len(r.Messages) != 2 || r.Messages[0] != (openaitest.Message{Role: "system", Content: "sys"}) ||
		r.Messages[1].Content != "a\nb" || r.Received.IsZero() {
		t.Fatalf("recorded %+v", r)
	}
}

func TestHang(t *testing.T) {
	s := openaitest.New(t)
	s.Enqueue(openaitest.Response{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/chat/completions", strings.NewReader(reqBody))
	start := time.Now()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("expected the hanging request to fail")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("hang was not released by the client context (%v)", d)
	}
	if s.Count() != 1 {
		t.Fatalf("Count = %d", s.Count())
	}
}
