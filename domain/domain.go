// Package domain holds the inbox's vocabulary and rules: the four conversation states and
// the moves between them, member roles, lead statuses, summary statuses and IP masking.
// It does no I/O and imports nothing of ours, so every layer can ask it the same questions.
package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// State is where a conversation is in its lifecycle.
type State string

const (
	Open     State = "open"
	Pending  State = "pending"
	Closed   State = "closed"
	Archived State = "archived"
)

// States lists every state in display order.
var States = []State{Open, Pending, Closed, Archived}

// transitions is the table of allowed moves from the inbox guide; nothing else is allowed.
var transitions = map[State][]State{
	Open:     {Pending, Closed},
	Pending:  {Open, Closed},
	Closed:   {Open, Archived},
	Archived: {Closed},
}

// ParseState accepts exactly one of the four state names.
func ParseState(s string) (State, error) {
	st := State(s)
	if _, ok := transitions[st]; !ok {
		return "", fmt.Errorf("unknown state %q (want one of open, pending, closed, archived)", s)
	}
	return st, nil
}

// TransitionError says why a move is not allowed.
type TransitionError struct{ From, To State }

func (e *TransitionError) Error() string {
	if e.From == e.To {
		return fmt.Sprintf("the conversation is already %s", e.From)
	}
	allowed := make([]string, 0, 2)
	for _, s := range transitions[e.From] {
		allowed = append(allowed, string(s))
	}
	return fmt.Sprintf("cannot move a conversation from %s to %s (from %s it can go to %s)",
		e.From, e.To, e.From, strings.Join(allowed, " or "))
}

// CheckTransition returns a *TransitionError unless from -> to is in the table.
// The same state is never a move.
func CheckTransition(from, to State) error {
	if slices.Contains(transitions[from], to) {
		return nil
	}
	return &TransitionError{From: from, To: to}
}

// CheckWakeUp says why until is not a wake-up time for a conversation snoozed at now: it
// must lie in the future, at most a year away.
func CheckWakeUp(until, now time.Time) error {
	switch {
	case !until.After(now):
		return fmt.Errorf("until must be in the future (it is %s; now is %s)", until.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case until.After(now.AddDate(1, 0, 0)):
		return fmt.Errorf("until must be at most a year away (at most %s)", now.AddDate(1, 0, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// CheckSnooze is CheckTransition for a change that may set or clear a wake-up time:
// Pending with a wake-up is still Pending, so a Pending conversation may be given a new
// wake-up time (snoozed says it has one now, until that one is asked for) or have its
// wake-up cleared by Pending without one. Every other move is the table's.
func CheckSnooze(from, to State, snoozed, until bool) error {
	if from == Pending && to == Pending && (snoozed || until) {
		return nil
	}
	return CheckTransition(from, to)
}

// CanSnooze reports whether a conversation in this state may be snoozed (moved to Pending
// with a wake-up time). It is CheckSnooze's answer for that change, the check the workflow
// makes, so the page offers the snooze form exactly where the workflow accepts it.
func (s State) CanSnooze() bool { return CheckSnooze(s, Pending, false, true) == nil }

// Auto-archive bounds: a workspace archives closed conversations after 1 to 3650 days.
const (
	MinAutoArchiveDays = 1
	MaxAutoArchiveDays = 3650
)

// HasClosedAt reports whether a conversation in this state shows a closed-at time:
// closing sets it, archiving keeps it, reopening clears it.
func (s State) HasClosedAt() bool { return s == Closed || s == Archived }

// CanSummarize reports whether "Retry summary" is allowed in this state.
func (s State) CanSummarize() bool { return s == Closed || s == Archived }

// Channel is how the visitor reached the workspace.
type Channel string

const (
	Chat     Channel = "chat"
	WebVoice Channel = "web_voice"
	Phone    Channel = "phone"
)

// Channels lists every channel.
var Channels = []Channel{Chat, WebVoice, Phone}

// ParseChannel accepts exactly one channel name.
func ParseChannel(s string) (Channel, error) {
	c := Channel(s)
	if !slices.Contains(Channels, c) {
		return "", fmt.Errorf("unknown channel %q (want one of chat, web_voice, phone)", s)
	}
	return c, nil
}

// MessageRole is who wrote a message.
type MessageRole string

const (
	VisitorMessage   MessageRole = "visitor"
	AssistantMessage MessageRole = "assistant"
)

// ParseMessageRole accepts visitor or assistant.
func ParseMessageRole(s string) (MessageRole, error) {
	switch r := MessageRole(s); r {
	case VisitorMessage, AssistantMessage:
		return r, nil
	}
	return "", fmt.Errorf("unknown message role %q (want visitor or assistant)", s)
}

// SummaryStatus is the state of a conversation's AI summary.
type SummaryStatus string

const (
	SummaryNone    SummaryStatus = "none"
	SummaryPending SummaryStatus = "pending"
	SummaryReady   SummaryStatus = "ready"
	SummaryFailed  SummaryStatus = "failed"
)

// LeadStatus is where a lead is in the sales follow-up.
type LeadStatus string

const (
	LeadNew       LeadStatus = "new"
	LeadContacted LeadStatus = "contacted"
	LeadQualified LeadStatus = "qualified"
	LeadWon       LeadStatus = "won"
	LeadLost      LeadStatus = "lost"
)

// LeadStatuses lists every lead status.
var LeadStatuses = []LeadStatus{LeadNew, LeadContacted, LeadQualified, LeadWon, LeadLost}

// ParseLeadStatus accepts exactly one lead status name.
func ParseLeadStatus(s string) (LeadStatus, error) {
	l := LeadStatus(s)
	if !slices.Contains(LeadStatuses, l) {
		return "", fmt.Errorf("unknown lead status %q (want one of new, contacted, qualified, won, lost)", s)
	}
	return l, nil
}

// AuditAction names an entry of the audit log.
type AuditAction string

const (
	AuditCreated           AuditAction = "created"
	AuditStateChanged      AuditAction = "state_changed"
	AuditAssigneeChanged   AuditAction = "assignee_changed"
	AuditRead              AuditAction = "read"
	AuditUnread            AuditAction = "unread"
	AuditSummaryRequested  AuditAction = "summary_requested"
	AuditSummaryReady      AuditAction = "summary_ready"
	AuditSummaryFailed     AuditAction = "summary_failed"
	AuditLeadStatusChanged AuditAction = "lead_status_changed"
	AuditLeadsExported     AuditAction = "leads_exported"
	AuditMemberRemoved     AuditAction = "member_removed"
)
