package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/bestai/inbox/activities"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/faultpoint"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/workflows"
)

// MaxIdempotencyKey bounds an Idempotency-Key; keys are printable ASCII.
const MaxIdempotencyKey = 200

// CheckIdempotencyKey refuses a key that is empty, too long or not printable ASCII.
func CheckIdempotencyKey(key string) error {
	if key == "" || len(key) > MaxIdempotencyKey {
		return BadRequest("Idempotency-Key: must be 1 to %d characters", MaxIdempotencyKey)
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return BadRequest("Idempotency-Key: only printable ASCII characters, no spaces")
		}
	}
	return nil
}

// startFirst starts a conversation's first workflow (or attaches to the running one) and
// records its run: Open, nobody assigned, the SLA clocks running since firstMessage. It
// hands the workflow the workspace's SLA setting, so that its first task starts the clocks
// itself instead of loading the setting through an activity and a second task. A setting
// changed after this read reaches the workflow through the SLA fan-out, which lists the
// conversation: its row is committed before.
func (s *Service) startFirst(ctx context.Context, workspaceID, conversationID uuid.UUID, firstMessage time.Time) error {
	in, err := s.firstInput(ctx, workspaceID, conversationID, firstMessage)
	if err != nil {
		return err
	}
	return s.start(ctx, in)
}

// firstInput is the input of a conversation's first workflow: open, nobody assigned, the
// workspace's SLA setting with its clocks from the first message.
func (s *Service) firstInput(ctx context.Context, workspaceID, conversationID uuid.UUID, firstMessage time.Time) (workflows.Input, error) {
	setting, err := s.Store.SLASetting(ctx, workspaceID)
	if err != nil {
		return workflows.Input{}, err
	}
	return workflows.FirstInput(workspaceID, conversationID, activities.SLASetting(setting), firstMessage), nil
}

func (s *Service) start(ctx context.Context, in workflows.Input) error {
	runID, err := s.Lifecycle.Start(ctx, in)
	if err != nil {
		return err
	}
	return s.Store.RecordWorkflowRun(ctx, in.ConversationID, runID)
}

// ChangeState moves a conversation to another state through its workflow, and returns the
// conversation as it is after the change. until, with to Pending, snoozes it: it must lie in
// the future, at most a year away. key is the caller's Idempotency-Key, or "".
func (s *Service) ChangeState(ctx context.Context, c *Caller, conversationID uuid.UUID, to domain.State, until *time.Time, key string) (*store.ConversationView, error) {
	until, what, err := checkUntil(to, until, time.Now())
	if err != nil {
		return nil, err
	}
	queued, err := s.target(ctx, c, conversationID)
	if err != nil {
		return nil, err
	}
	u := workflows.TransitionUpdate(workflows.TransitionRequest{To: to, Actor: c.Actor(), Until: until})
	written, err := s.change(ctx, c, conversationID, queued, key, what, u)
	return s.changed(ctx, c, conversationID, written, err)
}

// checkUntil checks a snooze's wake-up time (only with pending; in the future, at most a
// year away) and returns it as the workflow keeps it, with the change's description for the
// Idempotency-Key fingerprint. A single change and a bulk one both ask it.
func checkUntil(to domain.State, until *time.Time, now time.Time) (*time.Time, string, error) {
	what := string(to)
	if until == nil {
		return nil, what, nil
	}
	if to != domain.Pending {
		return nil, "", BadRequest("until: only with state pending (a snooze), not %s", to)
	}
	if err := domain.CheckWakeUp(*until, now); err != nil {
		return nil, "", BadRequest("until: %v", err)
	}
	u := until.UTC().Truncate(time.Microsecond)
	return &u, what + "@" + u.Format(time.RFC3339Nano), nil
}

// candidate looks up a would-be assignee; the workflow's validator decides on it.
func (s *Service) candidate(ctx context.Context, c *Caller, assignee uuid.UUID) (*workflows.Candidate, error) {
	m, err := s.Store.MemberOf(ctx, c.WorkspaceID, assignee)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, NotAssignable("the assignee is not a member of this workspace")
	case err != nil:
		return nil, err
	case !m.Role.Assignable():
		return nil, NotAssignable("a viewer cannot be assigned a conversation")
	}
	return &workflows.Candidate{UserID: m.UserID, Member: true, Role: m.Role, Name: m.Name}, nil
}

