package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/workflows"
)

// startWorkflow starts the conversation's workflow, or attaches to the running one. input
// is nil for a brand-new conversation; otherwise it rebuilds a workflow from the read model.
func (s *server) startWorkflow(ctx context.Context, workspaceID, conversationID uuid.UUID, input *workflows.Input) error {
	in := workflows.NewInput(workspaceID, conversationID)
	if input != nil {
		in = *input
	}
	run, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       domain.WorkflowID(conversationID),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchWorkspace.ValueSet(workspaceID.String()),
			workflows.SearchState.ValueSet(string(in.State)),
		),
	}, workflows.ConversationWorkflow, in)
	if err != nil {
		return fmt.Errorf("start workflow: %w", err)
	}
	return s.Store.RecordWorkflowRun(ctx, conversationID, run.GetRunID())
}

// maxIdempotencyKey bounds the Idempotency-Key header; keys are printable ASCII.
const maxIdempotencyKey = 200

// idempotencyKey reads the request's Idempotency-Key header, scoped to the caller and the
// conversation (IETF Idempotency-Key draft): the same key on another conversation, or from
// another member, names another request. ok is false when the header is absent.
func idempotencyKey(c *gin.Context, conversationID uuid.UUID) (k store.IdempotencyKey, ok bool, err error) {
	values := c.Request.Header.Values("Idempotency-Key")
	switch {
	case len(values) == 0:
		return k, false, nil
	case len(values) > 1:
		return k, false, badRequest("Idempotency-Key: given more than once")
	case values[0] == "" || len(values[0]) > maxIdempotencyKey:
		return k, false, badRequest("Idempotency-Key: must be 1 to %d characters", maxIdempotencyKey)
	}
	for _, r := range values[0] {
		if r < 0x21 || r > 0x7e {
			return k, false, badRequest("Idempotency-Key: only printable ASCII characters, no spaces")
		}
	}
	return store.IdempotencyKey{WorkspaceID: workspaceID(c), UserID: caller(c).UserID, ConversationID: conversationID, Key: values[0]}, true, nil
}

// updateID names the Update of a keyed request. Temporal deduplicates Updates by id within
// the conversation's workflow run, so concurrent retries of one request are applied once.
func updateID(name string, k store.IdempotencyKey) string {
	return name + "/" + k.UserID.String() + "/" + k.Key
}

// update sends a lifecycle Update to the conversation's workflow and waits for its result.
// A conversation whose workflow is missing (its start failed after the message was stored,
// or an operator terminated it) gets one started from the read model first.
func (s *server) update(ctx context.Context, workspaceID, conversationID uuid.UUID, id, name string, arg any) (workflows.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, s.UpdateTimeout)
	defer cancel()
	send := func() (workflows.Status, error) {
		handle, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID:   domain.WorkflowID(conversationID),
			UpdateID:     id,
			UpdateName:   name,
			Args:         []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		var st workflows.Status
		if err == nil {
			err = handle.Get(ctx, &st)
		}
		return st, err
	}
	st, err := send()
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		if err := s.restartWorkflow(ctx, workspaceID, conversationID); err != nil {
			return st, err
		}
		st, err = send()
	}
	return st, updateError(err)
}

// updateFromRequest sends the Update a lifecycle request asks for. what describes the
// request's intent (say "closed") for the Idempotency-Key fingerprint: a key presented again
// with another intent is refused, and a key whose request completed is not sent again.
func (s *server) updateFromRequest(c *gin.Context, conversationID uuid.UUID, name, what string, arg any) error {
	ctx := c.Request.Context()
	key, keyed, err := idempotencyKey(c, conversationID)
	if err != nil {
		return err
	}
	if !keyed {
		_, err = s.update(ctx, workspaceID(c), conversationID, uuid.NewString(), name, arg)
		return err
	}
	fingerprint := sha256.Sum256([]byte(name + "\n" + what))
	completed, err := s.Store.ClaimIdempotencyKey(ctx, key, fingerprint[:])
	switch {
	case errors.Is(err, store.ErrKeyReused):
		return idempotencyKeyReused()
	case err != nil:
		return err
	case completed:
		return nil // done before: the caller answers with the conversation as it is now
	}
	if _, err := s.update(ctx, workspaceID(c), conversationID, updateID(name, key), name, arg); err != nil {
		return err
	}
	if err := s.Store.CompleteIdempotencyKey(ctx, key); err != nil {
		// The change is applied; a retry would only be sent again and deduplicated.
		s.Logger.Warn("could not mark idempotency key completed", "error", err)
	}
	return nil
}

// restartWorkflow starts a conversation's workflow from what the read model holds.
func (s *server) restartWorkflow(ctx context.Context, workspaceID, conversationID uuid.UUID) error {
	v, err := s.Store.GetConversation(ctx, workspaceID, conversationID)
	if err != nil {
		return err
	}
	in := workflows.NewInput(workspaceID, conversationID)
	in.State, in.SummaryGeneration = v.State, v.SummaryGeneration
	// A summary still pending was lost with the old workflow: the new one runs it again.
	in.SummaryInFlight = v.SummaryStatus == domain.SummaryPending
	if v.ClosedAt.Valid {
		t := v.ClosedAt.Time.UTC()
		in.ClosedAt = &t
	}
	if v.AssigneeID.Valid {
		in.Assignee = &domain.Actor{UserID: v.AssigneeID.UUID, Name: v.AssigneeName.String}
	}
	return s.startWorkflow(ctx, workspaceID, conversationID, &in)
}

// updateError maps the workflow's rejections to the API's errors. An Update whose result
// did not arrive within UpdateTimeout may still be applied, so it is answered apart from an
// unreachable service; the client reports the timeout as a context error, a gRPC
// DeadlineExceeded status or WorkflowUpdateServiceTimeoutOrCanceledError, depending on
// where it struck.
func updateError(err error) error {
	if err == nil {
		return nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case workflows.ErrInvalidTransition:
			return invalidTransition(appErr.Message())
		case workflows.ErrNotAssignable:
			return notAssignable(appErr.Message())
		case workflows.ErrBusy:
			return rateLimited(appErr.Message(), 5)
		}
	}
	var (
		timeoutOrCanceled *client.WorkflowUpdateServiceTimeoutOrCanceledError
		late              *serviceerror.DeadlineExceeded
		canceled          *serviceerror.Canceled
	)
	switch {
	case errors.Is(err, context.Canceled) || errors.As(err, &canceled):
		return err // the caller went away; respond does not count it as our fault
	case workflowUnavailable(err) && !errors.As(err, &late):
		return err // Temporal could not be reached or refused the load: respond says so
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &late) || errors.As(err, &timeoutOrCanceled):
		return errNotConfirmed
	}
	return err
}
