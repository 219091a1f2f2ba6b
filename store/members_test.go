package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

// Each removal of a user, re-added in between, has its own id, and LastRemoval finds the
// latest, so a retried removal repeats its own Update ids and no other's.
func TestEachRemovalHasItsOwnID(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	ws, err := s.CreateWorkspace(ctx, "Removals", "owner@removals.example", "Owner")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LastRemoval(ctx, ws.WorkspaceID, ws.OwnerUserID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LastRemoval of a user never removed: %v", err)
	}
	seen := map[uuid.UUID]bool{}
	for round := range 3 {
		m, _, err := s.AddMember(ctx, ws.WorkspaceID, "back@removals.example", "Back", domain.Support)
		if err != nil {
			t.Fatal(err)
		}
		removal, err := s.RemoveMember(ctx, ws.WorkspaceID, m.UserID, nil, nil)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if removal == uuid.Nil || seen[removal] {
			t.Fatalf("round %d: removal id %s is not new", round, removal)
		}
		seen[removal] = true
		if last, err := s.LastRemoval(ctx, ws.WorkspaceID, m.UserID); err != nil || last != removal {
			t.Fatalf("round %d: LastRemoval = %s, %v; want %s", round, last, err, removal)
		}
		if _, err := s.RemoveMember(ctx, ws.WorkspaceID, m.UserID, nil, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("round %d: removing twice: %v", round, err)
		}
	}
}

// Owners demoting each other at the same moment: one succeeds, the other sees ErrLastOwner.
func TestConcurrentDemotionsKeepAnOwner(t *testing.T) {
	t.Parallel()
	s := testenv.NewStore(t)
	ctx := context.Background()
	for i := range 10 {
		ws, err := s.CreateWorkspace(ctx, "Demotions", uuid.NewString()+"@demotions.example", "Owner")
		if err != nil {
			t.Fatal(err)
		}
		second, _, err := s.AddMember(ctx, ws.WorkspaceID, uuid.NewString()+"@demotions.example", "Second", domain.Owner)
		if err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for j, user := range []uuid.UUID{ws.OwnerUserID, second.UserID} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[j] = s.ChangeRole(ctx, ws.WorkspaceID, user, domain.Admin, nil)
			}()
		}
		close(start)
		wg.Wait()
		lost := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, store.ErrLastOwner):
				lost++
			case err != nil:
				t.Fatal(err)
			}
		}
		owners, err := s.DB.NewSelect().Table("memberships").
			Where("workspace_id = ? AND role = 'owner'", ws.WorkspaceID).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if owners != 1 || lost != 1 {
			t.Errorf("workspace %d: %d owners left, %d refused (errors %v)", i, owners, lost, errs)
		}
	}
}
