package summarizer_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/openaitest"
	"github.com/bestai/inbox/summarizer"
)

const threeSentences = `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,` +
	`"message":{"role":"assistant","content":"The visitor asked. We answered. It ended well."},"finish_reason":"stop"}]}`

// A burst of calls never has more than Concurrency of them at the endpoint at once, and
// every one of them is answered.
func TestBurstStaysWithinConcurrency(t *testing.T) {
	var inFlight, most, served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(threeSentences))
	}))
	t.Cleanup(srv.Close)
	s := summarizer.New(summarizer.Config{BaseURL: srv.URL + "/v1", Model: testModel, Timeout: 10 * time.Second, Concurrency: 3})
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 {
		wg.Go(func() {
			if _, err := s.Summarize(context.Background(), testKey, transcript); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if most.Load() > 3 || served.Load() != 12 {
		t.Fatalf("at most %d calls in flight (want <= 3), %d served (want 12)", most.Load(), served.Load())
	}
}

// A 429 with Retry-After holds back the next call with the same key until it has passed;
// another key is not held back.
func TestRateLimitPausesTheKey(t *testing.T) {
	s, srv := newSummarizer(t, 5*time.Second)
	srv.Enqueue(openaitest.Response{Status: 429, Headers: map[string]string{"Retry-After": "1"}})
	srv.SetDefault(openaitest.Response{Body: "The visitor asked. We answered. It ended well."})
	if _, err := s.Summarize(context.Background(), testKey, transcript); asError(t, err).Kind != summarizer.KindRateLimited {
		t.Fatalf("first call: %v, want rate_limited", err)
	}
	limited := time.Now()
	if _, err := s.Summarize(context.Background(), "sk-other-key", transcript); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(limited); waited > 800*time.Millisecond {
		t.Errorf("another key waited %v: only the limited key pauses", waited)
	}
	if _, err := s.Summarize(context.Background(), testKey, transcript); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	if gap := reqs[2].Received.Sub(reqs[0].Received); gap < 950*time.Millisecond {
		t.Errorf("the limited key was sent again %v after its 429, want >= Retry-After 1s", gap)
	}
}

// A call that waits its whole MaxQueueWait is not sent: it fails as busy and retryable.
func TestQueueWaitEndsBusyWithoutACall(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetDefault(openaitest.Response{Body: "The visitor asked. We answered. It ended well.", Delay: 2 * time.Second})
	s := summarizer.New(summarizer.Config{BaseURL: srv.URL, Model: testModel, Timeout: 5 * time.Second, Concurrency: 1, MaxQueueWait: 100 * time.Millisecond})
	first := make(chan error, 1)
	go func() {
		_, err := s.Summarize(context.Background(), testKey, transcript)
		first <- err
	}()
	for srv.Count() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	_, err := s.Summarize(context.Background(), testKey, transcript)
	if se := asError(t, err); se.Kind != summarizer.KindBusy || !se.Retryable {
		t.Fatalf("queued call: kind %q retryable %v, want busy and retryable", se.Kind, se.Retryable)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := srv.Count(); n != 1 {
		t.Fatalf("the endpoint got %d calls, want 1: the busy one is never sent", n)
	}
}
