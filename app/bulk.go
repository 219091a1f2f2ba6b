package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/bestai/inbox/activities"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/workflows"
)

// MaxBulk is the most conversations one bulk action may act on.
const MaxBulk = 10000

// Defaults of a bulk action's pace (Service.BulkConcurrency, Service.BulkRate).
const (
	DefaultBulkConcurrency = 16
	DefaultBulkRate        = 400 // items per second
)

// Bulk actions (api.md): what a batch does to each of its conversations.
const (
	BulkState  = "state"
	BulkAssign = "assign"
	BulkRead   = "read"
	BulkUnread = "unread"
	BulkLabels = "labels"
)

// Bulk types as the front doors receive them.
type (
	BulkAction   = store.BulkAction
	BulkItem     = store.BulkItem
	BulkItemPage = store.BulkItemPage
)

// Results and statuses of a batch (store's).
const (
	BulkApplied    = store.BulkApplied
	BulkRefused    = store.BulkRefused
	BulkSkipped    = store.BulkSkipped
	BulkFailedItem = store.BulkError
	BulkRunning    = store.BulkRunning
	BulkCancelling = store.BulkCancelling
)

// BulkRequest is a bulk action as asked: the conversations (IDs, or the inbox list's
// Filter in its query parameters) and the action with its fields.
type BulkRequest struct {
	IDs      []uuid.UUID
	Filter   url.Values
	ByFilter bool
	Action   string
	// State and Until: the state change (Until snoozes, with pending).
	State domain.State
	Until *time.Time
	// Assignee: the assign action's member; nil unassigns.
	Assignee *uuid.UUID
	// Labels: the labels action's set of labels.
	Labels []uuid.UUID
}

// bulkPermission is the permission of the single action a bulk action repeats.
func bulkPermission(action string) (domain.Permission, error) {
	switch action {
	case BulkState, BulkAssign, BulkLabels:
		return domain.ChangeConversations, nil
	case BulkRead, BulkUnread:
		return domain.MarkRead, nil
	}
	return domain.Permission{}, BadRequest("action: want one of state, assign, read, unread, labels, not %q", domain.Clip(action, 40))
}

// CanBulk reports whether the caller may start some bulk action: the pages show the row
// checkboxes then.
func (s *Service) CanBulk(c *Caller) bool { return s.Can(c, domain.ChangeConversations) }

func (s *Service) bulkMax() int {
	if s.BulkMax > 0 {
		return s.BulkMax
	}
	return MaxBulk
}

// StartBulk checks a bulk action as the single action would be checked, stores the batch
// with its conversations, and starts its workflow. The batch runs on; Bulk shows how far.
func (s *Service) StartBulk(ctx context.Context, c *Caller, req BulkRequest) (*BulkAction, error) {
	perm, err := bulkPermission(req.Action)
	if err != nil {
		return nil, err
	}
	if err := s.Authorize(c, perm); err != nil {
		return nil, err
	}
	params := map[string]any{}
	switch req.Action {
	case BulkState:
		if req.State == "" {
			return nil, BadRequest("state: required for the state action")
		}
		until, _, err := checkUntil(req.State, req.Until, time.Now())
		if err != nil {
			return nil, err
		}
		params["state"] = req.State
		if until != nil {
			params["until"] = until.Format(time.RFC3339Nano)
		}
	case BulkAssign:
		if req.Assignee != nil {
			if _, err := s.candidate(ctx, c, *req.Assignee); err != nil {
				return nil, err
			}
			params["assignee"] = req.Assignee.String()
		} else {
			params["assignee"] = nil
		}
	case BulkLabels:
		set, err := s.labelSet(ctx, c, req.Labels)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(set))
		for i, id := range set {
			ids[i] = id.String()
		}
		params["labels"] = ids
	}
	ids, err := s.bulkTargets(ctx, c, req)
	if err != nil {
		return nil, err
	}
	b := &store.BulkAction{WorkspaceID: c.WorkspaceID, CreatedBy: uuid.NullUUID{UUID: c.UserID, Valid: true},
		CreatedByName: c.Name, Action: req.Action, Params: params}
	if err := s.Store.CreateBulk(ctx, b, ids); err != nil {
		return nil, err
	}
	if err := s.Lifecycle.StartBulk(ctx, workflows.BulkInput{WorkspaceID: c.WorkspaceID, BulkID: b.ID}); err != nil {
		// Nothing will run it: say so in the batch, then answer the outage.
		if ferr := s.Store.SetBulkStatus(context.WithoutCancel(ctx), c.WorkspaceID, b.ID, store.BulkFailed,
			"the batch could not be started: the workflow service was unavailable"); ferr != nil {
			s.Logger.Warn("could not mark a bulk action failed", "bulk", b.ID, "error", ferr)
		}
		return nil, err
	}
	return s.Store.GetBulk(ctx, c.WorkspaceID, b.ID)
}

