package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/bestai/inbox/domain"
)

// Versions of the workflow's command sequence (see the package comment for the rule).
const (
	changeDurableWrites = "durable-writes"
	// durableWrites: lifecycle changes are written by a regular activity, not a local one.
	durableWrites workflow.Version = 1

	changeTimers = "timers"
	// timersVersion: snooze and auto-archive timers; the lifecycle write answers the
	// auto-archive setting; transitions record pending_until.
	timersVersion workflow.Version = 1

	changeQuietSearchAttributes = "quiet-search-attributes"
	// quietSearchAttributes: no search-attribute upsert when the values it would set are
	// those the run holds already (asked only then, so a run records the marker at the
	// first upsert it skips).
	quietSearchAttributes workflow.Version = 1
)

// writeAttemptTimeout bounds one attempt of a lifecycle write (a variable for tests: the
// test environment measures it in wall-clock time, across the retries it runs).
var writeAttemptTimeout = 5 * time.Second

// writeRetryPolicy retries a lifecycle write until Postgres takes it.
var writeRetryPolicy = &temporal.RetryPolicy{
	InitialInterval:    200 * time.Millisecond,
	BackoffCoefficient: 2,
	MaximumInterval:    10 * time.Second,
}

const (
	// maxChangesPerRun makes the run continue as new long before Temporal's per-run limit
	// of 2,000 Updates; busyChangesPerRun rejects Updates outright past it, should a run be
	// unable to drain (say, Postgres is down), so that limit is never reached.
	maxChangesPerRun  = 500
	busyChangesPerRun = 1000
	// maxUnwritten bounds the changes the write-back holds (and continue-as-new carries):
	// past it the store is not taking them, and Updates are refused as busy.
	maxUnwritten = 200
)

// conversation is the workflow's state and behaviour. Everything in it is deterministic.
type conversation struct {
	Input

	// Writes go to Postgres in the order the changes were accepted: each takes a ticket
	// and waits its turn (a workflow.Mutex does not hand over in arrival order).
	nextWrite, servingWrite int
	changesThisRun          int
	summaryRunning          int
	summaryCancel           workflow.CancelFunc
	// persistedGeneration is the latest summary generation whose "pending" row is written;
	// a summary attempt waits for it so its result is never taken for a stale one.
	persistedGeneration int64
	// timerEpoch changes whenever a deadline may have changed; the timer loop restarts its
	// timer then. timerBusy counts timer-made changes still being written.
	timerEpoch int
	timerBusy  int
	sla        slaRuntime
	writeBack  writeBack
}

// Conversation is the long-running workflow of one conversation. It never ends on its own:
// archived conversations can come back, so it continues as new when Temporal suggests it.
func Conversation(ctx workflow.Context, in Input) error {
	w := &conversation{Input: in, persistedGeneration: in.SummaryGeneration,
		// The changes a run is handed were all made by the runs before it.
		writeBack: writeBack{lastSeq: in.LifecycleSeq, earlierSeq: in.LifecycleSeq, taskLength: -1}}
	if err := w.setup(ctx); err != nil {
		return err
	}
	w.adoptStartChange(ctx)
	if w.SummaryInFlight {
		w.startSummary(ctx)
	}
	w.sla.on = workflow.GetVersion(ctx, changeSLA, workflow.DefaultVersion, slaVersion) == slaVersion
	signals := w.listenForSignals(ctx)
	workflow.Go(ctx, w.runTimers)
	workflow.Go(ctx, w.runSLA)
	workflow.Go(ctx, w.runWriteBack)
	for {
		err := workflow.Await(ctx, func() bool {
			return w.shouldContinueAsNew(ctx) && workflow.AllHandlersFinished(ctx) && signals.idle() && w.timerBusy == 0 && w.slaIdle() && !w.writeBack.writing
		})
		if err != nil {
			return err
		}
		// A Signal that arrived in the same task as the decision must not be lost.
		if signals.drain(ctx) {
			continue
		}
		// The next run starts with this run's search attributes: they must be current. (An
		// upsert that fails is logged: it must not fail the conversation's workflow.)
		if err := w.upsertStaleAttributes(ctx); err != nil {
			workflow.GetLogger(ctx).Error("search attributes not upserted", "error", err)
		}
		next := w.Input // with the changes not yet written back, which the next run writes
		next.SummaryInFlight = w.summaryRunning > 0
		return workflow.NewContinueAsNewError(ctx, Conversation, next)
	}
}

