package migrations_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"

	"github.com/bestai/inbox/migrations"
	"github.com/bestai/inbox/store"
)

// freshDatabase is an empty database, dropped when the test ends.
func freshDatabase(t *testing.T) *store.Store {
	t.Helper()
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		raw = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	admin, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("inbox_migrate_%d_%d", time.Now().UnixNano(), rand.IntN(1_000_000))
	u := *admin
	u.Path = "/" + name
	s, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatalf("Postgres: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(admin.String())))
		defer db.Close()
		_, _ = db.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`)
	})
	return s
}

// migrateBefore applies every migration whose name sorts before name, as an older release did.
func migrateBefore(t *testing.T, s *store.Store, name string) {
	t.Helper()
	older := fstest.MapFS{}
	files, err := fs.Glob(os.DirFS("."), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f < name {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			older[f] = &fstest.MapFile{Data: b}
		}
	}
	set := migrate.NewMigrations()
	if err := set.Discover(older); err != nil {
		t.Fatal(err)
	}
	m := migrate.NewMigrator(s.DB, set, migrate.WithMarkAppliedOnSuccess(true))
	ctx := context.Background()
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
}

// Tokens made before tokens were scoped go to the workspace of the membership they were
// made with (same transaction, same now()); one whose membership is gone is deleted, not
// guessed into another workspace. Unused invites of a person in several workspaces go.
func TestScopedTokensMigration(t *testing.T) {
	s := freshDatabase(t)
	ctx := context.Background()
	migrateBefore(t, s, "20261206000001")

	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.DB.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	a, b := uuid.New(), uuid.New()
	ana, bo := uuid.New(), uuid.New()
	t1 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	t2, gone := t1.Add(time.Hour), t1.Add(2*time.Hour)
	for i, ws := range []uuid.UUID{a, b} {
		exec(`INSERT INTO workspaces (id, name, ingest_key_hash) VALUES (?, ?, ?)`, ws, fmt.Sprint("ws", i), []byte{byte(i)})
	}
	exec(`INSERT INTO users (id, email) VALUES (?, 'ana@x.example'), (?, 'bo@x.example')`, ana, bo)
	// Ana: owner of A (made at t1), added to B at t2; Bo: only in B.
	exec(`INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?), (?, ?, 'viewer', ?), (?, ?, 'support', ?)`,
		a, ana, t1, b, ana, t2, b, bo, t2)
	tokenA, tokenB, tokenGone, tokenBo := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	exec(`INSERT INTO api_tokens (id, user_id, token_hash, created_at) VALUES (?, ?, 'a', ?), (?, ?, 'b', ?), (?, ?, 'g', ?), (?, ?, 'o', ?)`,
		tokenA, ana, t1, tokenB, ana, t2, tokenGone, ana, gone, tokenBo, bo, t2)
	exec(`INSERT INTO invites (token_hash, user_id, created_at, expires_at) VALUES ('ia', ?, now(), now() + interval '1 day'), ('ib', ?, now(), now() + interval '1 day')`,
		ana, bo)

	if _, err := migrations.Up(ctx, s.DB); err != nil {
		t.Fatal(err)
	}

	got := map[uuid.UUID]uuid.UUID{}
	rows, err := s.DB.QueryContext(ctx, `SELECT id, workspace_id FROM api_tokens WHERE expires_at > now() + interval '89 days'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, ws uuid.UUID
		if err := rows.Scan(&id, &ws); err != nil {
			t.Fatal(err)
		}
		got[id] = ws
	}
	want := map[uuid.UUID]uuid.UUID{tokenA: a, tokenB: b, tokenBo: b}
	if len(got) != len(want) {
		t.Errorf("tokens after the migration (with ~90 days to live): %v, want %v", got, want)
	}
	for id, ws := range want {
		if got[id] != ws {
			t.Errorf("token %s is in workspace %s, want %s", id, got[id], ws)
		}
	}
	var invites []string
	if err := s.DB.NewRaw(`SELECT token_hash::text || ' ' || workspace_id::text FROM invites`).Scan(ctx, &invites); err != nil {
		t.Fatal(err)
	}
	if len(invites) != 1 || !strings.HasSuffix(invites[0], b.String()) {
		t.Errorf("invites after the migration: %q, want only Bo's, in B", invites)
	}
	// Removing a member now removes their tokens there, and only there.
	exec(`DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?`, b, ana)
	var left []uuid.UUID
	if err := s.DB.NewRaw(`SELECT id FROM api_tokens WHERE user_id = ?`, ana).Scan(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != tokenA {
		t.Errorf("Ana's tokens after leaving B: %v, want only %s", left, tokenA)
	}
}
