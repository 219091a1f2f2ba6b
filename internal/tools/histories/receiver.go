package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"sync"
)

// receiver is a loopback webhook endpoint: each path answers the statuses scripted for it in
// turn, the last one from then on. `inbox dev` reaches it only with
// INBOX_WEBHOOK_ALLOW_PRIVATE=true.
type receiver struct {
	url      string
	mu       sync.Mutex
	scripts  map[string][]int
	requests map[string]int
}

func startReceiver(addr string) *receiver {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("webhook receiver: %v", err)
	}
	r := &receiver{url: "http://" + ln.Addr().String(), scripts: map[string][]int{}, requests: map[string]int{}}
	go func() { log.Fatal(http.Serve(ln, r)) }()
	return r
}

// endpoint returns the URL of a new path that answers statuses in turn.
func (r *receiver) endpoint(path string, statuses ...int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scripts["/"+path] = statuses
	return r.url + "/" + path
}

// received is how many requests path has had.
func (r *receiver) received(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests["/"+path]
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	r.mu.Lock()
	script, ok := r.scripts[req.URL.Path]
	n := r.requests[req.URL.Path]
	r.requests[req.URL.Path] = n + 1
	r.mu.Unlock()
	if !ok || len(script) == 0 {
		http.NotFound(w, req)
		return
	}
	w.WriteHeader(script[min(n, len(script)-1)])
}