// adoptStartChange completes the change a run was started with (StartInput): its caller
// could not know the run's id, which the change is stored under. A change that started a
// summary is the one the summary activity writes first, as for an Update's. Only such a
// run's input holds a change without a run id.
func (w *conversation) adoptStartChange(ctx workflow.Context) {
	for i := range w.Unwritten {
		ch := &w.Unwritten[i]
		if ch.WorkflowRunID != "" {
			continue
		}
		ch.WorkflowRunID = workflow.GetInfo(ctx).WorkflowExecution.RunID
		if ch.SummaryGeneration > 0 && ch.SummaryGeneration == w.SummaryGeneration {
			held := *ch
			w.writeBack.summaryChange = &held
		}
	}
}

func (w *conversation) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (Status, error) { return w.status(), nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateTransition, w.transition,
		workflow.UpdateHandlerOptions{Validator: w.validateTransition}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAssign, w.assign,
		workflow.UpdateHandlerOptions{Validator: w.validateAssign}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRetrySummary, w.retrySummary,
		workflow.UpdateHandlerOptions{Validator: w.validateRetrySummary}); err != nil {
		return err
	}
	return w.upsertSearchAttributes(ctx, domain.SummaryNone)
}

func (w *conversation) shouldContinueAsNew(ctx workflow.Context) bool {
	return w.changesThisRun >= maxChangesPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}

func (w *conversation) status() Status {
	return Status{State: w.State, ClosedAt: w.ClosedAt, Assignee: w.Assignee, SummaryGeneration: w.SummaryGeneration,
		PendingUntil: w.PendingUntil, ArchiveAt: w.ArchiveAt}
}

// Validators only read state; a rejected Update leaves no trace in history.

func (w *conversation) checkBusy() error {
	if w.changesThisRun >= busyChangesPerRun || len(w.Unwritten) >= maxUnwritten {
		return temporal.NewApplicationError("the conversation is busy; retry shortly", ErrBusy)
	}
	return nil
}

func (w *conversation) validateTransition(req TransitionRequest) error {
	if err := w.checkBusy(); err != nil {
		return err
	}
	if err := checkTransition(w.Input, req); err != nil {
		return temporal.NewApplicationError(err.Error(), ErrInvalidTransition)
	}
	return nil
}

// checkTransition says why a conversation in the lifecycle of in may not make req's change.
func checkTransition(in Input, req TransitionRequest) error {
	if req.Until != nil && req.To != domain.Pending {
		return errors.New("until is only for a change to pending")
	}
	return domain.CheckSnooze(in.State, req.To, in.PendingUntil != nil, req.Until != nil)
}

func (w *conversation) validateAssign(req AssignRequest) error {
	if err := w.checkBusy(); err != nil {
		return err
	}
	c := req.Assignee
	switch {
	case c == nil:
		return nil
	case !c.Member:
		return temporal.NewApplicationError("the assignee is not a member of this workspace", ErrNotAssignable)
	case !c.Role.Assignable():
		return temporal.NewApplicationError(fmt.Sprintf("a %s cannot be assigned a conversation", c.Role), ErrNotAssignable)
	}
	return nil
}

func (w *conversation) validateRetrySummary(RetrySummaryRequest) error {
	if err := w.checkBusy(); err != nil {
		return err
	}
	if !w.State.CanSummarize() {
		return temporal.NewApplicationError(
			fmt.Sprintf("a summary can only be retried for a closed or archived conversation; this one is %s", w.State),
			ErrInvalidTransition)
	}
	return nil
}

// Handlers change the state at once, before they yield, so the validator of the next Update
// already sees the new state; the writes to Postgres follow in acceptance order.

func (w *conversation) transition(ctx workflow.Context, req TransitionRequest) (Status, error) {
	return w.applyTransition(callerWrites(ctx), currentUpdateID(ctx), req)
}

func (w *conversation) applyTransition(ctx workflow.Context, requestID string, req TransitionRequest) (Status, error) {
	if err := w.validateTransition(req); err != nil {
		return Status{}, err
	}
	if w.timersOn(ctx) {
		return w.applyTimedTransition(ctx, requestID, req, false)
	}
	now := workflow.Now(ctx).UTC().Truncate(time.Microsecond) // what Postgres keeps
	change := w.newChange(ctx, requestID, req.Actor)
	change.FromState, change.ToState, change.FromClosedAt = w.State, req.To, w.ClosedAt
	switch {
	case req.To == domain.Closed && w.State == domain.Archived:
		change.ToClosedAt = w.ClosedAt // back from the archive: it was closed then
	case req.To == domain.Closed:
		change.ToClosedAt = &now // closing sets closed-at
	case req.To == domain.Archived:
		change.ToClosedAt = w.ClosedAt // archiving keeps it; reopening (nil) clears it
	}
	w.State, w.ClosedAt = change.ToState, change.ToClosedAt
	if req.To == domain.Closed {
		// Every change to Closed starts a fresh summary that replaces the old one when ready.
		w.SummaryGeneration++
		change.SummaryGeneration = w.SummaryGeneration
	}
	if err := w.persist(ctx, &change); err != nil {
		return Status{}, err
	}
	if change.SummaryGeneration > 0 {
		w.startSummary(ctx)
	}
	return w.statusAfter(change), nil
}

