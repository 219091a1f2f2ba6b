package web_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/live"
	"github.com/bestai/inbox/web"
)

// liveHeartbeat is the event streams' heartbeat in these tests: how often they check again
// that their session and membership still hold.
const liveHeartbeat = 100 * time.Millisecond

// stream is an open event stream of a page.
type stream struct {
	t      *testing.T
	resp   *http.Response
	cancel func()
	ended  chan struct{}
}

// openStream opens the workspace's event stream as v and waits for its "ready" event. A
// refused stream is returned with its answer and no reader.
func (v *visitor) openStream(wsID string) *stream {
	v.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, v.base+web.WorkspacePath(wsID, "events"), nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := v.client.Do(req)
	if err != nil {
		cancel()
		v.t.Fatal(err)
	}
	s := &stream{t: v.t, resp: resp, cancel: cancel, ended: make(chan struct{})}
	v.t.Cleanup(s.close)
	if resp.StatusCode != http.StatusOK {
		close(s.ended)
		return s
	}
	ready := make(chan struct{})
	go func() {
		defer close(s.ended)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() == "event: ready" {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-s.ended:
		v.t.Fatal("the stream ended before its ready event")
	case <-time.After(5 * time.Second):
		v.t.Fatal("no ready event")
	}
	return s
}

func (s *stream) close() {
	s.cancel()
	_ = s.resp.Body.Close()
}

// endsWithin says whether the server ends the stream within d.
func (s *stream) endsWithin(d time.Duration) bool {
	select {
	case <-s.ended:
		return true
	case <-time.After(d):
		return false
	}
}

func TestEventStreamEndsWithTheSessionOrMembership(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoWorker: true, LiveHeartbeat: liveHeartbeat})
	ws := e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	memberID, _ := addMember(t, e, ws, "bo@acme.example", "Bo", "support")
	base := e.Serve("")
	wsID := ws.WorkspaceID.String()

	owner, member := newVisitor(t, base), newVisitor(t, base)
	for who, v := range map[string]*visitor{testenv.OwnerEmail("Acme"): owner, "bo@acme.example": member} {
		if code, _, _ := v.signIn(who, password); code != http.StatusSeeOther {
			t.Fatalf("sign-in of %s: %d", who, code)
		}
	}
	ownerStream, memberStream := owner.openStream(wsID), member.openStream(wsID)
	if ownerStream.endsWithin(5 * liveHeartbeat) {
		t.Fatal("a stream whose session and membership hold ended")
	}

	// Signing out ends the session's stream within a heartbeat or so.
	owner.get(web.WorkspacePath(wsID, web.SectionInbox)) // a page with the session's token
	if code, _, _ := owner.post(web.SignOutPath, url.Values{}, true); code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", code)
	}
	if !ownerStream.endsWithin(20 * liveHeartbeat) {
		t.Error("the stream went on after sign-out")
	}

	// Removing the member ends theirs.
	if res := e.As(ws.OwnerToken, http.MethodDelete, apiPath(ws, "/members/"+memberID), nil); res.Code >= 300 {
		t.Fatalf("remove member: %d %s", res.Code, res.Body)
	}
	if !memberStream.endsWithin(20 * liveHeartbeat) {
		t.Error("the stream went on after the member was removed")
	}
}

func TestEventStreamsPerSessionAreCapped(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoWorker: true})
	ws := e.NewWorkspace("Acme")
	e.SetPassword(testenv.OwnerEmail("Acme"), password)
	base := e.Serve("")
	wsID := ws.WorkspaceID.String()

	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail("Acme"), password); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	var open []*stream
	for range live.DefaultMaxPerOwner {
		open = append(open, v.openStream(wsID))
	}
	over := v.openStream(wsID)
	if over.resp.StatusCode != http.StatusTooManyRequests || over.resp.Header.Get("Retry-After") == "" {
		t.Fatalf("stream %d of one session: %d Retry-After=%q, want 429 with Retry-After",
			live.DefaultMaxPerOwner+1, over.resp.StatusCode, over.resp.Header.Get("Retry-After"))
	}
	body, _ := io.ReadAll(over.resp.Body)
	if !strings.Contains(string(body), "too many") {
		t.Errorf("the 429 does not say why: %s", body)
	}

	// Another session of the same person has its own allowance.
	other := newVisitor(t, base)
	if code, _, _ := other.signIn(testenv.OwnerEmail("Acme"), password); code != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", code)
	}
	other.openStream(wsID)

	// Closing a stream frees its place.
	open[0].close()
	testenv.Eventually(t, 5*time.Second, "a place for a new stream", func() bool {
		s := v.openStream(wsID)
		defer s.close()
		return s.resp.StatusCode == http.StatusOK
	})
}
