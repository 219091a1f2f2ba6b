// Package openaitest provides a local, scriptable HTTP server that speaks the
// OpenAI chat-completions API (POST {base}/chat/completions), for tests in any
// package that talks to an OpenAI-compatible endpoint.
//
// A test creates a server with [New], points its client at [Server.URL]
// (a base URL ending in /v1, suitable for OPENAI_BASE_URL or
// option.WithBaseURL), scripts answers with [Server.Enqueue] and inspects
// what the client sent with [Server.Requests]. No real network or API key is
// involved.
//
//	srv := openaitest.New(t)
//	srv.Enqueue(openaitest.Response{Status: 429, Headers: map[string]string{"Retry-After": "7"}})
//	srv.Enqueue(openaitest.Response{Body: "First. Second. Third."})
//
// The 200 answer is a valid chat.completion object; error answers use
// OpenAI's error envelope {"error":{"message","type","param","code"}}.
// All methods are safe for concurrent use.
package openaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// DefaultReply is the assistant content of the default 200 answer, used when
// the script is empty and [Server.SetDefault] was not called.
const DefaultReply = "The visitor asked for help with a delayed order. " +
	"The assistant checked the shipment and confirmed it will arrive tomorrow. " +
	"The visitor thanked the assistant and the conversation was closed."

// Response scripts one answer of the server.
type Response struct {
	// Status is the HTTP status code; 0 means 200.
	Status int
	// Body is the assistant message content for a 200 answer. For an error
	// status it is used as the error message (default: the status text).
	Body string
	// Headers are added to the HTTP response (e.g. "Retry-After": "7").
	Headers map[string]string
	// ErrorCode is error.code of an error answer, e.g. "insufficient_quota".
	ErrorCode string
	// ErrorType is error.type of an error answer. If empty it is derived from
	// the status and ErrorCode the way the OpenAI API does it.
	ErrorType string
	// Raw, if non-empty, is sent verbatim as the (JSON) response body instead
	// of a generated one, e.g. `{"id":"x","object":"chat.completion","choices":[]}`.
	Raw string
	// Hang blocks the answer until the request context ends (client timeout
	// or cancellation) or the server is closed. Nothing is written.
	Hang bool
	// Delay holds the answer back this long (less if the request ends first, in which case
	// nothing is written): a slow but eventually successful model.
	Delay time.Duration
}

// Message is one chat message as received by the server.
type Message struct {
	Role    string
	Content string // string content, or the text parts joined with "\n"
}

// Request is one recorded request.
type Request struct {
	Method   string
	Path     string
	Key      string // bearer value of the Authorization header ("" if absent)
	Model    string
	Messages []Message
	Body     []byte      // raw request body
	Header   http.Header // the request's headers (X-Stainless-Retry-Count says a client's retry)
	Received time.Time   // when the server received the request
}

// Server is a local chat-completions server. Create it with [New].
type Server struct {
	// URL is the base URL, ending in /v1, to pass as OPENAI_BASE_URL or
	// option.WithBaseURL.
	URL string

	srv     *httptest.Server
	done    chan struct{}
	counter atomic.Int64

	mu       sync.Mutex
	script   []Response
	def      Response
	requests []Request
}

// New starts a server that is closed with t.Cleanup.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		done: make(chan struct{}),
		def:  Response{Status: http.StatusOK, Body: DefaultReply},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(func() {
		close(s.done) // release hanging handlers first, or Close would wait for them
		s.srv.Close()
	})
	return s
}

// Enqueue appends r to the script. Scripted answers are used in FIFO order,
// one per request; when the script is empty the default answer is used.
func (s *Server) Enqueue(r Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, r)
}

// SetDefault replaces the answer used when the script is empty.
func (s *Server) SetDefault(r Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = r
}

// Requests returns a copy of the recorded requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Messages = append([]Message(nil), r.Messages...)
		r.Body = append([]byte(nil), r.Body...)
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Count returns the number of requests received so far (any path, including
// requests that are still hanging).
func (s *Server) Count() int {
	return int(s.counter.Load())
}

type wireMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type wireRequest struct {
	Model    string        `json:"model"`
	Messages []wireMessage `json:"messages"`
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		Body:     body,
		Header:   r.Header.Clone(),
		Received: time.Now(),
	}
	if auth := r.Header.Get("Authorization"); len(auth) >= 7 && strings.EqualFold(auth[:7], "bearer ") {
		rec.Key = strings.TrimSpace(auth[7:])
	}
	var wr wireRequest
	parseErr := json.Unmarshal(body, &wr)
	if parseErr == nil {
		rec.Model = wr.Model
		for _, m := range wr.Messages {
			rec.Messages = append(rec.Messages, Message{Role: m.Role, Content: contentText(m.Content)})
		}
	}

	s.mu.Lock()
	s.requests = append(s.requests, rec)
	n := s.counter.Add(1)
	s.mu.Unlock()

	// Malformed requests are answered without consuming the script.
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeError(w, http.StatusNotFound, "Unknown request URL: "+r.Method+" "+r.URL.Path, "invalid_request_error", "unknown_url")
		return
	}
	if parseErr != nil {
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error", "")
		return
	}

	s.mu.Lock()
	resp := s.def
	if len(s.script) > 0 {
		resp = s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()

	if resp.Hang {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}

	if resp.Delay > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-time.After(resp.Delay):
		}
	}

	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Raw != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp.Raw)
		return
	}
	if status >= 400 {
		msg := resp.Body
		if msg == "" {
			msg = http.StatusText(status)
		}
		typ := resp.ErrorType
		if typ == "" {
			typ = errorType(status, resp.ErrorCode)
		}
		writeError(w, status, msg, typ, resp.ErrorCode)
		return
	}
	model := wr.Model
	if model == "" {
		model = "test-model"
	}
	prompt := 0
	for _, m := range rec.Messages {
		prompt += len(strings.Fields(m.Content))
	}
	completion := len(strings.Fields(resp.Body))
	writeJSON(w, status, map[string]any{
		"id":      fmt.Sprintf("chatcmpl-test%d", n),
		"object":  "chat.completion",
		"created": rec.Received.Unix(),
		"model":   model,
		"choices": []any{map[string]any{
			"index": 0,
			"message": map[string]any{
				"role":        "assistant",
				"content":     resp.Body,
				"refusal":     nil,
				"annotations": []any{},
			},
			"logprobs":      nil,
			"finish_reason": "stop",
		}},
		"usage": map[string]any{
			"prompt_tokens":     prompt,
			"completion_tokens": completion,
			"total_tokens":      prompt + completion,
		},
		"system_fingerprint": "fp_openaitest",
	})
}

// contentText flattens a message content: a JSON string, or an array of
// content parts whose text parts are joined with "\n".
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		texts := make([]string, 0, len(parts))
		for _, p := range parts {
			if p.Text != "" {
				texts = append(texts, p.Text)
			}
		}
		return strings.Join(texts, "\n")
	}
	return string(raw)
}

func errorType(status int, code string) string {
	switch {
	case code == "insufficient_quota":
		return "insufficient_quota"
	case status == http.StatusTooManyRequests:
		return "requests"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

func writeError(w http.ResponseWriter, status int, msg, typ, code string) {
	var c any
	if code != "" {
		c = code
	}
	writeJSON(w, status, map[string]any{
		"error": map[string]any{
			"message": msg,
			"type":    typ,
			"param":   nil,
			"code":    c,
		},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
