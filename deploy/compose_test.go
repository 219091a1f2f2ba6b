package deploy_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// Paths are relative to this package directory, where `go test` runs.
const (
	composeFile  = "../docker-compose.yml"
	dockerfile   = "../Dockerfile"
	dockerignore = "../.dockerignore"
)

// testSecretKey stands in for INBOX_SECRET_KEY (32 zero bytes, base64).
const testSecretKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

const (
	svcPostgres         = "postgresql"
	svcTemporal         = "temporal"
	svcTemporalUI       = "temporal-ui"
	svcSearchAttributes = "temporal-search-attributes"
	svcMigrate          = "inbox-migrate"
	svcServe            = "inbox-serve"
	svcWorker           = "inbox-worker"
)

var (
	inboxServices = []string{svcMigrate, svcServe, svcWorker}

	expectedServices = []string{
		svcPostgres, svcTemporal, svcTemporalUI, svcSearchAttributes,
		svcMigrate, svcServe, svcWorker,
	}

	inboxSearchAttributes = []string{"InboxWorkspace", "InboxState", "InboxAssignee", "InboxSummary"}
)

// loadProject loads docker-compose.yml the way `docker compose` would, but
// with an explicit environment (never the OS environment) and without .env
// files, so the result does not depend on the machine running the test.
func loadProject(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	opts, err := cli.NewProjectOptions(
		[]string{composeFile},
		cli.WithWorkingDirectory(".."),
		cli.WithEnv(envList),
	)
	if err != nil {
		t.Fatalf("compose options: %v", err)
	}
	return opts.LoadProject(context.Background())
}

func mustLoadProject(t *testing.T) *types.Project {
	t.Helper()
	project, err := loadProject(t, map[string]string{"INBOX_SECRET_KEY": testSecretKey})
	if err != nil {
		t.Fatalf("loading %s with compose-go: %v", composeFile, err)
	}
	return project
}

func mustService(t *testing.T, project *types.Project, name string) types.ServiceConfig {
	t.Helper()
	svc, err := project.GetService(name)
	if err != nil {
		t.Fatalf("service %q is missing from %s (services: %v)", name, composeFile, project.ServiceNames())
	}
	return svc
}

// envValue returns the value of key in the service environment; ok is false
// when the key is absent or has no value.
func envValue(svc types.ServiceConfig, key string) (string, bool) {
	v, found := svc.Environment[key]
	if !found || v == nil {
		return "", false
	}
	return *v, true
}

// script joins entrypoint and command, i.e. what the container will run.
func script(svc types.ServiceConfig) string {
	return strings.Join(append(slices.Clone([]string(svc.Entrypoint)), svc.Command...), " ")
}

func TestComposeServicesExist(t *testing.T) {
	project := mustLoadProject(t)
	for _, name := range expectedServices {
		if _, err := project.GetService(name); err != nil {
			t.Errorf("service %q is missing from %s (services: %v)", name, composeFile, project.ServiceNames())
		}
	}
}

func TestComposePublishedPorts(t *testing.T) {
	project := mustLoadProject(t)
	for _, tc := range []struct {
		service   string
		published string
		target    uint32
	}{
		{svcServe, "8080", 8080},
		{svcTemporal, "7233", 7233},
		{svcTemporalUI, "8233", 8080},
	} {
		svc := mustService(t, project, tc.service)
		found := false
		var got []string
		for _, p := range svc.Ports {
			got = append(got, fmt.Sprintf("%s:%d/%s", p.Published, p.Target, p.Protocol))
			if p.Published == tc.published && p.Target == tc.target {
				found = true
			}
		}
		if !found {
			t.Errorf("service %q must publish host port %s to container port %d; ports are %v",
				tc.service, tc.published, tc.target, got)
		}
	}
}

// /metrics needs no sign-in: serve and worker expose it to the compose network on a port
// of its own, which no service publishes on the host.
func TestComposeMetricsNotPublished(t *testing.T) {
	project := mustLoadProject(t)
	for _, name := range []string{svcServe, svcWorker} {
		svc := mustService(t, project, name)
		if addr, _ := envValue(svc, "INBOX_METRICS_ADDR"); addr != "0.0.0.0:9464" {
			t.Errorf("service %q: INBOX_METRICS_ADDR is %q, want 0.0.0.0:9464 (reachable by a scraper on the compose network)", name, addr)
		}
	}
	for _, svc := range project.Services {
		for _, p := range svc.Ports {
			if p.Target == 9464 {
				t.Errorf("service %q publishes the metrics port: %s:%d", svc.Name, p.Published, p.Target)
			}
		}
	}
}

