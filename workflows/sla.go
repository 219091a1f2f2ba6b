package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/bestai/inbox/domain"
)

// The SLA clocks (since version slaVersion). first_response runs from the first visitor
// message (the workflow's start) while the conversation is Open and unassigned; it is met
// when it is assigned or leaves Open. resolution runs until the conversation is Closed (or
// archived); Pending pauses it, keeping the business time already used, and a reopen
// restarts it. Each clock's due time is computed in business time with the workspace's
// calendar, and one durable timer, armed for the earliest due time, fires the breach. The
// policy and calendar come from an activity when the run starts without them, and later by
// the SignalSLA fan-out; continue-as-new carries them with the clocks in Input.SLA.

const (
	changeSLA = "sla"
	// slaVersion: the SLA clocks (a LoadSLA activity, WriteSLA activities, the breach timer).
	slaVersion workflow.Version = 1
)

// SLASetting is a workspace's SLA policy and calendar; Stamp orders settings (Unix
// microseconds of the change; an older one arriving late is ignored).
type SLASetting struct {
	FirstResponse *time.Duration            `json:"first_response,omitempty"`
	Resolution    *time.Duration            `json:"resolution,omitempty"`
	Hours         *domain.BusinessHoursSpec `json:"hours,omitempty"`
	Stamp         int64                     `json:"stamp"`
}

// SLAClock is one clock: the business time Used before the running segment that began at
// Since (nil: paused or stopped); Due while it runs under a policy; when it was met or
// breached. Stopped is the end of the clock (met, breached, or ended while its policy was off).
type SLAClock struct {
	Used       time.Duration `json:"used,omitempty"`
	Since      *time.Time    `json:"since,omitempty"`
	Due        *time.Time    `json:"due,omitempty"`
	MetAt      *time.Time    `json:"met_at,omitempty"`
	BreachedAt *time.Time    `json:"breached_at,omitempty"`
	Stopped    bool          `json:"stopped,omitempty"`
}

// SLAState is the conversation's SLA: the setting as last heard and its two clocks.
type SLAState struct {
	Setting       SLASetting `json:"setting"`
	FirstResponse SLAClock   `json:"first_response"`
	Resolution    SLAClock   `json:"resolution"`
}

// slaRuntime is the SLA's per-run state (not carried by continue-as-new).
type slaRuntime struct {
	on      bool
	epoch   int
	busy    int
	loading bool
	next    *SLASetting // a setting Signalled while the first one loads
	written domain.SLAWrite
}

// slaLoad loads the setting if this run has none and starts the clocks; it runs first in
// runSLA.
func (w *conversation) slaLoad(ctx workflow.Context) error {
	if w.SLA != nil {
		return nil
	}
	w.sla.loading = true
	defer func() { w.sla.loading = false }()
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: writeAttemptTimeout,
		RetryPolicy:         writeRetryPolicy,
	})
	var setting SLASetting
	if err := workflow.ExecuteActivity(actx, ActivityLoadSLA, w.WorkspaceID).Get(ctx, &setting); err != nil {
		return err
	}
	if w.sla.next != nil && w.sla.next.Stamp >= setting.Stamp {
		setting = *w.sla.next
	}
	start := workflow.GetInfo(ctx).WorkflowStartTime.UTC().Truncate(time.Microsecond)
	w.SLA = &SLAState{Setting: setting,
		FirstResponse: SLAClock{Since: &start}, Resolution: SLAClock{Since: &start}}
	return nil
}

// slaObserve moves the clocks after a change of state or assignee, or of the setting, and
// writes them when what the read model shows changed.
func (w *conversation) slaObserve(ctx workflow.Context) {
	if w.SLA == nil || !w.sla.on {
		return
	}
	now := workflow.Now(ctx).UTC().Truncate(time.Microsecond)
	s := w.SLA
	cal := w.calendar(ctx)
	fr := &s.FirstResponse
	if !fr.Stopped && (w.State != domain.Open || w.Assignee != nil) {
		if s.Setting.FirstResponse != nil {
			fr.MetAt = &now
		}
		fr.Stopped, fr.Since = true, nil
	}
	res := &s.Resolution
	ended := w.State == domain.Closed || w.State == domain.Archived
	switch {
	case res.Stopped && !ended:
		// A reopen restarts the clock.
		*res = SLAClock{Since: &now}
	case !res.Stopped && ended:
		if s.Setting.Resolution != nil {
			res.MetAt = &now
		}
		res.Stopped, res.Since = true, nil
	}
	if !res.Stopped {
		switch {
		case w.State == domain.Pending && res.Since != nil:
			res.Used += cal.between(*res.Since, now)
			res.Since = nil
		case w.State != domain.Pending && res.Since == nil:
			res.Since = &now
		}
	}
	fr.Due = cal.due(fr, s.Setting.FirstResponse)
	res.Due = cal.due(res, s.Setting.Resolution)
	w.sla.epoch++
	w.slaWrite(ctx, nil)
}

// slaLearn takes a setting Signalled by the fan-out unless a newer one is known.
func (w *conversation) slaLearn(ctx workflow.Context, setting SLASetting) {
	if w.SLA == nil {
		if w.sla.next == nil || setting.Stamp >= w.sla.next.Stamp {
			w.sla.next = &setting
		}
		return
	}
	if setting.Stamp < w.SLA.Setting.Stamp {
		return
	}
	w.SLA.Setting = setting
	w.slaObserve(ctx)
}

// slaCalendar is business time under the workspace's hours; without hours, all the time.
type slaCalendar struct{ hours *domain.BusinessHours }

