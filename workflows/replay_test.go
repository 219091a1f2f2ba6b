package workflows_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/bestai/inbox/workflows"
)

// holds is what a recorded history must hold so that a re-recording still shows what the
// file is for: events of these types, Signals of these names, GetVersion markers of these
// change ids (the code version it was recorded with took that branch), activities of these
// types scheduled, and an activity started at attempt minAttempt or later.
type holds struct {
	events     []enumspb.EventType
	signals    []string
	changes    []string
	activities []string
	minAttempt int32
}

// scenarios are the histories recorded from real runs of `inbox dev` by
// `make record-history` (internal/tools/histories) with every workflow code version.
var scenarios = map[string]holds{
	"ingest":                 {events: []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED}},
	"transitions":            {events: []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED}},
	"assign":                 {events: []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED}},
	"retry-summary":          {events: []enumspb.EventType{enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED}},
	"summary-failed-retried": {events: []enumspb.EventType{enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED}},
	"signal":                 {events: []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED}},
	"continue-as-new-run1":   {events: []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW}},
	"continue-as-new-run2":   {events: []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED}},
	"superseded":             {events: []enumspb.EventType{enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED}},
}

// timerScenarios exist since v3 (GetVersion "timers"): snooze and auto-archive.
var timerScenarios = map[string]holds{
	// Snoozed a few seconds; the timer fired and woke it.
	"snooze": {events: []enumspb.EventType{enumspb.EVENT_TYPE_TIMER_STARTED, enumspb.EVENT_TYPE_TIMER_FIRED}},
	// Snoozed far ahead; the visitor wrote, the timer was cancelled.
	"snooze-woken-by-message": {
		events:  []enumspb.EventType{enumspb.EVENT_TYPE_TIMER_STARTED, enumspb.EVENT_TYPE_TIMER_CANCELED},
		signals: []string{workflows.SignalVisitorMessage},
	},
	// Closed with auto-archive on: the archive timer is started (and still pending at the end).
	"auto-archive": {events: []enumspb.EventType{enumspb.EVENT_TYPE_TIMER_STARTED}},
	// Closed with auto-archive off, then the setting turned on: the fan-out's Signal arms it.
	"auto-archive-setting-change": {
		events:  []enumspb.EventType{enumspb.EVENT_TYPE_TIMER_STARTED},
		signals: []string{workflows.SignalAutoArchive},
	},
}

// slaScenarios exist since v4 (GetVersion "sla"), recorded alone by
// `make record-history SCENARIOS=sla PREFIX=v4`: the setting loaded at the start (off), a
// one-minute first-response SLA Signalled by the fan-out, its timer fired and the breach
// written.
var slaScenarios = map[string]holds{
	"sla": {
		events:     []enumspb.EventType{enumspb.EVENT_TYPE_TIMER_STARTED, enumspb.EVENT_TYPE_TIMER_FIRED},
		signals:    []string{workflows.SignalSLA},
		changes:    []string{"sla"},
		activities: []string{workflows.ActivityLoadSLA, workflows.ActivityWriteSLA},
	},
}

// versions are the workflow code versions and the scenarios recorded with each: v1 wrote
// changes with a local activity, v2 with a regular one (GetVersion "durable-writes"), v3
// added the timers (GetVersion "timers"; its histories of a transition hold that marker), v4
// the SLA clocks (GetVersion "sla"), v5 the skipped search-attribute upserts (GetVersion
// "quiet-search-attributes"), v6 the write after the Update completes (GetVersion
// "write-after-completed"), v7 an Update's search attributes upserted with the write-back
// (GetVersion "attributes-with-write-back"), v8 a run started with its first change made by
// a batch (StartInput; no GetVersion: only such a start's input holds a change without a
// run id, so older histories never take the new code).
var versions = map[string]map[string]holds{
	"v1": scenarios,
	"v2": scenarios,
	"v3": func() map[string]holds {
		m := map[string]holds{}
		for name, h := range scenarios {
			if name != "ingest" && name != "assign" { // no transition: the timers' version is never asked
				h.changes = []string{"timers"}
			}
			m[name] = h
		}
		for name, h := range timerScenarios {
			h.changes = []string{"timers"}
			m[name] = h
		}
		return m
	}(),
	"v4": slaScenarios,
	"v5": quietScenarios,
	"v6": writeBackScenarios,
	"v7": attributesScenarios,
	"v8": startScenarios,
}

// startScenarios exist since v8, recorded by `make record-history SCENARIOS=bulk-start,signal
// PREFIX=v8`: bulk-start is a bulk close of an untouched conversation, whose workflow starts
// closed with the close held for its write-back (its first task after the start's delay runs
// the summary), then archived by an Update; signal is the operators' Signals, recorded again
// since lazy start (its conversation's first change starts the workflow).
var startScenarios = map[string]holds{
	"bulk-start": {
		events:     []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, enumspb.EVENT_TYPE_TIMER_FIRED},
		activities: []string{workflows.ActivitySummarize},
	},
	"signal": scenarios["signal"],
}

