// Package live carries the store's change notifications to open web pages: one Postgres
// LISTEN connection per process (Listener), fanned out to subscribers filtered by workspace,
// and served to browsers as Server-Sent Events (ServeSSE).
//
// It only says that something changed and where; pages re-fetch through the API, so this
// package never reads or writes inbox data, never decides who may see a workspace (the
// caller authenticates the session and passes its workspaces) and writes no SQL of its own
// (the store announces changes and sends the pings).
package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/bestai/inbox/store"
)

// ErrFull is returned by Subscribe when the process already serves MaxSubscribers.
var ErrFull = errors.New("live: too many open live-update streams on this server, try again later")

// DefaultMaxPerOwner is Options.MaxPerOwner's default: a few tabs of one session.
const DefaultMaxPerOwner = 5

// ErrOwnerFull is returned by SubscribeAs when the owner already holds MaxPerOwner.
var ErrOwnerFull = errors.New("live: too many live-update streams open for this session (one per tab); close another tab, then reload this page")

// ErrStopped is returned by Subscribe after the Listener's Run has ended.
var ErrStopped = errors.New("live: the listener has stopped")

// Options tune a Listener; the zero value is the production setting.
type Options struct {
	// MaxSubscribers bounds open subscriptions (each is an open page); default 10,000.
	MaxSubscribers int
	// MaxPerOwner bounds the open subscriptions of one owner (SubscribeAs; for the web
	// admin, a session), so that one cannot take all of MaxSubscribers; default
	// DefaultMaxPerOwner.
	MaxPerOwner int
	// Buffer is each subscriber's queue length; default 64. A subscriber that falls further
	// behind loses changes and is told to resync.
	Buffer int
	// PingEvery is how long the connection may stay silent before the listener checks it by
	// notifying itself; default 30s. PingTimeout is how long that check may take before the
	// connection is declared dead; default 10s.
	PingEvery   time.Duration
	PingTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts; default
	// 250ms and 30s.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Heartbeat is how often ServeSSE writes a comment so that proxies keep an idle stream
	// open and a dead client is noticed; default 15s.
	Heartbeat time.Duration
	// Logger receives connection losses; default slog.Default().
	Logger *slog.Logger
}

// Event is what a subscriber hears: a change in one of its workspaces, or Resync.
type Event struct {
	// Resync says changes may have been lost (the connection to Postgres dropped, or the
	// subscriber fell behind): everything shown must be re-fetched. Change is then empty.
	Resync bool
	Change store.Change
}

// pingRetry is how often an unanswered ping is repeated.
const pingRetry = 200 * time.Millisecond

// Listener holds the process's one LISTEN connection and fans its notifications out to
// subscribers. Create it with New, start Run once, and Subscribe from request handlers.
type Listener struct {
	store *store.Store
	opts  Options
	// pingChannel is this process's own channel: other replicas never hear its pings.
	pingChannel string

	mu      sync.Mutex
	byWS    map[uuid.UUID]map[*Subscription]struct{}
	all     map[*Subscription]struct{}
	byOwner map[string]int
	lagging map[*Subscription]struct{} // owed a resync that did not fit in their queue
	running bool
	stopped bool
	done    chan struct{} // closed when Run ends
	conn    *pgdriver.Listener
}

