// Command histories records workflow histories as Temporal's JSON history format, the files
// workflows/replay_test.go replays against today's code.
//
//	# one workflow (latest run, or -run-id), or every run of a continued-as-new chain
//	go run ./internal/tools/histories fetch -workflow-id conversation/<ID> -out workflows/testdata/v2-x.json
//	go run ./internal/tools/histories fetch -workflow-id conversation/<ID> -all-runs -out workflows/testdata/v2-x.json
//	# drive a running `inbox dev` through every scenario and record each history
//	go run ./internal/tools/histories scenario -prefix v2 [-only signal,superseded]
//	# the other workflow types' scenarios: webhook-v1-<name>.json, fanout-v1-<name>.json
//	go run ./internal/tools/histories scenario -workflow WebhookDelivery -prefix v1
//	go run ./internal/tools/histories scenario -workflow AutoArchiveFanOut -prefix v1
//
// Both read TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, INBOX_HTTP_ADDR and INBOX_DATA_DIR like
// `inbox dev`. The scenario mode serves the chat-completions endpoint itself (-fake-openai,
// default 127.0.0.1:28099), so `inbox dev` must run with OPENAI_BASE_URL=http://127.0.0.1:28099/v1
// and any OPENAI_API_KEY. The WebhookDelivery scenarios serve the webhook receiver on a
// loopback port (-receiver), so `inbox dev` must also run with INBOX_WEBHOOK_ALLOW_PRIVATE=true,
// and with INBOX_WEBHOOK_RETRY_INITIAL=1s INBOX_WEBHOOK_RETRY_MAX=2s for its retries to be quick.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"

	"github.com/bestai/inbox/workflows"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	address := fs.String("address", envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend (TEMPORAL_ADDRESS)")
	namespace := fs.String("namespace", envOr("TEMPORAL_NAMESPACE", "default"), "Temporal namespace (TEMPORAL_NAMESPACE)")
	switch os.Args[1] {
	case "fetch":
		workflowID := fs.String("workflow-id", "", "workflow id, conversation/<uuid>")
		runID := fs.String("run-id", "", "run id (default: the latest run)")
		allRuns := fs.Bool("all-runs", false, "every run of the continue-as-new chain, written as <out>-run1.json, -run2.json, ...")
		out := fs.String("out", "", "output file (.json)")
		_ = fs.Parse(os.Args[2:])
		if *workflowID == "" || *out == "" {
			fs.Usage()
			os.Exit(2)
		}
		c := dial(*address, *namespace)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := fetchTo(ctx, c, *workflowID, *runID, *allRuns, *out); err != nil {
			log.Fatal(err)
		}
	case "scenario":
		s := &scenario{}
		fs.StringVar(&s.apiURL, "api", "http://"+envOr("INBOX_HTTP_ADDR", "127.0.0.1:8080"), "inbox API of the running `inbox dev`")
		demo := fs.String("demo", filepath.Join(envOr("INBOX_DATA_DIR", ".data"), "demo.json"), "demo credentials `inbox dev` wrote")
		fake := fs.String("fake-openai", "127.0.0.1:28099", "serve chat completions here (inbox dev's OPENAI_BASE_URL=http://<this>/v1)")
		fs.StringVar(&s.outDir, "out-dir", "workflows/testdata", "where to write the histories")
		fs.StringVar(&s.prefix, "prefix", "", "file name prefix, required: the workflow code version recorded (v1 files are kept as they are)")
		kind := fs.String("workflow", workflows.ConversationWorkflow, "workflow type whose scenarios to run: "+
			workflows.ConversationWorkflow+" (<prefix>-<name>.json), "+workflows.WebhookDeliveryWorkflow+
			" (webhook-<prefix>-<name>.json), "+workflows.AutoArchiveFanOutWorkflow+" (fanout-<prefix>-<name>.json) or "+
			workflows.SLAFanOutWorkflow+" (sla-fanout-<prefix>-<name>.json)")
		recv := fs.String("receiver", "127.0.0.1:0", "serve the WebhookDelivery scenarios' webhook endpoints here")
		only := fs.String("only", "", "comma-separated scenario names (default: all)")
		_ = fs.Parse(os.Args[2:])
		if s.prefix == "" {
			fs.Usage()
			os.Exit(2)
		}
		if err := s.loadDemo(*demo); err != nil {
			log.Fatal(err)
		}
		s.model = startFakeModel(*fake)
		if *kind == workflows.WebhookDeliveryWorkflow {
			s.receiver = startReceiver(*recv)
		}
		s.temporal = dial(*address, *namespace)
		defer s.temporal.Close()
		run := func(ctx context.Context) error { return s.runOthers(ctx, *kind, *only) }
		if *kind == workflows.ConversationWorkflow {
			run = func(ctx context.Context) error { return s.run(ctx, *only) }
		}
		if err := run(context.Background()); err != nil {
			log.Fatal(err)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: histories fetch|scenario [flags]   (histories <mode> -h lists the flags)")
	os.Exit(2)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func dial(address, namespace string) client.Client {
	c, err := client.Dial(client.Options{HostPort: address, Namespace: namespace})
	if err != nil {
		log.Fatalf("temporal %s: %v", address, err)
	}
	return c
}

// fetchTo writes one run, or every run of the chain ending at the latest run.
func fetchTo(ctx context.Context, c client.Client, workflowID, runID string, allRuns bool, out string) error {
	if !allRuns {
		h, err := fetch(ctx, c, workflowID, runID)
		if err != nil {
			return err
		}
		return write(out, h)
	}
	// Walk back from the latest run: each run's first event names the run it continues.
	var chain []*historypb.History
	for id := runID; ; {
		h, err := fetch(ctx, c, workflowID, id)
		if err != nil {
			return err
		}
		chain = append([]*historypb.History{h}, chain...)
		id = h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if id == "" {
			break
		}
	}
	base := strings.TrimSuffix(out, ".json")
	for i, h := range chain {
		if err := write(fmt.Sprintf("%s-run%d.json", base, i+1), h); err != nil {
			return err
		}
	}
	return nil
}

// fetch reads a run's full history, every page.
func fetch(ctx context.Context, c client.Client, workflowID, runID string) (*historypb.History, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		h.Events = append(h.Events, ev)
	}
	if len(h.Events) == 0 {
		return nil, errors.New("history of " + workflowID + " is empty")
	}
	return h, nil
}

// gzipAbove is the size past which a history is committed gzipped: a run of 500 changes is
// 2 MB of JSON but 120 KB compressed, and zcat still reads it.
const gzipAbove = 256 << 10

// write stores h the way client.HistoryFromJSON and the replayer read it back: Temporal's
// protojson, with payloads in their readable shorthand; a large one goes to path.gz.
func write(path string, h *historypb.History) error {
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: " "}.Marshal(h)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if len(b) > gzipAbove {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		if err := zw.Close(); err != nil {
			return err
		}
		path, b = path+".gz", buf.Bytes()
	}
	stale := path + ".gz"
	if strings.HasSuffix(path, ".gz") {
		stale = strings.TrimSuffix(path, ".gz")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	_ = os.Remove(stale) // a re-recording that changed size must not leave two copies
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d events, %d bytes\n", path, len(h.Events), len(b))
	return nil
}
