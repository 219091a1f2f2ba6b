// Package migrations holds the SQL schema as embedded, ordered migration files, and runs them
// with bun's migrator. It is the only place the schema changes.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var sqlFiles embed.FS

// Migrations is the set of this project's migrations.
var Migrations = migrate.NewMigrations()

func init() {
	if err := Migrations.Discover(sqlFiles); err != nil {
		panic(err)
	}
}

// Migrator returns a migrator for db, with its bookkeeping tables created.
func Migrator(ctx context.Context, db *bun.DB) (*migrate.Migrator, error) {
	m := migrate.NewMigrator(db, Migrations, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migrations: %w", err)
	}
	return m, nil
}

// Up applies every pending migration under the migrator's lock, so two processes starting
// together do not both run them. It returns the names applied.
func Up(ctx context.Context, db *bun.DB) ([]string, error) {
	m, err := Migrator(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := m.Lock(ctx); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	defer m.Unlock(ctx) //nolint:errcheck // the lock row is removed on the next successful run too
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate up: %w", err)
	}
	return names(group.Migrations), nil
}

// Down rolls back the last applied group.
func Down(ctx context.Context, db *bun.DB) ([]string, error) {
	m, err := Migrator(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := m.Lock(ctx); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	defer m.Unlock(ctx) //nolint:errcheck
	group, err := m.Rollback(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate down: %w", err)
	}
	return names(group.Migrations), nil
}

// Status describes applied and pending migrations, one per line.
func Status(ctx context.Context, db *bun.DB) (string, error) {
	m, err := Migrator(ctx, db)
	if err != nil {
		return "", err
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, mig := range ms {
		state := "pending"
		if mig.IsApplied() {
			state = "applied (group " + fmt.Sprint(mig.GroupID) + ")"
		}
		fmt.Fprintf(&b, "%s\t%s\n", mig.Name, state)
	}
	return b.String(), nil
}

func names(ms migrate.MigrationSlice) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}
