package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/converter"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/workflows"
)

// workflowStatus asks the conversation's workflow for its Status (the state Query).
func workflowStatus(t *testing.T, env *testenv.Env, id string) workflows.Status {
	t.Helper()
	// A Query waits for a workflow task; on a loaded machine (the race detector) one can
	// outlast the client's 10 s, so a Query that timed out is asked again, for a while.
	var (
		v   converter.EncodedValue
		err error
	)
	for deadline := time.Now().Add(time.Minute); ; {
		v, err = env.Client.QueryWorkflow(t.Context(), domain.WorkflowID(mustUUID(t, id)), "", workflows.QueryState)
		var late *serviceerror.DeadlineExceeded
		if err == nil || !(errors.As(err, &late) || errors.Is(err, context.DeadlineExceeded)) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("query workflow of %s: %v", id, err)
	}
	var st workflows.Status
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// Turning auto-archive on reaches the conversations closed while it was off: the fan-out
// signals each, and each arms its archive deadline at closed_at + the days. Turning it off
// disarms them. A conversation reopened before the change gets none.
func TestAutoArchiveFanOutArmsClosedConversations(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Fan Out Co")
	ctx := context.Background()
	_, adminTok, err := env.Store.AddMember(ctx, ws.WorkspaceID, "admin@fanout.example", "Adm", domain.Admin)
	if err != nil {
		t.Fatal(err)
	}
	closed := []string{newConversation(t, env, ws, "fan-1"), newConversation(t, env, ws, "fan-2")}
	reopened := newConversation(t, env, ws, "fan-reopened")
	for _, id := range append(closed, reopened) {
		if res := setState(env, ws, id, "closed"); res.Code != http.StatusOK {
			t.Fatalf("close %s: %d %s", id, res.Code, res.Body)
		}
	}
	if res := setState(env, ws, reopened, "open"); res.Code != http.StatusOK {
		t.Fatalf("reopen: %d %s", res.Code, res.Body)
	}
	closedAt := map[string]time.Time{}
	for _, id := range closed {
		if st := workflowStatus(t, env, id); st.ArchiveAt != nil {
			t.Fatalf("%s closed with auto-archive off has an archive deadline %s", id, st.ArchiveAt)
		}
		v, err := env.Store.GetConversation(ctx, ws.WorkspaceID, mustUUID(t, id))
		if err != nil || !v.ClosedAt.Valid {
			t.Fatalf("%s: closed_at %+v %v", id, v.ClosedAt, err)
		}
		closedAt[id] = v.ClosedAt.Time
	}

	path := "/api/v1/workspaces/" + ws.WorkspaceID.String() + "/settings"
	if res := env.As(adminTok, http.MethodPatch, path, map[string]any{"auto_archive_days": 1}); res.Code != http.StatusOK {
		t.Fatalf("PATCH 1 day as admin: %d %s", res.Code, res.Body)
	}
	for _, id := range closed {
		want := closedAt[id].AddDate(0, 0, 1)
		var last workflows.Status
		armed := func() bool {
			last = workflowStatus(t, env, id)
			return last.State == domain.Closed && last.ArchiveAt != nil
		}
		testenv.Eventually(t, 15*time.Second, "the archive deadline of "+id, armed)
		if d := last.ArchiveAt.Sub(want); d < -time.Second || d > time.Second {
			t.Errorf("%s: archive_at %s, want closed_at %s + 1 day = %s", id, last.ArchiveAt, closedAt[id], want)
		}
	}
	// The fan-out has finished once both are armed (it signals one page at once); the
	// reopened conversation is not closed, so it has no deadline.
	if st := workflowStatus(t, env, reopened); st.State != domain.Open || st.ArchiveAt != nil {
		t.Errorf("reopened conversation: %+v, want open without an archive deadline", st)
	}

	if res := env.As(adminTok, http.MethodPatch, path, map[string]any{"auto_archive_days": nil}); res.Code != http.StatusOK {
		t.Fatalf("PATCH null as admin: %d %s", res.Code, res.Body)
	}
	for _, id := range closed {
		testenv.Eventually(t, 15*time.Second, "the archive deadline of "+id+" to go", func() bool {
			return workflowStatus(t, env, id).ArchiveAt == nil
		})
		if st := workflowStatus(t, env, id); st.State != domain.Closed {
			t.Errorf("%s after turning auto-archive off: %s, want still closed", id, st.State)
		}
	}
	if st := workflowStatus(t, env, reopened); st.ArchiveAt != nil {
		t.Errorf("reopened conversation armed after turning off: %+v", st)
	}
}