func (w *conversation) assign(ctx workflow.Context, req AssignRequest) (Status, error) {
	return w.applyAssign(callerWrites(ctx), currentUpdateID(ctx), req)
}

func (w *conversation) applyAssign(ctx workflow.Context, requestID string, req AssignRequest) (Status, error) {
	if err := w.validateAssign(req); err != nil {
		return Status{}, err
	}
	var to *domain.Actor
	if req.Assignee != nil {
		to = &domain.Actor{UserID: req.Assignee.UserID, Name: req.Assignee.Name}
	}
	if sameAssignee(w.Assignee, to) {
		return w.status(), nil // nothing changes, nothing is recorded
	}
	change := w.newChange(ctx, requestID, req.Actor)
	change.AssigneeChanged, change.FromAssignee, change.ToAssignee = true, w.Assignee, to
	w.Assignee = to
	if err := w.persist(ctx, &change); err != nil {
		return Status{}, err
	}
	w.slaObserve(ctx)
	return w.statusAfter(change), nil
}

func (w *conversation) retrySummary(ctx workflow.Context, req RetrySummaryRequest) (Status, error) {
	return w.applyRetrySummary(callerWrites(ctx), currentUpdateID(ctx), req)
}

func (w *conversation) applyRetrySummary(ctx workflow.Context, requestID string, req RetrySummaryRequest) (Status, error) {
	if err := w.validateRetrySummary(req); err != nil {
		return Status{}, err
	}
	w.SummaryGeneration++
	change := w.newChange(ctx, requestID, req.Actor)
	change.SummaryGeneration = w.SummaryGeneration
	if err := w.persist(ctx, &change); err != nil {
		return Status{}, err
	}
	w.startSummary(ctx)
	return w.statusAfter(change), nil
}

func (w *conversation) newChange(ctx workflow.Context, requestID string, actor *domain.Actor) domain.LifecycleChange {
	w.changesThisRun++
	return domain.LifecycleChange{
		RequestID:      requestID,
		WorkspaceID:    w.WorkspaceID,
		ConversationID: w.ConversationID,
		WorkflowRunID:  workflow.GetInfo(ctx).WorkflowExecution.RunID,
		Actor:          actor,
		At:             workflow.Now(ctx).UTC().Truncate(time.Microsecond),
	}
}

// persist records one change for Postgres, in acceptance order, idempotent on the request id
// if it is written again.
//
// Since version writeAfterCompleted the workflow numbers the change and holds it for the
// write-back (writeback.go); the Update completes in the task that accepted it, and the
// change is written after that, by the caller or the write-back, never before the history
// holds it. Before, the workflow wrote it itself before completing the Update: through a
// regular activity since version durableWrites (scheduling it completes the workflow task
// first, so the acceptance is in the history before Postgres sees the change), and through
// a local activity before that. Runs begun under an older version keep their way.
func (w *conversation) persist(ctx workflow.Context, change *domain.LifecycleChange) error {
	_, err := w.persistResult(ctx, change)
	return err
}

// persistResult is persist, with what the write answered (since version timersVersion, the
// auto-archive setting for a change to Closed; before, nothing; since writeAfterCompleted,
// nothing: the write-back learns it).
func (w *conversation) persistResult(ctx workflow.Context, change *domain.LifecycleChange) (ApplyResult, error) {
	var result ApplyResult
	if workflow.GetVersion(ctx, changeWriteAfterCompleted, workflow.DefaultVersion, writeAfterCompleted) == writeAfterCompleted {
		return result, w.holdForWriteBack(ctx, change)
	}
	ticket := w.nextWrite
	w.nextWrite++
	if err := workflow.Await(ctx, func() bool { return w.servingWrite == ticket }); err != nil {
		return result, err
	}
	defer func() { w.servingWrite++ }()
	var write workflow.Future
	if workflow.GetVersion(ctx, changeDurableWrites, workflow.DefaultVersion, durableWrites) == durableWrites {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			// A Postgres write takes milliseconds; a short attempt timeout lets the write of a
			// worker that died mid-attempt be retried soon after a restart. No overall limit:
			// the change is in the history, so it is retried until Postgres holds it too.
			StartToCloseTimeout: writeAttemptTimeout,
			RetryPolicy:         writeRetryPolicy,
		})
		write = workflow.ExecuteActivity(actx, ActivityApplyChange, *change)
	} else {
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout:    10 * time.Second,
			ScheduleToCloseTimeout: 24 * time.Hour,
			RetryPolicy:            writeRetryPolicy,
		})
		write = workflow.ExecuteLocalActivity(lctx, ActivityApplyChange, *change)
	}
	if err := write.Get(ctx, &result); err != nil {
		return result, fmt.Errorf("record change: %w", err)
	}
	if change.SummaryGeneration > w.persistedGeneration {
		w.persistedGeneration = change.SummaryGeneration
	}
	return result, w.upsertSearchAttributes(ctx, changeSummaryStatus(*change))
}

