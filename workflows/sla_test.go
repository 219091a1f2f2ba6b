package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bestai/inbox/domain"
)

func dur(d time.Duration) *time.Duration { return &d }

// breaches returns the breaches the workflow recorded, in order.
func (h *harness) breaches() []domain.SLABreach {
	var out []domain.SLABreach
	for _, w := range h.acts.recordedSLAWrites() {
		if w.Breach != nil {
			out = append(out, *w.Breach)
		}
	}
	return out
}

// lastSLAWriteBefore is the last clock write recorded at or before workflow time start+at.
func (h *harness) slaWritesAt(at time.Duration) *[]domain.SLAWrite {
	out := new([]domain.SLAWrite)
	h.env.RegisterDelayedCallback(func() { *out = h.acts.recordedSLAWrites() }, at)
	return out
}

func last(ws []domain.SLAWrite) domain.SLAWrite {
	if len(ws) == 0 {
		return domain.SLAWrite{}
	}
	return ws[len(ws)-1]
}

// The first-response clock is due an hour after the first message (no business hours: all
// the time counts) and breaches then, once, by a durable timer; the conversation stays as
// it is.
func TestSLAFirstResponseBreachesOnce(t *testing.T) {
	h := newHarness(t)
	h.acts.sla = SLASetting{FirstResponse: dur(time.Hour), Stamp: 1}
	early := h.slaWritesAt(minutes(59))
	h.run(newInput(), days(2))
	h.requireCanceled()

	require.Len(t, *early, 1, "the due time is written at the start; nothing breached before it")
	requireTime(t, ptr(wfTime(time.Hour)), (*early)[0].FirstResponseDue)
	require.Nil(t, (*early)[0].ResolutionDue, "the resolution clock is off")
	require.Equal(t, []domain.SLABreach{{Clock: domain.SLAFirstResponse, Due: wfTime(time.Hour)}}, h.breaches())
	w := last(h.acts.recordedSLAWrites())
	requireTime(t, ptr(wfTime(time.Hour)), w.FirstResponseBreachedAt)
	require.Nil(t, w.FirstResponseDue)
	require.Empty(t, h.acts.recordedChanges(), "a breach changes no state")
}

// Assigning the conversation meets the first-response clock: no breach.
func TestSLAFirstResponseMetByAssign(t *testing.T) {
	h := newHarness(t)
	h.acts.sla = SLASetting{FirstResponse: dur(time.Hour), Stamp: 1}
	requireAcceptedLater := h.assign(minutes(10), "assign", &bob)
	h.run(newInput(), days(1))
	requireAccepted(t, requireAcceptedLater)
	require.Empty(t, h.breaches())
	w := last(h.acts.recordedSLAWrites())
	requireTime(t, ptr(wfTime(minutes(10))), w.FirstResponseMetAt)
	require.Nil(t, w.FirstResponseDue)
}

// A chat at 17:55 on a Friday with a 1-hour SLA and hours of 09:00-18:00 on weekdays is due
// at 09:55 on Monday.
func TestSLADueInBusinessTime(t *testing.T) {
	h := newHarness(t)
	friday := time.Date(2099, 3, 6, 17, 55, 0, 0, time.UTC)
	h.env.SetStartTime(friday)
	week := map[string][]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		week[d] = []string{"09:00-18:00"}
	}
	h.acts.sla = SLASetting{FirstResponse: dur(time.Hour), Hours: &domain.BusinessHoursSpec{TimeZone: "UTC", Weekly: week}, Stamp: 1}
	first := h.slaWritesAt(time.Minute)
	h.run(newInput(), days(4))
	monday := time.Date(2099, 3, 9, 9, 55, 0, 0, time.UTC)
	require.NotEmpty(t, *first)
	requireTime(t, &monday, (*first)[0].FirstResponseDue)
	require.Equal(t, []domain.SLABreach{{Clock: domain.SLAFirstResponse, Due: monday}}, h.breaches())
}

// Pending pauses the resolution clock, keeping the time used; leaving Pending resumes it.
func TestSLAResolutionPausedByPending(t *testing.T) {
	h := newHarness(t)
	h.acts.sla = SLASetting{Resolution: dur(2 * time.Hour), Stamp: 1}
	h.transition(minutes(30), "pending", domain.Pending)
	paused := h.slaWritesAt(minutes(31))
	h.transition(5*time.Hour, "open", domain.Open)
	h.run(newInput(), days(1))

	p := last(*paused)
	require.True(t, p.ResolutionPaused)
	require.Nil(t, p.ResolutionDue)
	// 30 minutes used before the pause: 90 left from 5h.
	want := wfTime(5*time.Hour + 90*time.Minute)
	require.Equal(t, []domain.SLABreach{{Clock: domain.SLAResolution, Due: want}}, h.breaches())
}

