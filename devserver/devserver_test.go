package devserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

// TestStartRegistersSearchAttributesServesUIAndSurvivesRestart runs the embedded server the
// way `inbox dev` does, twice on the same data directory.
func TestStartRegistersSearchAttributesServesUIAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	port := func() string {
		p, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("127.0.0.1:%d", p)
	}
	opts := Options{FrontendAddr: port(), UIAddr: port(), DataDir: dir, Namespace: "default",
		SearchAttributes: []string{"InboxState", "InboxWorkspace"}}
	start := func() (*Server, client.Client) {
		s, err := Start(opts)
		if err != nil {
			t.Fatal(err)
		}
		var c client.Client
		deadline := time.Now().Add(60 * time.Second)
		for {
			c, err = client.Dial(client.Options{HostPort: opts.FrontendAddr, Namespace: "default"})
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			s.Stop()
			t.Fatal(err)
		}
		return s, c
	}
	ctx := context.Background()
	s, c := start()
	res, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range opts.SearchAttributes {
		if res.GetCustomAttributes()[name] != enums.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("search attribute %s not registered as Keyword: %v", name, res.GetCustomAttributes())
		}
	}
	var uiStatus int
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + opts.UIAddr + "/namespaces/default/workflows"); err == nil {
			uiStatus = r.StatusCode
			r.Body.Close()
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if uiStatus != http.StatusOK {
		t.Errorf("the Web UI answered %d", uiStatus)
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "survivor", TaskQueue: "nobody-polls"}, "Nothing")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.Stop()

	// A second start on the same files still has the workflow, and does not fail on the
	// namespace that already exists.
	s, c = start()
	defer s.Stop()
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(ctx, "survivor", "")
	if err != nil {
		t.Fatalf("the workflow did not survive a restart: %v", err)
	}
	if got := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(); got != run.GetRunID() {
		t.Errorf("run id %s after restart, want %s", got, run.GetRunID())
	}
}

func TestStartRefusesATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Start(Options{FrontendAddr: ln.Addr().String(), DataDir: t.TempDir(), Namespace: "default"})
	if err == nil {
		t.Fatal("started on a port another process holds")
	}
}