// changeSummaryStatus is the summary search attribute a change sets: pending for one that
// starts a generation, none ("") otherwise.
func changeSummaryStatus(change domain.LifecycleChange) domain.SummaryStatus {
	if change.SummaryGeneration > 0 {
		return domain.SummaryPending
	}
	return ""
}

// startSummary runs the summary of the current generation in the background, superseding
// any attempt in flight: its result would be stale anyway, and the store refuses it.
func (w *conversation) startSummary(ctx workflow.Context) {
	if w.summaryCancel != nil {
		w.summaryCancel()
	}
	sctx, cancel := workflow.WithCancel(ctx)
	w.summaryCancel = cancel
	generation := w.SummaryGeneration
	w.summaryRunning++
	workflow.Go(sctx, func(ctx workflow.Context) {
		defer func() { w.summaryRunning-- }()
		if err := workflow.Await(ctx, func() bool { return w.persistedGeneration >= generation }); err != nil {
			return
		}
		in := SummarizeInput{WorkspaceID: w.WorkspaceID, ConversationID: w.ConversationID, Generation: generation,
			Change: w.writeBack.startingChange(generation)}
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout:    2 * time.Minute,
			HeartbeatTimeout:       10 * time.Second,
			ScheduleToCloseTimeout: 15 * time.Minute,
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval:    time.Second,
				BackoffCoefficient: 2,
				MaximumInterval:    time.Minute,
				MaximumAttempts:    10,
			},
		})
		var status domain.SummaryStatus
		err := workflow.ExecuteActivity(actx, ActivitySummarize, in).Get(ctx, &status)
		if ctx.Err() != nil || errors.Is(err, workflow.ErrCanceled) {
			return // superseded by a newer generation
		}
		if err != nil {
			status = domain.SummaryFailed
			w.recordFailure(ctx, in, err)
		}
		if generation == w.SummaryGeneration {
			_ = w.upsertSearchAttributes(ctx, status)
		}
	})
}

// recordFailure stores why the last attempt failed, in words a user can act on.
func (w *conversation) recordFailure(ctx workflow.Context, in SummarizeInput, err error) {
	result := domain.SummaryResult{
		WorkspaceID: in.WorkspaceID, ConversationID: in.ConversationID, Generation: in.Generation,
		Status: domain.SummaryFailed, Error: readableError(err), At: workflow.Now(ctx).UTC(),
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	if err := workflow.ExecuteLocalActivity(lctx, ActivityRecordSummary, result).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("could not record summary failure", "error", err)
	}
}

// readableError unwraps Temporal's activity and timeout wrappers down to the message the
// summary activity gave.
func readableError(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "the summary timed out; retry it"
	}
	return "the summary could not be generated; retry it"
}

func (w *conversation) upsertSearchAttributes(ctx workflow.Context, summary domain.SummaryStatus) error {
	// Every upsert sets the lifecycle as it is now: it covers what changes left for the
	// write-back (attributesLater), with the summary status one of them set, unless a
	// newer one is given.
	if summary == "" {
		summary = w.writeBack.staleSummary
	}
	w.writeBack.staleAttributes, w.writeBack.staleSummary = false, ""
	assignee := "none"
	if w.Assignee != nil {
		assignee = w.Assignee.UserID.String()
	}
	updates := []temporal.SearchAttributeUpdate{
		SearchWorkspace.ValueSet(w.WorkspaceID.String()),
		SearchState.ValueSet(string(w.State)),
		SearchAssignee.ValueSet(assignee),
	}
	if summary != "" {
		updates = append(updates, SearchSummary.ValueSet(string(summary)))
	}
	held := workflow.GetTypedSearchAttributes(ctx)
	same := func(key temporal.SearchAttributeKeyKeyword, want string) bool {
		got, ok := held.GetKeyword(key)
		return ok && got == want
	}
	if same(SearchWorkspace, w.WorkspaceID.String()) && same(SearchState, string(w.State)) && same(SearchAssignee, assignee) &&
		(summary == "" || same(SearchSummary, string(summary))) &&
		workflow.GetVersion(ctx, changeQuietSearchAttributes, workflow.DefaultVersion, quietSearchAttributes) == quietSearchAttributes {
		return nil // nothing it holds would change
	}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

func currentUpdateID(ctx workflow.Context) string {
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		return info.ID
	}
	return ""
}

func sameAssignee(a, b *domain.Actor) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UserID == b.UserID
}
