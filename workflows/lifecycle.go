package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/bestai/inbox/domain"
)

// Lifecycle is the typed client of the conversation workflow, for the processes that serve
// requests: it starts a conversation's workflow and sends it the lifecycle Updates. It runs
// outside workflows (it does I/O), and sits here beside the contract it speaks.
type Lifecycle struct {
	Client client.Client
}

// Start starts the conversation's workflow with in, or attaches to the one already running
// (a retried first message never starts two). It returns the run id.
//
// The start asks for the first workflow task back in its answer when a worker with a free
// slot runs in this process (`inbox dev`, or serve and worker together): that skips the
// trip through matching, so a new conversation's workflow has run its first task by the
// time the start returns, not after a queue that new conversations can outrun. Elsewhere
// the SDK sends a plain start.
func (l Lifecycle) Start(ctx context.Context, in Input) (string, error) {
	opts := startOptions(in)
	opts.EnableEagerStart = true
	run, err := l.Client.ExecuteWorkflow(ctx, opts, ConversationWorkflow, in)
	if err != nil {
		return "", fmt.Errorf("start workflow: %w", err)
	}
	return run.GetRunID(), nil
}

// StartWith starts the conversation's workflow with in, or attaches to the one already
// running, and sends it u in the same request (Update-with-Start): the workflow's first task
// applies the change. It waits for the Update's result and returns it with the run id.
func (l Lifecycle) StartWith(ctx context.Context, in Input, updateID string, u Update) (Status, string, error) {
	var st Status
	handle, err := l.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: l.Client.NewWithStartWorkflowOperation(startOptions(in), ConversationWorkflow, in),
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   domain.WorkflowID(in.ConversationID),
			UpdateID:     updateID,
			UpdateName:   u.Name,
			Args:         []any{u.Arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return st, "", err
	}
	err = handle.Get(ctx, &st)
	return st, handle.RunID(), err
}

// memoStartedFor is the memo key of a run started with its first change (StartChanged):
// the change's request id, so that a start sent again can tell its own run from another's.
const memoStartedFor = "started_for"

// StartChanged starts a conversation's first workflow with in, from StartInput: a run that
// starts with its first change made (the last of in.Unwritten). Its first workflow
// task waits delay, so that a batch of starts is not slowed by the tasks of the runs it
// starts (an Update sent meanwhile runs one at once). It returns the change to write, with
// the run's id: this start's, or, when the change's request started the run before (a start sent
// again after a crash), the one that run holds since, read from its first event. It
// returns nil when the conversation has a workflow that someone else started: the change
// must go to it as an Update.
func (l Lifecycle) StartChanged(ctx context.Context, in Input, delay time.Duration) (*domain.LifecycleChange, error) {
	if len(in.Unwritten) == 0 {
		return nil, errors.New("start workflow: the input holds no change")
	}
	change := in.Unwritten[len(in.Unwritten)-1]
	requestID := change.RequestID
	opts := startOptions(in)
	opts.WorkflowIDConflictPolicy = enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL
	opts.WorkflowExecutionErrorWhenAlreadyStarted = true
	opts.StartDelay = delay
	opts.Memo = map[string]any{memoStartedFor: requestID}
	run, err := l.Client.ExecuteWorkflow(ctx, opts, ConversationWorkflow, in)
	if err == nil {
		change.WorkflowRunID = run.GetRunID()
		return &change, nil
	}
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &already) {
		return nil, fmt.Errorf("start workflow: %w", err)
	}
	return l.StartedFor(ctx, in.ConversationID, requestID)
}

