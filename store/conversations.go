package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// Conversation is one row of the read model: lifecycle fields written by the workflow,
// activity fields written by ingest, summary fields written by the summary activity.
type Conversation struct {
	bun.BaseModel `bun:"table:conversations,alias:c"`

	ID            uuid.UUID      `bun:"id,pk,type:uuid"`
	WorkspaceID   uuid.UUID      `bun:"workspace_id,type:uuid"`
	Ref           string         `bun:"ref"`
	Channel       domain.Channel `bun:"channel"`
	State         domain.State   `bun:"state"`
	Unread        bool           `bun:"unread"`
	AssigneeID    uuid.NullUUID  `bun:"assignee_id,type:uuid"`
	CreatedAt     time.Time      `bun:"created_at"`
	LastMessageAt time.Time      `bun:"last_message_at"`
	ClosedAt      sql.NullTime   `bun:"closed_at"`
	PendingUntil  sql.NullTime   `bun:"pending_until"`
	PageURL       string         `bun:"page_url"`
	Referrer      string         `bun:"referrer"`
	UserAgent     string         `bun:"user_agent"`
	IP            sql.NullString `bun:"ip,type:inet"`
	WorkflowID    string         `bun:"workflow_id"`
	WorkflowRunID string         `bun:"workflow_run_id"`
	// LifecycleSeq is the number of the last lifecycle change applied (see
	// domain.LifecycleChange.Seq).
	LifecycleSeq int64 `bun:"lifecycle_seq"`

	SummaryStatus      domain.SummaryStatus `bun:"summary_status"`
	SummaryText        string               `bun:"summary_text"`
	SummaryError       string               `bun:"summary_error"`
	SummaryAttempts    int                  `bun:"summary_attempts"`
	SummaryGeneration  int64                `bun:"summary_generation"`
	SummaryModel       string               `bun:"summary_model"`
	SummaryKeyKind     string               `bun:"summary_key_kind"`
	SummaryGeneratedAt sql.NullTime         `bun:"summary_generated_at"`

	// The SLA clocks, written by the conversation's workflow: when each breaches (null while
	// off or paused), when it stopped in time, when it breached.
	SLAFirstResponseDue        sql.NullTime `bun:"sla_first_response_due"`
	SLAFirstResponseMetAt      sql.NullTime `bun:"sla_first_response_met_at"`
	SLAFirstResponseBreachedAt sql.NullTime `bun:"sla_first_response_breached_at"`
	SLAResolutionDue           sql.NullTime `bun:"sla_resolution_due"`
	SLAResolutionMetAt         sql.NullTime `bun:"sla_resolution_met_at"`
	SLAResolutionBreachedAt    sql.NullTime `bun:"sla_resolution_breached_at"`
	SLAResolutionPaused        bool         `bun:"sla_resolution_paused"`

	// FirstAssignedAt is when the conversation first had an assignee (the reports' time to
	// first assignment); written once, with the assignment's audit entry.
	FirstAssignedAt sql.NullTime `bun:"first_assigned_at"`
}

// ConversationView is a conversation with its lead and assignee, as lists and the detail show it.
type ConversationView struct {
	Conversation `bun:",extend"`

	LeadID       uuid.UUID         `bun:"lead_id"`
	LeadStatus   domain.LeadStatus `bun:"lead_status"`
	VisitorName  string            `bun:"visitor_name"`
	VisitorEmail string            `bun:"visitor_email"`
	VisitorPhone string            `bun:"visitor_phone"`
	AssigneeName sql.NullString    `bun:"assignee_name"`
	AssigneeRole sql.NullString    `bun:"assignee_role"`

	// Labels are the conversation's labels ordered by name, read for a page at once.
	Labels []LabelRef `bun:"-"`
	// LabelsJSON is where GetConversation reads Labels, as a JSON array in the row itself:
	// a single conversation's read (the answer to every change) is one round trip.
	LabelsJSON []byte `bun:"labels_json,scanonly"`
}