// New returns a Listener on s's database; nothing connects until Run.
func New(s *store.Store, opts Options) *Listener {
	if opts.MaxSubscribers <= 0 {
		opts.MaxSubscribers = 10_000
	}
	if opts.MaxPerOwner <= 0 {
		opts.MaxPerOwner = DefaultMaxPerOwner
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 64
	}
	if opts.PingEvery <= 0 {
		opts.PingEvery = 30 * time.Second
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 10 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 250 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(30*time.Second, opts.MinBackoff)
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	return &Listener{
		store: s, opts: opts,
		pingChannel: "inbox_live_ping_" + hex.EncodeToString(id[:]),
		byWS:        map[uuid.UUID]map[*Subscription]struct{}{},
		all:         map[*Subscription]struct{}{},
		byOwner:     map[string]int{},
		lagging:     map[*Subscription]struct{}{},
		done:        make(chan struct{}),
	}
}

// Subscription receives the events of its workspaces until cancelled or the Listener stops.
type Subscription struct {
	l          *Listener
	workspaces []uuid.UUID
	owner      string
	user       uuid.UUID // the person whose own changes (store.Change.UserID) it hears
	ch         chan Event
	cancelled  bool // guarded by l.mu
}

// Events delivers the subscription's events. It is never closed; watch Done as well.
func (s *Subscription) Events() <-chan Event { return s.ch }

// Done is closed when the Listener stops: no more events will come.
func (s *Subscription) Done() <-chan struct{} { return s.l.done }

// Subscribe starts receiving the changes of workspaces (duplicates are fine). The returned
// cancel must be called when the subscriber goes away; calling it again does nothing.
func (l *Listener) Subscribe(workspaces []uuid.UUID) (*Subscription, func(), error) {
	return l.SubscribeAs("", workspaces)
}

// SubscribeAs is Subscribe on behalf of owner (for the web admin, a session): an owner
// other than "" may hold MaxPerOwner subscriptions at once, and gets ErrOwnerFull past that.
func (l *Listener) SubscribeAs(owner string, workspaces []uuid.UUID) (*Subscription, func(), error) {
	return l.SubscribeFor(owner, uuid.Nil, workspaces)
}

// SubscribeFor is SubscribeAs for a person: besides the workspaces' changes, it hears
// the changes addressed to user alone (their notifications), and only in those
// workspaces. A subscription without a user (uuid.Nil) never hears anyone's.
func (l *Listener) SubscribeFor(owner string, user uuid.UUID, workspaces []uuid.UUID) (*Subscription, func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return nil, nil, ErrStopped
	}
	if len(l.all) >= l.opts.MaxSubscribers {
		return nil, nil, ErrFull
	}
	if owner != "" && l.byOwner[owner] >= l.opts.MaxPerOwner {
		return nil, nil, ErrOwnerFull
	}
	sub := &Subscription{l: l, owner: owner, user: user, ch: make(chan Event, l.opts.Buffer)}
	seen := map[uuid.UUID]bool{}
	for _, ws := range workspaces {
		if seen[ws] {
			continue
		}
		seen[ws] = true
		sub.workspaces = append(sub.workspaces, ws)
		if l.byWS[ws] == nil {
			l.byWS[ws] = map[*Subscription]struct{}{}
		}
		l.byWS[ws][sub] = struct{}{}
	}
	l.all[sub] = struct{}{}
	if owner != "" {
		l.byOwner[owner]++
	}
	return sub, func() { l.unsubscribe(sub) }, nil
}

func (l *Listener) unsubscribe(sub *Subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sub.cancelled {
		return
	}
	sub.cancelled = true
	delete(l.all, sub)
	delete(l.lagging, sub)
	if sub.owner != "" {
		if l.byOwner[sub.owner]--; l.byOwner[sub.owner] <= 0 {
			delete(l.byOwner, sub.owner)
		}
	}
	for _, ws := range sub.workspaces {
		delete(l.byWS[ws], sub)
		if len(l.byWS[ws]) == 0 {
			delete(l.byWS, ws)
		}
	}
}

// Subscribers is the number of open subscriptions.
func (l *Listener) Subscribers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}

// deliver queues ev for sub without ever waiting: the one goroutine that reads Postgres
// must not stall behind a slow page. A subscriber whose queue is full loses ev and is owed
// a resync, queued as soon as there is room (by a later delivery or by retryLagging); as
// the resync is queued after the loss, the re-fetch it causes sees the lost change. Called
// with l.mu held.
func (l *Listener) deliver(sub *Subscription, ev Event) {
	if _, owed := l.lagging[sub]; owed {
		select {
		case sub.ch <- Event{Resync: true}:
			delete(l.lagging, sub)
		default:
			return // still full; the owed resync covers ev too
		}
		if ev.Resync {
			return
		}
	}
	select {
	case sub.ch <- ev:
	default:
		l.lagging[sub] = struct{}{}
	}
}

// publish fans a change out to the subscribers of its workspace only; a person's own
// change (UserID set) only to that person's subscribers there.
func (l *Listener) publish(ch store.Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for sub := range l.byWS[ch.WorkspaceID] {
		if ch.UserID != uuid.Nil && sub.user != ch.UserID {
			continue
		}
		l.deliver(sub, Event{Change: ch})
	}
}

// resyncAll tells every subscriber to re-fetch: notifications sent while the connection
// was down (or before it first came up) are lost for good.
func (l *Listener) resyncAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for sub := range l.all {
		l.deliver(sub, Event{Resync: true})
	}
}

