package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/workflows"
)

// workflowKinds are the workflow types besides Conversation that the scenario mode records
// (-workflow), each with its own code versions: their files are named
// <file>-<prefix>-<scenario>.json, e.g. webhook-v1-gone.json, so that no name can clash with
// a Conversation history (<prefix>-<scenario>.json). Each scenario returns the id of the
// workflow to record once it has finished; a workflow that continued as new is recorded with
// every run (-run1, -run2, ...). workflows/replay_test.go lists the same names.
var workflowKinds = map[string]struct {
	file      string
	scenarios []otherScenario
}{
	workflows.WebhookDeliveryWorkflow: {"webhook", []otherScenario{
		{"delivered-after-retries", (*scenario).webhookDeliveredAfterRetries, (*scenario).deleteWebhook},
		{"gone", (*scenario).webhookGone, (*scenario).deleteWebhook},
	}},
	workflows.AutoArchiveFanOutWorkflow: {"fanout", []otherScenario{
		{"signals", (*scenario).fanOutSignals, (*scenario).autoArchiveOff},
	}},
	workflows.SLAFanOutWorkflow: {"sla-fanout", []otherScenario{
		{"signals", (*scenario).slaFanOutSignals, (*scenario).slaOff},
	}},
}

type otherScenario struct {
	name    string
	run     func(*scenario, context.Context) (workflowID string, err error)
	cleanup func(*scenario, context.Context) error
}

