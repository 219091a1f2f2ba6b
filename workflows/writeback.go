package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/bestai/inbox/domain"
)

// One history write on a change's critical path (since version writeAfterCompleted).
//
// An Update's handler decides the change, numbers it (LifecycleSeq) and returns it in its
// result, with no activity to wait for: the Update completes in the workflow task that
// accepted it. Whoever waited for the Update writes the change to Postgres once it has
// completed, which means the history holds it, so Postgres can never show a change the
// history lacks. Because a caller can die between the two, the workflow keeps each change
// until its write-back has written it: one timer per batch of changes, and a local activity
// when it fires that writes every change the batch holds. The store applies a numbered
// change over an older one only and writes its audit once, so the caller's write and the
// write-back's are both harmless, in any order.
const (
	changeWriteAfterCompleted = "write-after-completed"
	// writeAfterCompleted: lifecycle changes are written after their Update completes.
	writeAfterCompleted workflow.Version = 1

	// changeAttributesWithWriteBack: an Update's change upserts the search attributes in the
	// write-back's task, not in the task that completes the Update (attributesLater).
	changeAttributesWithWriteBack                  = "attributes-with-write-back"
	attributesWithWriteBack       workflow.Version = 1
)

var (
	// writeBackDelay is how long a change made for an Update waits for the write-back: its
	// caller has written it long before, unless it died. Variables for tests.
	writeBackDelay = 5 * time.Second
	// writeBackSoon is the delay for a change nobody waits for (a timer's, an operator's
	// Signal, a visitor's wake-up), which only the write-back writes, and for a batch that
	// has grown to writeBackBatch changes (a conversation changed many times a second).
	writeBackSoon  = 10 * time.Millisecond
	writeBackBatch = 50
)

// writeBack is the write-back's state; the changes themselves are Input.Unwritten.
type writeBack struct {
	// soon asks the armed timer to be replaced by a short one.
	soon bool
	// lastSeq is the number of the last change held, taskLength the history length of the
	// workflow task that made it, and earlierSeq the last change made by an earlier task:
	// a task's history length tells it from the tasks before it (writtenBefore).
	lastSeq, earlierSeq int64
	taskLength          int
	// writing is set while the local activity runs; a run does not continue as new then.
	writing bool
	// summaryChange is the last change that started a summary generation.
	summaryChange *domain.LifecycleChange
	// staleAttributes says that an Update's change has not been upserted into the search
	// attributes yet (attributesLater); staleSummary is the summary status it set, if any.
	staleAttributes bool
	staleSummary    domain.SummaryStatus
}

// callerWritesKey marks the context of an Update's handler: its caller writes the change.
type callerWritesKey struct{}

func callerWrites(ctx workflow.Context) workflow.Context {
	return workflow.WithValue(ctx, callerWritesKey{}, true)
}

// startingChange is the change that started generation, for the summary activity to write
// first; nil when it is not known to this run (the run began after it).
func (b *writeBack) startingChange(generation int64) *domain.LifecycleChange {
	if b.summaryChange == nil || b.summaryChange.SummaryGeneration != generation {
		return nil
	}
	return b.summaryChange
}

// holdForWriteBack numbers the change, stamps the lifecycle it leaves and keeps it for the
// write-back. It does not yield unless a change of the older version is still being
// written (only in a run that changed version), so the handler's state change and its
// number stay together.
func (w *conversation) holdForWriteBack(ctx workflow.Context, change *domain.LifecycleChange) error {
	if err := workflow.Await(ctx, func() bool { return w.servingWrite == w.nextWrite }); err != nil {
		return err
	}
	w.LifecycleSeq++
	change.Seq = w.LifecycleSeq
	change.After = &domain.LifecycleState{State: w.State, ClosedAt: w.ClosedAt, PendingUntil: w.PendingUntil, Assignee: w.Assignee}
	w.Unwritten = append(w.Unwritten, *change)
	if n := workflow.GetInfo(ctx).GetCurrentHistoryLength(); n != w.writeBack.taskLength {
		w.writeBack.earlierSeq, w.writeBack.taskLength = w.writeBack.lastSeq, n
	}
	w.writeBack.lastSeq = change.Seq
	if ctx.Value(callerWritesKey{}) == nil || len(w.Unwritten) >= writeBackBatch {
		w.writeBack.soon = true // nobody waits for this change to write it, or many wait
	}
	if change.SummaryGeneration > 0 {
		held := *change
		w.writeBack.summaryChange = &held
		// The summary activity writes this change itself before it reads the row.
		w.persistedGeneration = max(w.persistedGeneration, change.SummaryGeneration)
	}
	if w.attributesLater(ctx) {
		w.writeBack.staleAttributes = true
		if status := changeSummaryStatus(*change); status != "" {
			w.writeBack.staleSummary = status
		}
		return nil
	}
	return w.upsertSearchAttributes(ctx, changeSummaryStatus(*change))
}

