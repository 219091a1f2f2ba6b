// Package workflows holds the conversation workflow: the single decider of a conversation's
// lifecycle (state, assignee, summary generations). It is deterministic code only: every
// model call happens in an activity, and every write to Postgres in an activity or, since
// version writeAfterCompleted, in the caller of an Update that has completed (writeback.go).
//
// Versioning rule. A conversation's workflow never ends, so every open history is replayed
// by whatever code runs next. A change that alters the sequence of commands the workflow
// issues (activities, timers, markers, search attribute upserts, their order) ships behind
// workflow.GetVersion with a new change id and version constant, keeping the old branch
// verbatim; runs that began before the change keep taking the old branch. An old branch may be
// deleted only once every run that could take it has continued as new (the Temporal UI
// query `TemporalChangeVersion = "<change>-<old version>"` finds none running), and its
// recorded histories in testdata have been replaced. Changes that only alter what an
// activity does, or the data a command carries, need no version.
package workflows

import (
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/bestai/inbox/domain"
)

// TaskQueue is the queue the inbox worker polls.
const TaskQueue = "inbox"

// Names of the workflow, its Updates (also accepted as Signals) and its Query.
const (
	ConversationWorkflow = "Conversation"
	UpdateTransition     = "transition"
	UpdateAssign         = "assign"
	UpdateRetrySummary   = "retry_summary"
	QueryState           = "state"
	// SignalVisitorMessage tells a snoozed conversation that the visitor wrote: it wakes now.
	SignalVisitorMessage = "visitor_message"
	// SignalAutoArchive tells a conversation the workspace's auto-archive setting changed.
	SignalAutoArchive = "auto_archive_changed"
	// AutoArchiveFanOutWorkflow signals every closed conversation of a workspace after its
	// auto-archive setting changed.
	AutoArchiveFanOutWorkflow = "AutoArchiveFanOut"
	// SignalSLA tells a conversation the workspace's SLA policy or business hours changed.
	SignalSLA = "sla_changed"
	// SLAFanOutWorkflow signals every open and pending conversation of a workspace after
	// its SLA policy or business hours changed.
	SLAFanOutWorkflow = "SLAFanOut"
)

// Names of the activities the workflow runs; the activities package registers them.
const (
	ActivityApplyChange    = "ApplyLifecycleChange"
	ActivityApplyChanges   = "ApplyLifecycleChanges"
	ActivitySummarize      = "Summarize"
	ActivityRecordSummary  = "RecordSummaryResult"
	ActivityClosedPage     = "ClosedConversationsPage"
	ActivityLoadSLA        = "LoadSLASetting"
	ActivityWriteSLA       = "WriteSLAClocks"
	ActivityLivePage       = "LiveConversationsPage"
	ActivityStartUntouched = "StartUntouchedConversations"
)

// Error types a rejected Update carries, for the API to map to HTTP statuses.
const (
	ErrInvalidTransition = "invalid_transition"
	ErrNotAssignable     = "not_assignable"
	ErrBusy              = "busy"
)

// Search attributes operators filter on in the Temporal UI.
var (
	SearchWorkspace = temporal.NewSearchAttributeKeyKeyword("InboxWorkspace")
	SearchState     = temporal.NewSearchAttributeKeyKeyword("InboxState")
	SearchAssignee  = temporal.NewSearchAttributeKeyKeyword("InboxAssignee")
	SearchSummary   = temporal.NewSearchAttributeKeyKeyword("InboxSummary")
)

// SearchAttributeNames lists the custom search attributes to register (all Keyword).
var SearchAttributeNames = []string{"InboxWorkspace", "InboxState", "InboxAssignee", "InboxSummary"}

