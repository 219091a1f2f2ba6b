// Package store is the inbox's Postgres read model and the only package that writes SQL.
// Lifecycle changes arrive here from the conversation workflow's activities; lists,
// filters and exports are read from here by the API. It knows nothing of HTTP or Temporal.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// ErrNotFound is returned when an object does not exist in the caller's workspace.
var ErrNotFound = errors.New("not found")

// Store wraps the database handle.
type Store struct {
	DB *bun.DB
	// TokenLifetime is how long a new API token works; zero is DefaultTokenLifetime.
	TokenLifetime time.Duration

	announcer announcer
	// hooked holds the workspaces whose last lifecycle write found an enabled webhook
	// endpoint: their changes are written in a transaction at once (applyAlone).
	hooked sync.Map
}

// Open connects to databaseURL, creating the database first if it does not exist.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	if err := ensureDatabase(ctx, databaseURL); err != nil {
		return nil, err
	}
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(databaseURL)))
	sqldb.SetMaxOpenConns(DefaultMaxConns)
	sqldb.SetMaxIdleConns(DefaultMaxConns) // see LimitConnections
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to Postgres at %s: %w", redact(databaseURL), err)
	}
	return &Store{DB: db}, nil
}

// DefaultMaxConns is the connections Open allows until LimitConnections says otherwise.
const DefaultMaxConns = 32

// LimitConnections bounds the pool at n open connections: Postgres refuses every client past
// its max_connections, so each process sharing a server takes its part, not as many as it
// could use. All n may stay idle (until ConnMaxIdleTime): a pool that keeps fewer idle than
// it opens closes connections between the requests of a steady load and opens new ones for
// the next, and each new one costs Postgres a process and a cold catalog cache. Capped at
// half, 32 ingest clients had Postgres start sessions continuously.
func (s *Store) LimitConnections(n int) {
	s.DB.SetMaxOpenConns(n)
	s.DB.SetMaxIdleConns(n)
}

// Close releases the connection pool.
func (s *Store) Close() error { return s.DB.Close() }

// Ping checks that Postgres answers.
func (s *Store) Ping(ctx context.Context) error { return s.DB.PingContext(ctx) }

// ensureDatabase creates the database named in databaseURL when it is missing, by connecting
// to the server's maintenance database "postgres".
func ensureDatabase(ctx context.Context, databaseURL string) error {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" {
		return nil
	}
	admin := *u
	admin.Path = "/postgres"
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(admin.String())))
	defer sqldb.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var exists bool
	if err := sqldb.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("connect to Postgres at %s: %w", redact(databaseURL), err)
	}
	if exists {
		return nil
	}
	_, err = sqldb.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(name, `"`, `""`)+`"`)
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) && pgErr.Field('C') == "42P04" { // created by a concurrent starter
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}

// redact hides a password in a database URL before it is printed.
func redact(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