// Assign gives the conversation to assignee, or to nobody when assignee is nil. Whether the
// assignee may take it is looked up here and decided by the workflow's validator.
func (s *Service) Assign(ctx context.Context, c *Caller, conversationID uuid.UUID, assignee *uuid.UUID, key string) (*store.ConversationView, error) {
	queued, err := s.target(ctx, c, conversationID)
	if err != nil {
		return nil, err
	}
	req := workflows.AssignRequest{Actor: c.Actor()}
	what := "none"
	if assignee != nil {
		cand, err := s.candidate(ctx, c, *assignee)
		if err != nil {
			return nil, err
		}
		req.Assignee = cand
		what = cand.UserID.String()
	}
	written, err := s.change(ctx, c, conversationID, queued, key, what, workflows.AssignUpdate(req))
	return s.changed(ctx, c, conversationID, written, err)
}

// RetrySummary asks for a fresh summary of a closed conversation; it returns the
// conversation with its summary pending.
func (s *Service) RetrySummary(ctx context.Context, c *Caller, conversationID uuid.UUID, key string) (*store.ConversationView, error) {
	queued, err := s.target(ctx, c, conversationID)
	if err != nil {
		return nil, err
	}
	written, err := s.change(ctx, c, conversationID, queued, key, "retry", workflows.RetrySummaryUpdate(workflows.RetrySummaryRequest{Actor: c.Actor()}))
	if err != nil && !IsAccepted(err) {
		return nil, err // accepted is this request's answer anyway: a summary is on its way
	}
	return s.changed(ctx, c, conversationID, written, nil)
}

// changed answers a lifecycle change with the conversation as it is now: as its write left
// it (written, read by the write's own statement), or else read now. A change accepted but
// not yet confirmed answers the conversation together with ErrAccepted: the change will show
// shortly.
func (s *Service) changed(ctx context.Context, c *Caller, conversationID uuid.UUID, written *store.ConversationView, err error) (*store.ConversationView, error) {
	if err != nil && !IsAccepted(err) {
		return nil, err
	}
	if written != nil && err == nil {
		return written, nil
	}
	v, readErr := s.Store.GetConversation(ctx, c.WorkspaceID, conversationID)
	if readErr != nil {
		return nil, readErr
	}
	return v, err
}

// target authorises a lifecycle change and checks that the conversation is in the caller's
// workspace, before anything reaches a workflow; queued says that earlier changes of it
// wait in the queue (queue.go). An API caller's token query has looked it up already
// (AuthenticateTokenFor): then it costs no round trip.
func (s *Service) target(ctx context.Context, c *Caller, conversationID uuid.UUID) (queued bool, err error) {
	if err := s.Authorize(c, domain.ChangeConversations); err != nil {
		return false, err
	}
	if c.seen != uuid.Nil && c.seen == conversationID {
		return c.seenQueued, nil
	}
	return s.Store.ChangeTarget(ctx, c.WorkspaceID, conversationID)
}

// change sends the Update of a lifecycle change. what describes the
// request's intent (say "closed") for the Idempotency-Key fingerprint: a key presented again
// with another intent is refused, and a key whose request completed is not sent again.
// A change that cannot be sent in time, or whose conversation has changes waiting in the
// queue (queued), waits in the queue too (queue.go): ErrQueued.
func (s *Service) change(ctx context.Context, c *Caller, conversationID uuid.UUID, queued bool, key, what string, u workflows.Update) (*store.ConversationView, error) {
	updateID := uuid.NewString()
	var k *store.IdempotencyKey
	if key != "" {
		if err := CheckIdempotencyKey(key); err != nil {
			return nil, err
		}
		k = &store.IdempotencyKey{WorkspaceID: c.WorkspaceID, UserID: c.UserID, ConversationID: conversationID, Key: key}
		fingerprint := sha256.Sum256([]byte(u.Name + "\n" + what))
		completed, err := s.Store.ClaimIdempotencyKey(ctx, *k, fingerprint[:])
		switch {
		case errors.Is(err, store.ErrKeyReused):
			return nil, IdempotencyKeyReused()
		case err != nil:
			return nil, err
		case completed:
			return nil, nil // done before: the caller is shown the conversation as it is now
		}
		// Temporal deduplicates Updates by id within the workflow run, so concurrent retries
		// of one request are applied once.
		updateID = u.Name + "/" + c.UserID.String() + "/" + key
	}
	var written *store.ConversationView
	err := errBehindQueued
	if !queued {
		written, err = s.sendWithin(ctx, c.WorkspaceID, conversationID, updateID, u, s.UpdateTimeout/queuePatience)
	}
	if queueable(err) && (!errors.Is(err, ErrNotConfirmed) || s.temporalServes(ctx)) {
		return nil, s.enqueue(ctx, c.WorkspaceID, conversationID, updateID, k, u, err)
	}
	if err != nil {
		return nil, err
	}
	s.completeKey(ctx, k)
	return written, nil
}