func TestComposeInboxEnvironment(t *testing.T) {
	project := mustLoadProject(t)
	temporal := mustService(t, project, svcTemporal)
	for _, name := range inboxServices {
		svc := mustService(t, project, name)
		for _, key := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "INBOX_SECRET_KEY"} {
			if v, ok := envValue(svc, key); !ok || v == "" {
				t.Errorf("service %q: environment variable %s must be set to a non-empty value", name, key)
			}
		}

		if addr, ok := envValue(svc, "TEMPORAL_ADDRESS"); ok {
			host, port, err := net.SplitHostPort(addr)
			switch {
			case err != nil:
				t.Errorf("service %q: TEMPORAL_ADDRESS %q is not host:port: %v", name, addr, err)
			case host != temporal.Name:
				t.Errorf("service %q: TEMPORAL_ADDRESS %q must point at the compose service %q", name, addr, temporal.Name)
			case port != "7233":
				t.Errorf("service %q: TEMPORAL_ADDRESS %q must use the Temporal frontend port 7233", name, addr)
			}
		}
		if ns, _ := envValue(svc, "TEMPORAL_NAMESPACE"); ns != "default" {
			t.Errorf("service %q: TEMPORAL_NAMESPACE is %q, want %q (the namespace the setup job creates)", name, ns, "default")
		}
		if dsn, ok := envValue(svc, "DATABASE_URL"); ok {
			u, err := url.Parse(dsn)
			if err != nil {
				t.Errorf("service %q: DATABASE_URL does not parse: %v", name, err)
			} else {
				if u.Scheme != "postgres" && u.Scheme != "postgresql" {
					t.Errorf("service %q: DATABASE_URL scheme is %q, want postgres", name, u.Scheme)
				}
				if u.Hostname() != svcPostgres {
					t.Errorf("service %q: DATABASE_URL host is %q, want the compose service %q", name, u.Hostname(), svcPostgres)
				}
			}
		}
		if key, _ := envValue(svc, "INBOX_SECRET_KEY"); key != testSecretKey {
			t.Errorf("service %q: INBOX_SECRET_KEY must come from the INBOX_SECRET_KEY variable of the caller, got %q", name, key)
		}
	}

	serve := mustService(t, project, svcServe)
	if addr, _ := envValue(serve, "INBOX_HTTP_ADDR"); addr != "0.0.0.0:8080" {
		t.Errorf("service %q: INBOX_HTTP_ADDR is %q, want 0.0.0.0:8080 (listen on all interfaces in a container)", svcServe, addr)
	}
}

func TestComposeRequiresSecretKey(t *testing.T) {
	_, err := loadProject(t, nil)
	if err == nil {
		t.Fatalf("%s loads without INBOX_SECRET_KEY; it must refuse (use ${INBOX_SECRET_KEY:?...})", composeFile)
	}
	if !strings.Contains(err.Error(), "INBOX_SECRET_KEY") {
		t.Errorf("error for a missing INBOX_SECRET_KEY should name the variable, got: %v", err)
	}
}

func TestComposeInboxDependsOnMigrate(t *testing.T) {
	project := mustLoadProject(t)
	for _, name := range []string{svcServe, svcWorker} {
		svc := mustService(t, project, name)
		dep, ok := svc.DependsOn[svcMigrate]
		if !ok {
			t.Errorf("service %q must depend on %q", name, svcMigrate)
			continue
		}
		if dep.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("service %q: depends_on %q has condition %q, want %q",
				name, svcMigrate, dep.Condition, types.ServiceConditionCompletedSuccessfully)
		}
	}
}

func TestComposeInboxCommands(t *testing.T) {
	project := mustLoadProject(t)
	for name, want := range map[string][]string{
		svcServe:   {"serve"},
		svcWorker:  {"worker"},
		svcMigrate: {"migrate", "up"},
	} {
		svc := mustService(t, project, name)
		if !slices.Equal([]string(svc.Command), want) {
			t.Errorf("service %q: command is %q, want %q", name, []string(svc.Command), want)
		}
		if len(svc.Entrypoint) != 0 {
			t.Errorf("service %q: must keep the image ENTRYPOINT [/inbox], got entrypoint %q", name, []string(svc.Entrypoint))
		}
		if svc.Build == nil {
			t.Errorf("service %q must be built from the local Dockerfile (no build section)", name)
			continue
		}
		if svc.Build.Context != project.WorkingDir {
			t.Errorf("service %q: build context is %q, want the repository root %q", name, svc.Build.Context, project.WorkingDir)
		}
		if df := svc.Build.Dockerfile; df != "" && df != "Dockerfile" {
			t.Errorf("service %q: build dockerfile is %q, want Dockerfile", name, df)
		}
	}
}

