package devserver

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/common/log"
)

// adminURL is the Postgres server the test creates Temporal's databases on.
func adminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// freshPostgres returns a DATABASE_URL whose Temporal databases do not exist yet, and drops
// them when the test ends. (The inbox database itself is never created here.)
func freshPostgres(t *testing.T) string {
	t.Helper()
	admin, err := url.Parse(adminURL())
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	adminDB := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(admin.String())))
	if err := adminDB.Ping(); err != nil {
		t.Fatalf("Postgres is not reachable at %s (start it, or set TEST_DATABASE_URL): %v", admin.Redacted(), err)
	}
	u := *admin
	u.Path = fmt.Sprintf("/inbox_dstest_%d_%d", time.Now().UnixNano(), rand.IntN(1_000_000))
	main, vis, err := PostgresDatabases(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, db := range []string{main, vis} {
			if _, err := adminDB.Exec(`DROP DATABASE IF EXISTS "` + db + `" WITH (FORCE)`); err != nil {
				t.Logf("drop %s: %v", db, err)
			}
		}
		_ = adminDB.Close()
	})
	return u.String()
}

// INBOX_TEMPORAL_SYNCHRONOUS_COMMIT reaches both of Temporal's connection configurations,
// and a synchronous_commit in DATABASE_URL's own query wins over it.
func TestSynchronousCommitGoesToTemporalsDatabases(t *testing.T) {
	base := freshPostgres(t)
	for _, c := range []struct{ url, option, want string }{
		{base, "off", "off"},
		{base, "", ""},
		{base + "&synchronous_commit=local", "off", "local"},
	} {
		store, vis, err := postgresConfigs(Options{Namespace: "default", PostgresURL: c.url, SynchronousCommit: c.option}, log.NewNoopLogger())
		if err != nil {
			t.Fatal(err)
		}
		for name, sql := range map[string]map[string]string{"store": store.ConnectAttributes, "visibility": vis.ConnectAttributes} {
			if got := sql["synchronous_commit"]; got != c.want || sql["sslmode"] != "disable" {
				t.Errorf("%s, option %q: %s attributes %v, want synchronous_commit %q and the URL's sslmode", c.url, c.option, name, sql, c.want)
			}
		}
	}
}

// INBOX_TEMPORAL_DB_MAX_CONNS sizes each service's two pools: the persistence one, and half
// of it (at least 1) for visibility; unset, the default.
func TestPoolSizesFollowTheSetting(t *testing.T) {
	base := freshPostgres(t)
	for _, c := range []struct{ setting, store, visibility int }{{0, DefaultDBMaxConns, DefaultDBMaxConns / 2}, {3, 3, 1}, {1, 1, 1}} {
		store, vis, err := postgresConfigs(Options{Namespace: "default", PostgresURL: base, DBMaxConns: c.setting}, log.NewNoopLogger())
		if err != nil {
			t.Fatal(err)
		}
		if store.MaxConns != c.store || store.MaxIdleConns != c.store || vis.MaxConns != c.visibility || vis.MaxIdleConns != c.visibility {
			t.Errorf("setting %d: store %d/%d, visibility %d/%d; want %d and %d", c.setting,
				store.MaxConns, store.MaxIdleConns, vis.MaxConns, vis.MaxIdleConns, c.store, c.visibility)
		}
	}
}