// completeKey marks an Idempotency-Key's request done, when it had one.
func (s *Service) completeKey(ctx context.Context, k *store.IdempotencyKey) {
	if k == nil {
		return
	}
	if err := s.Store.CompleteIdempotencyKey(ctx, *k); err != nil {
		// The change is applied; a retry would only be sent again and deduplicated.
		s.Logger.Warn("could not mark idempotency key completed", "error", err)
	}
}

// send sends an Update and waits for its result, within UpdateTimeout: first in line for
// admission (admission.go), then for the workflow. A conversation with no workflow gets
// one: its first change starts it (startAndSend).
func (s *Service) send(ctx context.Context, workspaceID, conversationID uuid.UUID, updateID string, u workflows.Update) error {
	_, err := s.sendWithin(ctx, workspaceID, conversationID, updateID, u, s.UpdateTimeout)
	return err
}

// sendWithin is send that waits at most patience in line for admission (errBusy after), and
// returns the conversation as the change's write left it (nil when it wrote nothing).
func (s *Service) sendWithin(ctx context.Context, workspaceID, conversationID uuid.UUID, updateID string, u workflows.Update, patience time.Duration) (*store.ConversationView, error) {
	ctx, cancel := context.WithTimeout(ctx, s.UpdateTimeout)
	defer cancel()
	began := time.Now()
	leave, err := s.admission.enter(ctx, patience)
	if err != nil {
		return nil, err
	}
	defer leave()
	queued := time.Since(began)
	faultpoint.Hold(ctx, faultpoint.BeforeSend)
	st, err := s.Lifecycle.Send(ctx, conversationID, updateID, u, leave)
	if workflows.IsMissing(err) {
		st, err = s.startAndSend(ctx, workspaceID, conversationID, updateID, u, leave)
	}
	if err == nil && st.Change != nil {
		return s.writeChange(ctx, *st.Change)
	}
	answer := updateError(err)
	if answer == ErrNotConfirmed {
		// The operator needs Temporal's own error, and how much of the budget the admission
		// line took. (The API logs the other 503s, whose errors are Temporal's own.)
		s.Logger.Warn("lifecycle change not confirmed in time", "conversation_id", conversationID, "update_id", updateID,
			"in_line", queued.Round(time.Millisecond), "took", time.Since(began).Round(time.Millisecond), "error", err)
	}
	return nil, answer
}

// startAndSend sends u to a conversation that has no workflow. Its first change (workflows
// start lazily) starts it with the change in the same request, Update-with-Start: the
// workflow starts from the read model (open, nobody assigned, its SLA clocks running from
// the first message) and its first task applies the change; two concurrent first changes
// get one workflow (start-or-attach) and both apply. A workflow that is gone (an operator
// terminated it) is started again from the read model, then sent the change.
func (s *Service) startAndSend(ctx context.Context, workspaceID, conversationID uuid.UUID, updateID string, u workflows.Update, accepted func()) (workflows.Status, error) {
	since, untouched, err := s.Store.UntouchedSince(ctx, workspaceID, conversationID)
	if err != nil {
		return workflows.Status{}, err
	}
	if !untouched {
		if err := s.startAgain(ctx, workspaceID, conversationID); err != nil {
			return workflows.Status{}, err
		}
		return s.Lifecycle.Send(ctx, conversationID, updateID, u, accepted)
	}
	in, err := s.firstInput(ctx, workspaceID, conversationID, since)
	if err != nil {
		return workflows.Status{}, err
	}
	st, runID, err := s.Lifecycle.StartWith(ctx, in, updateID, u)
	accepted()
	if runID != "" {
		if err := s.Store.RecordWorkflowRun(ctx, conversationID, runID); err != nil {
			s.Logger.Warn("could not record the workflow's run", "conversation_id", conversationID, "error", err)
		}
	}
	faultpoint.Hold(ctx, faultpoint.LazyStart)
	return st, err
}

// writeChange writes a change whose Update has completed: the history holds it, so it may
// show now. It returns the conversation as the write left it (nil when the change had been
// written before). If the write fails the workflow's write-back writes it within seconds,
// and the caller hears that the change is accepted and will show shortly.
func (s *Service) writeChange(ctx context.Context, change domain.LifecycleChange) (*store.ConversationView, error) {
	faultpoint.Hold(ctx, faultpoint.AfterCompleted)
	view, err := s.Store.ApplyLifecycleChangeView(ctx, change)
	if err != nil {
		s.Logger.Warn("completed change not written; the workflow's write-back will", "conversation_id", change.ConversationID,
			"request_id", change.RequestID, "error", err)
		return nil, ErrAccepted
	}
	return view, nil
}

