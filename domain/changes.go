package domain

import (
	"time"

	"github.com/google/uuid"
)

// WorkflowID names a conversation's Temporal workflow.
func WorkflowID(conversationID uuid.UUID) string { return "conversation/" + conversationID.String() }

// Actor is the member who made a change; nil means the system (the workflow itself, or an
// operator acting through Temporal).
type Actor struct {
	UserID uuid.UUID `json:"user_id"`
	Name   string    `json:"name"`
}

// LifecycleChange is one accepted change of a conversation's lifecycle, as the workflow
// decided it. The store writes it with its audit rows in one transaction, at most once per
// RequestID, so a retried activity never writes twice.
type LifecycleChange struct {
	RequestID      string    `json:"request_id"`
	WorkspaceID    uuid.UUID `json:"workspace_id"`
	ConversationID uuid.UUID `json:"conversation_id"`
	WorkflowRunID  string    `json:"workflow_run_id"`
	Actor          *Actor    `json:"actor,omitempty"`
	At             time.Time `json:"at"`

	// A state change, when ToState is set.
	FromState    State      `json:"from_state,omitempty"`
	ToState      State      `json:"to_state,omitempty"`
	FromClosedAt *time.Time `json:"from_closed_at,omitempty"`
	ToClosedAt   *time.Time `json:"to_closed_at,omitempty"`
	// Snooze: when a Pending conversation wakes up, before and after the change (nil: not
	// snoozed). MarkUnread makes the conversation unread with it (a wake-up does).
	FromPendingUntil *time.Time `json:"from_pending_until,omitempty"`
	ToPendingUntil   *time.Time `json:"to_pending_until,omitempty"`
	MarkUnread       bool       `json:"mark_unread,omitempty"`

	// An assignee change, when AssigneeChanged.
	AssigneeChanged bool   `json:"assignee_changed,omitempty"`
	FromAssignee    *Actor `json:"from_assignee,omitempty"`
	ToAssignee      *Actor `json:"to_assignee,omitempty"`

	// SummaryGeneration > 0 starts that summary generation: status pending, audited.
	SummaryGeneration int64 `json:"summary_generation,omitempty"`

	// Seq numbers the conversation's changes in the order its workflow accepted them, and
	// After is the lifecycle as that change left it. Since the workflow writes after its
	// Update completes, a change can reach the store late, twice, or after a newer one (the
	// caller and the workflow's backstop both write it): the store applies After only over
	// an older Seq, so nothing newer is ever undone. Seq 0 is a change of an older workflow
	// version, which wrote its changes itself, in order.
	Seq   int64           `json:"seq,omitempty"`
	After *LifecycleState `json:"after,omitempty"`
}

// LifecycleState is what the workflow decides of a conversation: its state, when it was
// closed, when a snooze ends, and who has it.
type LifecycleState struct {
	State        State      `json:"state"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	PendingUntil *time.Time `json:"pending_until,omitempty"`
	Assignee     *Actor     `json:"assignee,omitempty"`
}

// SummaryResult is the end of one summary generation: ready with text, or failed with a
// readable error.
type SummaryResult struct {
	WorkspaceID    uuid.UUID     `json:"workspace_id"`
	ConversationID uuid.UUID     `json:"conversation_id"`
	Generation     int64         `json:"generation"`
	Status         SummaryStatus `json:"status"`
	Text           string        `json:"text,omitempty"`
	Model          string        `json:"model,omitempty"`
	KeyKind        string        `json:"key_kind,omitempty"`
	Error          string        `json:"error,omitempty"`
	At             time.Time     `json:"at"`
}
