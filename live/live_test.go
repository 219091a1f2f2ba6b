package live_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/live"
	"github.com/bestai/inbox/store"
)

// within is how soon a committed write must reach a subscriber.
const within = 2 * time.Second

// newListener returns a Listener on a fresh database; run starts it.
func newListener(t *testing.T, opts live.Options) (*store.Store, *live.Listener) {
	t.Helper()
	s := testenv.NewStore(t)
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	if opts.MinBackoff == 0 {
		opts.MinBackoff = 50 * time.Millisecond
	}
	return s, live.New(s, opts)
}

// run runs l until the test ends. Subscribers that exist by then hear a resync once the
// connection is confirmed (see connected).
func run(t *testing.T, l *live.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-ran })
}

// testWriter sends the listener's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func subscribe(t *testing.T, l *live.Listener, ws ...uuid.UUID) *live.Subscription {
	t.Helper()
	sub, cancel, err := l.Subscribe(ws)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return sub
}

// next waits for sub's next event.
func next(t *testing.T, sub *live.Subscription, what string) live.Event {
	t.Helper()
	select {
	case ev := <-sub.Events():
		return ev
	case <-time.After(within):
		t.Fatalf("no event within %s, waiting for %s", within, what)
		return live.Event{}
	}
}

// expectChange skips resyncs until a change arrives and checks it.
func expectChange(t *testing.T, sub *live.Subscription, conv uuid.UUID, kind string) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-sub.Events():
			if ev.Resync {
				continue
			}
			if ev.Change.ConversationID != conv || ev.Change.Kind != kind {
				t.Fatalf("got %+v, want %s of %s", ev.Change, kind, conv)
			}
			return
		case <-deadline:
			t.Fatalf("no %s change of %s within %s", kind, conv, within)
		}
	}
}

// expectQuiet checks that sub hears no change for a while.
func expectQuiet(t *testing.T, sub *live.Subscription, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-sub.Events():
			if !ev.Resync {
				t.Fatalf("unexpected change %+v", ev.Change)
			}
		case <-deadline:
			return
		}
	}
}

// connected waits for the resync every subscriber gets once the connection is confirmed.
func connected(t *testing.T, sub *live.Subscription) {
	t.Helper()
	if ev := next(t, sub, "the first resync"); !ev.Resync {
		t.Fatalf("first event %+v, want resync", ev)
	}
}

func workspace(t *testing.T, s *store.Store, name string) uuid.UUID {
	t.Helper()
	ws, err := s.CreateWorkspace(context.Background(), name, name+"@live.example", name)
	if err != nil {
		t.Fatal(err)
	}
	return ws.WorkspaceID
}

