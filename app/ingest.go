package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// errIngestKey: no ingest key, or one that names no workspace.
var errIngestKey = &Error{Status: http.StatusUnauthorized, Code: "unauthenticated",
	Message: "a valid ingest key is required (X-Inbox-Key)"}

// AuthenticateIngestKey resolves a channel's ingest key to the workspace it names.
func (s *Service) AuthenticateIngestKey(ctx context.Context, key string) (uuid.UUID, error) {
	if key == "" || len(key) > maxTokenLen {
		return uuid.Nil, errIngestKey
	}
	ws, err := s.Store.WorkspaceByIngestKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return uuid.Nil, errIngestKey
	}
	if err != nil {
		return uuid.Nil, err
	}
	return ws.ID, nil
}

// IngestLimit is an ingest key's share of the inbox: messages a second and at once, across
// every replica.
type IngestLimit struct {
	Rate  float64
	Burst int
}

// startForSLA starts the workflow of a conversation that has none when the workspace has an
// SLA policy: a new one's at once, an older one's (its start failed, or the fan-out of a new
// policy has not reached it yet) from the read model, with its clocks from its first message.
//
// A new conversation's policy is read after its message committed: a policy set meanwhile
// either is seen here or, committed before the fan-out lists the untouched conversations,
// reaches it there. An older conversation is on that list whatever this message does, so
// the policy its follow-up's transaction read (res.SLAPolicy) serves, without a query.
func (s *Service) startForSLA(ctx context.Context, workspaceID uuid.UUID, res IngestResult) error {
	var policy domain.SLAPolicy
	if res.SLAPolicy != nil {
		policy = *res.SLAPolicy
	} else {
		var err error
		if policy, err = s.Store.SLAPolicy(ctx, workspaceID); err != nil {
			return err
		}
	}
	if !policy.On() {
		return nil
	}
	if res.Created {
		return s.startFirst(ctx, workspaceID, res.ConversationID, time.Now())
	}
	return s.restartWorkflow(ctx, workspaceID, res.ConversationID)
}

// IngestResult is what a channel is told about its message.
type IngestResult = store.IngestResult

// Ingest stores a channel's message in the workspace (msg.WorkspaceID), under the key's
// limit, starts the conversation's workflow when an SLA policy needs it, and wakes a snoozed
// conversation when the visitor writes.
func (s *Service) Ingest(ctx context.Context, msg IngestMessage, limit IngestLimit) (IngestResult, error) {
	ok, wait, err := s.takeIngestToken(ctx, msg.WorkspaceID, limit)
	if err != nil {
		return IngestResult{}, err
	}
	if !ok {
		return IngestResult{}, RateLimited(fmt.Sprintf("too many messages for this ingest key (at most %g a second across the inbox); slow down", limit.Rate),
			RetryAfterSeconds(wait))
	}
	res, err := s.Store.Ingest(ctx, msg)
	if err != nil {
		return IngestResult{}, err
	}
	if res.WorkflowRunID == "" {
		// Workflows start lazily, at a conversation's first change (app.send), so a message
		// only writes Postgres. An SLA policy is the exception: its clocks run in the
		// workflow from the first message. Start-or-attach: a retried or concurrent message
		// never starts two. Should this fail, the message is kept and the next message or
		// change starts it.
		if err := s.startForSLA(ctx, msg.WorkspaceID, res); err != nil {
			s.Logger.Error("start conversation workflow", "conversation_id", res.ConversationID, "error", err)
		}
	}
	if res.Snoozed && msg.Role == domain.VisitorMessage {
		// The visitor wrote to a snoozed conversation: its workflow reopens it now. The
		// message is committed first; should this Signal fail or the process die before it,
		// the channel gets no 2xx and retries the same message.id, which stores nothing
		// new but sends the Signal again (and at worst the snooze's own timer wakes it).
		if err := s.WakeOnMessage(ctx, res.ConversationID, res.MessageID); err != nil {
			s.Logger.Error("wake snoozed conversation", "conversation_id", res.ConversationID, "error", err)
			return IngestResult{}, err
		}
	}
	return res, nil
}