func (w *conversation) calendar(ctx workflow.Context) slaCalendar {
	spec := w.SLA.Setting.Hours
	if spec == nil {
		return slaCalendar{}
	}
	b, err := domain.ParseBusinessHours(spec.TimeZone, spec.Weekly, spec.Holidays)
	if err != nil {
		workflow.GetLogger(ctx).Warn("business hours unusable; counting all the time", "error", err)
		return slaCalendar{}
	}
	return slaCalendar{hours: &b}
}

func (c slaCalendar) between(from, to time.Time) time.Duration {
	if c.hours == nil {
		return max(to.Sub(from), 0)
	}
	return c.hours.Between(from, to)
}

// due is when a running clock breaches under its policy; nil when it is stopped, paused,
// off, or the calendar is never open.
func (c slaCalendar) due(clock *SLAClock, policy *time.Duration) *time.Time {
	if clock.Stopped || clock.Since == nil || policy == nil {
		return nil
	}
	left := max(*policy-clock.Used, 0)
	var at time.Time
	if c.hours == nil {
		at = clock.Since.Add(left).UTC()
	} else {
		var err error
		if at, err = c.hours.Add(*clock.Since, left); err != nil {
			return nil
		}
	}
	return &at
}

// slaWrite writes the clocks (in the order of the workflow's other writes) when they
// differ from what was last written, or always with a breach.
func (w *conversation) slaWrite(ctx workflow.Context, breach *domain.SLABreach) {
	s := w.SLA
	write := domain.SLAWrite{WorkspaceID: w.WorkspaceID, ConversationID: w.ConversationID,
		FirstResponseDue: s.FirstResponse.Due, FirstResponseMetAt: s.FirstResponse.MetAt,
		FirstResponseBreachedAt: s.FirstResponse.BreachedAt,
		ResolutionDue:           s.Resolution.Due, ResolutionMetAt: s.Resolution.MetAt,
		ResolutionBreachedAt: s.Resolution.BreachedAt,
		ResolutionPaused:     !s.Resolution.Stopped && s.Resolution.Since == nil && s.Setting.Resolution != nil,
		Breach:               breach}
	if breach == nil && sameSLAWrite(write, w.sla.written) {
		return
	}
	w.sla.written = write
	ticket := w.nextWrite
	w.nextWrite++
	w.sla.busy++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { w.sla.busy-- }()
		if err := workflow.Await(ctx, func() bool { return w.servingWrite == ticket }); err != nil {
			return
		}
		defer func() { w.servingWrite++ }()
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: writeAttemptTimeout,
			RetryPolicy:         writeRetryPolicy,
		})
		if err := workflow.ExecuteActivity(actx, ActivityWriteSLA, write).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Error("SLA write failed", "error", err)
		}
	})
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func sameSLAWrite(a, b domain.SLAWrite) bool {
	return sameTime(a.FirstResponseDue, b.FirstResponseDue) && sameTime(a.FirstResponseMetAt, b.FirstResponseMetAt) &&
		sameTime(a.FirstResponseBreachedAt, b.FirstResponseBreachedAt) && sameTime(a.ResolutionDue, b.ResolutionDue) &&
		sameTime(a.ResolutionMetAt, b.ResolutionMetAt) && sameTime(a.ResolutionBreachedAt, b.ResolutionBreachedAt) &&
		a.ResolutionPaused == b.ResolutionPaused
}

// slaNext is the running clock that breaches first and its due time.
func (w *conversation) slaNext() (string, *time.Time) {
	if w.SLA == nil {
		return "", nil
	}
	fr, res := w.SLA.FirstResponse.Due, w.SLA.Resolution.Due
	switch {
	case fr != nil && (res == nil || !res.Before(*fr)):
		return domain.SLAFirstResponse, fr
	case res != nil:
		return domain.SLAResolution, res
	}
	return "", nil
}

// runSLA loads the setting, then keeps one durable timer armed for the earliest due time
// for the whole run; a change that moves it cancels the timer and arms the next.
func (w *conversation) runSLA(ctx workflow.Context) {
	if !w.sla.on {
		return
	}
	if err := w.slaLoad(ctx); err != nil {
		workflow.GetLogger(ctx).Error("SLA setting not loaded", "error", err)
		return
	}
	w.slaObserve(ctx)
	for {
		epoch := w.sla.epoch
		clock, at := w.slaNext()
		if at == nil {
			if err := workflow.Await(ctx, func() bool { return w.sla.epoch != epoch }); err != nil {
				return
			}
			continue
		}
		if d := at.Sub(workflow.Now(ctx)); d > 0 {
			tctx, cancel := workflow.WithCancel(ctx)
			timer := workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{
				Summary: fmt.Sprintf("SLA %s due at %s", clock, at.UTC().Format(time.RFC3339))})
			err := workflow.Await(ctx, func() bool { return timer.IsReady() || w.sla.epoch != epoch })
			cancel()
			if err != nil {
				return
			}
			if w.sla.epoch != epoch {
				continue
			}
		}
		w.slaBreach(ctx, clock, *at)
	}
}

// slaBreach stops the clock as breached and records the breach, once.
func (w *conversation) slaBreach(ctx workflow.Context, clock string, due time.Time) {
	c := &w.SLA.FirstResponse
	if clock == domain.SLAResolution {
		c = &w.SLA.Resolution
	}
	at := due.UTC()
	c.BreachedAt, c.Stopped, c.Since, c.Due = &at, true, nil, nil
	w.sla.epoch++
	w.slaWrite(ctx, &domain.SLABreach{Clock: clock, Due: at})
}

// slaIdle reports that no SLA write is in flight and the setting is not loading.
func (w *conversation) slaIdle() bool { return w.sla.busy == 0 && !w.sla.loading }