// attributesLater says whether the change being held, an Update's, leaves its search
// attributes to the write-back's task (since version attributesWithWriteBack). An upsert
// in the Update's own task is an event, a visibility task and a visibility write on the
// change's critical path (2 to 5 ms of a 1-client transition on the 2-core bench machine):
// the Temporal UI shows the new state once the write-back's timer fires, within
// writeBackDelay, or at the next upsert of any other kind (a summary's status, a timer's
// change), whichever comes first. Changes nobody waits for upsert at once, as before.
func (w *conversation) attributesLater(ctx workflow.Context) bool {
	return ctx.Value(callerWritesKey{}) != nil &&
		workflow.GetVersion(ctx, changeAttributesWithWriteBack, workflow.DefaultVersion, attributesWithWriteBack) == attributesWithWriteBack
}

// upsertStaleAttributes upserts what Updates' changes left to the write-back, if anything.
func (w *conversation) upsertStaleAttributes(ctx workflow.Context) error {
	if !w.writeBack.staleAttributes {
		return nil
	}
	return w.upsertSearchAttributes(ctx, "")
}

// statusAfter is the status with the change an Update's caller must write (none for a
// change the workflow writes itself, under an older version).
func (w *conversation) statusAfter(change domain.LifecycleChange) Status {
	st := w.status()
	if change.Seq > 0 {
		st.Change = &change
	}
	return st
}

// writtenBefore is the number of the last change made by a workflow task before the one
// now running: the history holds it and every change before it. The task's history length
// tells it apart from the task that made the last change (the test environment keeps the
// length at 0, and then only what a timer covered counts).
func (w *conversation) writtenBefore(ctx workflow.Context) int64 {
	if workflow.GetInfo(ctx).GetCurrentHistoryLength() != w.writeBack.taskLength {
		return w.writeBack.lastSeq
	}
	return w.writeBack.earlierSeq
}

// runWriteBack writes the held changes, for the whole run. It arms one timer for what is
// held when it looks; when the timer fires, every change it covers, and every other change
// made before the task now running, is in the history, so a local activity may write them
// in this task. Changes made by this task wait for the next timer.
func (w *conversation) runWriteBack(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return len(w.Unwritten) > 0 }); err != nil {
			return
		}
		delay := writeBackDelay
		if w.writeBack.soon {
			delay = writeBackSoon
		}
		w.writeBack.soon = false
		covered := w.Unwritten[len(w.Unwritten)-1].Seq
		tctx, cancel := workflow.WithCancel(ctx)
		timer := workflow.NewTimerWithOptions(tctx, delay, workflow.TimerOptions{Summary: "write back changes"})
		err := workflow.Await(ctx, func() bool { return timer.IsReady() || (w.writeBack.soon && delay > writeBackSoon) })
		if err != nil {
			cancel()
			return
		}
		if !timer.IsReady() {
			cancel() // a change nobody waits for came: write sooner
			continue
		}
		if err := w.upsertStaleAttributes(ctx); err != nil {
			workflow.GetLogger(ctx).Error("search attributes not upserted", "error", err)
		}
		w.writeUpTo(ctx, max(covered, w.writtenBefore(ctx)))
	}
}

// writeUpTo writes the held changes numbered up to covered, and forgets them once written.
func (w *conversation) writeUpTo(ctx workflow.Context, covered int64) {
	var batch []domain.LifecycleChange
	for _, ch := range w.Unwritten {
		if ch.Seq <= covered {
			batch = append(batch, ch)
		}
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy:            writeRetryPolicy,
	})
	var result ApplyResult
	w.writeBack.writing = true
	err := workflow.ExecuteLocalActivity(lctx, ActivityApplyChanges, batch).Get(ctx, &result)
	w.writeBack.writing = false
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
	case errors.As(err, &appErr) && appErr.NonRetryable():
		// The conversation is gone: nothing will ever take these changes.
		workflow.GetLogger(ctx).Error("changes dropped", "reason", err.Error())
	default:
		workflow.GetLogger(ctx).Error("write-back failed; it is tried again", "error", err)
		return
	}
	kept := w.Unwritten[:0:0]
	for _, ch := range w.Unwritten {
		if ch.Seq > covered {
			kept = append(kept, ch)
		}
	}
	w.Unwritten = kept
	if result.AutoArchive != nil {
		w.learnAutoArchive(*result.AutoArchive)
	}
}