// attributesScenarios exist since v7 (GetVersion "attributes-with-write-back"), recorded by
// `make record-history SCENARIOS=transitions,assign,retry-summary,continue-as-new PREFIX=v7`:
// an Update's change upserts no search attribute in its own task; the write-back's task (or
// the next upsert of a summary's status) does, and run1 upserts before it continues as new.
var attributesScenarios = func() map[string]holds {
	m := map[string]holds{}
	for _, name := range []string{"transitions", "assign", "retry-summary", "continue-as-new-run1", "continue-as-new-run2"} {
		m[name] = holds{
			events:  []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES},
			changes: []string{"attributes-with-write-back"},
		}
	}
	return m
}()

// writeBackScenarios exist since v6 (GetVersion "write-after-completed"), recorded by
// `make record-history SCENARIOS=transitions,assign,retry-summary,signal,continue-as-new,snooze,snooze-woken-by-message,auto-archive PREFIX=v6`:
// each Update completed in the task that accepted it, then the write-back's timer fired and
// its local activity (a marker) wrote the changes. The continue-as-new pair hands the
// changes not yet written back to the next run, whose write-back writes them.
var writeBackScenarios = func() map[string]holds {
	m := map[string]holds{}
	for _, name := range []string{"transitions", "assign", "retry-summary", "signal", "continue-as-new-run1",
		"continue-as-new-run2", "snooze", "snooze-woken-by-message", "auto-archive"} {
		m[name] = holds{
			events:  []enumspb.EventType{enumspb.EVENT_TYPE_TIMER_FIRED, enumspb.EVENT_TYPE_MARKER_RECORDED},
			changes: []string{"write-after-completed"},
		}
	}
	return m
}()

// quietScenarios exist since v5 (GetVersion "quiet-search-attributes"): recorded from a
// real (in-process) Temporal server through the API of internal/testenv (a conversation
// started with every search attribute set, moved to pending, then closed, its summary
// ready). The first workflow task holds that version's marker and no upsert of its own.
var quietScenarios = map[string]holds{
	"transitions": {
		events:     []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED},
		changes:    []string{"quiet-search-attributes"},
		activities: []string{workflows.ActivityApplyChange},
	},
}

// webhookScenarios are the WebhookDelivery workflow's histories, webhook-v1-*: recorded by
// `make record-history SCENARIOS=all WORKFLOW=WebhookDelivery PREFIX=v1`.
var webhookScenarios = map[string]holds{
	// The receiver answered 503 twice, then 200: the activity's third attempt completed.
	"delivered-after-retries": {
		events:     []enumspb.EventType{enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED},
		activities: []string{workflows.ActivityDeliverWebhook},
		minAttempt: 3,
	},
	// The receiver answered 410 (non-retryable): the failure is recorded by FailWebhookDelivery.
	"gone": {
		events:     []enumspb.EventType{enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED},
		activities: []string{workflows.ActivityDeliverWebhook, workflows.ActivityFailWebhookDelivery},
	},
}

// fanOutScenarios are the AutoArchiveFanOut workflow's histories, fanout-v1-*: recorded by
// `make record-history SCENARIOS=all WORKFLOW=AutoArchiveFanOut PREFIX=v1`.
var fanOutScenarios = map[string]holds{
	// One page of closed conversations (each recording adds three, terminating the first's
	// workflow): Signals delivered, those to a terminated workflow failed (logged and
	// skipped), then completed. It did not continue as new (that takes 2,000 conversations).
	"signals": {
		events: []enumspb.EventType{
			enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
			enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
			enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
		},
		activities: []string{workflows.ActivityClosedPage},
	},
}

// slaFanOutScenarios are the SLAFanOut workflow's histories: recorded by `make record-history
// SCENARIOS=all WORKFLOW=SLAFanOut PREFIX=v1` against an inbox dev from before lazy start
// (sla-fanout-v1-*) and PREFIX=v2 after it (sla-fanout-v2-*). Two open conversations, one
// changed and one untouched, told of a new policy.
var slaFanOutScenarios = map[string]map[string]holds{
	"sla-fanout-v1": {"signals": {
		events: []enumspb.EventType{
			enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
			enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
		},
		activities: []string{workflows.ActivityLivePage},
	}},
	// Since sla-fanout-starts-untouched: the version marker, then the untouched
	// conversation's workflow started before the Signals.
	"sla-fanout-v2": {"signals": {
		events: []enumspb.EventType{
			enumspb.EVENT_TYPE_MARKER_RECORDED,
			enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
			enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
		},
		activities: []string{workflows.ActivityLivePage, workflows.ActivityStartUntouched},
		changes:    []string{"sla-fanout-starts-untouched"},
	}},
}

