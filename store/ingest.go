package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// Visitor holds the contact fields a channel may send; nil means "not sent".
type Visitor struct {
	Name  *string
	Email *string
	Phone *string
}

// hasContact reports whether v sets any contact field (an empty one sets nothing).
func (v Visitor) hasContact() bool {
	for _, f := range []*string{v.Name, v.Email, v.Phone} {
		if f != nil && *f != "" {
			return true
		}
	}
	return false
}

// Source is where the visitor came from, captured on the first message only.
type Source struct {
	PageURL   string
	Referrer  string
	UserAgent string
	IP        netip.Addr // the full client address; the zero Addr when unknown
}

// IngestMessage is one message arriving from a channel.
type IngestMessage struct {
	WorkspaceID uuid.UUID
	Ref         string
	Channel     domain.Channel
	Visitor     Visitor
	ExternalID  string // optional; dedupes retries of the same message
	Role        domain.MessageRole
	Text        string
	SentAt      time.Time
	Source      Source
}

// IngestResult says what an ingested message did.
type IngestResult struct {
	ConversationID uuid.UUID
	MessageID      uuid.UUID
	Created        bool   // the message opened a new conversation
	Duplicate      bool   // the message id was seen before; nothing was stored
	WorkflowID     string // the conversation's workflow
	WorkflowRunID  string // "" until the workflow's start has been recorded
	// SLAPolicy is the workspace's SLA policy as a follow-up's transaction read it (nil for a
	// new conversation, whose policy must be read after the commit: see app.startForSLA).
	SLAPolicy *domain.SLAPolicy
	// Snoozed: the conversation is Pending with a wake-up time (read under the row lock):
	// the caller must tell its workflow, which reopens it. Also set for a duplicate, so a
	// retry after a crash between this commit and that Signal sends it.
	Snoozed bool
}

// errDuplicateMessage rolls back the transaction of a message whose external id was seen
// before: a retried message changes nothing.
var errDuplicateMessage = errors.New("duplicate message")

// touchedConversation is what a message's UPDATE of its conversation returns.
type touchedConversation struct {
	ID            uuid.UUID     `bun:"id"`
	WorkflowID    string        `bun:"workflow_id"`
	WorkflowRunID string        `bun:"workflow_run_id"`
	State         domain.State  `bun:"state"`
	PendingUntil  sql.NullTime  `bun:"pending_until"`
	AssigneeID    uuid.NullUUID `bun:"assignee_id"`
	HasWebhooks   bool          `bun:"has_webhooks"`
	SLA           slaRow        `bun:"embed:"`
}

// Ingest stores a message in one transaction: the first message for a ref creates the
// conversation (open, unread, unassigned), its lead and the audit row; later ones make it
// unread again and fill in the lead's contact. Concurrent first messages create one
// conversation; a repeated external id stores nothing.
//
// Most messages, follow-ups and first ones, are one call outside a transaction when they
// need nothing but their rows (storeMessage). Otherwise, the transaction finds and touches
// the conversation with one UPDATE, which also locks the row and reads the workspace's
// webhook flag; only when it finds none is the conversation created. A duplicate rolls the
// transaction back.
func (s *Store) Ingest(ctx context.Context, in IngestMessage) (IngestResult, error) {
	out, stored, err := s.storeMessage(ctx, in)
	if err == nil && !stored {
		out, err = s.ingestInTx(ctx, in)
	}
	if err == nil {
		// A stored message is announced to the pages after its commit, in a batch (notify.go).
		s.announceAfterCommit(Change{WorkspaceID: in.WorkspaceID, ConversationID: out.ConversationID, Kind: ChangeMessage})
	}
	if errors.Is(err, errDuplicateMessage) {
		err = s.DB.NewSelect().Table("messages").Column("id").
			Where("conversation_id = ? AND external_id = ?", out.ConversationID, in.ExternalID).Scan(ctx, &out.MessageID)
		if err != nil {
			err = fmt.Errorf("find duplicate message: %w", err)
		}
	}
	return out, err
}