// Input starts a conversation workflow; continue-as-new passes the whole state on in it.
type Input struct {
	WorkspaceID       uuid.UUID     `json:"workspace_id"`
	ConversationID    uuid.UUID     `json:"conversation_id"`
	State             domain.State  `json:"state"`
	ClosedAt          *time.Time    `json:"closed_at,omitempty"`
	Assignee          *domain.Actor `json:"assignee,omitempty"`
	SummaryGeneration int64         `json:"summary_generation,omitempty"`
	// SummaryInFlight is set when SummaryGeneration had not finished when the run ended;
	// the next run starts it again (a result recorded meanwhile makes that a no-op).
	SummaryInFlight bool `json:"summary_in_flight,omitempty"`
	// SignalsSeen keeps request ids of Signals unique across runs.
	SignalsSeen int64 `json:"signals_seen,omitempty"`
	// PendingUntil is when a snoozed (Pending) conversation wakes up; ArchiveAt is when a
	// Closed one is archived. Continue-as-new carries both deadlines; the next run starts
	// their timers again.
	PendingUntil *time.Time `json:"pending_until,omitempty"`
	ArchiveAt    *time.Time `json:"archive_at,omitempty"`
	// ClosedSince is when the conversation last became Closed: the auto-archive clock's
	// start (ClosedAt stays older for one taken out of the archive).
	ClosedSince *time.Time `json:"closed_since,omitempty"`
	// AutoArchiveDays and AutoArchiveStamp are the workspace's auto-archive setting as last
	// heard, and when it was changed: an older value arriving late is ignored.
	AutoArchiveDays  *int  `json:"auto_archive_days,omitempty"`
	AutoArchiveStamp int64 `json:"auto_archive_stamp,omitempty"`
	// TimersFired keeps request ids of timer-made changes unique across runs.
	TimersFired int64 `json:"timers_fired,omitempty"`
	// SLA is the SLA setting as last heard and the conversation's clocks (nil until the
	// run that loads them; see sla.go).
	SLA *SLAState `json:"sla,omitempty"`
	// LifecycleSeq is the number of the conversation's last change, and Unwritten the
	// changes the write-back has not written yet (writeback.go), carried across runs.
	LifecycleSeq int64                    `json:"lifecycle_seq,omitempty"`
	Unwritten    []domain.LifecycleChange `json:"unwritten,omitempty"`
}

// NewInput is the input of a brand-new conversation: open and unassigned.
func NewInput(workspaceID, conversationID uuid.UUID) Input {
	return Input{WorkspaceID: workspaceID, ConversationID: conversationID, State: domain.Open}
}

// FirstInput is the input of a conversation's first workflow: Open, nobody assigned, both
// SLA clocks running under setting since the conversation's first message. The workflow
// starts lazily, at the first change, or when an SLA policy needs its clocks, so the first
// message may lie well before the start.
func FirstInput(workspaceID, conversationID uuid.UUID, setting SLASetting, firstMessage time.Time) Input {
	in := NewInput(workspaceID, conversationID)
	since := firstMessage.UTC().Truncate(time.Microsecond)
	fr, res := since, since
	in.SLA = &SLAState{Setting: setting, FirstResponse: SLAClock{Since: &fr}, Resolution: SLAClock{Since: &res}}
	return in
}

// StartInput is the input of a conversation's first workflow when it starts with its first
// change of state already made: a batch's change to a conversation nobody has touched
// (app.RunBulk), which starts the workflow instead of sending it an Update. first is the
// input the run would start with otherwise (FirstInput, with the auto-archive setting);
// the change is decided and numbered as the run's Update would have (checkTransition,
// moveTo), and held for the run's write-back, which writes it to Postgres should its
// caller not get to. The history's first event holds it. It fails, in the words of the
// workflow's rejection, when the conversation may not make the change.
func StartInput(first Input, requestID string, req TransitionRequest, now time.Time) (Input, error) {
	in := first
	if err := checkTransition(in, req); err != nil {
		return Input{}, err
	}
	now = now.UTC().Truncate(time.Microsecond) // what Postgres keeps
	change := domain.LifecycleChange{RequestID: requestID, WorkspaceID: in.WorkspaceID, ConversationID: in.ConversationID,
		Actor: req.Actor, At: now}
	moveTo(&in, &change, req, now) // which also clears the wake-up of any state but Pending
	in.ArchiveAt = ArchiveDeadline(in)
	in.SummaryInFlight = change.SummaryGeneration > 0
	in.LifecycleSeq++
	change.Seq = in.LifecycleSeq
	change.After = &domain.LifecycleState{State: in.State, ClosedAt: in.ClosedAt, PendingUntil: in.PendingUntil, Assignee: in.Assignee}
	in.Unwritten = append(in.Unwritten[:len(in.Unwritten):len(in.Unwritten)], change)
	return in, nil
}

// TransitionRequest asks to move the conversation to another state.
type TransitionRequest struct {
	To    domain.State  `json:"to"`
	Actor *domain.Actor `json:"actor,omitempty"`
	// Until, with To Pending, snoozes the conversation: it goes back to Open then.
	Until *time.Time `json:"until,omitempty"`
}