// A snooze is Pending too: the clock is paused until it wakes.
func TestSLAResolutionPausedBySnooze(t *testing.T) {
	h := newHarness(t)
	h.acts.sla = SLASetting{Resolution: dur(time.Hour), Stamp: 1}
	h.snooze(minutes(10), "snooze", wfTime(3*time.Hour))
	h.run(newInput(), days(1))
	require.Equal(t, []domain.SLABreach{{Clock: domain.SLAResolution, Due: wfTime(3*time.Hour + 50*time.Minute)}}, h.breaches())
}

// Closing meets the resolution clock; a reopen restarts it from zero.
func TestSLAResolutionRestartedByReopen(t *testing.T) {
	h := newHarness(t)
	h.acts.sla = SLASetting{Resolution: dur(time.Hour), Stamp: 1}
	h.transition(minutes(30), "close", domain.Closed)
	closed := h.slaWritesAt(minutes(31))
	h.transition(2*time.Hour, "reopen", domain.Open)
	h.run(newInput(), days(1))

	c := last(*closed)
	requireTime(t, ptr(wfTime(minutes(30))), c.ResolutionMetAt)
	require.Nil(t, c.ResolutionDue)
	require.Equal(t, []domain.SLABreach{{Clock: domain.SLAResolution, Due: wfTime(3 * time.Hour)}}, h.breaches())
	w := last(h.acts.recordedSLAWrites())
	require.Nil(t, w.ResolutionMetAt, "the restarted clock was not met")
}

// A new policy mid-way moves the timer: the old due time passes without a breach.
func TestSLAPolicyChangedMidway(t *testing.T) {
	h := newHarness(t)
	h.acts.sla = SLASetting{FirstResponse: dur(time.Hour), Stamp: 1}
	h.signal(minutes(10), SignalSLA, SLASetting{FirstResponse: dur(2 * time.Hour), Stamp: 2})
	// An older setting arriving late is ignored.
	h.signal(minutes(20), SignalSLA, SLASetting{FirstResponse: dur(time.Hour), Stamp: 1})
	h.run(newInput(), days(1))
	require.Equal(t, []domain.SLABreach{{Clock: domain.SLAFirstResponse, Due: wfTime(2 * time.Hour)}}, h.breaches())

	// Turned off: no breach at all.
	h = newHarness(t)
	h.acts.sla = SLASetting{FirstResponse: dur(time.Hour), Stamp: 1}
	h.signal(minutes(10), SignalSLA, SLASetting{Stamp: 2})
	h.run(newInput(), days(1))
	require.Empty(t, h.breaches())
	require.Nil(t, last(h.acts.recordedSLAWrites()).FirstResponseDue)
}

// Continue-as-new carries a running clock: the next run does not load the setting again,
// and breaches at the carried due time, once.
func TestSLAContinueAsNewWithClockRunning(t *testing.T) {
	h := newHarness(t)
	h.acts.sla = SLASetting{FirstResponse: dur(time.Hour), Stamp: 1}
	h.env.RegisterDelayedCallback(func() {
		h.env.SetContinueAsNewSuggested(true)
		h.env.SignalWorkflow(SignalVisitorMessage, VisitorMessage{}) // wakes the run to decide
	}, minutes(20))
	h.run(newInput(), days(1))
	next, _ := h.continuedAsNew()
	require.NotNil(t, next.SLA)
	requireTime(t, ptr(wfTime(time.Hour)), next.SLA.FirstResponse.Due)
	require.Empty(t, h.breaches())

	h2 := newHarness(t)
	h2.env.SetStartTime(wfTime(minutes(20)))
	h2.acts.sla = SLASetting{FirstResponse: dur(5 * time.Hour), Stamp: 1} // never read
	h2.run(next, days(1))
	h2.acts.mu.Lock()
	loads := h2.acts.slaLoads
	h2.acts.mu.Unlock()
	require.Zero(t, loads)
	require.Equal(t, []domain.SLABreach{{Clock: domain.SLAFirstResponse, Due: wfTime(time.Hour)}}, h2.breaches())
}
