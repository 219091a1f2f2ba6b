package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// answer is one HTTP exchange as the client saw it.
type answer struct {
	At         time.Time
	Method     string
	Path       string
	Code       int    // 0: no HTTP answer (connection refused, reset, timeout)
	NetErr     string // the transport error when Code is 0
	ErrCode    string // error.code of an API error body
	ErrMsg     string // error.message of an API error body
	RetryAfter string
	Body       []byte
}

// unknown says whether the outcome of a change request is unknown to the client: it must
// retry with the same Idempotency-Key to find out.
// unknown: no answer, a failure, or a 202 (the change is accepted and will be applied, but
// its result came too late): the same key again tells.
func (a answer) unknown() bool {
	return a.Code == 0 || a.Code == http.StatusAccepted || a.Code >= 500 || a.Code == 429
}

func (a answer) String() string {
	if a.Code == 0 {
		return fmt.Sprintf("%s %s: no answer: %s", a.Method, a.Path, a.NetErr)
	}
	return fmt.Sprintf("%s %s: %d %s %q Retry-After=%q", a.Method, a.Path, a.Code, a.ErrCode, a.ErrMsg, a.RetryAfter)
}

// apiClient talks to the inbox's HTTP API as the demo owner, over plain net/http.
type apiClient struct {
	base   string
	token  string
	ws     string
	ingest string
	hc     *http.Client

	mu      sync.Mutex
	answers []answer // every answer, for the checks on what clients saw during a fault
}

func newAPIClient(in *inbox) *apiClient { return newAPIClientAt(in.baseURL(), in.demo) }

// newAPIClientAt talks to the API at base (http://host:port) with creds.
func newAPIClientAt(base string, creds demoCreds) *apiClient {
	return &apiClient{
		base: base, token: creds.OwnerToken, ws: creds.WorkspaceID, ingest: creds.IngestKey,
		// Longer than the API's own 15 s wait for a workflow, so the API answers first.
		hc: &http.Client{Timeout: 45 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
}

func (c *apiClient) do(ctx context.Context, method, path string, hdr map[string]string, body any) answer {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	a := answer{Method: method, Path: path}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		a.NetErr, a.At = err.Error(), time.Now()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.hc.Do(req)
	a.At = time.Now()
	if err != nil {
		a.NetErr = err.Error()
	} else {
		a.Code = res.StatusCode
		a.RetryAfter = res.Header.Get("Retry-After")
		a.Body, _ = io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if a.Code >= 400 {
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if json.Unmarshal(a.Body, &e) == nil {
				a.ErrCode, a.ErrMsg = e.Error.Code, e.Error.Message
			}
		}
	}
	if ctx.Err() == nil { // an answer cut short by the test itself says nothing of the API
		c.mu.Lock()
		c.answers = append(c.answers, a)
		c.mu.Unlock()
	}
	return a
}

func (c *apiClient) admin(ctx context.Context, method, path string, hdr map[string]string, body any) answer {
	h := map[string]string{"Authorization": "Bearer " + c.token}
	for k, v := range hdr {
		h[k] = v
	}
	return c.do(ctx, method, "/api/v1/workspaces/"+c.ws+path, h, body)
}

// transition asks for a state change with an Idempotency-Key.
func (c *apiClient) transition(ctx context.Context, conv, to, key string) answer {
	return c.admin(ctx, http.MethodPost, "/conversations/"+conv+"/state", map[string]string{"Idempotency-Key": key}, map[string]string{"state": to})
}

type detail struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Summary struct {
		Status   string `json:"status"`
		Error    string `json:"error"`
		Attempts int    `json:"attempts"`
	} `json:"summary"`
}

// detail reads a conversation through the API.
func (c *apiClient) detail(ctx context.Context, conv string) (detail, answer) {
	a := c.admin(ctx, http.MethodGet, "/conversations/"+conv, nil, nil)
	var d detail
	if a.Code == http.StatusOK {
		_ = json.Unmarshal(a.Body, &d)
	}
	return d, a
}

// createConversation ingests a first message and returns the new conversation's id.
func (c *apiClient) createConversation(ctx context.Context, t testing.TB, ref string) string {
	t.Helper()
	body := map[string]any{
		"conversation_ref": ref, "channel": "chat",
		"visitor": map[string]string{"name": "Fault " + ref, "email": ref + "@example.com"},
		"message": map[string]string{"id": ref + "-m1", "role": "visitor", "text": "Hello, my order " + ref + " is late. Can you help?"},
	}
	for i := 0; i < 30; i++ {
		a := c.do(ctx, http.MethodPost, "/api/v1/ingest/messages", map[string]string{"X-Inbox-Key": c.ingest}, body)
		if a.Code == http.StatusCreated || a.Code == http.StatusOK {
			var out struct {
				ConversationID string `json:"conversation_id"`
			}
			if err := json.Unmarshal(a.Body, &out); err != nil || out.ConversationID == "" {
				t.Fatalf("ingest %s: %s: %s", ref, a, a.Body)
			}
			return out.ConversationID
		}
		if !a.unknown() {
			t.Fatalf("ingest %s: %s", ref, a)
		}
		sleepCtx(ctx, retryDelay(a))
	}
	t.Fatalf("ingest %s: no success after 30 tries", ref)
	return ""
}

// answersBetween returns the answers received in [from, to).
func (c *apiClient) answersBetween(from, to time.Time) []answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []answer
	for _, a := range c.answers {
		if !a.At.Before(from) && a.At.Before(to) {
			out = append(out, a)
		}
	}
	return out
}