// bulkTargets resolves the conversations of a batch: the ids given (each once), or those
// the filter matches; more than the limit is a 422.
func (s *Service) bulkTargets(ctx context.Context, c *Caller, req BulkRequest) ([]uuid.UUID, error) {
	limit := s.bulkMax()
	if !req.ByFilter {
		if len(req.IDs) == 0 {
			return nil, BadRequest("ids: give at least one conversation id (or a filter)")
		}
		if len(req.IDs) > limit {
			return nil, Invalid("ids: a batch takes at most %d conversations, not %d; split it into smaller batches", limit, len(req.IDs))
		}
		seen := make(map[uuid.UUID]bool, len(req.IDs))
		ids := make([]uuid.UUID, 0, len(req.IDs))
		for _, id := range req.IDs {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		return ids, nil
	}
	q, err := ReadQuery(req.Filter, ConversationFilterParams...)
	if err != nil {
		return nil, prefixed("filter.", err)
	}
	f, err := q.ConversationFilter(c.UserID)
	if err != nil {
		return nil, prefixed("filter.", err)
	}
	ids, err := s.Store.ConversationIDs(ctx, c.WorkspaceID, f, limit+1)
	if err != nil {
		return nil, err
	}
	switch {
	case len(ids) > limit:
		return nil, Invalid("filter: matches more than %d conversations, the most a batch takes; narrow the filter (by state, assignee or created date) and run it in parts", limit)
	case len(ids) == 0:
		return nil, Invalid("filter: matches no conversations; there is nothing to do")
	}
	return ids, nil
}

// prefixed puts prefix before the message of a 400 (which starts with the input's name).
func prefixed(prefix string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Status == 400 {
		return BadRequest("%s%s", prefix, e.Message)
	}
	return err
}

// Bulk is a batch of the caller's workspace with its counts; another workspace's is a 404.
func (s *Service) Bulk(ctx context.Context, c *Caller, id uuid.UUID) (*BulkAction, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return nil, err
	}
	return s.Store.GetBulk(ctx, c.WorkspaceID, id)
}

// BulkItems is a page of a batch's per-conversation results, in the batch's order;
// notApplied keeps only those refused, skipped or failed.
func (s *Service) BulkItems(ctx context.Context, c *Caller, id uuid.UUID, notApplied bool, q Query) (BulkItemPage, error) {
	if _, err := s.Bulk(ctx, c, id); err != nil {
		return BulkItemPage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return BulkItemPage{}, err
	}
	return s.Store.ListBulkItems(ctx, id, notApplied, limit, cursor)
}

// CancelBulk stops a running batch after the items in flight; the rest are skipped. It
// needs the permission of the batch's action. A finished batch is left as it is.
func (s *Service) CancelBulk(ctx context.Context, c *Caller, id uuid.UUID) (*BulkAction, error) {
	b, err := s.Bulk(ctx, c, id)
	if err != nil {
		return nil, err
	}
	perm, err := bulkPermission(b.Action)
	if err != nil {
		return nil, err
	}
	if err := s.Authorize(c, perm); err != nil {
		return nil, err
	}
	if b.Finished() {
		return b, nil
	}
	if err := s.Store.SetBulkStatus(ctx, c.WorkspaceID, id, store.BulkCancelling, ""); err != nil {
		return nil, err
	}
	if err := s.Lifecycle.CancelBulk(ctx, id); err != nil {
		return nil, err
	}
	return s.Store.GetBulk(ctx, c.WorkspaceID, id)
}

// RecentBulks lists the workspace's latest batches (the inbox page shows the running ones).
func (s *Service) RecentBulks(ctx context.Context, c *Caller, n int) ([]BulkAction, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return nil, err
	}
	return s.Store.RecentBulks(ctx, c.WorkspaceID, n)
}

// bulkItemAttempts is how often an item whose change was not confirmed (the workflow
// service slow or away) is tried before it is recorded as failed.
const bulkItemAttempts = 3

// bulkOutcome is one item's result.
type bulkOutcome struct{ result, reason string }

// bulkOp applies the batch's action to one conversation, as the single action does.
type bulkOp func(ctx context.Context, t store.BulkTarget, updateID string) (bulkOutcome, error)