// TestPostgresStoreRunsUpdatesAndSurvivesRestart runs the embedded server on fresh
// Postgres databases with 4 shards, takes a workflow through an Update, stops, and starts
// again on the same databases (schema and namespace already there).
func TestPostgresStoreRunsUpdatesAndSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal twice")
	}
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		FrontendAddr: fmt.Sprintf("127.0.0.1:%d", p), DataDir: t.TempDir(), Namespace: "default",
		SearchAttributes: []string{"InboxState", "InboxWorkspace"},
		Store:            StorePostgres, Shards: 4, PostgresURL: freshPostgres(t),
		SynchronousCommit: "off", // Postgres takes it as a session setting: the server works with it
	}
	main, _, err := PostgresDatabases(opts.PostgresURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	update := func(c client.Client, id string) {
		t.Helper()
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateName: "set", Args: []any{"x"}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			t.Fatalf("update %s: %v", id, err)
		}
	}

	t0 := time.Now()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, opts.FrontendAddr, time.Now().Add(90*time.Second))
	t.Logf("first start (schema set up) served in %v", time.Since(t0).Round(time.Millisecond))
	res, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range opts.SearchAttributes {
		if res.GetCustomAttributes()[name] != enums.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("search attribute %s not registered as Keyword: %v", name, res.GetCustomAttributes())
		}
	}
	w := sdkworker.New(c, crashQueue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(waitForUpdate, workflow.RegisterOptions{Name: "WaitForUpdate"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	var survivorRun string
	for _, id := range []string{"updated", "survivor"} {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: crashQueue,
			TypedSearchAttributes: temporalSA("InboxState", "open")}, "WaitForUpdate")
		if err != nil {
			t.Fatal(err)
		}
		survivorRun = run.GetRunID()
	}
	update(c, "updated")
	if err := c.GetWorkflow(ctx, "updated", "").Get(ctx, nil); err != nil {
		t.Fatalf("updated workflow: %v", err)
	}
	w.Stop()
	c.Close()
	s.Stop()

	t0 = time.Now()
	s, err = Start(opts)
	if err != nil {
		t.Fatalf("restart on the same databases: %v", err)
	}
	defer s.Stop()
	c = dial(t, opts.FrontendAddr, time.Now().Add(90*time.Second))
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(ctx, "survivor", "")
	if err != nil {
		t.Fatalf("the workflow did not survive a restart: %v", err)
	}
	if got := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(); got != survivorRun {
		t.Errorf("run id %s after restart, want %s", got, survivorRun)
	}
	w = sdkworker.New(c, crashQueue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(waitForUpdate, workflow.RegisterOptions{Name: "WaitForUpdate"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	update(c, "survivor")
	t.Logf("restart served an update in %v", time.Since(t0).Round(time.Millisecond))

	// Visibility is the Postgres database too, with the inbox's search attribute.
	var found int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: "InboxState = 'open'"})
		if err != nil {
			t.Fatal(err)
		}
		if found = len(list.GetExecutions()); found == 2 {
			break
		}
	}
	if found != 2 {
		t.Errorf("visibility lists %d workflows with InboxState = 'open', want 2", found)
	}
	var shards int
	mainURL, _ := url.Parse(opts.PostgresURL)
	mainURL.Path = "/" + main
	pdb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(mainURL.String())))
	defer pdb.Close()
	if err := pdb.QueryRow(`SELECT count(*) FROM shards`).Scan(&shards); err != nil {
		t.Fatal(err)
	}
	if shards != 4 {
		t.Errorf("%d shards in %s, want 4", shards, main)
	}
}

func temporalSA(name, value string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(temporal.NewSearchAttributeKeyKeyword(name).ValueSet(value))
}

func TestPostgresDatabasesAndSchemaVersions(t *testing.T) {
	main, vis, err := PostgresDatabases("postgres://u:p@db:5432/inbox?sslmode=disable")
	if err != nil || main != "inbox_temporal" || vis != "inbox_temporal_visibility" {
		t.Errorf("PostgresDatabases = %q, %q, %v", main, vis, err)
	}
	if _, _, err := PostgresDatabases("postgres://u@db:5432/"); err == nil {
		t.Error("a URL without a database name was accepted")
	}
	for _, c := range []struct {
		a, b string
		less bool
	}{{"0.0", "1.0", true}, {"1.9", "1.19", true}, {"1.19", "1.9", false}, {"1.19", "1.19", false}, {"1.2", "2.0", true}} {
		if got := versionLess(c.a, c.b); got != c.less {
			t.Errorf("versionLess(%s, %s) = %v", c.a, c.b, got)
		}
	}
}
