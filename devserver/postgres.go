package devserver

import (
	"bytes"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/resolver"
	dbschema "go.temporal.io/server/schema"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

// Stores the embedded server can keep its data in.
const (
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
)

// DefaultDBMaxConns is each service's persistence pool (history, matching, frontend, worker
// each open their own), with half of it for visibility: 20+20 took two `inbox dev` to
// Postgres's 100 connections; 10+5 measured as fast (lifebench, 1 and 32 clients).
const DefaultDBMaxConns = 10

// Schema directories inside the server module's embedded schema FS (go.temporal.io/server/schema).
const (
	pgSchema           = "postgresql/v12/temporal"
	pgVisibilitySchema = "postgresql/v12/visibility"
)

// PostgresDatabases names Temporal's two databases next to the inbox database of
// databaseURL: <db>_temporal and <db>_temporal_visibility.
func PostgresDatabases(databaseURL string) (string, string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", "", err
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" {
		return "", "", fmt.Errorf("no database name in %s", u.Redacted())
	}
	return db + "_temporal", db + "_temporal_visibility", nil
}

// postgresConfigs creates Temporal's persistence and visibility databases if missing,
// brings their schema to the version this server module ships (the same steps as
// temporal-sql-tool setup-schema -v 0.0 and update-schema, so a restart is a no-op), and
// registers the namespace with its search attributes.
func postgresConfigs(o Options, logger log.Logger) (store, visibility *config.SQL, err error) {
	u, err := url.Parse(o.PostgresURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, nil, fmt.Errorf("want a postgres://user@host:port/db URL for Temporal's databases")
	}
	main, vis, err := PostgresDatabases(o.PostgresURL)
	if err != nil {
		return nil, nil, err
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	persistence := o.DBMaxConns
	if persistence <= 0 {
		persistence = DefaultDBMaxConns
	}
	visibilityConns := max(1, persistence/2)
	base := config.SQL{
		PluginName:      pgplugin.PluginNamePGX,
		User:            u.User.Username(),
		ConnectAddr:     net.JoinHostPort(host, port),
		ConnectProtocol: "tcp",
		MaxConns:        persistence,
		MaxIdleConns:    persistence,
	}
	base.Password, _ = u.User.Password()
	base.ConnectAttributes = map[string]string{}
	if o.SynchronousCommit != "" {
		base.ConnectAttributes["synchronous_commit"] = o.SynchronousCommit // a session setting, sent when connecting
	}
	for k, v := range u.Query() {
		base.ConnectAttributes[k] = v[0]
	}
	for _, s := range []struct{ db, schemaName string }{{main, pgSchema}, {vis, pgVisibilitySchema}} {
		if err := setupPostgresSchema(base, s.db, s.schemaName, logger); err != nil {
			return nil, nil, fmt.Errorf("temporal schema in database %s: %w", s.db, err)
		}
	}
	store, visibility = new(config.SQL), new(config.SQL)
	*store, *visibility = base, base
	visibility.MaxConns, visibility.MaxIdleConns = visibilityConns, visibilityConns
	store.DatabaseName, visibility.DatabaseName = main, vis
	ns, err := namespaceConfig(o)
	if err != nil {
		return nil, nil, err
	}
	// The same direct insert as the SQLite path: the namespace and its search attribute
	// aliases exist before the first worker polls, with no operator API round trip.
	if err := sqliteschema.CreateNamespaces(store, ns); err != nil {
		return nil, nil, fmt.Errorf("create namespace %s: %w", o.Namespace, err)
	}
	return store, visibility, nil
}

// setupPostgresSchema does what `temporal-sql-tool setup-schema -v 0.0` then `update-schema
// -d versioned` do, with the server module's own embedded schema files: every versioned
// step above the database's recorded version runs, so a fresh database gets them all and a
// restart on a current one runs none. (The tool's packages pull in a CLI library that this
// module does not otherwise need.)
func setupPostgresSchema(base config.SQL, db, schemaName string, logger log.Logger) error {
	admin, err := adminDB(base, "postgres", logger)
	if err != nil {
		return err
	}
	err = admin.CreateDatabase(db) // an existing database is kept
	_ = admin.Close()
	if err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	conn, err := adminDB(base, db, logger)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.CreateSchemaVersionTables(); err != nil {
		return err
	}
	current, err := conn.ReadSchemaVersion(db)
	if err != nil || current == "" {
		current = "0.0"
	}
	fsys := dbschema.Assets()
	dir := path.Join(schemaName, "versioned")
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return err
	}
	var steps []string
	for _, e := range entries {
		if v := strings.TrimPrefix(e.Name(), "v"); e.IsDir() && versionLess(current, v) {
			steps = append(steps, v)
		}
	}
	slices.SortFunc(steps, func(a, b string) int {
		if versionLess(a, b) {
			return -1
		}
		return 1
	})
	for _, v := range steps {
		stepDir := path.Join(dir, "v"+v)
		raw, err := fs.ReadFile(fsys, path.Join(stepDir, "manifest.json"))
		if err != nil {
			return err
		}
		var m struct {
			CurrVersion, MinCompatibleVersion, Description string
			SchemaUpdateCqlFiles                           []string
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("%s: %w", stepDir, err)
		}
		for _, file := range m.SchemaUpdateCqlFiles {
			b, err := fs.ReadFile(fsys, path.Join(stepDir, file))
			if err != nil {
				return err
			}
			stmts, err := persistence.LoadAndSplitQueryFromReaders([]io.Reader{bytes.NewReader(b)})
			if err != nil {
				return fmt.Errorf("%s/%s: %w", stepDir, file, err)
			}
			for _, stmt := range stmts {
				if err := conn.Exec(stmt); err != nil {
					return fmt.Errorf("%s/%s: %w", stepDir, file, err)
				}
			}
		}
		if err := conn.UpdateSchemaVersion(db, m.CurrVersion, m.MinCompatibleVersion); err != nil {
			return err
		}
		if err := conn.WriteSchemaUpdateLog(current, m.CurrVersion, fmt.Sprintf("%x", md5.Sum(raw)), m.Description); err != nil {
			return err
		}
		current = m.CurrVersion
	}
	return nil
}

func adminDB(base config.SQL, db string, logger log.Logger) (sqlplugin.AdminDB, error) {
	conf := base
	conf.DatabaseName = db
	return sql.NewSQLAdminDB(sqlplugin.DbKindUnknown, &conf, resolver.NewNoopResolver(), logger, metrics.NoopMetricsHandler)
}

// versionLess compares schema versions such as 1.9 and 1.19.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