// otherVersions are the code versions of the workflow types besides Conversation, each
// numbered on its own and named with the type's file prefix (webhook-v1, fanout-v1).
var otherVersions = map[string]map[string]holds{
	"webhook-v1":    webhookScenarios,
	"fanout-v1":     fanOutScenarios,
	"sla-fanout-v1": slaFanOutScenarios["sla-fanout-v1"],
	"sla-fanout-v2": slaFanOutScenarios["sla-fanout-v2"],
}

// recorded lists every history that must be present.
var recorded = func() map[string]holds {
	m := map[string]holds{}
	for v, names := range versions {
		for name, h := range names {
			m[v+"-"+name] = h
		}
	}
	for v, names := range otherVersions {
		for name, h := range names {
			m[v+"-"+name] = h
		}
	}
	return m
}()

// TestReplayRecordedHistories replays every recorded history against today's workflow code:
// a change that would make a running workflow non-deterministic fails here, naming the file.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json*"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".gz"), ".json")
	}
	// Deleting files must not make the test pass vacuously: each one missing is named.
	for name := range recorded {
		if !slices.Contains(names, name) {
			t.Errorf("missing recorded history %s.json", name)
		}
	}
	if len(files) < len(recorded) {
		t.Fatalf("testdata holds %d histories, want at least the %d recorded scenarios: %v", len(files), len(recorded), files)
	}

	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i, file := range files {
		t.Run(names[i], func(t *testing.T) {
			t.Parallel()
			h, err := loadHistory(file)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if want, ok := recorded[names[i]]; ok {
				checkHolds(t, file, h, want)
			}
			replayer := worker.NewWorkflowReplayer()
			// Every workflow type, by the name the worker registers it under (worker.Register).
			replayer.RegisterWorkflowWithOptions(workflows.Conversation, workflow.RegisterOptions{Name: workflows.ConversationWorkflow})
			replayer.RegisterWorkflowWithOptions(workflows.WebhookDelivery, workflow.RegisterOptions{Name: workflows.WebhookDeliveryWorkflow})
			replayer.RegisterWorkflowWithOptions(workflows.AutoArchiveFanOut, workflow.RegisterOptions{Name: workflows.AutoArchiveFanOutWorkflow})
			replayer.RegisterWorkflowWithOptions(workflows.SLAFanOut, workflow.RegisterOptions{Name: workflows.SLAFanOutWorkflow})
			if err := replayer.ReplayWorkflowHistory(quiet, h); err != nil {
				t.Fatalf("%s does not replay against today's code: %v", file, err)
			}
		})
	}
}

// loadHistory reads Temporal's JSON history format, gzipped when the name ends in .gz.
func loadHistory(file string) (*historypb.History, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var r io.Reader = bytes.NewReader(b)
	if strings.HasSuffix(file, ".gz") {
		if r, err = gzip.NewReader(r); err != nil {
			return nil, err
		}
	}
	return client.HistoryFromJSON(r, client.HistoryJSONOptions{})
}

// checkHolds reports what of want the history lacks.
func checkHolds(t *testing.T, file string, h *historypb.History, want holds) {
	t.Helper()
	events := map[enumspb.EventType]bool{}
	signals := map[string]bool{}
	changes := map[string]bool{}
	activities := map[string]bool{}
	var attempt int32
	for _, e := range h.Events {
		events[e.EventType] = true
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			activities[a.GetActivityType().GetName()] = true
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil {
			attempt = max(attempt, a.GetAttempt())
		}
		if a := e.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
			signals[a.GetSignalName()] = true
		}
		if a := e.GetMarkerRecordedEventAttributes(); a != nil && a.GetMarkerName() == "Version" {
			var id string
			if p, ok := a.GetDetails()["change-id"]; ok && converter.GetDefaultDataConverter().FromPayloads(p, &id) == nil {
				changes[id] = true
			}
		}
	}
	for _, ev := range want.events {
		if !events[ev] {
			t.Errorf("%s: no %s event; record it again", file, ev)
		}
	}
	for _, name := range want.signals {
		if !signals[name] {
			t.Errorf("%s: no %q Signal; record it again", file, name)
		}
	}
	for _, id := range want.changes {
		if !changes[id] {
			t.Errorf("%s: no version marker of change %q: not recorded with that code version", file, id)
		}
	}
	for _, name := range want.activities {
		if !activities[name] {
			t.Errorf("%s: no %s activity scheduled; record it again", file, name)
		}
	}
	if attempt < want.minAttempt {
		t.Errorf("%s: no activity started at attempt %d or later (at most %d); record it again", file, want.minAttempt, attempt)
	}
}
