package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/bestai/inbox/domain"
)

// ChangeBulk announces a bulk action's progress; the Change's ConversationID is the bulk
// action's id.
const ChangeBulk = "bulk"

// Statuses of a bulk action.
const (
	BulkRunning    = "running"
	BulkCancelling = "cancelling"
	BulkDone       = "done"
	BulkCancelled  = "cancelled"
	BulkFailed     = "failed"
)

// Results of a bulk action's item.
const (
	BulkApplied = "applied"
	BulkRefused = "refused"
	BulkSkipped = "skipped"
	BulkError   = "failed"
)

// BulkAction is one batch of the same change to many conversations, with its counts.
type BulkAction struct {
	bun.BaseModel `bun:"table:bulk_actions,alias:b"`

	ID            uuid.UUID      `bun:"id,pk,type:uuid"`
	WorkspaceID   uuid.UUID      `bun:"workspace_id,type:uuid"`
	CreatedBy     uuid.NullUUID  `bun:"created_by,type:uuid"`
	CreatedByName string         `bun:"created_by_name"`
	Action        string         `bun:"action"`
	Params        map[string]any `bun:"params,type:jsonb"`
	Status        string         `bun:"status"`
	Total         int            `bun:"total"`
	CreatedAt     time.Time      `bun:"created_at"`
	FinishedAt    sql.NullTime   `bun:"finished_at"`

	// Counted from the items when read.
	Applied int `bun:"applied,scanonly"`
	Refused int `bun:"refused,scanonly"`
	Skipped int `bun:"skipped,scanonly"`
	Failed  int `bun:"failed,scanonly"`
}

// Done is how many items have a result.
func (b *BulkAction) Done() int { return b.Applied + b.Refused + b.Skipped + b.Failed }

// Finished reports whether the batch has ended (done, cancelled or failed).
func (b *BulkAction) Finished() bool {
	return b.Status == BulkDone || b.Status == BulkCancelled || b.Status == BulkFailed
}

// BulkItem is one conversation of a batch and its result ("" while still to do).
type BulkItem struct {
	bun.BaseModel `bun:"table:bulk_action_items,alias:bi"`

	BulkID         uuid.UUID    `bun:"bulk_id,pk,type:uuid"`
	Position       int          `bun:"position,pk"`
	ConversationID uuid.UUID    `bun:"conversation_id,type:uuid"`
	Result         *string      `bun:"result"`
	Reason         string       `bun:"reason"`
	DoneAt         sql.NullTime `bun:"done_at"`
}

// BulkItemPage is one page of a batch's items, in the batch's order.
type BulkItemPage struct {
	Items      []BulkItem
	NextCursor string
}

// BulkResult is the outcome of one item, as a run records it.
type BulkResult struct {
	Position int
	Result   string
	Reason   string
}

// ConversationIDs lists up to max ids of the workspace's conversations that pass f, in the
// list's order: what a bulk action by filter acts on. The caller asks for one more than it
// accepts, to tell a filter that matches too many.
func (s *Store) ConversationIDs(ctx context.Context, workspaceID uuid.UUID, f ConversationFilter, max int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if f.Query != "" {
		items, err := s.search(ctx, workspaceID, f, nil, max)
		if err != nil {
			return nil, fmt.Errorf("bulk ids: %w", err)
		}
		for _, v := range items {
			ids = append(ids, v.ID)
		}
		return ids, nil
	}
	if err := s.filtered(workspaceID, f, nil, "c.id").Limit(max).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("bulk ids: %w", err)
	}
	return ids, nil
}

// BulkTarget is what a batch looks up about one of its conversations before acting on it.
type BulkTarget struct {
	ID         uuid.UUID     `bun:"id,type:uuid"`
	State      domain.State  `bun:"state"`
	AssigneeID uuid.NullUUID `bun:"assignee_id,type:uuid"`
	Unread     bool          `bun:"unread"`
	// Untouched: nobody has changed it and it has no workflow run (its workflow starts
	// lazily), with its first message at CreatedAt.
	Untouched bool      `bun:"untouched"`
	CreatedAt time.Time `bun:"created_at"`
}

// BulkTargets looks up those of ids that are conversations of the workspace.
func (s *Store) BulkTargets(ctx context.Context, workspaceID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]BulkTarget, error) {
	out := make(map[uuid.UUID]BulkTarget, len(ids))
	for start := 0; start < len(ids); start += 5000 {
		var found []BulkTarget
		if err := s.DB.NewSelect().Table("conversations").Column("id", "state", "assignee_id", "unread", "created_at").
			ColumnExpr(untouchedSQL+" AS untouched").
			Where("workspace_id = ? AND id IN (?)", workspaceID, bun.In(ids[start:min(start+5000, len(ids))])).
			Scan(ctx, &found); err != nil {
			return nil, fmt.Errorf("bulk targets: %w", err)
		}
		for _, t := range found {
			out[t.ID] = t
		}
	}
	return out, nil
}

// CreateBulk stores a new batch and its items (in the order given), all still to do.
func (s *Store) CreateBulk(ctx context.Context, b *BulkAction, ids []uuid.UUID) error {
	if b.ID == uuid.Nil {
		b.ID = uuid.Must(uuid.NewV7())
	}
	b.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	b.Status = BulkRunning
	b.Total = len(ids)
	if b.Params == nil {
		b.Params = map[string]any{}
	}
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(b).Exec(ctx); err != nil {
			return fmt.Errorf("create bulk: %w", err)
		}
		const chunk = 2000
		for start := 0; start < len(ids); start += chunk {
			end := min(start+chunk, len(ids))
			rows := make([]BulkItem, 0, end-start)
			for i := start; i < end; i++ {
				rows = append(rows, BulkItem{BulkID: b.ID, Position: i, ConversationID: ids[i]})
			}
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return fmt.Errorf("create bulk items: %w", err)
			}
		}
		return nil
	})
}

