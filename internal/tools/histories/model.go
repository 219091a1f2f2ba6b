package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// answer scripts one reply of the fake model: an HTTP status (0 = 200 with a summary),
// after an optional delay.
type answer struct {
	status int
	delay  time.Duration
}

// fakeModel is a loopback chat-completions server whose next answers a scenario scripts;
// unscripted requests get a summary at once.
type fakeModel struct {
	mu       sync.Mutex
	script   []answer
	requests atomic.Int64
}

func startFakeModel(addr string) *fakeModel {
	m := &fakeModel{}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("fake model: %v", err)
	}
	go func() { log.Fatal(http.Serve(ln, m)) }()
	return m
}

func (m *fakeModel) enqueue(a ...answer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.script = append(m.script, a...)
}

func (m *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	m.requests.Add(1)
	m.mu.Lock()
	var a answer
	if len(m.script) > 0 {
		a, m.script = m.script[0], m.script[1:]
	}
	m.mu.Unlock()
	select {
	case <-time.After(a.delay):
	case <-r.Context().Done(): // the attempt was cancelled: a superseded summary
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if a.status != 0 {
		w.WriteHeader(a.status)
		_, _ = fmt.Fprintf(w, `{"error":{"message":"scripted failure %d","type":"server_error","param":null,"code":null}}`, a.status)
		return
	}
	_, _ = fmt.Fprintf(w, `{"id":"chatcmpl-replay","object":"chat.completion","created":%d,"model":"local",
		"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"The visitor asked about shipping to New Zealand. The assistant gave the delivery time. The visitor was satisfied."}}],
		"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}`, time.Now().Unix())
}