// restartWorkflow starts a conversation's workflow from what the read model and the audit
// log hold: its first one, at its first change (workflows start lazily), or a new one for
// a workflow that is gone (startAgain).
func (s *Service) restartWorkflow(ctx context.Context, workspaceID, conversationID uuid.UUID) error {
	// Its first workflow (workflows start lazily): nobody has changed it, so it is open and
	// unassigned, and its SLA clocks run from its first message.
	if since, untouched, err := s.Store.UntouchedSince(ctx, workspaceID, conversationID); err != nil || untouched {
		if err != nil {
			return err
		}
		return s.startFirst(ctx, workspaceID, conversationID, since)
	}
	return s.startAgain(ctx, workspaceID, conversationID)
}

// startAgain starts a new workflow for a conversation that has been changed before (its
// workflow is gone) from what the read model and the audit log hold. Every field of
// workflows.Input is restored, or named here with why not: SignalsSeen and TimersFired
// start again from zero, since the stored request ids of their changes carry the run's id
// (store.ApplyLifecycleChange), so a new run's cannot be taken for an old run's.
func (s *Service) startAgain(ctx context.Context, workspaceID, conversationID uuid.UUID) error {
	v, err := s.Store.GetConversation(ctx, workspaceID, conversationID)
	if err != nil {
		return err
	}
	closedSince, err := s.Store.ClosedSince(ctx, conversationID)
	if err != nil {
		return err
	}
	archive, err := s.Store.AutoArchive(ctx, workspaceID)
	if err != nil {
		return err
	}
	in := workflows.NewInput(workspaceID, conversationID)
	in.State, in.SummaryGeneration = v.State, v.SummaryGeneration
	in.LifecycleSeq = v.LifecycleSeq // the new run numbers its changes after the last one written
	if v.PendingUntil.Valid && v.State == domain.Pending {
		t := v.PendingUntil.Time.UTC()
		in.PendingUntil = &t // the snooze's timer is armed again by the new run
	}
	// A summary still pending was lost with the old workflow: the new one runs it again.
	in.SummaryInFlight = v.SummaryStatus == domain.SummaryPending
	if v.ClosedAt.Valid {
		t := v.ClosedAt.Time.UTC()
		in.ClosedAt = &t
	}
	if v.AssigneeID.Valid {
		in.Assignee = &domain.Actor{UserID: v.AssigneeID.UUID, Name: v.AssigneeName.String}
	}
	// The auto-archive clock: the workspace's setting now, from when it last became Closed,
	// armed by the new run's first task.
	if closedSince != nil {
		t := closedSince.UTC()
		in.ClosedSince = &t
	}
	in.AutoArchiveDays, in.AutoArchiveStamp = archive.Days, activities.AutoArchiveStamp(archive.ChangedAt)
	in.ArchiveAt = workflows.ArchiveDeadline(in)
	return s.start(ctx, in)
}

// updateError maps the workflow's rejections to the inbox's errors. An Update whose result
// did not arrive within UpdateTimeout may still be applied, so it is answered apart from an
// unreachable service; the client reports the timeout as a context error, a gRPC
// DeadlineExceeded status or WorkflowUpdateServiceTimeoutOrCanceledError, depending on
// where it struck.
func updateError(err error) error {
	if err == nil {
		return nil
	}
	if kind, message, ok := workflows.Rejection(err); ok {
		switch kind {
		case workflows.ErrInvalidTransition:
			return InvalidTransition(message)
		case workflows.ErrNotAssignable:
			return NotAssignable(message)
		case workflows.ErrBusy:
			return RateLimited(message, 5)
		}
	}
	var (
		timeoutOrCanceled *client.WorkflowUpdateServiceTimeoutOrCanceledError
		late              *serviceerror.DeadlineExceeded
	)
	switch {
	case Canceled(err):
		return err // the caller went away; nobody reads the answer
	case errors.Is(err, workflows.ErrNotCompleted):
		return ErrAccepted
	case WorkflowUnavailable(err) && !errors.As(err, &late):
		return err // Temporal could not be reached or refused the load: Classify says so
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &late) || errors.As(err, &timeoutOrCanceled):
		return ErrNotConfirmed
	}
	return err
}
