package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/bestai/inbox/domain"
)

// The conversation's two timers: a snoozed (Pending with a wake-up) conversation goes back
// to Open, unread, at PendingUntil; a Closed one is archived at ArchiveAt when the workspace
// has auto-archive on. At most one of them is armed at a time (a conversation is in one
// state), as one durable workflow timer that any change of state cancels or replaces. Both
// changes are audited as the system (no actor).

// timersOn reports whether this run issues the timers' commands (see changeTimers). Runs
// recorded before that version never had a deadline, so their histories replay unchanged.
func (w *conversation) timersOn(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeTimers, workflow.DefaultVersion, timersVersion) == timersVersion
}

// applyTimedTransition is applyTransition since version timersVersion: it also records the
// wake-up time (pending_until) and re-arms the timers. markUnread makes the conversation
// unread with the change (a wake-up).
func (w *conversation) applyTimedTransition(ctx workflow.Context, requestID string, req TransitionRequest, markUnread bool) (Status, error) {
	now := workflow.Now(ctx).UTC().Truncate(time.Microsecond) // what Postgres keeps
	change := w.newChange(ctx, requestID, req.Actor)
	change.MarkUnread = markUnread
	moveTo(&w.Input, &change, req, now)
	w.rearm()
	result, err := w.persistResult(ctx, &change)
	if err != nil {
		return Status{}, err
	}
	if result.AutoArchive != nil {
		w.learnAutoArchive(*result.AutoArchive)
	}
	w.slaObserve(ctx)
	if change.SummaryGeneration > 0 {
		w.startSummary(ctx)
	}
	return w.statusAfter(change), nil
}

// moveTo makes req's change of state to the lifecycle in, at now, and says it in change:
// what a change of state does, decided here for the workflow's Updates and for a batch
// that starts a conversation's workflow with its first change (StartInput). The caller has
// checked it (checkTransition) and re-arms the timers.
func moveTo(in *Input, change *domain.LifecycleChange, req TransitionRequest, now time.Time) {
	change.FromState, change.ToState, change.FromClosedAt = in.State, req.To, in.ClosedAt
	change.FromPendingUntil = in.PendingUntil
	switch {
	case req.To == domain.Closed && in.State == domain.Archived:
		change.ToClosedAt = in.ClosedAt // back from the archive: it was closed then
	case req.To == domain.Closed:
		change.ToClosedAt = &now // closing sets closed-at
	case req.To == domain.Archived:
		change.ToClosedAt = in.ClosedAt // archiving keeps it; reopening (nil) clears it
	}
	if req.To == domain.Pending && req.Until != nil {
		until := req.Until.UTC().Truncate(time.Microsecond)
		change.ToPendingUntil = &until
	}
	in.State, in.ClosedAt, in.PendingUntil = change.ToState, change.ToClosedAt, change.ToPendingUntil
	if req.To == domain.Closed {
		// The auto-archive clock starts now, also for a conversation taken out of the
		// archive (its closed-at is older; it must not be archived again at once).
		in.ClosedSince = &now
		// Every change to Closed starts a fresh summary that replaces the old one when ready.
		in.SummaryGeneration++
		change.SummaryGeneration = in.SummaryGeneration
	}
}

// learnAutoArchive takes the workspace's auto-archive setting unless a newer one is known.
func (w *conversation) learnAutoArchive(s AutoArchiveSetting) {
	if s.Stamp < w.AutoArchiveStamp {
		return
	}
	w.AutoArchiveDays, w.AutoArchiveStamp = s.Days, s.Stamp
	w.rearm()
}

// rearm recomputes ArchiveAt from the state, the time it was closed and the setting, and
// tells the timer loop to look again.
func (w *conversation) rearm() {
	w.ArchiveAt = ArchiveDeadline(w.Input)
	if w.State != domain.Pending {
		w.PendingUntil = nil
	}
	w.timerEpoch++
}

// ArchiveDeadline is when a conversation in the state of in is archived: ClosedSince (or,
// for one closed before the timers existed, ClosedAt) plus the workspace's auto-archive
// days; nil unless it is Closed and auto-archive is on.
func ArchiveDeadline(in Input) *time.Time {
	since := in.ClosedSince
	if since == nil {
		since = in.ClosedAt
	}
	if in.State != domain.Closed || since == nil || in.AutoArchiveDays == nil {
		return nil
	}
	at := since.AddDate(0, 0, *in.AutoArchiveDays)
	return &at
}

// deadline is the armed timer's time and the state it moves the conversation to.
func (w *conversation) deadline() (*time.Time, domain.State) {
	switch {
	case w.State == domain.Pending && w.PendingUntil != nil:
		return w.PendingUntil, domain.Open
	case w.State == domain.Closed && w.ArchiveAt != nil:
		return w.ArchiveAt, domain.Archived
	}
	return nil, ""
}

// runTimers keeps one durable timer armed for the current deadline, for the whole run.
// A change that moves the deadline cancels the timer and arms the next; a deadline already
// past (say, carried over by continue-as-new) fires at once.
func (w *conversation) runTimers(ctx workflow.Context) {
	for {
		epoch := w.timerEpoch
		at, to := w.deadline()
		if at == nil {
			if err := workflow.Await(ctx, func() bool { return w.timerEpoch != epoch }); err != nil {
				return
			}
			continue
		}
		if !w.timersOn(ctx) {
			return // unreachable: a deadline only exists since timersVersion
		}
		if d := at.Sub(workflow.Now(ctx)); d > 0 {
			summary := "snooze: back to open at " + at.UTC().Format(time.RFC3339)
			if to == domain.Archived {
				summary = "auto-archive at " + at.UTC().Format(time.RFC3339)
			}
			tctx, cancel := workflow.WithCancel(ctx)
			timer := workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: summary})
			err := workflow.Await(ctx, func() bool { return timer.IsReady() || w.timerEpoch != epoch })
			cancel() // replaced: the timer is cancelled in the history too
			if err != nil {
				return
			}
			if w.timerEpoch != epoch {
				continue
			}
		}
		w.fire(ctx, to)
		if w.timerEpoch == epoch {
			// Refused (the run is busy): try again on the next change, never in a loop.
			if err := workflow.Await(ctx, func() bool { return w.timerEpoch != epoch }); err != nil {
				return
			}
		}
	}
}

// fire makes the timer's change: back to Open and unread, or Archived; the system acts.
func (w *conversation) fire(ctx workflow.Context, to domain.State) {
	req := TransitionRequest{To: to}
	if err := w.validateTransition(req); err != nil {
		workflow.GetLogger(ctx).Warn("timer change refused", "to", to, "reason", err.Error())
		return
	}
	w.TimersFired++
	requestID := fmt.Sprintf("timer/%s/%d", w.ConversationID, w.TimersFired)
	w.timerBusy++
	defer func() { w.timerBusy-- }()
	if _, err := w.applyTimedTransition(ctx, requestID, req, to == domain.Open); err != nil {
		workflow.GetLogger(ctx).Error("timer change failed", "to", to, "error", err)
	}
}

// wakeOnMessage reopens a snoozed conversation at once: the visitor wrote. A conversation
// not snoozed (any more) is left as it is.
func (w *conversation) wakeOnMessage(ctx workflow.Context, requestID string) error {
	if w.State != domain.Pending || w.PendingUntil == nil {
		return nil
	}
	req := TransitionRequest{To: domain.Open}
	if err := w.validateTransition(req); err != nil {
		return err
	}
	_, err := w.applyTimedTransition(ctx, requestID, req, true)
	return err
}
