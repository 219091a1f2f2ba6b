package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bestai/inbox/domain"
)

func (h *harness) snooze(at time.Duration, id string, until time.Time) *outcome {
	return h.update(at, UpdateTransition, id, TransitionRequest{To: domain.Pending, Actor: alice, Until: &until})
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// A snoozed conversation goes back to Open, unread, at its wake-up time, by the system.
func TestSnoozeWakesAtItsTime(t *testing.T) {
	h := newHarness(t)
	until := wfTime(2 * time.Hour)
	snooze := h.snooze(minutes(1), "snooze", until)
	before := h.queryAt(2*time.Hour - time.Minute)
	after := h.queryAt(2*time.Hour + time.Minute)
	h.run(newInput(), days(1))
	h.requireCanceled()

	requireAccepted(t, snooze)
	requireTime(t, &until, snooze.Status.PendingUntil)
	require.Equal(t, domain.Pending, before.State)
	requireTime(t, &until, before.PendingUntil)
	require.Equal(t, domain.Open, after.State)
	require.Nil(t, after.PendingUntil)

	changes := h.acts.recordedChanges()
	require.Len(t, changes, 2)
	requireTime(t, &until, changes[0].ToPendingUntil)
	require.Equal(t, alice, changes[0].Actor)
	wake := changes[1]
	require.Equal(t, domain.Pending, wake.FromState)
	require.Equal(t, domain.Open, wake.ToState)
	require.Nil(t, wake.Actor, "the system wakes it")
	require.True(t, wake.MarkUnread)
	requireTime(t, &until, wake.FromPendingUntil)
	require.Nil(t, wake.ToPendingUntil)
	require.True(t, until.Equal(wake.At), "woke at %v, want %v", wake.At, until)
}

// A visitor's message wakes a snoozed conversation at once; its timer no longer fires.
func TestVisitorMessageCancelsSnooze(t *testing.T) {
	h := newHarness(t)
	snooze := h.snooze(minutes(1), "snooze", wfTime(2*time.Hour))
	h.signal(minutes(10), SignalVisitorMessage, VisitorMessage{})
	st := h.queryAt(minutes(11))
	h.run(newInput(), days(1))
	h.requireCanceled()

	requireAccepted(t, snooze)
	require.Equal(t, domain.Open, st.State)
	changes := h.acts.recordedChanges()
	require.Len(t, changes, 2, "woken once, by the message; the timer did not fire later")
	require.Equal(t, domain.Open, changes[1].ToState)
	require.Nil(t, changes[1].Actor)
	require.True(t, wfTime(minutes(10)).Equal(changes[1].At))
}

// A message to a conversation that is not snoozed changes nothing.
func TestVisitorMessageLeavesPlainPending(t *testing.T) {
	h := newHarness(t)
	h.transition(minutes(1), "pending", domain.Pending)
	h.signal(minutes(10), SignalVisitorMessage, VisitorMessage{})
	st := h.queryAt(minutes(11))
	h.run(newInput(), days(1))
	require.Equal(t, domain.Pending, st.State)
	require.Len(t, h.acts.recordedChanges(), 1)
}

// A new wake-up time replaces the timer; a change of state cancels it; Pending without a
// wake-up clears it.
func TestSnoozeReplacedAndCancelled(t *testing.T) {
	h := newHarness(t)
	h.snooze(minutes(1), "first", wfTime(2*time.Hour))
	second := h.snooze(minutes(30), "second", wfTime(5*time.Hour))
	mid := h.queryAt(3 * time.Hour)
	woken := h.queryAt(5*time.Hour + time.Minute)
	h.snooze(6*time.Hour, "third", wfTime(8*time.Hour))
	closed := h.transition(7*time.Hour, "close", domain.Closed)
	h.transition(7*time.Hour+time.Minute, "reopen", domain.Open)
	h.snooze(9*time.Hour, "fourth", wfTime(12*time.Hour))
	plain := h.transition(10*time.Hour, "plain", domain.Pending)
	last := h.queryAt(13 * time.Hour)
	h.run(newInput(), days(1))

	requireAccepted(t, second)
	require.Equal(t, domain.Pending, mid.State, "the first timer was replaced")
	require.Equal(t, domain.Open, woken.State)
	requireAccepted(t, closed)
	requireAccepted(t, plain)
	require.Equal(t, domain.Pending, last.State, "pending without a wake-up never wakes")
	require.Nil(t, last.PendingUntil)
	var wakes int
	for _, c := range h.acts.recordedChanges() {
		if c.Actor == nil {
			wakes++
			require.True(t, wfTime(5*time.Hour).Equal(c.At), "only the second snooze fired, at %v", c.At)
		}
	}
	require.Equal(t, 1, wakes)
	// Pending without until from Pending without until is still refused.
	h2 := newHarness(t)
	h2.transition(minutes(1), "p1", domain.Pending)
	again := h2.transition(minutes(2), "p2", domain.Pending)
	h2.run(newInput(), time.Hour)
	requireRejected(t, again, ErrInvalidTransition)
}

// until is only for pending.
func TestUntilOnlyWithPending(t *testing.T) {
	h := newHarness(t)
	until := wfTime(time.Hour)
	o := h.update(minutes(1), UpdateTransition, "close", TransitionRequest{To: domain.Closed, Actor: alice, Until: &until})
	h.run(newInput(), time.Hour)
	requireRejected(t, o, ErrInvalidTransition)
}

// With auto-archive on, a closed conversation is archived N days after it was closed, by
// the system; reopening stops the clock.
func TestAutoArchiveFiresAfterDays(t *testing.T) {
	h := newHarness(t)
	n := 3
	h.acts.autoArchive = AutoArchiveSetting{Days: &n, Stamp: 1}
	closeIt := h.transition(minutes(1), "close", domain.Closed)
	before := h.queryAt(minutes(1) + days(3) - time.Minute)
	after := h.queryAt(minutes(1) + days(3) + time.Minute)
	h.run(newInput(), days(10))
	h.requireCanceled()

	requireAccepted(t, closeIt)
	require.Equal(t, domain.Closed, before.State)
	requireTime(t, ptr(wfTime(minutes(1)+days(3))), before.ArchiveAt)
	require.Equal(t, domain.Archived, after.State)
	changes := h.acts.recordedChanges()
	require.Len(t, changes, 2)
	archive := changes[1]
	require.Equal(t, domain.Archived, archive.ToState)
	require.Nil(t, archive.Actor)
	require.False(t, archive.MarkUnread)
	require.True(t, wfTime(minutes(1)+days(3)).Equal(archive.At))
	requireTime(t, ptr(wfTime(minutes(1))), archive.ToClosedAt, "archiving keeps closed-at")
}

func TestReopenCancelsAutoArchive(t *testing.T) {
	h := newHarness(t)
	n := 3
	h.acts.autoArchive = AutoArchiveSetting{Days: &n, Stamp: 1}
	h.transition(minutes(1), "close", domain.Closed)
	h.transition(days(1), "reopen", domain.Open)
	st := h.queryAt(days(5))
	h.run(newInput(), days(10))
	require.Equal(t, domain.Open, st.State)
	require.Len(t, h.acts.recordedChanges(), 2)
}

// A change of the setting reaches a closed conversation by Signal: turned on, it arms the
// timer from the time it was closed; shortened, the timer moves earlier; an older setting
// arriving late is ignored; turned off, the timer is cancelled.
func TestAutoArchiveSettingSignals(t *testing.T) {
	h := newHarness(t)
	ten, two, five := 10, 2, 5
	h.transition(minutes(1), "close", domain.Closed) // auto-archive off (zero setting)
	h.signal(days(1), SignalAutoArchive, AutoArchiveSetting{Days: &ten, Stamp: 10})
	on := h.queryAt(days(1) + time.Minute)
	h.signal(days(1)+time.Hour, SignalAutoArchive, AutoArchiveSetting{Days: &five, Stamp: 20})
	h.signal(days(1)+2*time.Hour, SignalAutoArchive, AutoArchiveSetting{Days: &two, Stamp: 15}) // late, older
	kept := h.queryAt(days(1) + 3*time.Hour)
	h.run(newInput(), days(30))

	requireTime(t, ptr(wfTime(minutes(1)+days(10))), on.ArchiveAt)
	requireTime(t, ptr(wfTime(minutes(1)+days(5))), kept.ArchiveAt)
	changes := h.acts.recordedChanges()
	require.Len(t, changes, 2)
	require.Equal(t, domain.Archived, changes[1].ToState)
	require.True(t, wfTime(minutes(1)+days(5)).Equal(changes[1].At))

	// Shortened below its age: archived at once. Turned off: never.
	h2 := newHarness(t)
	h2.acts.autoArchive = AutoArchiveSetting{Days: &ten, Stamp: 1}
	h2.transition(minutes(1), "close", domain.Closed)
	h2.signal(days(3), SignalAutoArchive, AutoArchiveSetting{Days: &two, Stamp: 2})
	h2.run(newInput(), days(30))
	ch2 := h2.acts.recordedChanges()
	require.Len(t, ch2, 2)
	require.True(t, wfTime(days(3)).Equal(ch2[1].At), "archived when told, at %v", ch2[1].At)

	h3 := newHarness(t)
	h3.acts.autoArchive = AutoArchiveSetting{Days: &two, Stamp: 1}
	h3.transition(minutes(1), "close", domain.Closed)
	h3.signal(days(1), SignalAutoArchive, AutoArchiveSetting{Stamp: 2})
	h3.run(newInput(), days(30))
	require.Len(t, h3.acts.recordedChanges(), 1, "turned off: no archive")
}

// Continue-as-new carries both deadlines; the next run fires them on time.
func TestTimersSurviveContinueAsNew(t *testing.T) {
	h := newHarness(t)
	until := wfTime(5 * time.Hour)
	h.snooze(minutes(1), "snooze", until)
	h.env.RegisterDelayedCallback(func() { h.env.SetContinueAsNewSuggested(true) }, time.Hour)
	h.run(newInput(), days(1))
	next, _ := h.continuedAsNew()
	require.Equal(t, domain.Pending, next.State)
	requireTime(t, &until, next.PendingUntil)

	h2 := newHarness(t)
	h2.env.SetStartTime(wfTime(time.Hour))
	h2.run(next, days(1))
	changes := h2.acts.recordedChanges()
	require.Len(t, changes, 1)
	require.Equal(t, domain.Open, changes[0].ToState)
	require.Nil(t, changes[0].Actor)
	require.True(t, until.Equal(changes[0].At), "woke at %v", changes[0].At)

	h3 := newHarness(t)
	n := 2
	h3.acts.autoArchive = AutoArchiveSetting{Days: &n, Stamp: 1}
	h3.transition(minutes(1), "close", domain.Closed)
	h3.env.RegisterDelayedCallback(func() { h3.env.SetContinueAsNewSuggested(true) }, time.Hour)
	h3.run(newInput(), days(1))
	next3, _ := h3.continuedAsNew()
	archiveAt := wfTime(minutes(1) + days(2))
	requireTime(t, &archiveAt, next3.ArchiveAt)

	h4 := newHarness(t)
	h4.env.SetStartTime(wfTime(time.Hour))
	h4.run(next3, days(5))
	ch4 := h4.acts.recordedChanges()
	require.Len(t, ch4, 1)
	require.Equal(t, domain.Archived, ch4[0].ToState)
	require.True(t, archiveAt.Equal(ch4[0].At), "archived at %v", ch4[0].At)
}