func (c *apiClient) allAnswers() []answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]answer(nil), c.answers...)
}

// retryDelay honours Retry-After (capped, so a test stays short), else waits half a second.
func retryDelay(a answer) time.Duration {
	if n, err := strconv.Atoi(a.RetryAfter); err == nil && n > 0 {
		return min(time.Duration(n)*time.Second, 3*time.Second)
	}
	return 500 * time.Millisecond
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func toggle(state string) string {
	if state == "open" {
		return "pending"
	}
	return "open"
}

// request is one change a client asked for, with its final outcome.
type request struct {
	Key      string
	To       string
	Code     int // 200 or 409 once known; 0 while (or if it stays) unknown
	Attempts int
	Unknowns int // attempts whose outcome was unknown (no answer, 5xx, 429)
}

// convLoad is one client's history on its own conversation.
type convLoad struct {
	ID   string
	mu   sync.Mutex
	reqs []*request
}

func (c *convLoad) requests() []request {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]request, len(c.reqs))
	for i, r := range c.reqs {
		out[i] = *r
	}
	return out
}

// load runs one sequential client per conversation, toggling open <-> pending with a fresh
// Idempotency-Key per change. A client whose answer is unknown retries with the same key
// (what a client should do) until it knows, even after newWork ends; hard ends everything.
// With several API processes each client sends each new change to the next one (as a load
// balancer would) and retries an unknown outcome on the next one too.
type load struct {
	apis  []*apiClient
	convs []*convLoad
	wg    sync.WaitGroup
}

func startLoad(newWork, hard context.Context, api *apiClient, ids []string) *load {
	return startLoadOn(newWork, hard, []*apiClient{api}, ids)
}

func startLoadOn(newWork, hard context.Context, apis []*apiClient, ids []string) *load {
	l := &load{apis: apis}
	for i, id := range ids {
		c := &convLoad{ID: id}
		l.convs = append(l.convs, c)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.client(newWork, hard, c, i%len(apis))
		}()
	}
	return l
}

func (l *load) client(newWork, hard context.Context, c *convLoad, at int) {
	state := "open"
	for newWork.Err() == nil {
		r := &request{Key: uuid.NewString(), To: toggle(state)}
		c.mu.Lock()
		c.reqs = append(c.reqs, r)
		c.mu.Unlock()
		for {
			a := l.apis[at].transition(hard, c.ID, r.To, r.Key)
			c.mu.Lock()
			r.Attempts++
			switch {
			case a.Code == http.StatusOK:
				r.Code = a.Code
			case a.Code == http.StatusConflict:
				r.Code = a.Code
			case a.unknown():
				r.Unknowns++
				at = (at + 1) % len(l.apis)
			default:
				r.Code = a.Code // a 4xx we did not expect; the checks report it
			}
			done := r.Code != 0
			c.mu.Unlock()
			if hard.Err() != nil {
				return
			}
			if done {
				break
			}
			sleepCtx(hard, retryDelay(a))
		}
		at = (at + 1) % len(l.apis)
		switch r.Code {
		case http.StatusOK:
			state = r.To
		default:
			// Only this client changes this conversation, so a refusal means an earlier
			// change we could not see; read the state before going on.
			for {
				d, a := l.apis[at].detail(hard, c.ID)
				if a.Code == http.StatusOK {
					state = d.State
					break
				}
				if hard.Err() != nil {
					return
				}
				at = (at + 1) % len(l.apis)
				sleepCtx(hard, retryDelay(a))
			}
		}
	}
}

func (l *load) wait() { l.wg.Wait() }

// count returns how many changes have been answered 200 so far.
func (l *load) count200() int {
	n := 0
	for _, c := range l.convs {
		for _, r := range c.requests() {
			if r.Code == http.StatusOK {
				n++
			}
		}
	}
	return n
}

// stop ends the load: no new changes, then up to drain for unknown outcomes to resolve by
// retrying with their keys; past that the clients give up and those stay unknown.
func (l *load) stop(stopNew, stopHard context.CancelFunc, drain time.Duration) {
	stopNew()
	done := make(chan struct{})
	go func() { l.wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drain):
		stopHard()
		<-done
	}
	stopHard()
}

// histogram counts answers by status ("no answer" for a transport error), for the figures.
func histogram(answers []answer) string {
	counts := map[string]int{}
	for _, a := range answers {
		k := strconv.Itoa(a.Code)
		if a.Code == 0 {
			k = "no answer"
		} else if a.ErrCode != "" {
			k += " " + a.ErrCode
		}
		counts[k]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, counts[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// apiOnly keeps the answers of API calls (not /readyz).
func apiOnly(answers []answer) []answer {
	var out []answer
	for _, a := range answers {
		if strings.HasPrefix(a.Path, "/api/") {
			out = append(out, a)
		}
	}
	return out
}
