// Package devserver runs an embedded Temporal server (SQLite under the data directory, or
// two databases of its own on the inbox's Postgres, so workflows survive a restart) and
// the Temporal Web UI, for `inbox dev` and `inbox temporal`. It is never used in
// production, where `inbox serve` and `inbox worker` talk to a Temporal cluster.
package devserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const clusterName = "active"

// Options says where the embedded server listens and keeps its files.
type Options struct {
	FrontendAddr     string   // host:port of the gRPC frontend (TEMPORAL_ADDRESS)
	UIAddr           string   // host:port of the Web UI; "" for none
	DataDir          string   // the SQLite file and the server's log live here
	Namespace        string   // created on first start
	SearchAttributes []string // Keyword attributes registered with the namespace
	Store            string   // StoreSQLite ("" too) or StorePostgres
	// PostgresURL is the inbox's DATABASE_URL; with StorePostgres, Temporal's two databases
	// are created next to its database on the same server.
	PostgresURL string
	// SynchronousCommit, when set, is Postgres's synchronous_commit for Temporal's two
	// databases (a synchronous_commit in PostgresURL's query wins). "off" saves the wait
	// for the WAL flush on every history write; a crash of Postgres or of its machine (not
	// of this process) can then lose the last few hundred milliseconds of history.
	SynchronousCommit string
	// DBMaxConns bounds each service's pool to Temporal's persistence database (history,
	// matching, frontend and worker each open their own), and half of it, at least 1, each
	// one's visibility pool; 0 means DefaultDBMaxConns.
	DBMaxConns int
	// Shards is the number of history shards; 0 means 1 for SQLite and 4 for Postgres. It is
	// fixed when the store is first created: on a restart the server keeps the stored number
	// and only logs a warning about a different one.
	Shards int
}

// Server is a running embedded Temporal server and UI.
type Server struct {
	temporal temporal.Server
	ui       *uiserver.Server
	LogFile  string
}

// Start starts the server and, if asked, the UI. The server's own logs go to a file under
// DataDir, so the terminal shows the inbox's output only.
func Start(o Options) (*Server, error) {
	host, port, err := splitAddr(o.FrontendAddr)
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_ADDRESS: %w", err)
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, err
	}
	if err := checkFree(o.FrontendAddr); err != nil {
		return nil, fmt.Errorf("TEMPORAL_ADDRESS %s: %w", o.FrontendAddr, err)
	}
	s := &Server{LogFile: filepath.Join(o.DataDir, "temporal.log")}
	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "warn", Format: "json", OutputFile: s.LogFile}))
	var persistence, visibility *config.SQL
	shards := o.Shards
	switch o.Store {
	case "", StoreSQLite:
		persistence, err = sqliteConfig(o)
		visibility = persistence
		if shards == 0 {
			shards = 1
		}
	case StorePostgres:
		persistence, visibility, err = postgresConfigs(o, logger)
		if shards == 0 {
			shards = 4
		}
	default:
		err = fmt.Errorf("unknown Temporal store %q (want %s or %s)", o.Store, StoreSQLite, StorePostgres)
	}
	if err != nil {
		return nil, err
	}
	conf, hosts, err := serverConfig(host, port, persistence, visibility, int32(shards))
	if err != nil {
		return nil, err
	}
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, err
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, err
	}
	s.temporal, err = temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		// One process runs every service, so membership is static: ringpop would look up the
		// hosts a killed process left in SQLite and stall ("Not enough hosts") until they expire.
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamicConfig()),
	)
	if err != nil {
		return nil, fmt.Errorf("build Temporal server: %w", err)
	}
	if err := s.temporal.Start(); err != nil {
		return nil, fmt.Errorf("start Temporal server: %w", err)
	}
	if o.UIAddr != "" {
		if err := s.startUI(o.UIAddr, o.FrontendAddr); err != nil {
			s.temporal.Stop() //nolint:errcheck // already failing
			return nil, err
		}
	}
	return s, nil
}

// Stop stops the UI, then the server.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	_ = s.temporal.Stop()
}

func (s *Server) startUI(uiAddr, frontendAddr string) error {
	host, port, err := splitAddr(uiAddr)
	if err != nil {
		return fmt.Errorf("INBOX_TEMPORAL_UI_ADDR: %w", err)
	}
	// The UI server exits the process when its port is taken; find out first.
	if err := checkFree(uiAddr); err != nil {
		return fmt.Errorf("INBOX_TEMPORAL_UI_ADDR %s: %w", uiAddr, err)
	}
	s.ui = uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                host,
		Port:                port,
		TemporalGRPCAddress: frontendAddr,
		EnableUI:            true,
		HideLogs:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		DefaultNamespace:    "default",
	}))
	go func() { _ = s.ui.Start() }()
	return nil
}

