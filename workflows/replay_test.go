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
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/bestai/inbox/workflows"
)

// scenarios are the histories recorded from real runs of `inbox dev` by
// `make record-history` (internal/tools/histories), each with an event it must hold so that
// a re-recording still shows what the file is for.
var scenarios = map[string]enumspb.EventType{
	"ingest":                 enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
	"transitions":            enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
	"assign":                 enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
	"retry-summary":          enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
	"summary-failed-retried": enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED,
	"signal":                 enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
	"continue-as-new-run1":   enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
	"continue-as-new-run2":   enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
	"superseded":             enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
}

// versions are the workflow code versions every scenario was recorded with: v1 wrote
// changes with a local activity, v2 with a regular one (GetVersion "durable-writes").
var versions = []string{"v1", "v2"}

// recorded lists every history that must be present.
var recorded = func() map[string]enumspb.EventType {
	m := map[string]enumspb.EventType{}
	for _, v := range versions {
		for name, ev := range scenarios {
			m[v+"-"+name] = ev
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
	// Deleting files must not make the test pass vacuously.
	if len(files) < len(recorded) {
		t.Fatalf("testdata holds %d histories, want at least the %d recorded scenarios: %v", len(files), len(recorded), files)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".gz"), ".json")
	}
	for name := range recorded {
		if !slices.Contains(names, name) {
			t.Errorf("missing recorded history %s.json", name)
		}
	}

	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i, file := range files {
		t.Run(names[i], func(t *testing.T) {
			t.Parallel()
			h, err := loadHistory(file)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if want, ok := recorded[names[i]]; ok && !hasEvent(h, want) {
				t.Errorf("%s: no %s event; record it again", file, want)
			}
			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflowWithOptions(workflows.Conversation, workflow.RegisterOptions{Name: workflows.ConversationWorkflow})
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

func hasEvent(h *historypb.History, want enumspb.EventType) bool {
	for _, e := range h.Events {
		if e.EventType == want {
			return true
		}
	}
	return false
}
