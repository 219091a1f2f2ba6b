package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

// Each way Postgres can fail to serve a call, produced for real, is classified as
// unavailable; faults of the query or the data are not.
func TestIsUnavailable(t *testing.T) {
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, "Outage", "owner@outage.example", "Owner")
	if err != nil {
		t.Fatal(err)
	}
	wsID := ws.WorkspaceID

	check := func(t *testing.T, err error, want bool) {
		t.Helper()
		if err == nil {
			t.Fatal("the call succeeded; want an error")
		}
		t.Logf("%T: %v", err, err)
		if got := store.IsUnavailable(err); got != want {
			t.Fatalf("IsUnavailable(%T %v) = %v, want %v", err, err, got, want)
		}
	}

	t.Run("connection broken, then refused", func(t *testing.T) {
		p := testenv.NewProxy(t, testenv.PostgresAddr(t))
		through := testenv.StoreThrough(t, s, p)
		if _, err := through.GetConversation(ctx, wsID, uuid.New()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("before the cut: %v", err)
		}
		p.Cut()
		for range 3 { // pooled connections first, then new ones
			_, err := through.GetConversation(ctx, wsID, uuid.New())
			check(t, err, true)
		}
	})

	t.Run("backend terminated", func(t *testing.T) {
		conn, err := s.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var pid int
		if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB.ExecContext(ctx, "SELECT pg_terminate_backend(?)", pid); err != nil {
			t.Fatal(err)
		}
		_, err = conn.ExecContext(ctx, "SELECT 1")
		check(t, err, true)
	})

	t.Run("lock timeout", func(t *testing.T) {
		holder, err := s.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Rollback()
		if _, err := holder.ExecContext(ctx, "LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		tx, err := s.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '50ms'"); err != nil {
			t.Fatal(err)
		}
		_, err = tx.ExecContext(ctx, "SELECT count(*) FROM audit_log")
		check(t, err, true)
	})

	t.Run("statement timeout", func(t *testing.T) {
		tx, err := s.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = '50ms'"); err != nil {
			t.Fatal(err)
		}
		_, err = tx.ExecContext(ctx, "SELECT pg_sleep(5)")
		check(t, err, true)
	})

	t.Run("deadline of the call", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := s.DB.ExecContext(dctx, "SELECT pg_sleep(5)")
		check(t, err, true)
	})

	t.Run("faults of the query or the data", func(t *testing.T) {
		_, err := s.GetConversation(ctx, wsID, uuid.New())
		check(t, err, false)
		_, err = s.DB.ExecContext(ctx, "SELEC 1")
		check(t, err, false)
		_, err = s.DB.ExecContext(ctx, "SELECT 1/0")
		check(t, err, false)
		check(t, errors.New("lifecycle change without request id"), false)
	})
}