// retryLagging queues the resyncs owed to subscribers whose queue has room again, so a
// subscriber that fell behind hears it even if no further change arrives.
func (l *Listener) retryLagging() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for sub := range l.lagging {
		select {
		case sub.ch <- Event{Resync: true}:
			delete(l.lagging, sub)
		default:
		}
	}
}

// Run listens until ctx ends, reconnecting with back-off whenever the connection is lost,
// and returns nil then (or an error if Run was already started). Every subscriber gets a
// Resync each time the connection is (re)established, because changes made before that
// were not heard. When Run returns, every Subscription's Done is closed.
func (l *Listener) Run(ctx context.Context) error {
	l.mu.Lock()
	if l.running || l.stopped {
		l.mu.Unlock()
		return errors.New("live: Listener.Run called twice")
	}
	l.running = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.stopped = true
		l.closeConnLocked()
		l.mu.Unlock()
		close(l.done)
	}()
	// Receive blocks on the socket and ignores ctx: closing the connection is what wakes it.
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.closeConnLocked()
	})
	defer stop()

	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l.retryLagging()
			}
		}
	}()

	backoff := l.opts.MinBackoff
	for ctx.Err() == nil {
		heard, err := l.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if heard {
			backoff = l.opts.MinBackoff // it worked for a while: reconnect promptly
		}
		l.opts.Logger.Warn("live updates: lost the Postgres LISTEN connection, reconnecting",
			"error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, l.opts.MaxBackoff)
	}
	return nil
}

// session opens one LISTEN connection and reads it until it fails. heard reports whether
// the connection was confirmed working (so the caller can reset its back-off).
func (l *Listener) session(ctx context.Context) (heard bool, err error) {
	conn := pgdriver.NewListener(l.store.DB)
	l.mu.Lock()
	if ctx.Err() != nil {
		l.mu.Unlock()
		_ = conn.Close()
		return false, ctx.Err()
	}
	l.conn = conn
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		if l.conn == conn {
			l.closeConnLocked()
		}
		l.mu.Unlock()
	}()

	if err := conn.Listen(ctx, store.ChangesChannel, l.pingChannel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	// LISTEN is only written, not awaited, so a ping sent at once may be committed before
	// LISTEN takes effect and go unheard: while a ping is outstanding it is repeated every
	// pingRetry, and only PingTimeout without any answer declares the connection dead. Our
	// own ping coming back proves the connection delivers, and only then is a resync useful
	// (a page re-fetching earlier could still miss a change made before LISTEN took effect).
	confirmed := false
	var pingSince, pingAgain time.Time // zero when no ping is outstanding
	ping := func() error {
		now := time.Now()
		if pingSince.IsZero() {
			pingSince = now
		}
		pingAgain = now.Add(min(pingRetry, l.opts.PingTimeout))
		if err := l.store.NotifyPing(ctx, l.pingChannel); err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		return nil
	}
	if err := ping(); err != nil {
		return false, err
	}
	for {
		wait := l.opts.PingEvery
		if !pingSince.IsZero() {
			if time.Since(pingSince) >= l.opts.PingTimeout {
				return confirmed, errors.New("the listen connection did not answer a ping")
			}
			wait = max(time.Until(pingAgain), time.Millisecond)
		}
		channel, payload, err := conn.ReceiveTimeout(ctx, wait)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return confirmed, err
			}
			// Silent for PingEvery, or the ping is not back yet: (re)check the connection.
			if err := ping(); err != nil {
				return confirmed, err
			}
			continue
		}
		pingSince = time.Time{} // anything heard proves the connection alive
		if !confirmed {
			confirmed = true
			l.resyncAll()
		}
		if channel != store.ChangesChannel {
			continue // our ping
		}
		changes, err := store.DecodeChanges(payload)
		if err != nil {
			l.opts.Logger.Warn("live updates: ignoring a malformed notification", "payload", payload)
			continue
		}
		for _, ch := range changes {
			if ch.WorkspaceID == uuid.Nil {
				l.opts.Logger.Warn("live updates: ignoring a malformed change", "payload", payload)
				continue
			}
			l.publish(ch)
		}
	}
}

// closeConnLocked closes the current connection, waking a blocked Receive. Called with l.mu held.
func (l *Listener) closeConnLocked() {
	if l.conn != nil {
		_ = l.conn.Close()
		l.conn = nil
	}
}