// Message is one message of a conversation.
type Message struct {
	bun.BaseModel `bun:"table:messages,alias:m"`

	ID             uuid.UUID          `bun:"id,pk,type:uuid"`
	ConversationID uuid.UUID          `bun:"conversation_id,type:uuid"`
	ExternalID     sql.NullString     `bun:"external_id"`
	Role           domain.MessageRole `bun:"role"`
	Text           string             `bun:"text"`
	SentAt         time.Time          `bun:"sent_at"`
	CreatedAt      time.Time          `bun:"created_at,nullzero,default:now()"`
}

// Lead is the contact a conversation produced.
type Lead struct {
	bun.BaseModel `bun:"table:leads,alias:l"`

	ID             uuid.UUID         `bun:"id,pk,type:uuid"`
	WorkspaceID    uuid.UUID         `bun:"workspace_id,type:uuid"`
	ConversationID uuid.UUID         `bun:"conversation_id,type:uuid"`
	Name           string            `bun:"name"`
	Email          string            `bun:"email"`
	Phone          string            `bun:"phone"`
	Status         domain.LeadStatus `bun:"status"`
	CreatedAt      time.Time         `bun:"created_at"`
	UpdatedAt      time.Time         `bun:"updated_at"`
}

// GetConversation returns one conversation of the workspace, or ErrNotFound: another
// workspace's conversation is indistinguishable from a missing one.
func (s *Store) GetConversation(ctx context.Context, workspaceID, id uuid.UUID) (*ConversationView, error) {
	var items []ConversationView
	one := s.DB.NewSelect().TableExpr("conversations AS c").ColumnExpr("c.*").
		Where("c.workspace_id = ? AND c.id = ?", workspaceID, id)
	if err := s.viewOf(&items, one).ColumnExpr(labelsColumn).Scan(ctx); err != nil {
		return nil, fmt.Errorf("get conversation: %w", err)
	}
	if len(items) == 0 {
		return nil, ErrNotFound
	}
	v := &items[0]
	return v, v.readLabels()
}

// labelsColumn reads a single conversation's labels (c) into its row: see LabelsJSON.
const labelsColumn = `(SELECT coalesce(json_agg(json_build_object('id', lb.id, 'name', lb.name, 'color', lb.color)
	ORDER BY lower(lb.name), lb.id), '[]') FROM conversation_labels AS cl JOIN labels AS lb ON lb.id = cl.label_id
	WHERE cl.conversation_id = c.id) AS labels_json`

// readLabels fills in Labels from the LabelsJSON that labelsColumn read.
func (v *ConversationView) readLabels() error {
	if err := json.Unmarshal(v.LabelsJSON, &v.Labels); err != nil {
		return fmt.Errorf("labels of conversation: %w", err)
	}
	v.LabelsJSON = nil
	return nil
}

// MessagePage is one page of messages, oldest first.
type MessagePage struct {
	Items      []Message
	NextCursor string
}

// ListMessages pages through a conversation's messages, oldest first.
func (s *Store) ListMessages(ctx context.Context, workspaceID, conversationID uuid.UUID, limit int, cursor string) (MessagePage, error) {
	if _, err := s.ConversationIn(ctx, workspaceID, conversationID); err != nil {
		return MessagePage{}, err
	}
	q := s.DB.NewSelect().Model((*Message)(nil)).
		Where("conversation_id = ?", conversationID).
		OrderExpr("sent_at, id").Limit(limit + 1)
	if cursor != "" {
		c, err := decodeListCursor(cursor, messageCursorKind)
		if err != nil {
			return MessagePage{}, err
		}
		q = q.Where("(sent_at, id) > (?, ?)", c.At, c.ID)
	}
	var items []Message
	if err := q.Scan(ctx, &items); err != nil {
		return MessagePage{}, err
	}
	var page MessagePage
	page.Items, page.NextCursor = cutPage(items, limit, messageCursorKind,
		func(m Message) (time.Time, uuid.UUID) { return m.SentAt, m.ID })
	return page, nil
}

