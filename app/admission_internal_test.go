package app

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Requests beyond the bound wait in line and get in, in their order, as slots come back.
func TestAdmissionQueuesInOrder(t *testing.T) {
	a := newAdmission(2)
	first, err := a.enter(t.Context(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.enter(t.Context(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 3)
	for i := range 3 {
		go func() {
			leave, err := a.enter(t.Context(), time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			order <- i
			leave()
		}()
		// Each waiter is in line before the next one comes.
		for deadline := time.Now().Add(5 * time.Second); a.waiting() < i+1; {
			if time.Now().After(deadline) {
				t.Fatalf("waiter %d never queued", i)
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond) // from the count to the channel's queue
	}
	if a.inFlight() != 2 {
		t.Fatalf("%d in flight, want the bound 2", a.inFlight())
	}
	if a.waiting() != 3 {
		t.Fatalf("%d waiting, want 3", a.waiting())
	}
	// One slot comes back (twice, which gives it back once); each waiter passes it on.
	first()
	first()
	defer second()
	for want := range 3 {
		if got := <-order; got != want {
			t.Fatalf("waiter %d got in at turn %d: not in arrival order", got, want)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); a.waiting() > 0 || a.inFlight() != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("%d in flight once the waiters left, want 1 (second's)", a.inFlight())
		}
		time.Sleep(time.Millisecond)
	}
}

// A request still in line when its deadline passes is refused as busy: nothing was sent.
func TestAdmissionRefusesBusyAtTheDeadline(t *testing.T) {
	a := newAdmission(1)
	leave, err := a.enter(t.Context(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer leave()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := a.enter(ctx, time.Minute); !errors.Is(err, errBusy) {
		t.Fatalf("waited past the deadline: %v, want errBusy (429)", err)
	}
	if errBusy.Status != 429 || errBusy.RetryAfter <= 0 {
		t.Fatalf("errBusy is %d with Retry-After %d", errBusy.Status, errBusy.RetryAfter)
	}
	canceled, stop := context.WithCancel(t.Context())
	stop()
	if _, err := a.enter(canceled, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("caller went away: %v, want context.Canceled", err)
	}
}

// A slot that comes free with less than a tenth of the request's time left is not used:
// the Update would likely not be confirmed in time, and "busy, nothing changed" is the
// clearer answer.
func TestAdmissionKeepsNoSlotForALateRequest(t *testing.T) {
	a := newAdmission(1)
	leave, err := a.enter(t.Context(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	time.AfterFunc(950*time.Millisecond, leave)
	if _, err := a.enter(ctx, time.Minute); !errors.Is(err, errBusy) {
		t.Fatalf("slot free with 50ms of 1s left: %v, want errBusy", err)
	}
	if a.inFlight() != 0 {
		t.Fatalf("%d slots held after a refused late request, want 0", a.inFlight())
	}
}

// A request that waits in line longer than its patience leaves it (it is queued instead,
// queue.go), with time still on its deadline, and holds no slot.
func TestAdmissionGivesUpAfterItsPatience(t *testing.T) {
	a := newAdmission(1)
	leave, err := a.enter(t.Context(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer leave()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	began := time.Now()
	if _, err := a.enter(ctx, 50*time.Millisecond); !errors.Is(err, errBusy) {
		t.Fatalf("waited past its patience: %v, want errBusy", err)
	}
	if waited := time.Since(began); waited < 50*time.Millisecond || waited > 10*time.Second {
		t.Fatalf("left the line after %v, want about 50ms", waited)
	}
	if a.inFlight() != 1 || a.waiting() != 0 {
		t.Fatalf("%d in flight and %d waiting after it left, want 1 and 0", a.inFlight(), a.waiting())
	}
}
