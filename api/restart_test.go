package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

// A closed conversation whose workflow an operator terminated is restarted by the next
// action on it (here an assignment). The new run must know the workspace's auto-archive
// setting and when the conversation was closed: closed two days ago with auto-archive after
// one day, it is archived at once. Before, the restarted run had no setting and it was never
// archived. A snooze woke it earlier, so the new run's first timer change follows an old
// run's timer change with the same counter.
func TestRestartedWorkflowKeepsAutoArchive(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Restart Co")
	ctx := context.Background()
	id := newConversation(t, env, ws, "restart-1")
	conv := mustUUID(t, id)

	// A snooze that wakes: its change has the request id timer/<id>/1.
	until := time.Now().Add(time.Second).UTC()
	if res := snoozeState(env, ws, id, map[string]any{"state": "pending", "until": until.Format(time.RFC3339Nano)}); res.Code != http.StatusOK {
		t.Fatalf("snooze: %d %s", res.Code, res.Body)
	}
	testenv.Eventually(t, 30*time.Second, "the snooze to wake", func() bool {
		v, err := env.Store.GetConversation(ctx, ws.WorkspaceID, conv)
		return err == nil && v.State == domain.Open
	})
	if res := setStateAs(env, ws.OwnerToken, ws, id, "closed"); res.Code != http.StatusOK {
		t.Fatalf("close: %d %s", res.Code, res.Body)
	}
	if res := env.As(ws.OwnerToken, http.MethodPatch, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/settings",
		map[string]any{"auto_archive_days": 1}); res.Code != http.StatusOK {
		t.Fatalf("auto-archive: %d %s", res.Code, res.Body)
	}
	// Let the fan-out reach the workflow before it is terminated, so that it does not arm
	// the old run instead (the fan-out is not what is under test).
	time.Sleep(500 * time.Millisecond)

	v, err := env.Store.GetConversation(ctx, ws.WorkspaceID, conv)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.TerminateWorkflow(ctx, v.WorkflowID, "", "an operator's mistake"); err != nil {
		t.Fatal(err)
	}
	// Closed two days ago, as far as the inbox's records go.
	twoDaysAgo := time.Now().Add(-48 * time.Hour)
	if _, err := env.Store.DB.NewRaw(`UPDATE conversations SET closed_at = ? WHERE id = ?`, twoDaysAgo, conv).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.DB.NewRaw(`UPDATE audit_log SET at = ? WHERE conversation_id = ? AND action = 'state_changed' AND after->>'state' = 'closed'`,
		twoDaysAgo, conv).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	// One action that is not a state change restarts the workflow.
	if res := env.As(ws.OwnerToken, http.MethodPut, convPath(ws, id, "/assignee"), map[string]any{"user_id": ws.OwnerUserID}); res.Code != http.StatusOK {
		t.Fatalf("assign: %d %s", res.Code, res.Body)
	}
	// The archive is the timer's change, written by the write-back; the assign after it may
	// show the archived state first (it carries the lifecycle it leaves), its audit row
	// follows within moments.
	testenv.Eventually(t, 30*time.Second, "the restarted workflow to archive it", func() bool {
		v, err := env.Store.GetConversation(ctx, ws.WorkspaceID, conv)
		return err == nil && v.State == domain.Archived && countActions(audit(t, env, ws, id), "state_changed") >= 4
	})
	if n := countActions(audit(t, env, ws, id), "state_changed"); n != 4 {
		t.Errorf("%d state changes audited, want 4 (pending, open, closed, archived)", n)
	}
}