func (s *scenario) runOthers(ctx context.Context, kind, only string) error {
	k, ok := workflowKinds[kind]
	if !ok {
		return fmt.Errorf("-workflow %q: want %s, %s, %s or %s", kind, workflows.ConversationWorkflow,
			workflows.WebhookDeliveryWorkflow, workflows.AutoArchiveFanOutWorkflow, workflows.SLAFanOutWorkflow)
	}
	for _, sc := range k.scenarios {
		if only != "" && !slices.Contains(strings.Split(only, ","), sc.name) {
			continue
		}
		start := time.Now()
		workflowID, err := sc.run(s, ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		latest, err := fetch(ctx, s.temporal, workflowID, "")
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		continued := latest.Events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId() != ""
		out := filepath.Join(s.outDir, k.file+"-"+s.prefix+"-"+sc.name+".json")
		if err := fetchTo(ctx, s.temporal, workflowID, "", continued, out); err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		if sc.cleanup != nil {
			if err := sc.cleanup(s, ctx); err != nil {
				return fmt.Errorf("%s cleanup: %w", sc.name, err)
			}
		}
		fmt.Printf("  %s: %s in %s\n", sc.name, workflowID, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// The WebhookDelivery scenarios. Each adds a webhook of conversation.created to a path of
// the tool's receiver, ingests a conversation and records its one delivery's workflow.

func (s *scenario) webhookDeliveredAfterRetries(ctx context.Context) (string, error) {
	// 503 twice (retryable: the retry policy's back-off), then 200: the third attempt completes.
	return s.webhookDelivery(ctx, "delivered-after-retries", domain.DeliverySucceeded,
		http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusOK)
}

func (s *scenario) webhookGone(ctx context.Context) (string, error) {
	// 410 at once: non-retryable, the endpoint is disabled, FailWebhookDelivery records it.
	return s.webhookDelivery(ctx, "gone", domain.DeliveryFailed, http.StatusGone)
}

func (s *scenario) webhookDelivery(ctx context.Context, name string, want domain.DeliveryStatus, statuses ...int) (string, error) {
	path := name + "-" + uuid.NewString()[:8]
	b, err := s.call(ctx, http.MethodPost, s.wsPath("/webhooks"), map[string]any{
		"url": s.receiver.endpoint(path, statuses...), "events": []string{string(domain.EventConversationCreated)},
	}, http.StatusCreated)
	if err != nil {
		return "", err
	}
	var created struct {
		Webhook struct {
			ID uuid.UUID `json:"id"`
		} `json:"webhook"`
	}
	if err := json.Unmarshal(b, &created); err != nil {
		return "", err
	}
	s.webhook = created.Webhook.ID
	if _, err := s.ingest(ctx, "replay-webhook-"+path); err != nil {
		return "", err
	}
	var delivery struct {
		ID        uuid.UUID             `json:"id"`
		Status    domain.DeliveryStatus `json:"status"`
		Attempts  int                   `json:"attempts"`
		LastError *string               `json:"last_error"`
	}
	hooks := s.wsPath("/webhooks/" + s.webhook.String())
	err = poll(ctx, "the delivery of "+path, func() (bool, error) {
		b, err := s.call(ctx, http.MethodGet, hooks+"/deliveries", nil, http.StatusOK)
		if err != nil {
			return false, err
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(b, &page); err != nil || len(page.Items) == 0 {
			return false, err
		}
		return true, json.Unmarshal(page.Items[0], &delivery)
	})
	if err != nil {
		return "", err
	}
	workflowID := workflows.WebhookDeliveryID(delivery.ID)
	err = poll(ctx, workflowID+" to finish", func() (bool, error) {
		d, err := s.temporal.DescribeWorkflowExecution(ctx, workflowID, "")
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return false, nil // not dispatched yet
		}
		if err != nil {
			return false, err
		}
		return d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
	})
	if err != nil {
		return "", fmt.Errorf("%w (%d requests received; `inbox dev` needs INBOX_WEBHOOK_ALLOW_PRIVATE=true "+
			"INBOX_WEBHOOK_RETRY_INITIAL=1s INBOX_WEBHOOK_RETRY_MAX=2s)", err, s.receiver.received(path))
	}
	if b, err = s.call(ctx, http.MethodGet, hooks+"/deliveries/"+delivery.ID.String(), nil, http.StatusOK); err != nil {
		return "", err
	}
	var got struct {
		Delivery json.RawMessage `json:"delivery"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		return "", err
	}
	if err := json.Unmarshal(got.Delivery, &delivery); err != nil {
		return "", err
	}
	if delivery.Status != want || delivery.Attempts != len(statuses) {
		return "", fmt.Errorf("delivery %s is %s after %d attempts, want %s after %d", delivery.ID, delivery.Status,
			delivery.Attempts, want, len(statuses))
	}
	return workflowID, s.checkEnded(ctx, workflowID, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
}

// deleteWebhook removes the scenario's webhook, so that later ingests send it nothing and
// re-recordings stay under the workspace's webhook limit.
func (s *scenario) deleteWebhook(ctx context.Context) error {
	_, err := s.call(ctx, http.MethodDelete, s.wsPath("/webhooks/"+s.webhook.String()), nil, http.StatusNoContent)
	return err
}

// The AutoArchiveFanOut scenario.

func (s *scenario) fanOutSignals(ctx context.Context) (string, error) {
	// Three closed conversations, one of whose workflows has been terminated; then turning
	// auto-archive on signals every closed conversation of the workspace: the Signals of
	// the running ones are delivered, the terminated one's fails (logged, skipped).
	if err := s.setAutoArchive(ctx, 0); err != nil {
		return "", err
	}
	var terminated string
	for i := range 3 {
		conv, err := s.ingest(ctx, "replay-fanout-"+uuid.NewString()[:8])
		if err != nil {
			return "", err
		}
		if err := s.setState(ctx, conv, domain.Closed); err != nil {
			return "", err
		}
		if err := s.waitSummary(ctx, conv, domain.SummaryReady); err != nil {
			return "", err
		}
		if err := s.waitQuiet(ctx, "conversation/"+conv); err != nil {
			return "", err
		}
		if i == 0 {
			terminated = "conversation/" + conv
		}
	}
	if err := s.temporal.TerminateWorkflow(ctx, terminated, "", "replay recording: a closed conversation with no running workflow"); err != nil {
		return "", err
	}
	if err := s.setAutoArchive(ctx, 1); err != nil {
		return "", err
	}
	workflowID := workflows.FanOutWorkflowID(s.workspace)
	return workflowID, s.checkEnded(ctx, workflowID, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
}

// The SLAFanOut scenario.

func (s *scenario) slaFanOutSignals(ctx context.Context) (string, error) {
	// Two open conversations, one of which somebody changed (snoozed and woken, so it has a
	// workflow whatever the version); then setting a policy tells both. Since
	// sla-fanout-starts-untouched the untouched one's workflow is started first (recorded
	// with PREFIX=v2); an inbox dev from before it started every workflow at the first
	// message and only Signals (PREFIX=v1). The demo workspace has no policy yet.
	for i := range 2 {
		conv, err := s.ingest(ctx, "replay-sla-fanout-"+uuid.NewString()[:8])
		if err != nil {
			return "", err
		}
		if i == 0 {
			if err := s.setState(ctx, conv, domain.Pending); err != nil {
				return "", err
			}
			if err := s.setState(ctx, conv, domain.Open); err != nil {
				return "", err
			}
		}
	}
	if err := s.setSLA(ctx, "PT1H"); err != nil {
		return "", err
	}
	workflowID := workflows.SLAFanOutWorkflowID(s.workspace)
	return workflowID, s.checkEnded(ctx, workflowID, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
}

// checkEnded checks that the workflow's latest run has ended with want.
func (s *scenario) checkEnded(ctx context.Context, workflowID string, want enumspb.WorkflowExecutionStatus) error {
	d, err := s.temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return err
	}
	if got := d.GetWorkflowExecutionInfo().GetStatus(); got != want {
		return fmt.Errorf("%s ended %s, want %s", workflowID, got, want)
	}
	return nil
}

func (s *scenario) wsPath(path string) string {
	return fmt.Sprintf("/api/v1/workspaces/%s%s", s.workspace, path)
}
