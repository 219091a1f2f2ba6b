// Package activities holds the conversation workflow's side effects: writing accepted
// lifecycle changes to Postgres and asking the model for a summary. Each is idempotent, so
// Temporal may retry it after a crash without writing twice.
package activities

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/faultpoint"
	"github.com/bestai/inbox/secretbox"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/summarizer"
	"github.com/bestai/inbox/workflows"
)

// SummaryMessages is how many of the latest messages a summary reads.
const SummaryMessages = 50

// Key kinds recorded with a summary: which key paid for it, never the key itself.
const (
	KeyBYOK     = "byok"
	KeyPlatform = "platform"
)

// Activities holds what the activities need; the worker registers its methods.
type Activities struct {
	Store       *store.Store
	Summarizer  *summarizer.Summarizer
	Secrets     *secretbox.Box
	PlatformKey string // OPENAI_API_KEY; "" when not configured
	Model       string
	// WebhookClient sends webhooks (webhooks.NewClient); nil refuses private addresses.
	WebhookClient *http.Client
	// Bulk applies bulk actions' items (the application layer); nil refuses them.
	Bulk BulkRunner
}

// ApplyLifecycleChange writes one accepted change and its audit rows, at most once. For a
// change to Closed it answers the workspace's auto-archive setting, which the workflow arms
// its timer with.
func (a *Activities) ApplyLifecycleChange(ctx context.Context, change domain.LifecycleChange) (workflows.ApplyResult, error) {
	return a.applied(ctx, a.Store.ApplyLifecycleChange(ctx, change), change)
}

// ApplyLifecycleChanges is the workflow's write-back: it writes changes whose Updates have
// completed, in order, each at most once and never over a newer one (the caller of the
// Update has usually written them already). For a change to Closed among them it answers
// the workspace's auto-archive setting.
func (a *Activities) ApplyLifecycleChanges(ctx context.Context, changes []domain.LifecycleChange) (workflows.ApplyResult, error) {
	faultpoint.Hold(ctx, faultpoint.WriteBack)
	return a.applied(ctx, a.Store.ApplyLifecycleChanges(ctx, changes), changes...)
}

// applied is the answer to a write of changes that ended with err: a conversation that no
// longer exists is final, not retried; a change to Closed among them answers the
// workspace's auto-archive setting.
func (a *Activities) applied(ctx context.Context, err error, changes ...domain.LifecycleChange) (workflows.ApplyResult, error) {
	var result workflows.ApplyResult
	if errors.Is(err, store.ErrNotFound) {
		return result, temporal.NewNonRetryableApplicationError("the conversation no longer exists", "not_found", err)
	}
	closes := slices.ContainsFunc(changes, func(ch domain.LifecycleChange) bool { return ch.ToState == domain.Closed })
	if err != nil || !closes {
		return result, err
	}
	setting, err := a.Store.AutoArchive(ctx, changes[0].WorkspaceID)
	if err != nil {
		return result, err
	}
	result.AutoArchive = &workflows.AutoArchiveSetting{Days: setting.Days, Stamp: AutoArchiveStamp(setting.ChangedAt)}
	return result, nil
}

// AutoArchiveStamp orders auto-archive settings: Unix microseconds of the change, 0 if never.
func AutoArchiveStamp(changedAt time.Time) int64 {
	if changedAt.IsZero() {
		return 0
	}
	return changedAt.UnixMicro()
}

// ClosedConversationsPage lists one page of a workspace's closed conversations, for the
// auto-archive fan-out.
func (a *Activities) ClosedConversationsPage(ctx context.Context, in workflows.ClosedPageInput) ([]uuid.UUID, error) {
	return a.Store.ClosedConversationIDs(ctx, in.WorkspaceID, in.AfterID, in.Limit)
}

// RecordSummaryResult stores a generation's final outcome; a stale one is dropped quietly.
func (a *Activities) RecordSummaryResult(ctx context.Context, result domain.SummaryResult) error {
	err := a.Store.RecordSummaryResult(ctx, result)
	if errors.Is(err, store.ErrStaleSummary) {
		return nil
	}
	return err
}

// Summarize makes one attempt at a generation's summary and stores it when it is ready.
// Retries are Temporal's: a failure is returned as retryable (with the server's Retry-After
// as the next delay) or not (no key, key rejected, quota exhausted).
func (a *Activities) Summarize(ctx context.Context, in workflows.SummarizeInput) (domain.SummaryStatus, error) {
	attempt := int(activity.GetInfo(ctx).Attempt)
	if in.Change != nil {
		// The change that started this generation may not be written yet; it is now, so
		// the row holds the generation this attempt is for.
		if err := a.Store.ApplyLifecycleChange(ctx, *in.Change); err != nil {
			return "", err
		}
	}
	err := a.Store.RecordSummaryAttempt(ctx, in.ConversationID, in.Generation, attempt)
	if errors.Is(err, store.ErrStaleSummary) {
		// A newer generation started, or this one was already recorded by an earlier run.
		return a.currentStatus(ctx, in)
	}
	if err != nil {
		return "", err
	}
	key, kind, err := a.keyFor(ctx, in.WorkspaceID)
	if err != nil {
		return "", err
	}
	if key == "" {
		return "", temporal.NewNonRetryableApplicationError(
			"no OpenAI key configured: add one in the workspace settings (or set OPENAI_API_KEY), then retry the summary",
			summarizer.KindNoKey, nil)
	}
	msgs, err := a.Store.LastMessages(ctx, in.ConversationID, SummaryMessages)
	if err != nil {
		return "", err
	}
	transcript := make([]summarizer.Message, len(msgs))
	for i, m := range msgs {
		transcript[i] = summarizer.Message{Role: string(m.Role), Text: m.Text}
	}
	stopHeartbeat := heartbeat(ctx, 2*time.Second)
	text, err := a.Summarizer.Summarize(ctx, key, transcript)
	stopHeartbeat()
	if err != nil {
		return "", temporalError(err)
	}
	err = a.Store.RecordSummaryResult(ctx, domain.SummaryResult{
		WorkspaceID: in.WorkspaceID, ConversationID: in.ConversationID, Generation: in.Generation,
		Status: domain.SummaryReady, Text: text, Model: a.Model, KeyKind: kind, At: time.Now().UTC(),
	})
	if errors.Is(err, store.ErrStaleSummary) {
		return a.currentStatus(ctx, in)
	}
	if err != nil {
		return "", err
	}
	return domain.SummaryReady, nil
}