// RecentMessages is the page of a conversation's messages that ends at the newest one (or,
// with before, just before that cursor), shown oldest first. EarlierCursor continues back
// in time; "" when the page starts at the first message. It is the transcript as a reader
// wants it: the latest messages at once, the history a page at a time.
func (s *Store) RecentMessages(ctx context.Context, workspaceID, conversationID uuid.UUID, limit int, before string) (items []Message, earlierCursor string, err error) {
	if _, err := s.ConversationIn(ctx, workspaceID, conversationID); err != nil {
		return nil, "", err
	}
	q := s.DB.NewSelect().Model((*Message)(nil)).
		Where("conversation_id = ?", conversationID).
		OrderExpr("sent_at DESC, id DESC").Limit(limit + 1)
	if before != "" {
		c, err := decodeListCursor(before, earlierMessagesCursorKind)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("(sent_at, id) < (?, ?)", c.At, c.ID)
	}
	if err := q.Scan(ctx, &items); err != nil {
		return nil, "", err
	}
	items, earlierCursor = cutPage(items, limit, earlierMessagesCursorKind,
		func(m Message) (time.Time, uuid.UUID) { return m.SentAt, m.ID })
	slices.Reverse(items)
	return items, earlierCursor, nil
}

// ConversationIn checks that the conversation exists in the workspace and returns its state.
func (s *Store) ConversationIn(ctx context.Context, workspaceID, id uuid.UUID) (domain.State, error) {
	var st domain.State
	err := s.DB.NewSelect().Table("conversations").Column("state").
		Where("workspace_id = ? AND id = ?", workspaceID, id).Scan(ctx, &st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return st, err
}

// ChangeTarget looks up a conversation about to be changed: ErrNotFound unless it is in the
// workspace, and whether changes of it wait in the queue (a change made now must wait
// behind them).
func (s *Store) ChangeTarget(ctx context.Context, workspaceID, id uuid.UUID) (queued bool, err error) {
	err = s.DB.NewSelect().TableExpr("conversations AS c").
		ColumnExpr("EXISTS (SELECT 1 FROM queued_changes AS q WHERE q.conversation_id = c.id)").
		Where("c.workspace_id = ? AND c.id = ?", workspaceID, id).Scan(ctx, &queued)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	}
	return queued, err
}

// LastMessages returns up to n of the conversation's latest messages, oldest first.
func (s *Store) LastMessages(ctx context.Context, conversationID uuid.UUID, n int) ([]Message, error) {
	var msgs []Message
	err := s.DB.NewSelect().Model(&msgs).
		Where("conversation_id = ?", conversationID).
		OrderExpr("sent_at DESC, id DESC").Limit(n).Scan(ctx)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs, nil
}

// SetRead marks the conversation read or unread and audits it when it changed. actor is the
// member who did it. It returns ErrNotFound for another workspace's conversation.
func (s *Store) SetRead(ctx context.Context, workspaceID, id uuid.UUID, read bool, actor *domain.Actor) error {
	_, err := s.SetReadChanged(ctx, workspaceID, id, read, actor)
	return err
}

// SetReadChanged is SetRead that also reports whether anything changed (false when the
// conversation already was so).
func (s *Store) SetReadChanged(ctx context.Context, workspaceID, id uuid.UUID, read bool, actor *domain.Actor) (changed bool, err error) {
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var before bool
		err := tx.NewSelect().Table("conversations").Column("unread").
			Where("workspace_id = ? AND id = ?", workspaceID, id).For("UPDATE").Scan(ctx, &before)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if before == !read {
			return nil // already so: nothing to record
		}
		changed = true
		if _, err := tx.NewUpdate().Table("conversations").Set("unread = ?", !read).
			Where("id = ?", id).Exec(ctx); err != nil {
			return err
		}
		if err := notifyChange(ctx, tx, Change{WorkspaceID: workspaceID, ConversationID: id, Kind: ChangeRead}); err != nil {
			return err
		}
		action := domain.AuditRead
		if !read {
			action = domain.AuditUnread
		}
		return insertAudit(ctx, tx, &AuditEntry{
			WorkspaceID: workspaceID, ConversationID: uuid.NullUUID{UUID: id, Valid: true},
			Actor: actor, Action: action,
			Before: map[string]any{"unread": before}, After: map[string]any{"unread": !read},
		})
	})
	return changed && err == nil, err
}
