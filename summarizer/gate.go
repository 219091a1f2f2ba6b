package summarizer

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// KindBusy is the kind of an [Error] for a call that waited MaxQueueWait for its turn at
// the endpoint without being sent: nothing reached the model, and a later attempt may pass.
const KindBusy = "busy"

// DefaultConcurrency bounds the calls a Summarizer has in flight to its endpoint at once
// when Config.Concurrency is not set.
const DefaultConcurrency = 8

// DefaultMaxQueueWait is how long a call waits for its turn when Config.MaxQueueWait is
// not set.
const DefaultMaxQueueWait = time.Minute

// defaultRateLimitPause is how long a 429 without Retry-After pauses the calls with its key.
const defaultRateLimitPause = time.Second

// gate keeps a burst of summaries (500 conversations closed at once) from sending the model
// endpoint 500 requests together: at most a fixed number are in flight, the others wait in
// line; and once the endpoint answers 429, the calls with that key wait out its Retry-After
// instead of adding to the overload. Keys are remembered by their hash only.
type gate struct {
	slots    chan struct{}
	maxWait  time.Duration
	mu       sync.Mutex
	pausedTo map[[32]byte]time.Time
}

func newGate(concurrency int, maxWait time.Duration) *gate {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxQueueWait
	}
	return &gate{slots: make(chan struct{}, concurrency), maxWait: maxWait, pausedTo: map[[32]byte]time.Time{}}
}

// enter waits for a slot and for any pause of apiKey to end, within ctx and maxWait. It
// returns the function that gives the slot back.
func (g *gate) enter(ctx context.Context, apiKey string) (leave func(), err error) {
	wait, cancel := context.WithTimeout(ctx, g.maxWait)
	defer cancel()
	busy := func() error {
		if ctx.Err() != nil {
			return ctx.Err() // the attempt itself ended: the caller's error, not ours
		}
		return &Error{Kind: KindBusy, Retryable: true,
			Message: "the model endpoint has too many summaries in flight; this one waited its turn and will be tried again"}
	}
	key := sha256.Sum256([]byte(apiKey))
	for {
		if until := g.pausedUntil(key); !until.IsZero() {
			t := time.NewTimer(time.Until(until))
			select {
			case <-t.C:
			case <-wait.Done():
				t.Stop()
				return nil, busy()
			}
			continue
		}
		select {
		case g.slots <- struct{}{}:
		case <-wait.Done():
			return nil, busy()
		}
		// A 429 may have come back while this call waited for its slot.
		if g.pausedUntil(key).IsZero() {
			return func() { <-g.slots }, nil
		}
		<-g.slots
	}
}

func (g *gate) pausedUntil(key [32]byte) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.pausedTo[key]
	if ok && !time.Now().Before(until) {
		delete(g.pausedTo, key)
		return time.Time{}
	}
	return until
}

// pause holds back the calls with apiKey for d (a 429's Retry-After), or extends a pause
// already running to end no earlier.
func (g *gate) pause(apiKey string, d time.Duration) {
	if d <= 0 {
		d = defaultRateLimitPause
	}
	key := sha256.Sum256([]byte(apiKey))
	until := time.Now().Add(d)
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.pausedTo[key]) {
		g.pausedTo[key] = until
	}
}