func (a *Activities) currentStatus(ctx context.Context, in workflows.SummarizeInput) (domain.SummaryStatus, error) {
	c, err := a.Store.GetConversation(ctx, in.WorkspaceID, in.ConversationID)
	if err != nil {
		return "", err
	}
	return c.SummaryStatus, nil
}

// keyFor picks the workspace's BYOK key when configured, else the platform key.
func (a *Activities) keyFor(ctx context.Context, workspaceID uuid.UUID) (key, kind string, err error) {
	sealed, _, err := a.Store.OpenAIKey(ctx, workspaceID)
	if err != nil {
		return "", "", err
	}
	if sealed != nil {
		if a.Secrets == nil {
			return "", "", temporal.NewNonRetryableApplicationError("the workspace's OpenAI key cannot be decrypted on this worker", "no_key", nil)
		}
		plain, err := a.Secrets.Open(sealed, workspaceID[:])
		if err != nil {
			return "", "", temporal.NewNonRetryableApplicationError(
				"the workspace's OpenAI key cannot be decrypted (was INBOX_SECRET_KEY changed?); set the key again", "no_key", nil)
		}
		return string(plain), KeyBYOK, nil
	}
	return a.PlatformKey, KeyPlatform, nil
}

// heartbeat tells Temporal the attempt is alive while the model call runs, so a crashed
// worker's attempt is retried after the heartbeat timeout, not the whole attempt timeout,
// and a superseded attempt learns it is cancelled.
func heartbeat(ctx context.Context, every time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// temporalError turns a summarizer failure into Temporal's retry vocabulary.
func temporalError(err error) error {
	var se *summarizer.Error
	if !errors.As(err, &se) {
		return err
	}
	if !se.Retryable {
		return temporal.NewNonRetryableApplicationError(se.Message, se.Kind, nil)
	}
	return temporal.NewApplicationErrorWithOptions(se.Message, se.Kind, temporal.ApplicationErrorOptions{
		NextRetryDelay: se.RetryAfter, // 0 means the retry policy's own back-off
	})
}

// LoadSLASetting reads the workspace's SLA policy and business hours, for a conversation's
// workflow starting its clocks.
func (a *Activities) LoadSLASetting(ctx context.Context, workspaceID uuid.UUID) (workflows.SLASetting, error) {
	s, err := a.Store.SLASetting(ctx, workspaceID)
	if err != nil {
		return workflows.SLASetting{}, err
	}
	return SLASetting(s), nil
}

// SLASetting is the store's setting as the workflow carries it.
func SLASetting(s store.SLASetting) workflows.SLASetting {
	return workflows.SLASetting{FirstResponse: s.Policy.FirstResponse, Resolution: s.Policy.Resolution, Hours: s.Hours, Stamp: s.Stamp}
}

// WriteSLAClocks writes a conversation's clocks, and a breach once.
func (a *Activities) WriteSLAClocks(ctx context.Context, w domain.SLAWrite) error {
	err := a.Store.WriteSLA(ctx, w)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("the conversation no longer exists", "not_found", err)
	}
	return err
}

// StartUntouchedConversations starts the workflows of those conversations of in.IDs that
// nobody has changed yet, so the SLA fan-out's policy has clocks to run. A conversation
// whose workflow has started meanwhile keeps it (the start attaches), and its run id is
// recorded once.
func (a *Activities) StartUntouchedConversations(ctx context.Context, in workflows.StartUntouchedInput) error {
	untouched, err := a.Store.UntouchedConversations(ctx, in.WorkspaceID, in.IDs)
	if err != nil {
		return err
	}
	lifecycle := workflows.Lifecycle{Client: activity.GetClient(ctx)}
	for _, c := range untouched {
		runID, err := lifecycle.Start(ctx, workflows.FirstInput(in.WorkspaceID, c.ID, in.Setting, c.CreatedAt))
		if err != nil {
			return err
		}
		if err := a.Store.RecordWorkflowRun(ctx, c.ID, runID); err != nil {
			return err
		}
	}
	return nil
}

// LiveConversationsPage lists one page of a workspace's open and pending conversations,
// for the SLA fan-out.
func (a *Activities) LiveConversationsPage(ctx context.Context, in workflows.ClosedPageInput) ([]uuid.UUID, error) {
	return a.Store.LiveConversationIDs(ctx, in.WorkspaceID, in.AfterID, in.Limit)
}
