package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/workflows"
)

// The queue of changes: a lifecycle change that a burst leaves no time to be sent within its
// request is written to Postgres (queued_changes) and answered 202 "queued"; the worker's
// queue runner (RunQueue) sends it under the same Update id and writes it, as the request
// would have. A change is queued when:
//   - it waited a third of its time in the admission line (admission.go) without a slot;
//   - it was sent but its workflow did not confirm it in time, while Temporal serves (it
//     may still have been accepted: sent again under its id, the workflow applies it once);
//   - earlier changes of its conversation wait in the queue: it waits behind them, so a
//     conversation's changes are applied in the order they were asked for.
//
// Only a change that could not be written to the queue either (the database is down) is
// answered 429 or 503. A queued change the workflow then refuses (someone moved the
// conversation meanwhile) is dropped and logged; the same Idempotency-Key sent again answers
// with the conversation as it is.

// ErrQueued answers a change written to the queue: a 202, with the conversation as it is now.
var ErrQueued = &Error{Status: http.StatusAccepted, Code: "queued",
	Message: "many changes are being applied at once: this one is queued and will be applied in order within moments; read the conversation to see it"}

// IsAccepted reports whether err is a 202: the change will show in a moment (ErrAccepted,
// ErrQueued).
func IsAccepted(err error) bool { return errors.Is(err, ErrAccepted) || errors.Is(err, ErrQueued) }

// queuePatience: a change waits at most UpdateTimeout/queuePatience in the admission line
// before it is queued, which leaves the Updates that do get a slot most of their time.
const queuePatience = 3

// errBehindQueued: earlier changes of the conversation wait in the queue.
var errBehindQueued = errors.New("earlier changes of this conversation are queued")

// queueable reports whether a change that failed so may wait in the queue instead.
func queueable(err error) bool {
	return errors.Is(err, errBehindQueued) || errors.Is(err, errBusy) || errors.Is(err, ErrNotConfirmed)
}

// temporalServes tells a slow Temporal (a burst) from one that is down (an outage, answered
// 503): a change its workflow did not confirm in time is queued only if Temporal's history
// service answers now, within a couple of seconds.
func (s *Service) temporalServes(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.historyServes(ctx) == nil
}

// enqueue writes a change to the queue: ErrQueued, or why (the error it was queued for) when
// it could not be written.
func (s *Service) enqueue(ctx context.Context, workspaceID, conversationID uuid.UUID, updateID string, k *store.IdempotencyKey, u workflows.Update, why error) error {
	arg, err := json.Marshal(u.Arg)
	if err != nil {
		return err
	}
	q := store.QueuedChange{WorkspaceID: workspaceID, ConversationID: conversationID,
		UpdateID: updateID, UpdateName: u.Name, UpdateArg: arg}
	if k != nil {
		q.UserID = uuid.NullUUID{UUID: k.UserID, Valid: true}
		q.IdempotencyKey = sql.NullString{String: k.Key, Valid: true}
	}
	if err := s.Store.QueueChange(ctx, q); err != nil {
		s.Logger.Warn("change not queued", "conversation_id", conversationID, "update_id", updateID, "error", err)
		if errors.Is(why, errBehindQueued) {
			return err
		}
		return why
	}
	return ErrQueued
}

// Queue runner settings.
const (
	// queueBatch changes are sent at once, at most.
	queueBatch = 32
	// queuePoll: how often an idle runner looks for queued changes.
	queuePoll = 200 * time.Millisecond
	// queueBackoffMax bounds the wait before a change that failed is sent again.
	queueBackoffMax = 30 * time.Second
)

// RunQueue sends the queued changes until ctx ends; the worker process runs it. Several
// runners (replicas) share the queue: each leases what it sends, and a lease that a dead
// runner left runs out after twice the Update's time.
func (s *Service) RunQueue(ctx context.Context) {
	ticker := time.NewTicker(queuePoll)
	defer ticker.Stop()
	for {
		claimed, err := s.Store.ClaimQueuedChanges(ctx, queueBatch, 2*s.UpdateTimeout)
		if err != nil && ctx.Err() == nil {
			s.Logger.Warn("could not read the queue of changes", "error", err)
		}
		var wg sync.WaitGroup
		for _, q := range claimed {
			wg.Go(func() { s.sendQueued(ctx, q) })
		}
		wg.Wait()
		if len(claimed) == queueBatch && ctx.Err() == nil {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// sendQueued sends one queued change and drops it once its workflow has answered; after a
// failure it is tried again later.
func (s *Service) sendQueued(ctx context.Context, q store.QueuedChange) {
	u, err := workflows.DecodeUpdate(q.UpdateName, q.UpdateArg)
	if err != nil {
		s.Logger.Error("queued change cannot be read; dropped", "id", q.ID, "update_id", q.UpdateID, "error", err)
		s.dropQueued(q)
		return
	}
	err = s.send(ctx, q.WorkspaceID, q.ConversationID, q.UpdateID, u)
	var refused *Error
	switch {
	case err == nil || errors.Is(err, ErrAccepted):
		if q.IdempotencyKey.Valid {
			s.completeKey(ctx, &store.IdempotencyKey{WorkspaceID: q.WorkspaceID, UserID: q.UserID.UUID,
				ConversationID: q.ConversationID, Key: q.IdempotencyKey.String})
		}
		s.dropQueued(q)
	case errors.Is(err, store.ErrNotFound):
		s.dropQueued(q) // the conversation is gone
	case errors.As(err, &refused) && refused.Status >= 400 && refused.Status < 500 && refused.Status != http.StatusTooManyRequests:
		s.Logger.Info("queued change refused by its workflow; dropped", "conversation_id", q.ConversationID,
			"update_id", q.UpdateID, "reason", refused.Message)
		s.dropQueued(q)
	case ctx.Err() != nil:
		// Stopping: give the change back at once for the next runner (sent again under its
		// id, it is applied once), rather than after its lease.
		s.postponeQueued(q, 0, "the runner stopped")
	default:
		wait := min(time.Duration(1<<min(q.Attempts, 5))*time.Second, queueBackoffMax)
		s.Logger.Warn("queued change not sent; trying again", "conversation_id", q.ConversationID,
			"update_id", q.UpdateID, "attempts", q.Attempts, "after", wait, "error", err)
		s.postponeQueued(q, wait, err.Error())
	}
}

// postponeQueued leaves a queued change for another try after wait. The runner's own
// context may be ending (it stops): the row's bookkeeping gets a few seconds of its own.
func (s *Service) postponeQueued(q store.QueuedChange, wait time.Duration, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Store.PostponeQueuedChange(ctx, q.ID, wait, why); err != nil {
		s.Logger.Warn("could not postpone a queued change; its lease runs out instead", "id", q.ID, "error", err)
	}
}

// dropQueued deletes a change its workflow has answered.
func (s *Service) dropQueued(q store.QueuedChange) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Store.DropQueuedChange(ctx, q.ID); err != nil {
		// Left for its lease to run out: sent again under its id, it is applied once.
		s.Logger.Warn("could not drop a sent change from the queue", "id", q.ID, "error", err)
	}
}