// StartedFor returns the change the conversation's running workflow was started with by
// requestID (StartChanged), with the run's id, or nil if requestID did not start it.
func (l Lifecycle) StartedFor(ctx context.Context, conversationID uuid.UUID, requestID string) (*domain.LifecycleChange, error) {
	workflowID := domain.WorkflowID(conversationID)
	desc, err := l.Client.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return nil, fmt.Errorf("describe workflow: %w", err)
	}
	dc := converter.GetDefaultDataConverter()
	var startedFor string
	if p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[memoStartedFor]; p != nil {
		if err := dc.FromPayload(p, &startedFor); err != nil {
			return nil, fmt.Errorf("workflow memo: %w", err)
		}
	}
	if startedFor != requestID {
		return nil, nil
	}
	// The change is in the input of the run the start began (which may have continued as
	// new since, carrying the memo).
	runID := desc.GetWorkflowExecutionInfo().GetFirstRunId()
	if runID == "" {
		runID = desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	}
	events := l.Client.GetWorkflowHistory(ctx, workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !events.HasNext() {
		return nil, fmt.Errorf("workflow %s has no history", workflowID)
	}
	first, err := events.Next()
	if err != nil {
		return nil, fmt.Errorf("workflow history: %w", err)
	}
	var in Input
	if err := dc.FromPayloads(first.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
		return nil, fmt.Errorf("workflow input: %w", err)
	}
	for _, ch := range in.Unwritten {
		if ch.RequestID == requestID {
			ch.WorkflowRunID = runID
			return &ch, nil
		}
	}
	return nil, fmt.Errorf("workflow %s was started for %s without its change", workflowID, requestID)
}

// startOptions are the options of a conversation workflow's start with in.
func startOptions(in Input) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       domain.WorkflowID(in.ConversationID),
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// Every attribute the first workflow task would set, so that it has none to upsert
		// (since version quietSearchAttributes).
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SearchWorkspace.ValueSet(in.WorkspaceID.String()),
			SearchState.ValueSet(string(in.State)),
			SearchAssignee.ValueSet(startAssignee(in)),
			SearchSummary.ValueSet(string(domain.SummaryNone)),
		),
	}
}

// startAssignee is the assignee search attribute of a run starting with in.
func startAssignee(in Input) string {
	if in.Assignee == nil {
		return "none"
	}
	return in.Assignee.UserID.String()
}

// TellVisitorMessage wakes a snoozed conversation: the visitor wrote.
func (l Lifecycle) TellVisitorMessage(ctx context.Context, conversationID, messageID uuid.UUID) error {
	return l.Client.SignalWorkflow(ctx, domain.WorkflowID(conversationID), "", SignalVisitorMessage, VisitorMessage{MessageID: messageID})
}

// FanOutAutoArchive starts telling the workspace's closed conversations the new auto-archive
// setting; a fan-out of an older setting still running is replaced.
func (l Lifecycle) FanOutAutoArchive(ctx context.Context, workspaceID uuid.UUID, setting AutoArchiveSetting) error {
	_, err := l.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       FanOutWorkflowID(workspaceID),
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, AutoArchiveFanOutWorkflow, FanOutInput{WorkspaceID: workspaceID, Setting: setting})
	if err != nil {
		return fmt.Errorf("start auto-archive fan-out: %w", err)
	}
	return nil
}

// FanOutSLA starts telling the workspace's open and pending conversations the new SLA
// policy and calendar; a fan-out of an older setting still running is replaced.
func (l Lifecycle) FanOutSLA(ctx context.Context, workspaceID uuid.UUID, setting SLASetting) error {
	_, err := l.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       SLAFanOutWorkflowID(workspaceID),
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, SLAFanOutWorkflow, SLAFanOutInput{WorkspaceID: workspaceID, Setting: setting})
	if err != nil {
		return fmt.Errorf("start SLA fan-out: %w", err)
	}
	return nil
}

// Update is one lifecycle Update: its name and its request.
type Update struct {
	Name string
	Arg  any
}

// TransitionUpdate asks the workflow to move the conversation to req.To.
func TransitionUpdate(req TransitionRequest) Update { return Update{UpdateTransition, req} }

// AssignUpdate asks the workflow to set or clear the assignee.
func AssignUpdate(req AssignRequest) Update { return Update{UpdateAssign, req} }

// RetrySummaryUpdate asks the workflow for a fresh summary of a closed conversation.
func RetrySummaryUpdate(req RetrySummaryRequest) Update { return Update{UpdateRetrySummary, req} }

