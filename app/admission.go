package app

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxUpdatesInFlight bounds the lifecycle Updates a process has waiting on workflows
// for their acceptance, when the configuration does not say (INBOX_MAX_UPDATES_IN_FLIGHT).
const DefaultMaxUpdatesInFlight = 256

// admission bounds the Updates this process has sent that no workflow has accepted yet, and
// queues the rest in arrival order. Without it a burst (500 closes at once) puts every
// Update on Temporal together: each waits behind all the others, and the last ones run out
// of time without being accepted. Queued, each is sent when there is room, and the queue
// drains at the rate the workflows accept.
//
// A slot is held until the workflow accepts the Update, not until it completes: once
// accepted the change is in the history and will be applied, and waiting for its result
// costs Temporal only a long poll.
type admission struct {
	slots   chan struct{}
	waiters atomic.Int64
}

func newAdmission(size int) *admission {
	if size <= 0 {
		size = DefaultMaxUpdatesInFlight
	}
	return &admission{slots: make(chan struct{}, size)}
}

// errBusy answers a request that waited its whole budget in the queue without being sent:
// nothing was sent, so it changed nothing, and a retry is safe.
var errBusy = RateLimited("the inbox is applying many changes at once; this one was not sent: retry in a few seconds", 2)

// minSendBudget is the share of the request's time that must be left for the Update itself
// once a slot is free: a request that got a slot with less than this left is not sent, so
// it is answered "busy, nothing changed" rather than "not confirmed, may still apply".
const minSendBudget = 10

// enter waits in line for a slot, within ctx and at most patience. It returns the function
// that gives the slot back, which may be called more than once.
func (a *admission) enter(ctx context.Context, patience time.Duration) (leave func(), err error) {
	start := time.Now()
	deadline, bounded := ctx.Deadline()
	a.waiters.Add(1)
	defer a.waiters.Add(-1)
	select {
	case a.slots <- struct{}{}:
	default:
		timer := time.NewTimer(patience)
		defer timer.Stop()
		select {
		case a.slots <- struct{}{}:
		case <-timer.C:
			return nil, errBusy
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return nil, errBusy
			}
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	leave = func() { once.Do(func() { <-a.slots }) }
	if bounded {
		budget, left := deadline.Sub(start), time.Until(deadline)
		if left < budget/minSendBudget {
			leave()
			return nil, errBusy
		}
	}
	return leave, nil
}

// inFlight is the number of Updates sent and not yet accepted; waiting the number in line
// (or just through it).
func (a *admission) inFlight() int { return len(a.slots) }
func (a *admission) waiting() int  { return int(a.waiters.Load()) }