// ingestInTx is Ingest's transaction, for every message that storeMessage leaves to it.
func (s *Store) ingestInTx(ctx context.Context, in IngestMessage) (IngestResult, error) {
	var out IngestResult
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		out = IngestResult{}
		now := time.Now().UTC()
		var conv touchedConversation
		found, err := touchConversation(ctx, tx, in, now, &conv)
		for !found && err == nil {
			if out.Created, err = createConversation(ctx, tx, in, now, &conv); out.Created || err != nil {
				break
			}
			// A concurrent first message created it since: touch the one it made.
			found, err = touchConversation(ctx, tx, in, now, &conv)
		}
		if err != nil {
			return err
		}
		if out.Created {
			out.ConversationID, out.WorkflowID = conv.ID, conv.WorkflowID
		} else {
			out = conv.touched()
		}

		msg := &Message{ID: uuid.Must(uuid.NewV7()), ConversationID: conv.ID, Role: in.Role, Text: in.Text, SentAt: in.SentAt}
		if in.ExternalID != "" {
			msg.ExternalID = sql.NullString{String: in.ExternalID, Valid: true}
		}
		res, err := tx.NewInsert().Model(msg).On("CONFLICT (conversation_id, external_id) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			out.Duplicate = true
			return errDuplicateMessage // undoes the touch: nothing new was stored
		}
		out.MessageID = msg.ID
		if conv.HasWebhooks {
			if err := ingestEvents(ctx, tx, in, msg, out.Created); err != nil {
				return err
			}
		}
		if out.Created {
			return nil
		}
		if in.Role == domain.VisitorMessage && conv.AssigneeID.Valid {
			if err := notifyPeople(ctx, tx, Notice{WorkspaceID: in.WorkspaceID, ConversationID: conv.ID,
				Kind: domain.NotifyVisitorMessage, At: now}, conv.AssigneeID.UUID); err != nil {
				return err
			}
		}
		return updateLeadContact(ctx, tx, conv.ID, in.Visitor)
	})
	return out, err
}

// storeMessage stores a message with one call of inbox_store_message (a migration defines
// it), outside a transaction, when all it needs is its rows: a follow-up's touch of its
// conversation and the message, or a first message's conversation, lead, audit row and
// message, as the transaction would write them. That is most messages: the call spares them
// the transaction's round trips to Postgres (a first message's were eight), and the function
// keeps its statements' plans for the connection. stored is false, and nothing was written,
// for any other message: a follow-up with contact fields, any message to a workspace with
// webhooks, a visitor's message to an assigned conversation (its assignee is notified), one
// whose external id was stored before, and a first message whose conversation a concurrent
// one created meanwhile. Those take the transaction.
//
// A concurrent retry of the same follow-up that passed the same check loses on the message's
// unique key and stores no message; it still touched the conversation, as the message did
// at the same moment. It is answered as a duplicate.
func (s *Store) storeMessage(ctx context.Context, in IngestMessage) (out IngestResult, stored bool, err error) {
	var externalID sql.NullString
	if in.ExternalID != "" {
		externalID = sql.NullString{String: in.ExternalID, Valid: true}
	}
	now := time.Now().UTC()
	conv, lead, audit := newConversation(in, now)
	after, err := json.Marshal(audit.After)
	if err != nil {
		return out, false, err
	}
	var row struct {
		touchedConversation
		Created   bool          `bun:"created"`
		MessageID uuid.NullUUID `bun:"message_id"`
	}
	err = s.DB.NewRaw(`
		SELECT f.out_created AS created, f.out_id AS id, f.out_workflow_id AS workflow_id,
			f.out_workflow_run_id AS workflow_run_id, f.out_state AS state, f.out_pending_until AS pending_until,
			f.out_assignee_id AS assignee_id, f.out_sla_first_response_seconds AS sla_first_response_seconds,
			f.out_sla_resolution_seconds AS sla_resolution_seconds, f.out_message_id AS message_id
		FROM inbox_store_message(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) AS f`,
		now, in.WorkspaceID, in.Ref, in.Role, externalID, uuid.Must(uuid.NewV7()), in.Text, in.SentAt, in.Visitor.hasContact(),
		conv.ID, conv.WorkflowID, conv.Channel, conv.PageURL, conv.Referrer, conv.UserAgent, conv.IP,
		lead.ID, lead.Name, lead.Email, lead.Phone, audit.ID, string(after),
	).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return out, false, nil
	}
	if err != nil {
		return out, false, fmt.Errorf("store message: %w", err)
	}
	if row.Created {
		// The policy is read after the commit (app.startForSLA says why), so none is given.
		return IngestResult{ConversationID: row.ID, MessageID: row.MessageID.UUID, Created: true, WorkflowID: row.WorkflowID}, true, nil
	}
	out = row.touched()
	out.MessageID = row.MessageID.UUID
	if !row.MessageID.Valid {
		out.Duplicate = true
		return out, true, errDuplicateMessage
	}
	return out, true, nil
}

// touched is what a message to the existing conversation c tells its caller: the
// conversation, its workflow, the workspace's SLA policy as the touch read it, and whether
// it is snoozed (its workflow must be told of a visitor's message).
func (c touchedConversation) touched() IngestResult {
	policy := c.SLA.policy()
	return IngestResult{ConversationID: c.ID, WorkflowID: c.WorkflowID, WorkflowRunID: c.WorkflowRunID, SLAPolicy: &policy,
		Snoozed: c.State == domain.Pending && c.PendingUntil.Valid}
}

