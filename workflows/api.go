// Package workflows holds the conversation workflow: the single writer of a conversation's
// lifecycle (state, assignee, summary generations). It is deterministic code only: every
// write to Postgres and every model call happens in an activity.
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
)

// Names of the activities the workflow runs; the activities package registers them.
const (
	ActivityApplyChange   = "ApplyLifecycleChange"
	ActivitySummarize     = "Summarize"
	ActivityRecordSummary = "RecordSummaryResult"
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
}

// NewInput is the input of a brand-new conversation: open and unassigned.
func NewInput(workspaceID, conversationID uuid.UUID) Input {
	return Input{WorkspaceID: workspaceID, ConversationID: conversationID, State: domain.Open}
}

// TransitionRequest asks to move the conversation to another state.
type TransitionRequest struct {
	To    domain.State  `json:"to"`
	Actor *domain.Actor `json:"actor,omitempty"`
}

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
	Assignee          *domain.Actor `json:"assignee,omitempty"`
	SummaryGeneration int64         `json:"summary_generation"`
}

// SummarizeInput asks the summary activity for one generation's summary.
type SummarizeInput struct {
	WorkspaceID    uuid.UUID `json:"workspace_id"`
	ConversationID uuid.UUID `json:"conversation_id"`
	Generation     int64     `json:"generation"`
}