// RunBulk applies the items of a batch still to do, as the person who started it: at most
// BulkConcurrency at a time and BulkRate a second, recording the results every few hundred
// milliseconds (which announces the progress to the pages and heartbeats). Each item's
// Update carries an id made of the batch and the conversation, so an item re-sent after a
// crash is applied once. When ctx is cancelled, the items in flight finish and are recorded.
func (s *Service) RunBulk(ctx context.Context, workspaceID, bulkID uuid.UUID, heartbeat func(done int)) error {
	b, err := s.Store.GetBulk(ctx, workspaceID, bulkID)
	if err != nil {
		return err
	}
	if b.Finished() {
		return nil
	}
	todo, err := s.Store.BulkTodo(ctx, bulkID)
	if err != nil {
		return err
	}
	if len(todo) == 0 {
		return nil
	}
	op, refusal, err := s.bulkOperation(ctx, b, len(todo))
	if err != nil {
		return err
	}
	if refusal != "" {
		// The person may no longer do this: every item is refused, in words.
		results := make([]store.BulkResult, len(todo))
		for i, it := range todo {
			results[i] = store.BulkResult{Position: it.Position, Result: store.BulkRefused, Reason: refusal}
		}
		return s.Store.RecordBulkResults(ctx, workspaceID, bulkID, results)
	}
	ids := make([]uuid.UUID, len(todo))
	for i, it := range todo {
		ids[i] = it.ConversationID
	}
	targets, err := s.Store.BulkTargets(ctx, workspaceID, ids)
	if err != nil {
		return err
	}

	concurrency := s.BulkConcurrency
	if concurrency <= 0 {
		concurrency = DefaultBulkConcurrency
	}
	perSecond := s.BulkRate
	if perSecond <= 0 {
		perSecond = DefaultBulkRate
	}
	limiter := rate.NewLimiter(rate.Limit(perSecond), concurrency)
	done := b.Done()

	jobs := make(chan store.BulkItem)
	results := make(chan store.BulkResult, concurrency)
	var workers sync.WaitGroup
	for range concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for it := range jobs {
				r := store.BulkResult{Position: it.Position}
				t, ok := targets[it.ConversationID]
				if !ok {
					r.Result, r.Reason = store.BulkSkipped, "no such conversation in this workspace"
					results <- r
					continue
				}
				// An item once begun is finished, even when the batch is cancelled meanwhile.
				out := s.bulkItem(context.WithoutCancel(ctx), op, t, fmt.Sprintf("bulk/%s/%s", bulkID, it.ConversationID))
				r.Result, r.Reason = out.result, out.reason
				results <- r
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, it := range todo {
			if err := limiter.Wait(ctx); err != nil {
				return
			}
			select {
			case jobs <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { workers.Wait(); close(results) }()

	const flushEvery = 250 * time.Millisecond
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	var pending []store.BulkResult
	var recordErr error
	flush := func() {
		if len(pending) > 0 && recordErr == nil {
			// Recording outlives a cancellation: what was applied is said so.
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			recordErr = s.Store.RecordBulkResults(wctx, workspaceID, bulkID, pending)
			cancel()
			if recordErr == nil {
				done += len(pending)
			}
			pending = pending[:0]
		}
		heartbeat(done)
	}
	for open := true; open; {
		select {
		case r, ok := <-results:
			open = ok
			if ok {
				pending = append(pending, r)
			}
			if len(pending) >= 500 {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
	flush()
	if recordErr != nil {
		return recordErr // the activity is retried; items sent again are deduplicated
	}
	return ctx.Err()
}

// bulkItem applies one item, trying again an item whose change was not confirmed.
func (s *Service) bulkItem(ctx context.Context, op bulkOp, t store.BulkTarget, updateID string) bulkOutcome {
	var err error
	for attempt := range bulkItemAttempts {
		var out bulkOutcome
		out, err = op(ctx, t, updateID)
		if err == nil {
			return out
		}
		var e *Error
		switch {
		case errors.Is(err, store.ErrNotFound):
			return bulkOutcome{store.BulkSkipped, "no such conversation in this workspace"}
		case errors.As(err, &e) && e.Status != 503 && e.Status != 429:
			return bulkOutcome{store.BulkRefused, e.Message}
		}
		time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
	}
	s.Logger.Warn("bulk item failed", "update", updateID, "error", err)
	e, _ := Classify(updateError(err))
	return bulkOutcome{store.BulkError, "not applied: " + e.Message}
}

// bulkStartPace is the pace, in conversations a second, at which bulkStartDelay expects a
// batch to start untouched conversations' workflows (160 to 180/s on `inbox dev`, 80 to
// 95/s on the tests' in-process server, on the 2-core bench machine: BENCHMARKS.md), and
// minBulkStartDelay and maxBulkStartDelay bound the delay it gives their first tasks.
const (
	bulkStartPace     = 100
	minBulkStartDelay = time.Second
	maxBulkStartDelay = time.Minute
)

// bulkStartDelay is how long the first task of a workflow a batch of n items starts waits:
// about as long as the batch takes, so that the runs' first tasks (their summaries, their
// timers, their write-backs) follow the batch at its own pace instead of slowing it down.
// An Update sent meanwhile runs the task at once; a Query is refused until the task runs
// ("Workflow task is not scheduled yet"): only the Temporal UI and operators send those.
func bulkStartDelay(n int) time.Duration {
	return min(max(time.Duration(n)*time.Second/bulkStartPace, minBulkStartDelay), maxBulkStartDelay)
}

// bulkStart applies a batch's change of state to an untouched conversation. handled is
// false when the conversation has a workflow after all: the change then goes to it as an
// Update.
type bulkStart func(ctx context.Context, t store.BulkTarget, updateID string) (handled bool, err error)

// bulkStarter returns how a batch's change of state reaches a conversation nobody has
// touched, which has no workflow yet: its workflow is started with the change already made
// (workflows.StartInput: the history's first event holds it), and the change is written
// once the start has returned, as an Update's is once it has completed. A start costs the
// workflow service a fraction of an Update-with-Start, which waits for the run's first
// task; the first tasks wait delay. The run's write-back writes the change should this
// process die before it does. Two starters never both win: the first start of a workflow
// id decides the run's state, and a lazy start that comes later attaches to it. Nil when
// the workspace has an SLA policy: its clocks are the workflow's from the first message,
// and such conversations mostly have a workflow already.
func (s *Service) bulkStarter(ctx context.Context, workspaceID uuid.UUID, req workflows.TransitionRequest, delay time.Duration) (bulkStart, error) {
	setting, err := s.Store.SLASetting(ctx, workspaceID)
	if err != nil || setting.Policy.On() {
		return nil, err
	}
	archive, err := s.Store.AutoArchive(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	sla := activities.SLASetting(setting)
	return func(ctx context.Context, t store.BulkTarget, updateID string) (bool, error) {
		first := workflows.FirstInput(workspaceID, t.ID, sla, t.CreatedAt)
		first.AutoArchiveDays, first.AutoArchiveStamp = archive.Days, activities.AutoArchiveStamp(archive.ChangedAt)
		in, err := workflows.StartInput(first, updateID, req, time.Now())
		if err != nil {
			return true, InvalidTransition(err.Error())
		}
		ctx, cancel := context.WithTimeout(ctx, s.UpdateTimeout)
		defer cancel()
		leave, err := s.admission.enter(ctx, s.UpdateTimeout)
		if err != nil {
			return true, err
		}
		started, err := s.Lifecycle.StartChanged(ctx, in, delay)
		leave()
		switch {
		case err != nil:
			return true, err
		case started == nil:
			return false, nil
		}
		_, err = s.writeChange(ctx, *started)
		return true, err
	}, nil
}

// ignoreAccepted drops ErrAccepted: a change in the workflow's history is applied, and the
// read model follows.
func ignoreAccepted(err error) error {
	if errors.Is(err, ErrAccepted) {
		return nil
	}
	return err
}

// bulkOperation builds the batch's per-item operation, acting as the person who started
// it, with their role as it is now. refusal is set, in words, when they may no longer do it.
// todo is how many items the batch has still to do.
func (s *Service) bulkOperation(ctx context.Context, b *store.BulkAction, todo int) (op bulkOp, refusal string, err error) {
	c, err := s.Member(ctx, b.WorkspaceID, b.CreatedBy.UUID)
	if errors.Is(err, ErrNotFound) || !b.CreatedBy.Valid {
		return nil, "the person who started this batch is no longer a member of the workspace", nil
	}
	if err != nil {
		return nil, "", err
	}
	perm, err := bulkPermission(b.Action)
	if err != nil {
		return nil, "", err
	}
	if !s.Can(c, perm) {
		return nil, "the role of the person who started this batch no longer allows this change", nil
	}
	param := func(name string) string { v, _ := b.Params[name].(string); return v }
	switch b.Action {
	case BulkState:
		to := domain.State(param("state"))
		req := workflows.TransitionRequest{To: to, Actor: c.Actor()}
		if u := param("until"); u != "" {
			t, err := time.Parse(time.RFC3339Nano, u)
			if err != nil {
				return nil, "", fmt.Errorf("bulk %s: until: %w", b.ID, err)
			}
			req.Until = &t
		}
		already := domain.CheckTransition(to, to).Error()
		start, err := s.bulkStarter(ctx, b.WorkspaceID, req, bulkStartDelay(todo))
		if err != nil {
			return nil, "", err
		}
		return func(ctx context.Context, t store.BulkTarget, updateID string) (bulkOutcome, error) {
			var (
				handled bool
				err     error
			)
			if start != nil && t.Untouched {
				handled, err = start(ctx, t, updateID)
			}
			if !handled {
				err = s.send(ctx, b.WorkspaceID, t.ID, updateID, workflows.TransitionUpdate(req))
			}
			err = ignoreAccepted(err)
			var e *Error
			if errors.As(err, &e) && e.Code == "invalid_transition" && e.Message == already {
				if start != nil {
					// Already there, maybe by this very item: its start went out before a
					// crash and the batch resumed with it unrecorded. Then it is applied.
					if mine, err := s.Lifecycle.StartedFor(ctx, t.ID, updateID); err != nil || mine != nil {
						if err == nil {
							_, err = s.writeChange(ctx, *mine)
						}
						return bulkOutcome{result: store.BulkApplied}, ignoreAccepted(err)
					}
				}
				return bulkOutcome{store.BulkSkipped, e.Message}, nil
			}
			return bulkOutcome{result: store.BulkApplied}, err
		}, "", nil
	case BulkAssign:
		req := workflows.AssignRequest{Actor: c.Actor()}
		if a := param("assignee"); a != "" {
			id, err := uuid.Parse(a)
			if err != nil {
				return nil, "", fmt.Errorf("bulk %s: assignee: %w", b.ID, err)
			}
			cand, err := s.candidate(ctx, c, id)
			var e *Error
			if errors.As(err, &e) {
				return nil, e.Message, nil
			}
			if err != nil {
				return nil, "", err
			}
			req.Assignee = cand
		}
		return func(ctx context.Context, t store.BulkTarget, updateID string) (bulkOutcome, error) {
			if req.Assignee == nil && !t.AssigneeID.Valid {
				return bulkOutcome{store.BulkSkipped, "already unassigned"}, nil
			}
			if req.Assignee != nil && t.AssigneeID.Valid && t.AssigneeID.UUID == req.Assignee.UserID {
				return bulkOutcome{store.BulkSkipped, "already assigned to " + req.Assignee.Name}, nil
			}
			err := s.send(ctx, b.WorkspaceID, t.ID, updateID, workflows.AssignUpdate(req))
			return bulkOutcome{result: store.BulkApplied}, ignoreAccepted(err)
		}, "", nil
	case BulkRead, BulkUnread:
		read := b.Action == BulkRead
		return func(ctx context.Context, t store.BulkTarget, _ string) (bulkOutcome, error) {
			changed, err := s.Store.SetReadChanged(ctx, b.WorkspaceID, t.ID, read, c.Actor())
			if err == nil && !changed {
				return bulkOutcome{store.BulkSkipped, "already " + b.Action}, nil
			}
			return bulkOutcome{result: store.BulkApplied}, err
		}, "", nil
	case BulkLabels:
		raw, _ := b.Params["labels"].([]any)
		ids := make([]uuid.UUID, 0, len(raw))
		for _, v := range raw {
			s, _ := v.(string)
			id, err := uuid.Parse(s)
			if err != nil {
				return nil, "", fmt.Errorf("bulk %s: labels: %w", b.ID, err)
			}
			ids = append(ids, id)
		}
		return func(ctx context.Context, t store.BulkTarget, _ string) (bulkOutcome, error) {
			err := s.setLabels(ctx, c, t.ID, ids)
			if errors.Is(err, store.ErrNotFound) {
				return bulkOutcome{store.BulkRefused, "a label of this batch no longer exists"}, nil
			}
			return bulkOutcome{result: store.BulkApplied}, err
		}, "", nil
	}
	return nil, "", fmt.Errorf("bulk %s: unknown action %q", b.ID, b.Action)
}

// BulkCount is how many conversations the list's filters match, counted up to one past the
// most a batch takes: what "all N matching these filters" offers.
func (s *Service) BulkCount(ctx context.Context, c *Caller, q Query) (int, error) {
	if err := s.Authorize(c, domain.ReadConversations); err != nil {
		return 0, err
	}
	f, err := q.ConversationFilter(c.UserID)
	if err != nil {
		return 0, err
	}
	return s.Store.CountConversations(ctx, c.WorkspaceID, f, s.bulkMax()+1)
}