// queuePollRPS is how often a history shard may read each of its task queues a second.
// Temporal's default, 20, is sized for clusters with hundreds of shards; with the few
// shards of one process it caps everything that goes through a queue (the workflow task
// after an activity, an Update's next step, a visibility upsert) at about 20 a second per
// shard, and one conversation's transitions at 22 a second (BENCHMARKS.md).
const queuePollRPS = 1000

// dynamicConfig is the server's dynamic configuration: its defaults but for queue polling.
func dynamicConfig() dynamicconfig.Client {
	return dynamicconfig.StaticClient{
		dynamicconfig.TransferProcessorMaxPollRPS.Key():   queuePollRPS,
		dynamicconfig.TimerProcessorMaxPollRPS.Key():      queuePollRPS,
		dynamicconfig.VisibilityProcessorMaxPollRPS.Key(): queuePollRPS,
		dynamicconfig.OutboundProcessorMaxPollRPS.Key():   queuePollRPS,
	}
}

func sqliteConfig(o Options) (*config.SQL, error) {
	dbFile := filepath.Join(o.DataDir, "temporal.sqlite")
	conf := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      dbFile,
		ConnectAttributes: map[string]string{"mode": "rwc", "_journal_mode": "wal", "_synchronous": "normal"},
	}
	if _, err := os.Stat(dbFile); errors.Is(err, os.ErrNotExist) {
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("create Temporal schema in %s: %w", dbFile, err)
		}
	}
	ns, err := namespaceConfig(o)
	if err != nil {
		return nil, err
	}
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("create namespace %s: %w", o.Namespace, err)
	}
	return conf, nil
}

// namespaceConfig is the namespace with its Keyword search attributes mapped to the SQL
// visibility columns, for a direct insert into either store.
func namespaceConfig(o Options) (*sqliteschema.NamespaceConfig, error) {
	attrs := map[string]enums.IndexedValueType{}
	for _, name := range o.SearchAttributes {
		attrs[name] = enums.INDEXED_VALUE_TYPE_KEYWORD
	}
	return sqliteschema.NewNamespaceConfig(clusterName, o.Namespace, false, attrs)
}

// serverConfig gives every service its own local gRPC port, and returns them as the static
// membership of this single process.
func serverConfig(host string, port int, persistence, visibility *config.SQL, shards int32) (*config.Config, map[primitives.ServiceName]static.Hosts, error) {
	conf := &config.Config{}
	conf.Persistence.DefaultStore = "default"
	conf.Persistence.VisibilityStore = "visibility"
	conf.Persistence.NumHistoryShards = shards
	conf.Persistence.DataStores = map[string]config.DataStore{"default": {SQL: persistence}, "visibility": {SQL: visibility}}
	if persistence == visibility {
		// SQLite keeps both in one file, and one store means one connection pool on it.
		conf.Persistence.VisibilityStore = "default"
		delete(conf.Persistence.DataStores, "visibility")
	}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled:                true,
			InitialFailoverVersion: 1,
			RPCAddress:             net.JoinHostPort(host, strconv.Itoa(port)),
			ClusterID:              "inbox-dev",
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, name := range temporal.DefaultServices {
		var svc config.Service
		self := ""
		if name == string(primitives.FrontendService) {
			svc.RPC.GRPCPort, svc.RPC.BindOnIP = port, host
			self = net.JoinHostPort(dialHost(host), strconv.Itoa(port))
		} else {
			p, err := freePort()
			if err != nil {
				return nil, nil, err
			}
			svc.RPC.GRPCPort, svc.RPC.BindOnIP = p, "127.0.0.1"
			self = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		}
		conf.Services[name] = svc
		hosts[primitives.ServiceName(name)] = static.SingleLocalHost(self)
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = net.JoinHostPort(dialHost(host), strconv.Itoa(port))
	return conf, hosts, nil
}

// dialHost is where this process reaches a service bound on host: a wildcard bind is
// reached on loopback.
func dialHost(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return host
}

func splitAddr(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, port, nil
}

// freePort asks the kernel for a free local port for an internal service.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func checkFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("address in use (is another inbox dev or Temporal running?)")
	}
	return l.Close()
}