// DecodeUpdate is the Update named name with its argument arg, as json.Marshal wrote it: a
// lifecycle change kept to be sent later (the inbox's queue of changes).
func DecodeUpdate(name string, arg []byte) (Update, error) {
	switch name {
	case UpdateTransition:
		var req TransitionRequest
		err := json.Unmarshal(arg, &req)
		return TransitionUpdate(req), err
	case UpdateAssign:
		var req AssignRequest
		err := json.Unmarshal(arg, &req)
		return AssignUpdate(req), err
	case UpdateRetrySummary:
		var req RetrySummaryRequest
		err := json.Unmarshal(arg, &req)
		return RetrySummaryUpdate(req), err
	}
	return Update{}, fmt.Errorf("no lifecycle Update is called %q", name)
}

// Send sends u to the conversation's workflow and waits for its result. accepted, when not
// nil, is called once the workflow has accepted the Update (see update).
func (l Lifecycle) Send(ctx context.Context, conversationID uuid.UUID, updateID string, u Update, accepted func()) (Status, error) {
	return l.update(ctx, conversationID, updateID, u.Name, u.Arg, accepted)
}

// ErrNotCompleted wraps the error of an Update that the workflow accepted but whose result
// did not arrive in time: its acceptance is in the history, so it will be applied.
var ErrNotCompleted = errors.New("the workflow accepted the update; its result did not arrive in time")

// update sends one Update and waits until the workflow has completed it, in two stages:
// until the workflow accepts it (the validator passed and the acceptance is in the
// history), then for its result. accepted runs between the two, so that a caller bounding
// the Updates it has waiting on workflows can let the next one in. Temporal deduplicates
// Updates by id within a run, so a retried request under the same id is applied once.
func (l Lifecycle) update(ctx context.Context, conversationID uuid.UUID, updateID, name string, arg any, accepted func()) (Status, error) {
	var st Status
	handle, err := l.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   domain.WorkflowID(conversationID),
		UpdateID:     updateID,
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	if err != nil {
		return st, err
	}
	if accepted != nil {
		accepted()
	}
	if err := handle.Get(ctx, &st); err != nil {
		if _, _, refused := Rejection(err); refused || !timedOut(ctx, err) {
			return st, err
		}
		return st, fmt.Errorf("%w: %w", ErrNotCompleted, err)
	}
	return st, nil
}

// timedOut reports whether err is only the end of the wait for an Update's result: the
// caller's deadline, or the service's long poll giving up just before it.
func timedOut(ctx context.Context, err error) bool {
	var (
		late              *serviceerror.DeadlineExceeded
		timeoutOrCanceled *client.WorkflowUpdateServiceTimeoutOrCanceledError
	)
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &late) || errors.As(err, &timeoutOrCanceled)
}

// IsMissing reports whether err says the conversation has no running workflow: its start
// failed after the message was stored, or an operator terminated it.
func IsMissing(err error) bool {
	var notFound *serviceerror.NotFound
	return errors.As(err, &notFound)
}

// Rejection returns the type (ErrInvalidTransition, ErrNotAssignable, ErrBusy) and message
// of an Update the workflow refused; ok is false for any other error.
func Rejection(err error) (kind, message string, ok bool) {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return "", "", false
	}
	switch appErr.Type() {
	case ErrInvalidTransition, ErrNotAssignable, ErrBusy:
		return appErr.Type(), appErr.Message(), true
	}
	return "", "", false
}

// StartBulk starts a stored batch's BulkAction workflow (a retried start attaches to it).
func (l Lifecycle) StartBulk(ctx context.Context, in BulkInput) error {
	_, err := l.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       BulkWorkflowID(in.BulkID),
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    temporal.NewSearchAttributes(SearchWorkspace.ValueSet(in.WorkspaceID.String())),
	}, BulkActionWorkflow, in)
	if err != nil {
		return fmt.Errorf("start bulk action: %w", err)
	}
	return nil
}

// CancelBulk asks a batch's workflow to stop; one that has already ended is not an error.
func (l Lifecycle) CancelBulk(ctx context.Context, bulkID uuid.UUID) error {
	err := l.Client.CancelWorkflow(ctx, BulkWorkflowID(bulkID), "")
	if IsMissing(err) {
		return nil
	}
	return err
}