func TestComposeServeHealthcheck(t *testing.T) {
	project := mustLoadProject(t)
	serve := mustService(t, project, svcServe)
	if serve.HealthCheck == nil || len(serve.HealthCheck.Test) == 0 {
		t.Fatalf("service %q needs a healthcheck on /healthz", svcServe)
	}
	test := strings.Join(serve.HealthCheck.Test, " ")
	if !strings.Contains(test, ":8080/healthz") {
		t.Errorf("service %q: healthcheck %q must probe port 8080 /healthz", svcServe, test)
	}
}

func TestComposeSearchAttributeJob(t *testing.T) {
	project := mustLoadProject(t)
	job := mustService(t, project, svcSearchAttributes)
	run := script(job)
	for _, sa := range inboxSearchAttributes {
		re := regexp.MustCompile(`--name[ =]+` + regexp.QuoteMeta(sa) + `\s+--type[ =]+Keyword\b`)
		if !re.MatchString(run) {
			t.Errorf("service %q must register search attribute %s as Keyword (`--name %s --type Keyword`)", svcSearchAttributes, sa, sa)
		}
	}
	if !strings.Contains(run, "temporal operator search-attribute create") {
		t.Errorf("service %q must run `temporal operator search-attribute create`", svcSearchAttributes)
	}
	if !strings.Contains(run, "temporal operator namespace create") {
		t.Errorf("service %q must create the namespace when it does not exist", svcSearchAttributes)
	}
	if ns, _ := envValue(job, "TEMPORAL_NAMESPACE"); ns != "default" {
		t.Errorf("service %q: TEMPORAL_NAMESPACE is %q, want default", svcSearchAttributes, ns)
	}
	if addr, _ := envValue(job, "TEMPORAL_ADDRESS"); addr != "temporal:7233" {
		t.Errorf("service %q: TEMPORAL_ADDRESS is %q, want temporal:7233", svcSearchAttributes, addr)
	}
	if dep, ok := job.DependsOn[svcTemporal]; !ok || dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("service %q must depend on %q with condition %s", svcSearchAttributes, svcTemporal, types.ServiceConditionHealthy)
	}
	if !strings.HasPrefix(job.Image, "temporalio/admin-tools:") {
		t.Errorf("service %q: image %q, want the official temporalio/admin-tools image", svcSearchAttributes, job.Image)
	}
	// The inbox processes upsert these attributes, so they must wait for the job.
	for _, name := range []string{svcServe, svcWorker} {
		svc := mustService(t, project, name)
		if dep, ok := svc.DependsOn[svcSearchAttributes]; !ok || dep.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("service %q must depend on %q with condition %s", name, svcSearchAttributes, types.ServiceConditionCompletedSuccessfully)
		}
	}
}

func TestComposeTemporalPersistence(t *testing.T) {
	project := mustLoadProject(t)
	temporal := mustService(t, project, svcTemporal)
	if !strings.HasPrefix(temporal.Image, "temporalio/server:") {
		t.Errorf("service %q: image %q, want the official temporalio/server image", svcTemporal, temporal.Image)
	}
	want := map[string]string{
		// The server's config template only recognises postgres12 / postgres12_pgx.
		"DB":             "postgres12",
		"DB_PORT":        "5432",
		"POSTGRES_SEEDS": svcPostgres,
	}
	for key, value := range want {
		if got, _ := envValue(temporal, key); got != value {
			t.Errorf("service %q: %s is %q, want %q (PostgreSQL persistence)", svcTemporal, key, got, value)
		}
	}
	for _, key := range []string{"POSTGRES_USER", "POSTGRES_PWD"} {
		if v, ok := envValue(temporal, key); !ok || v == "" {
			t.Errorf("service %q: %s must be set for PostgreSQL persistence", svcTemporal, key)
		}
	}
	if path, _ := envValue(temporal, "DYNAMIC_CONFIG_FILE_PATH"); path != "" {
		const mountDir = "/etc/temporal/config/dynamicconfig"
		if !strings.HasPrefix(path, mountDir+"/") {
			t.Errorf("service %q: DYNAMIC_CONFIG_FILE_PATH %q is outside the mounted %s", svcTemporal, path, mountDir)
		} else if _, err := os.Stat(filepath.Join("temporal", "dynamicconfig", filepath.Base(path))); err != nil {
			t.Errorf("service %q: dynamic config file for %q not found in deploy/temporal/dynamicconfig: %v", svcTemporal, path, err)
		}
	}
	if dep, ok := temporal.DependsOn[svcPostgres]; !ok || dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("service %q must depend on %q with condition %s", svcTemporal, svcPostgres, types.ServiceConditionHealthy)
	}
	if temporal.HealthCheck == nil || len(temporal.HealthCheck.Test) == 0 {
		t.Errorf("service %q needs a healthcheck (the setup job waits for service_healthy)", svcTemporal)
	}
	pg := mustService(t, project, svcPostgres)
	if pg.HealthCheck == nil || len(pg.HealthCheck.Test) == 0 {
		t.Errorf("service %q needs a healthcheck (others wait for service_healthy)", svcPostgres)
	}
	ui := mustService(t, project, svcTemporalUI)
	if addr, _ := envValue(ui, "TEMPORAL_ADDRESS"); addr != "temporal:7233" {
		t.Errorf("service %q: TEMPORAL_ADDRESS is %q, want temporal:7233", svcTemporalUI, addr)
	}
}