// VisitorMessage is the Signal ingest sends when a visitor writes to a snoozed conversation.
type VisitorMessage struct {
	MessageID uuid.UUID `json:"message_id"`
}

// AutoArchiveSetting is the workspace's auto-archive setting: Days nil is off. Stamp orders
// changes (Unix microseconds of the change); zero means unknown.
type AutoArchiveSetting struct {
	Days  *int  `json:"days,omitempty"`
	Stamp int64 `json:"stamp"`
}

// ApplyResult is what the lifecycle write answers: for a change to Closed, the workspace's
// auto-archive setting, so the workflow needs no activity of its own to read it.
type ApplyResult struct {
	AutoArchive *AutoArchiveSetting `json:"auto_archive,omitempty"`
}

// FanOutInput asks AutoArchiveFanOut to tell the workspace's closed conversations about
// Setting, starting after the conversation id AfterID.
type FanOutInput struct {
	WorkspaceID uuid.UUID          `json:"workspace_id"`
	Setting     AutoArchiveSetting `json:"setting"`
	AfterID     uuid.UUID          `json:"after_id"`
}

// ClosedPageInput asks for one page of a workspace's closed conversation ids, after AfterID.
type ClosedPageInput struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	AfterID     uuid.UUID `json:"after_id"`
	Limit       int       `json:"limit"`
}

// SLAFanOutInput asks SLAFanOut to tell the workspace's open and pending conversations
// about Setting, starting after the conversation id AfterID.
type SLAFanOutInput struct {
	WorkspaceID uuid.UUID  `json:"workspace_id"`
	Setting     SLASetting `json:"setting"`
	AfterID     uuid.UUID  `json:"after_id"`
}

// StartUntouchedInput asks for the workflows of those of IDs that never had one (lazy
// start: nobody has changed them yet) to be started with Setting, their clocks running from
// their first message.
type StartUntouchedInput struct {
	WorkspaceID uuid.UUID   `json:"workspace_id"`
	IDs         []uuid.UUID `json:"ids"`
	Setting     SLASetting  `json:"setting"`
}

// SLAFanOutWorkflowID is the one SLA fan-out per workspace.
func SLAFanOutWorkflowID(workspaceID uuid.UUID) string { return "sla:" + workspaceID.String() }

// FanOutWorkflowID is the one fan-out per workspace: a newer change replaces a running one.
func FanOutWorkflowID(workspaceID uuid.UUID) string { return "auto-archive:" + workspaceID.String() }

// Candidate is what the API looked up about a would-be assignee; the validator decides on it.
type Candidate struct {
	UserID uuid.UUID   `json:"user_id"`
	Name   string      `json:"name"`
	Role   domain.Role `json:"role"`
	Member bool        `json:"member"` // a member of this conversation's workspace
}

// AssignRequest sets (Assignee non-nil) or clears the assignee.
type AssignRequest struct {
	Assignee *Candidate    `json:"assignee,omitempty"`
	Actor    *domain.Actor `json:"actor,omitempty"`
}

// RetrySummaryRequest starts a fresh summary attempt series.
type RetrySummaryRequest struct {
	Actor *domain.Actor `json:"actor,omitempty"`
}

// Status is the conversation's lifecycle as the workflow holds it; every Update returns it.
type Status struct {
	State             domain.State  `json:"state"`
	ClosedAt          *time.Time    `json:"closed_at,omitempty"`
	PendingUntil      *time.Time    `json:"pending_until,omitempty"`
	ArchiveAt         *time.Time    `json:"archive_at,omitempty"`
	Assignee          *domain.Actor `json:"assignee,omitempty"`
	SummaryGeneration int64         `json:"summary_generation"`
	// Change is what an Update changed, for its caller to write once the Update has
	// completed (since version writeAfterCompleted; nil before, and when nothing changed).
	Change *domain.LifecycleChange `json:"change,omitempty"`
}

// SummarizeInput asks the summary activity for one generation's summary.
type SummarizeInput struct {
	WorkspaceID    uuid.UUID `json:"workspace_id"`
	ConversationID uuid.UUID `json:"conversation_id"`
	Generation     int64     `json:"generation"`
	// Change is the change that started the generation while it may not be written yet:
	// the activity writes it first, so the summary never waits for the write-back.
	Change *domain.LifecycleChange `json:"change,omitempty"`
}
