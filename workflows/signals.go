package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// signalListener serves the Updates' names as Signals too, for operators acting from the
// Temporal UI or CLI. A Signal cannot answer, so one the table forbids is logged and
// changes nothing; a valid one goes through the same handler, audited as a system change.
type signalListener struct {
	w        *conversation
	channels []namedChannel // in a fixed order: workflow code must choose the same on replay
	running  int
}

type namedChannel struct {
	name string
	ch   workflow.ReceiveChannel
}

func (w *conversation) listenForSignals(ctx workflow.Context) *signalListener {
	l := &signalListener{w: w}
	// New names go last: the order is part of what replays.
	for _, name := range []string{UpdateTransition, UpdateAssign, UpdateRetrySummary, SignalVisitorMessage, SignalAutoArchive, SignalSLA} {
		l.channels = append(l.channels, namedChannel{name, workflow.GetSignalChannel(ctx, name)})
	}
	// Signals stay on their channels until they are handled (no Selector takes them off
	// early), so the continue-as-new decision can always see and drain them.
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			if err := workflow.Await(ctx, l.pending); err != nil {
				return
			}
			l.drain(ctx)
		}
	})
	return l
}

// pending reports whether a Signal waits on any channel.
func (l *signalListener) pending() bool {
	for _, c := range l.channels {
		if c.ch.Len() > 0 {
			return true
		}
	}
	return false
}

// idle reports that no Signal waits and none is being handled.
func (l *signalListener) idle() bool { return l.running == 0 && !l.pending() }

// drain handles every Signal delivered so far; it reports whether it found any.
func (l *signalListener) drain(ctx workflow.Context) bool {
	found := false
	for _, c := range l.channels {
		for l.receive(ctx, c.name, c.ch) {
			found = true
		}
	}
	return found
}

// receive takes one Signal off ch if there is one and starts its handler.
func (l *signalListener) receive(ctx workflow.Context, name string, ch workflow.ReceiveChannel) bool {
	w := l.w
	var handle func(workflow.Context, string) error
	switch name {
	case UpdateTransition:
		var req TransitionRequest
		if !ch.ReceiveAsync(&req) {
			return false
		}
		req.Actor = nil // an operator acting through Temporal is recorded as the system
		handle = func(ctx workflow.Context, id string) error { _, err := w.applyTransition(ctx, id, req); return err }
	case UpdateAssign:
		var req AssignRequest
		if !ch.ReceiveAsync(&req) {
			return false
		}
		req.Actor = nil
		handle = func(ctx workflow.Context, id string) error { _, err := w.applyAssign(ctx, id, req); return err }
	case UpdateRetrySummary:
		var req RetrySummaryRequest
		if !ch.ReceiveAsync(&req) {
			return false
		}
		req.Actor = nil
		handle = func(ctx workflow.Context, id string) error { _, err := w.applyRetrySummary(ctx, id, req); return err }
	case SignalVisitorMessage:
		var msg VisitorMessage
		if !ch.ReceiveAsync(&msg) {
			return false
		}
		handle = w.wakeOnMessage
	case SignalAutoArchive:
		var setting AutoArchiveSetting
		if !ch.ReceiveAsync(&setting) {
			return false
		}
		// Only state: the timer loop arms, moves or cancels the auto-archive timer.
		w.learnAutoArchive(setting)
		return true
	case SignalSLA:
		var setting SLASetting
		if !ch.ReceiveAsync(&setting) {
			return false
		}
		// State, and a write of the clocks; the SLA loop re-arms its timer.
		w.slaLearn(ctx, setting)
		return true
	}
	w.SignalsSeen++
	requestID := fmt.Sprintf("signal/%s/%d", w.ConversationID, w.SignalsSeen)
	l.running++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { l.running-- }()
		if err := handle(ctx, requestID); err != nil {
			workflow.GetLogger(ctx).Warn("signal ignored", "signal", name, "reason", err.Error())
		}
	})
	return true
}