func TestComposeImagesPinned(t *testing.T) {
	project := mustLoadProject(t)
	for _, name := range project.ServiceNames() {
		svc := mustService(t, project, name)
		if svc.Build != nil {
			continue // built locally from ./Dockerfile
		}
		if svc.Image == "" {
			t.Errorf("service %q has neither image nor build", name)
			continue
		}
		if strings.Contains(svc.Image, "@sha256:") {
			continue
		}
		ref := svc.Image
		tag := ""
		if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
			tag = ref[i+1:]
		}
		if tag == "" || tag == "latest" {
			t.Errorf("service %q: image %q must be pinned to an explicit tag other than latest", name, svc.Image)
		}
	}
}

// dockerfileInstructions returns the Dockerfile's instructions with line
// continuations joined and comments dropped.
func dockerfileInstructions(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatalf("open %s: %v", dockerfile, err)
	}
	defer f.Close()
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(strings.TrimSpace(cont) + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, strings.TrimSpace(cur.String()))
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", dockerfile, err)
	}
	if cur.Len() > 0 {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

func TestDockerfile(t *testing.T) {
	instructions := dockerfileInstructions(t)
	var froms, builds, users, entrypoints []string
	cgoOff := false
	for _, ins := range instructions {
		keyword, rest, _ := strings.Cut(ins, " ")
		switch strings.ToUpper(keyword) {
		case "FROM":
			froms = append(froms, rest)
		case "RUN":
			if strings.Contains(rest, "go build") {
				builds = append(builds, rest)
			}
			if strings.Contains(rest, "CGO_ENABLED=0") {
				cgoOff = true
			}
		case "ENV", "ARG":
			if strings.Contains(rest, "CGO_ENABLED=0") {
				cgoOff = true
			}
		case "USER":
			users = append(users, rest)
		case "ENTRYPOINT":
			entrypoints = append(entrypoints, rest)
		}
	}

	if len(froms) < 2 {
		t.Errorf("Dockerfile must be multi-stage, found %d FROM lines", len(froms))
	} else {
		if !strings.HasPrefix(froms[0], "golang:1.26") {
			t.Errorf("build stage must start FROM golang:1.26, got FROM %s", froms[0])
		}
		if last := froms[len(froms)-1]; strings.HasPrefix(last, "golang:") {
			t.Errorf("runtime stage must not be the Go toolchain image, got FROM %s", last)
		}
	}
	if len(builds) != 1 {
		t.Fatalf("Dockerfile must contain exactly one `go build`, found %d", len(builds))
	}
	fields := strings.Fields(builds[0])
	if fields[len(fields)-1] != "./cmd/inbox" {
		t.Errorf("`go build` must build ./cmd/inbox (as its last argument): %s", builds[0])
	}
	if !strings.Contains(builds[0], "-o /out/inbox") {
		t.Errorf("`go build` must write /out/inbox: %s", builds[0])
	}
	if !cgoOff {
		t.Errorf("Dockerfile must build with CGO_ENABLED=0 (the SQLite driver is pure Go)")
	}
	if len(users) == 0 {
		t.Errorf("runtime stage must switch to a non-root USER")
	} else if u, _, _ := strings.Cut(users[len(users)-1], ":"); u == "root" || u == "0" {
		t.Errorf("runtime USER must not be root, got %s", users[len(users)-1])
	}
	if len(entrypoints) == 0 || entrypoints[len(entrypoints)-1] != `["/inbox"]` {
		t.Errorf(`Dockerfile must end with ENTRYPOINT ["/inbox"], got %q`, entrypoints)
	}
}

func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(dockerignore)
	if err != nil {
		t.Fatalf("read %s: %v", dockerignore, err)
	}
	var patterns []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, strings.Trim(line, "/"))
		}
	}
	for _, want := range []string{".git", ".data", "bin"} {
		if !slices.Contains(patterns, want) {
			t.Errorf("%s must exclude %s (patterns: %v)", dockerignore, want, patterns)
		}
	}
	for _, p := range patterns {
		if p == "go.mod" || p == "go.sum" || p == "cmd" || p == "*.go" || p == "migrations" {
			t.Errorf("%s excludes %q, which the image build needs", dockerignore, p)
		}
	}
}
