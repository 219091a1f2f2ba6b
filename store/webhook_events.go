package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// The events each write records in its own transaction (see enqueueWebhookEvent). Each
// runs only once the write is known to change something, so an idempotent repeat emits
// nothing. data always carries conversation_id; enqueueWebhookEvent adds workspace_id.

// actorData is the actor of a change as webhooks show it; null for the system (a
// workflow timer, the summary) as in the audit log.
func actorData(a *domain.Actor) any {
	if a == nil {
		return nil
	}
	return map[string]any{"user_id": a.UserID, "name": a.Name}
}

func ingestEvents(ctx context.Context, tx bun.Tx, in IngestMessage, msg *Message, created bool) error {
	if created {
		if err := enqueueWebhookEvent(ctx, tx, in.WorkspaceID, domain.EventConversationCreated, map[string]any{
			"conversation_id": msg.ConversationID, "channel": in.Channel, "state": domain.Open,
		}); err != nil {
			return err
		}
	}
	return enqueueWebhookEvent(ctx, tx, in.WorkspaceID, domain.EventMessageCreated, map[string]any{
		"conversation_id": msg.ConversationID, "message_id": msg.ID, "role": msg.Role,
		"text": msg.Text, "sent_at": msg.SentAt,
	})
}

// lifecycleEvent enqueues the change's event; hasWebhooks is the workspace's flag as the
// change's UPDATE read it: without an enabled endpoint there is nothing to look up.
func lifecycleEvent(ctx context.Context, tx bun.Tx, ch domain.LifecycleChange, hasWebhooks bool) error {
	if !hasWebhooks {
		return nil
	}
	switch {
	case ch.ToState != "":
		return enqueueWebhookEvent(ctx, tx, ch.WorkspaceID, domain.EventConversationStateChanged, map[string]any{
			"conversation_id": ch.ConversationID, "from": ch.FromState, "to": ch.ToState,
			"closed_at": ch.ToClosedAt, "actor": actorData(ch.Actor),
		})
	case ch.AssigneeChanged:
		return enqueueWebhookEvent(ctx, tx, ch.WorkspaceID, domain.EventConversationAssigned, map[string]any{
			"conversation_id": ch.ConversationID, "assignee": actorData(ch.ToAssignee),
			"previous_assignee": actorData(ch.FromAssignee), "actor": actorData(ch.Actor),
		})
	}
	return nil // a summary retry: summary.ready or summary.failed follows
}

func summaryEvent(ctx context.Context, tx bun.Tx, r domain.SummaryResult) error {
	data := map[string]any{"conversation_id": r.ConversationID, "generation": r.Generation}
	event := domain.EventSummaryReady
	if r.Status == domain.SummaryReady {
		data["text"] = r.Text
	} else {
		event = domain.EventSummaryFailed
		data["error"] = r.Error
	}
	return enqueueWebhookEvent(ctx, tx, r.WorkspaceID, event, data)
}

func leadEvent(ctx context.Context, tx bun.Tx, workspaceID, conversationID, leadID uuid.UUID, from, to domain.LeadStatus, actor *domain.Actor) error {
	return enqueueWebhookEvent(ctx, tx, workspaceID, domain.EventLeadStatusChanged, map[string]any{
		"conversation_id": conversationID, "lead_id": leadID, "from": from, "to": to, "actor": actorData(actor),
	})
}