// GetBulk reads a batch of the workspace with its counts; another workspace's is ErrNotFound.
func (s *Store) GetBulk(ctx context.Context, workspaceID, id uuid.UUID) (*BulkAction, error) {
	b := new(BulkAction)
	err := s.DB.NewSelect().Model(b).ColumnExpr("b.*").
		ColumnExpr("(SELECT count(*) FROM bulk_action_items WHERE bulk_id = b.id AND result = ?) AS applied", BulkApplied).
		ColumnExpr("(SELECT count(*) FROM bulk_action_items WHERE bulk_id = b.id AND result = ?) AS refused", BulkRefused).
		ColumnExpr("(SELECT count(*) FROM bulk_action_items WHERE bulk_id = b.id AND result = ?) AS skipped", BulkSkipped).
		ColumnExpr("(SELECT count(*) FROM bulk_action_items WHERE bulk_id = b.id AND result = ?) AS failed", BulkError).
		Where("b.workspace_id = ? AND b.id = ?", workspaceID, id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get bulk: %w", err)
	}
	return b, nil
}

const bulkCursorPrefix = "bi:"

// ListBulkItems pages through a batch's items in order; notApplied keeps only those refused,
// skipped or failed.
func (s *Store) ListBulkItems(ctx context.Context, bulkID uuid.UUID, notApplied bool, limit int, cursor string) (BulkItemPage, error) {
	after := -1
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		n, convErr := strconv.Atoi(strings.TrimPrefix(string(raw), bulkCursorPrefix))
		if err != nil || convErr != nil || !strings.HasPrefix(string(raw), bulkCursorPrefix) || n < 0 {
			return BulkItemPage{}, ErrBadCursor
		}
		after = n
	}
	var items []BulkItem
	q := s.DB.NewSelect().Model(&items).Where("bulk_id = ? AND position > ?", bulkID, after)
	if notApplied {
		q = q.Where("result IS NOT NULL AND result <> ?", BulkApplied)
	}
	if err := q.OrderExpr("position").Limit(limit + 1).Scan(ctx); err != nil {
		return BulkItemPage{}, fmt.Errorf("list bulk items: %w", err)
	}
	page := BulkItemPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(bulkCursorPrefix + strconv.Itoa(items[limit-1].Position)))
	}
	return page, nil
}

// BulkTodo lists the batch's items still to do, in order: what a (resumed) run works on.
func (s *Store) BulkTodo(ctx context.Context, bulkID uuid.UUID) ([]BulkItem, error) {
	var items []BulkItem
	err := s.DB.NewSelect().Model(&items).Where("bulk_id = ? AND result IS NULL", bulkID).
		OrderExpr("position").Scan(ctx)
	return items, err
}

// RecordBulkResults writes the results of some items (an item that already has one keeps
// it) and announces the batch's progress.
func (s *Store) RecordBulkResults(ctx context.Context, workspaceID, bulkID uuid.UUID, results []BulkResult) error {
	if len(results) == 0 {
		return nil
	}
	positions := make([]int, len(results))
	kinds := make([]string, len(results))
	reasons := make([]string, len(results))
	for i, r := range results {
		positions[i], kinds[i], reasons[i] = r.Position, r.Result, r.Reason
	}
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE bulk_action_items AS bi
			SET result = r.result, reason = r.reason, done_at = now()
			FROM unnest(?::int[], ?::text[], ?::text[]) AS r(position, result, reason)
			WHERE bi.bulk_id = ? AND bi.position = r.position AND bi.result IS NULL`,
			pgdialect.Array(positions), pgdialect.Array(kinds), pgdialect.Array(reasons), bulkID); err != nil {
			return fmt.Errorf("record bulk results: %w", err)
		}
		return notifyChange(ctx, tx, Change{WorkspaceID: workspaceID, ConversationID: bulkID, Kind: ChangeBulk})
	})
}

// SetBulkStatus moves a batch to status. A finished batch keeps its status; to a finished
// status, the items still to do are marked skipped with reason.
func (s *Store) SetBulkStatus(ctx context.Context, workspaceID, bulkID uuid.UUID, status, reason string) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Table("bulk_actions").Set("status = ?", status).
			Where("workspace_id = ? AND id = ?", workspaceID, bulkID).
			Where("status NOT IN (?)", bun.In([]string{BulkDone, BulkCancelled, BulkFailed}))
		finished := status == BulkDone || status == BulkCancelled || status == BulkFailed
		if finished {
			q = q.Set("finished_at = now()")
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("bulk status: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if finished {
			if _, err := tx.NewUpdate().Table("bulk_action_items").
				Set("result = ?", BulkSkipped).Set("reason = ?", reason).Set("done_at = now()").
				Where("bulk_id = ? AND result IS NULL", bulkID).Exec(ctx); err != nil {
				return fmt.Errorf("bulk status: %w", err)
			}
		}
		return notifyChange(ctx, tx, Change{WorkspaceID: workspaceID, ConversationID: bulkID, Kind: ChangeBulk})
	})
}

// RecentBulks lists the workspace's latest batches, newest first.
func (s *Store) RecentBulks(ctx context.Context, workspaceID uuid.UUID, n int) ([]BulkAction, error) {
	var out []BulkAction
	err := s.DB.NewSelect().Model(&out).Where("workspace_id = ?", workspaceID).
		OrderExpr("created_at DESC").Limit(n).Scan(ctx)
	return out, err
}