func ingest(t *testing.T, s *store.Store, ws uuid.UUID, ref string) uuid.UUID {
	t.Helper()
	res, err := s.Ingest(context.Background(), store.IngestMessage{
		WorkspaceID: ws, Ref: ref, Channel: domain.Chat,
		Role: domain.VisitorMessage, Text: "hello", SentAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.ConversationID
}

func listenConnections(t *testing.T, s *store.Store) int {
	t.Helper()
	var n int
	if err := s.DB.QueryRowContext(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func killListenConnection(t *testing.T, s *store.Store) {
	t.Helper()
	var n int
	if err := s.DB.QueryRowContext(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("terminated %d LISTEN connections, want 1", n)
	}
}

func TestStoreWritesReachTheirWorkspaceOnly(t *testing.T) {
	t.Parallel()
	s, l := newListener(t, live.Options{})
	ctx := context.Background()
	wsA, wsB := workspace(t, s, "alpha"), workspace(t, s, "beta")
	subA, subB := subscribe(t, l, wsA), subscribe(t, l, wsB)
	run(t, l)
	connected(t, subA)
	connected(t, subB)

	conv := ingest(t, s, wsA, "visitor-1") // opens the conversation
	expectChange(t, subA, conv, store.ChangeMessage)
	if again := ingest(t, s, wsA, "visitor-1"); again != conv {
		t.Fatalf("follow-up went to %s", again)
	}
	expectChange(t, subA, conv, store.ChangeMessage)

	if err := s.SetRead(ctx, wsA, conv, true, nil); err != nil {
		t.Fatal(err)
	}
	expectChange(t, subA, conv, store.ChangeRead)

	var leadID uuid.UUID
	if err := s.DB.NewSelect().Table("leads").Column("id").Where("conversation_id = ?", conv).Scan(ctx, &leadID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetLeadStatus(ctx, wsA, leadID, domain.LeadQualified, nil); err != nil {
		t.Fatal(err)
	}
	expectChange(t, subA, conv, store.ChangeLead)

	now := time.Now().UTC()
	if err := s.ApplyLifecycleChange(ctx, domain.LifecycleChange{
		RequestID: "close-1", WorkspaceID: wsA, ConversationID: conv, At: now,
		FromState: domain.Open, ToState: domain.Closed, ToClosedAt: &now, SummaryGeneration: 1,
	}); err != nil {
		t.Fatal(err)
	}
	expectChange(t, subA, conv, store.ChangeState)
	var owner uuid.UUID
	if err := s.DB.NewSelect().Table("memberships").Column("user_id").Where("workspace_id = ?", wsA).Scan(ctx, &owner); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyLifecycleChange(ctx, domain.LifecycleChange{
		RequestID: "assign-1", WorkspaceID: wsA, ConversationID: conv, At: now,
		AssigneeChanged: true, ToAssignee: &domain.Actor{UserID: owner, Name: "Owner"},
	}); err != nil {
		t.Fatal(err)
	}
	expectChange(t, subA, conv, store.ChangeAssignee)
	if err := s.RecordSummaryResult(ctx, domain.SummaryResult{
		WorkspaceID: wsA, ConversationID: conv, Generation: 1, Status: domain.SummaryFailed,
		Error: "no key configured", At: now,
	}); err != nil {
		t.Fatal(err)
	}
	expectChange(t, subA, conv, store.ChangeSummary)
	if err := s.ApplyLifecycleChange(ctx, domain.LifecycleChange{ // retry_summary: pending again
		RequestID: "retry-1", WorkspaceID: wsA, ConversationID: conv, At: now, SummaryGeneration: 2,
	}); err != nil {
		t.Fatal(err)
	}
	expectChange(t, subA, conv, store.ChangeSummary)

	// A retried activity and a status it already has change nothing and say nothing.
	if err := s.ApplyLifecycleChange(ctx, domain.LifecycleChange{
		RequestID: "assign-1", WorkspaceID: wsA, ConversationID: conv, At: now,
		AssigneeChanged: true, ToAssignee: &domain.Actor{UserID: owner, Name: "Owner"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetLeadStatus(ctx, wsA, leadID, domain.LeadQualified, nil); err != nil {
		t.Fatal(err)
	}
	expectQuiet(t, subA, 300*time.Millisecond)
	expectQuiet(t, subB, 100*time.Millisecond)

	convB := ingest(t, s, wsB, "visitor-2")
	expectChange(t, subB, convB, store.ChangeMessage)
	expectQuiet(t, subA, 300*time.Millisecond)
}

func TestRolledBackWriteSaysNothing(t *testing.T) {
	t.Parallel()
	s, l := newListener(t, live.Options{})
	ctx := context.Background()
	ws := workspace(t, s, "rollback")
	sub := subscribe(t, l, ws)
	run(t, l)
	connected(t, sub)

	// A write that fails after its notification was queued: the notification goes with it.
	errAbort := errors.New("abort")
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		payload := fmt.Sprintf(`{"w":%q,"c":%q,"k":"message"}`, ws, uuid.New())
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", store.ChangesChannel, payload); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatal(err)
	}
	// A duplicate message (same external id) stores nothing and announces nothing.
	first, err := s.Ingest(ctx, store.IngestMessage{WorkspaceID: ws, Ref: "r", Channel: domain.Chat,
		ExternalID: "m1", Role: domain.VisitorMessage, Text: "hi", SentAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	expectChange(t, sub, first.ConversationID, store.ChangeMessage)
	if _, err := s.Ingest(ctx, store.IngestMessage{WorkspaceID: ws, Ref: "r", Channel: domain.Chat,
		ExternalID: "m1", Role: domain.VisitorMessage, Text: "hi", SentAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	expectQuiet(t, sub, 500*time.Millisecond)
}

func TestReconnectSendsResyncAndResumes(t *testing.T) {
	t.Parallel()
	s, l := newListener(t, live.Options{})
	ws := workspace(t, s, "reconnect")
	sub := subscribe(t, l, ws)
	run(t, l)
	connected(t, sub)

	killListenConnection(t, s)
	if ev := next(t, sub, "the resync after the connection was killed"); !ev.Resync {
		t.Fatalf("got %+v, want resync", ev)
	}
	conv := ingest(t, s, ws, "after")
	expectChange(t, sub, conv, store.ChangeMessage)
	if n := listenConnections(t, s); n != 1 {
		t.Fatalf("%d LISTEN connections after reconnecting, want 1", n)
	}
}

func TestOneConnectionForManySubscribers(t *testing.T) {
	t.Parallel()
	s, l := newListener(t, live.Options{})
	ws := workspace(t, s, "many")
	subs := make([]*live.Subscription, 300)
	for i := range subs {
		subs[i] = subscribe(t, l, ws, ws) // a duplicate workspace must not deliver twice
	}
	run(t, l)
	for _, sub := range subs {
		connected(t, sub)
	}
	if n := listenConnections(t, s); n != 1 {
		t.Fatalf("%d LISTEN connections for %d subscribers, want 1", n, len(subs))
	}
	conv := ingest(t, s, ws, "r")
	for _, sub := range subs {
		expectChange(t, sub, conv, store.ChangeMessage)
	}
	expectQuiet(t, subs[0], 200*time.Millisecond)
}

func TestSlowSubscriberDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	s, l := newListener(t, live.Options{Buffer: 2})
	ws := workspace(t, s, "slow")
	slow, fast := subscribe(t, l, ws), subscribe(t, l, ws)
	run(t, l)
	connected(t, slow)
	connected(t, fast)

	// The slow subscriber reads nothing meanwhile; the fast one hears each change in time.
	const n = 10
	convs := make([]uuid.UUID, n)
	for i := range convs {
		convs[i] = ingest(t, s, ws, fmt.Sprint("r", i))
		expectChange(t, fast, convs[i], store.ChangeMessage)
	}
	// The slow one kept what fit, then is told it lost the rest.
	for i := range 2 {
		if ev := next(t, slow, "a queued change"); ev.Resync || ev.Change.ConversationID != convs[i] {
			t.Fatalf("slow subscriber event %d: %+v", i, ev)
		}
	}
	if ev := next(t, slow, "the resync owed for the dropped changes"); !ev.Resync {
		t.Fatalf("got %+v, want resync", ev)
	}
	// The resync can be queued by the delivery of the last change itself (its fan-out to
	// the slow subscriber may run after the fast one heard it and this test read on), so
	// a change of this test's may follow the resync: legitimately, as it is after it.
	conv := ingest(t, s, ws, "later")
	for {
		ev := next(t, slow, "the change made after the resync")
		switch {
		case ev.Resync:
		case ev.Change.ConversationID == conv && ev.Change.Kind == store.ChangeMessage:
			return
		case !slices.Contains(convs[2:], ev.Change.ConversationID):
			t.Fatalf("got %+v after the resync, want a message of this test's", ev.Change)
		}
	}
}

func TestSubscribersAreBounded(t *testing.T) {
	t.Parallel()
	_, l := newListener(t, live.Options{MaxSubscribers: 2})
	run(t, l)
	subscribe(t, l, uuid.New())
	_, cancel, err := l.Subscribe([]uuid.UUID{uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Subscribe(nil); !errors.Is(err, live.ErrFull) {
		t.Fatalf("third subscription: %v, want ErrFull", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		live.ServeSSE(w, r, l, nil)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("stream when full: %d, want 503", resp.StatusCode)
	}
	cancel()
	cancel() // twice is harmless
	if _, _, err := l.Subscribe(nil); err != nil {
		t.Fatalf("after a cancel: %v", err)
	}
}

func TestSubscribersPerOwnerAreBounded(t *testing.T) {
	t.Parallel()
	_, l := newListener(t, live.Options{MaxPerOwner: 2})
	run(t, l)
	var cancels []func()
	for range 2 {
		_, cancel, err := l.SubscribeAs("session-a", nil)
		if err != nil {
			t.Fatal(err)
		}
		cancels = append(cancels, cancel)
	}
	if _, _, err := l.SubscribeAs("session-a", nil); !errors.Is(err, live.ErrOwnerFull) {
		t.Fatalf("third subscription of one owner: %v, want ErrOwnerFull", err)
	}
	if _, _, err := l.SubscribeAs("session-b", nil); err != nil {
		t.Fatalf("another owner: %v", err)
	}
	if _, _, err := l.Subscribe(nil); err != nil {
		t.Fatalf("no owner: %v", err)
	}
	cancels[0]()
	cancels[0]() // twice frees one place, not two
	if _, _, err := l.SubscribeAs("session-a", nil); err != nil {
		t.Fatalf("after a cancel: %v", err)
	}
	if _, _, err := l.SubscribeAs("session-a", nil); !errors.Is(err, live.ErrOwnerFull) {
		t.Fatalf("after a double cancel: %v, want ErrOwnerFull", err)
	}
}

// sseEvent is one event read off the stream.
type sseEvent struct{ name, data string }

// readEvents parses a text/event-stream into events (comments dropped) until it ends.
func readEvents(body io.Reader, out chan<- sseEvent) {
	defer close(out)
	sc := bufio.NewScanner(body)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				out <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		case strings.HasPrefix(line, "retry: "):
			ev.name = "retry:" + strings.TrimPrefix(line, "retry: ")
		}
	}
}

func TestServeSSE(t *testing.T) {
	t.Parallel()
	s, l := newListener(t, live.Options{Heartbeat: 100 * time.Millisecond})
	wsA, wsB := workspace(t, s, "sse-a"), workspace(t, s, "sse-b")
	probe, cancelProbe, err := l.Subscribe(nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, l)
	connected(t, probe) // so the stream's subscription starts on a confirmed connection
	cancelProbe()
	var handlers atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Add(-1)
		live.ServeSSE(w, r, l, []uuid.UUID{wsA}) // the session may see workspace A only
	}))
	defer srv.Close()

	ctx, disconnect := context.WithCancel(context.Background())
	defer disconnect()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for name, want := range map[string]string{
		"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	events := make(chan sseEvent, 16)
	go readEvents(resp.Body, events)
	read := func(what string) sseEvent {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream ended, waiting for %s", what)
			}
			return ev
		case <-time.After(within):
			t.Fatalf("no event within %s, waiting for %s", within, what)
		}
		return sseEvent{}
	}
	if ev := read("ready"); ev.name != "retry:3000" && ev.name != "ready" {
		t.Fatalf("first event %+v, want ready", ev)
	}
	// The subscriber may have come before the connection was confirmed; skip that resync.
	expect := func(name, data string) {
		t.Helper()
		for {
			ev := read(name)
			if ev.name == "resync" && name != "resync" {
				continue
			}
			if ev.name != name || ev.data != data {
				t.Fatalf("got %+v, want event %s data %s", ev, name, data)
			}
			return
		}
	}

	ingest(t, s, wsB, "other") // not this session's workspace
	conv := ingest(t, s, wsA, "mine")
	expect("change", fmt.Sprintf(`{"conversation_id":"%s","kind":"message"}`, conv))

	killListenConnection(t, s)
	expect("resync", "{}")
	if err := s.SetRead(context.Background(), wsA, conv, true, nil); err != nil {
		t.Fatal(err)
	}
	expect("change", fmt.Sprintf(`{"conversation_id":"%s","kind":"read"}`, conv))

	disconnect()
	testenv.Eventually(t, within, "the handler to end after the client left", func() bool {
		return handlers.Load() == 0 && l.Subscribers() == 0
	})
}

func TestServeSSEEndsWhenListenerStops(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	l := live.New(s, live.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- l.Run(ctx) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		live.ServeSSE(w, r, l, []uuid.UUID{uuid.New()})
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(resp.Body); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stream ended with %v", err)
		}
	case <-time.After(within):
		t.Fatal("the stream did not end when the listener stopped")
	}
	if _, _, err := l.Subscribe(nil); !errors.Is(err, live.ErrStopped) {
		t.Fatalf("subscribe after stop: %v, want ErrStopped", err)
	}
}

// changesFor collects the changes (not resyncs) sub hears for d.
func changesFor(sub *live.Subscription, d time.Duration) []store.Change {
	var out []store.Change
	deadline := time.After(d)
	for {
		select {
		case ev := <-sub.Events():
			if !ev.Resync {
				out = append(out, ev.Change)
			}
		case <-deadline:
			return out
		}
	}
}

// A person's own change (a notification) reaches that person's streams in that
// workspace only: not a teammate's, not a stream without a person, not the same person's
// stream of another workspace.
func TestPersonalChangesReachOnlyThatPerson(t *testing.T) {
	t.Parallel()
	s, l := newListener(t, live.Options{})
	ctx := context.Background()
	wsA, wsB := workspace(t, s, "gamma"), workspace(t, s, "delta")
	var owner uuid.UUID
	if err := s.DB.NewSelect().Table("memberships").Column("user_id").Where("workspace_id = ?", wsA).Scan(ctx, &owner); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddMember(ctx, wsB, "gamma@live.example", "Gamma", domain.Support); err != nil {
		t.Fatal(err) // the same person, in the other workspace too
	}
	mate, _, err := s.AddMember(ctx, wsA, "mate@live.example", "Mate", domain.Support)
	if err != nil {
		t.Fatal(err)
	}
	subscribeFor := func(user uuid.UUID, ws uuid.UUID) *live.Subscription {
		sub, cancel, err := l.SubscribeFor("", user, []uuid.UUID{ws})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cancel)
		return sub
	}
	ownerA, mateA, plainA, ownerB := subscribeFor(owner, wsA), subscribeFor(mate.UserID, wsA), subscribe(t, l, wsA), subscribeFor(owner, wsB)
	run(t, l)
	for _, sub := range []*live.Subscription{ownerA, mateA, plainA, ownerB} {
		connected(t, sub)
	}
	conv := ingest(t, s, wsA, "personal-1")
	kindsOf := func(chs []store.Change) []string {
		var out []string
		for _, ch := range chs {
			out = append(out, ch.Kind)
		}
		return out
	}
	// A message is announced after its commit, in a batch of its own; everyone in the
	// workspace hears it.
	for name, sub := range map[string]*live.Subscription{"the assignee's": ownerA, "the teammate's": mateA, "a stream without a person": plainA} {
		if got := kindsOf(changesFor(sub, 300*time.Millisecond)); fmt.Sprint(got) != fmt.Sprint([]string{store.ChangeMessage}) {
			t.Errorf("after the message, %s stream heard %v", name, got)
		}
	}
	if err := s.ApplyLifecycleChange(ctx, domain.LifecycleChange{
		RequestID: "assign-personal", WorkspaceID: wsA, ConversationID: conv, At: time.Now().UTC(),
		Actor: &domain.Actor{UserID: mate.UserID, Name: "Mate"}, AssigneeChanged: true, ToAssignee: &domain.Actor{UserID: owner, Name: "Owner"},
	}); err != nil {
		t.Fatal(err)
	}
	// The change's own notice leaves with its write's first statement; the assignee's
	// notification follows it in the same transaction.
	got := changesFor(ownerA, 700*time.Millisecond)
	if fmt.Sprint(kindsOf(got)) != fmt.Sprint([]string{store.ChangeAssignee, store.ChangeNotification}) ||
		got[1].UserID != owner || got[1].ConversationID != conv {
		t.Errorf("the assignee's stream heard %+v", got)
	}
	for name, sub := range map[string]*live.Subscription{"the teammate's": mateA, "a stream without a person": plainA} {
		if got := kindsOf(changesFor(sub, 300*time.Millisecond)); fmt.Sprint(got) != fmt.Sprint([]string{store.ChangeAssignee}) {
			t.Errorf("%s stream heard %v", name, got)
		}
	}
	expectQuiet(t, ownerB, 100*time.Millisecond)
}

// Messages are announced after their commit, many to a notification: however many arrive at
// once, every one of them reaches the pages, as a message change of its own conversation,
// and none reaches another workspace's.
func TestEveryMessageOfABurstIsAnnounced(t *testing.T) {
	t.Parallel()
	s, l := newListener(t, live.Options{Buffer: 256})
	ws, other := workspace(t, s, "burst"), workspace(t, s, "elsewhere")
	sub, otherSub := subscribe(t, l, ws), subscribe(t, l, other)
	run(t, l)
	connected(t, sub)
	connected(t, otherSub)
	const conversations, perConversation = 4, 10
	convs := make([]uuid.UUID, conversations)
	for i := range convs {
		convs[i] = ingest(t, s, ws, fmt.Sprintf("burst-%d", i))
	}
	if got := changesFor(sub, 500*time.Millisecond); len(got) != conversations {
		t.Fatalf("the first messages were announced %d times, want %d", len(got), conversations)
	}
	var wg sync.WaitGroup
	for i := range conversations * perConversation {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ingest(t, s, ws, fmt.Sprintf("burst-%d", i%conversations))
		}()
	}
	wg.Wait()
	heard := map[uuid.UUID]int{}
	for _, ch := range changesFor(sub, time.Second) {
		if ch.Kind != store.ChangeMessage || ch.WorkspaceID != ws {
			t.Errorf("heard %+v, want only message changes of the workspace", ch)
		}
		heard[ch.ConversationID]++
	}
	for _, c := range convs {
		if heard[c] != perConversation {
			t.Errorf("conversation %s: %d of its %d messages announced", c, heard[c], perConversation)
		}
	}
	expectQuiet(t, otherSub, 100*time.Millisecond)
}
