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
	channels map[string]workflow.ReceiveChannel
	running  int
}

func (w *conversation) listenForSignals(ctx workflow.Context) *signalListener {
	l := &signalListener{w: w, channels: map[string]workflow.ReceiveChannel{
		UpdateTransition:   workflow.GetSignalChannel(ctx, UpdateTransition),
		UpdateAssign:       workflow.GetSignalChannel(ctx, UpdateAssign),
		UpdateRetrySummary: workflow.GetSignalChannel(ctx, UpdateRetrySummary),
	}}
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			for name, ch := range l.sortedChannels() {
				sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) { l.receive(ctx, name, c) })
			}
			sel.Select(ctx)
		}
	})
	return l
}

// sortedChannels yields the channels in a fixed order: map order is random, and workflow
// code must make the same choices on replay.
func (l *signalListener) sortedChannels() func(func(string, workflow.ReceiveChannel) bool) {
	return func(yield func(string, workflow.ReceiveChannel) bool) {
		for _, name := range []string{UpdateTransition, UpdateAssign, UpdateRetrySummary} {
			if !yield(name, l.channels[name]) {
				return
			}
		}
	}
}

func (l *signalListener) idle() bool { return l.running == 0 }

// drain handles Signals already delivered but not yet received; it reports whether it found any.
func (l *signalListener) drain(ctx workflow.Context) bool {
	found := false
	for name, ch := range l.sortedChannels() {
		for l.receive(ctx, name, ch) {
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