// touchConversation makes the ref's conversation unread with its latest message time and
// returns it, locked until the transaction ends; found is false when there is none yet.
func touchConversation(ctx context.Context, tx bun.Tx, in IngestMessage, now time.Time, conv *touchedConversation) (found bool, err error) {
	err = tx.NewRaw(`
		UPDATE conversations AS c SET unread = true, last_message_at = greatest(c.last_message_at, ?)
		WHERE c.workspace_id = ? AND c.ref = ?
		RETURNING c.id, c.workflow_id, c.workflow_run_id, c.state, c.pending_until, c.assignee_id,
			(SELECT w.has_webhooks FROM workspaces AS w WHERE w.id = c.workspace_id) AS has_webhooks,
			(SELECT s.sla_first_response_seconds FROM workspace_settings AS s WHERE s.workspace_id = c.workspace_id) AS sla_first_response_seconds,
			(SELECT s.sla_resolution_seconds FROM workspace_settings AS s WHERE s.workspace_id = c.workspace_id) AS sla_resolution_seconds`,
		now, in.WorkspaceID, in.Ref).Scan(ctx, conv)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("touch conversation: %w", err)
	}
	return true, nil
}

// newConversation is what a first message creates: its conversation (open, unread,
// unassigned), its lead and its audit row, with new ids. The transaction and
// inbox_store_message write the same.
func newConversation(in IngestMessage, now time.Time) (*Conversation, *Lead, *AuditEntry) {
	conv := &Conversation{
		ID: uuid.Must(uuid.NewV7()), WorkspaceID: in.WorkspaceID, Ref: in.Ref, Channel: in.Channel,
		State: domain.Open, Unread: true, CreatedAt: now, LastMessageAt: now,
		PageURL: in.Source.PageURL, Referrer: in.Source.Referrer, UserAgent: in.Source.UserAgent,
		SummaryStatus: domain.SummaryNone,
	}
	conv.WorkflowID = domain.WorkflowID(conv.ID)
	if in.Source.IP.IsValid() {
		conv.IP = sql.NullString{String: in.Source.IP.String(), Valid: true}
	}
	lead := &Lead{
		ID: uuid.Must(uuid.NewV7()), WorkspaceID: in.WorkspaceID, ConversationID: conv.ID,
		Name: deref(in.Visitor.Name), Email: deref(in.Visitor.Email), Phone: deref(in.Visitor.Phone),
		Status: domain.LeadNew, CreatedAt: now, UpdatedAt: now,
	}
	audit := &AuditEntry{
		WorkspaceID: in.WorkspaceID, ConversationID: uuid.NullUUID{UUID: conv.ID, Valid: true},
		Action: domain.AuditCreated, At: now,
		After: map[string]any{"state": domain.Open, "channel": in.Channel, "unread": true, "assignee": nil},
	}
	audit.complete()
	return conv, lead, audit
}

// createConversation creates the ref's conversation, its lead and its audit row
// (newConversation); created is false when a concurrent first message got there first.
func createConversation(ctx context.Context, tx bun.Tx, in IngestMessage, now time.Time, out *touchedConversation) (created bool, err error) {
	conv, lead, audit := newConversation(in, now)
	var hasWebhooks []bool
	err = tx.NewInsert().Model(conv).On("CONFLICT (workspace_id, ref) DO NOTHING").
		Returning("(SELECT w.has_webhooks FROM workspaces AS w WHERE w.id = c.workspace_id)").Scan(ctx, &hasWebhooks)
	if err != nil {
		return false, fmt.Errorf("insert conversation: %w", err)
	}
	if len(hasWebhooks) == 0 {
		return false, nil
	}
	*out = touchedConversation{ID: conv.ID, WorkflowID: conv.WorkflowID, State: conv.State, HasWebhooks: hasWebhooks[0]}
	if _, err := tx.NewInsert().Model(lead).Exec(ctx); err != nil {
		return false, fmt.Errorf("insert lead: %w", err)
	}
	return true, insertAudit(ctx, tx, audit)
}

// updateLeadContact fills in or updates the contact fields the visitor sent.
func updateLeadContact(ctx context.Context, tx bun.Tx, conversationID uuid.UUID, v Visitor) error {
	if !v.hasContact() {
		return nil
	}
	q := tx.NewUpdate().Table("leads").Where("conversation_id = ?", conversationID)
	for col, val := range map[string]*string{"name": v.Name, "email": v.Email, "phone": v.Phone} {
		if val != nil && *val != "" {
			q = q.Set("? = ?", bun.Ident(col), *val)
		}
	}
	if _, err := q.Set("updated_at = now()").Exec(ctx); err != nil {
		return fmt.Errorf("update lead contact: %w", err)
	}
	return nil
}

// RecordWorkflowRun remembers the run a conversation's workflow was started as, once.
func (s *Store) RecordWorkflowRun(ctx context.Context, conversationID uuid.UUID, runID string) error {
	_, err := s.DB.NewUpdate().Table("conversations").Set("workflow_run_id = ?", runID).
		Where("id = ? AND workflow_run_id = ''", conversationID).Exec(ctx)
	return err
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
