package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

// TestFirstAssignmentIsKept: the read model keeps the time of the conversation's first
// assignment; an unassignment before it does not count, and later reassignments do not move
// it.
func TestFirstAssignmentIsKept(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, conv := seedConversation(t, s)
	var owner domain.Actor
	if err := s.DB.QueryRowContext(ctx, "SELECT user_id FROM memberships WHERE workspace_id = ?", ws).Scan(&owner.UserID); err != nil {
		t.Fatal(err)
	}
	owner.Name = "Owner"
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	first := func() sql.NullTime {
		var v sql.NullTime
		if err := s.DB.QueryRowContext(ctx, "SELECT first_assigned_at FROM conversations WHERE id = ?", conv).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	apply := func(id string, at time.Time, to *domain.Actor) {
		t.Helper()
		if err := s.ApplyLifecycleChange(ctx, domain.LifecycleChange{RequestID: id, WorkspaceID: ws, ConversationID: conv, At: at,
			AssigneeChanged: true, ToAssignee: to}); err != nil {
			t.Fatal(err)
		}
	}
	apply("unassign", t0, nil)
	if v := first(); v.Valid {
		t.Fatalf("an unassignment set the first assignment: %v", v.Time)
	}
	apply("assign", t0.Add(10*time.Minute), &owner)
	apply("unassign-2", t0.Add(20*time.Minute), nil)
	apply("assign-2", t0.Add(30*time.Minute), &owner)
	if v := first(); !v.Valid || !v.Time.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("first assignment %v, want %s", v, t0.Add(10*time.Minute))
	}
}
