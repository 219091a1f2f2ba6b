package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

// A change the page asks for in a burst, which its workflow does not confirm in time (no
// worker runs), is queued: the page answers 202, still shows the conversation as it is, and
// says in words that the change is queued and will show; once a worker runs, it is applied.
func TestQueuedChangeIsSaidOnThePage(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{NoWorker: true, UpdateTimeout: 2 * time.Second})
	ws := e.NewWorkspace("Queued Page")
	e.SetPassword(testenv.OwnerEmail("Queued Page"), password)
	base := e.Serve("")
	id := ingest(t, e, ws.IngestKey, "ref-queued", "Ana", "Hi there")
	v, detail := ownerOnConversation(t, base, ws, "Queued Page", id)
	code, page := v.htmxPost(detail+"/state", url.Values{"state": {"closed"}, "idempotency_key": {"k-queued"}})
	if code != http.StatusAccepted || !strings.Contains(page, "this one is queued and will be applied in order") {
		t.Fatalf("close in a burst: %d, want 202 saying the change is queued\n%s", code, page)
	}
	conv := uuid.MustParse(id)
	if got, err := e.Store.GetConversation(context.Background(), ws.WorkspaceID, conv); err != nil || got.State != domain.Open {
		t.Fatalf("while queued the conversation is %v (%v), want open", got.State, err)
	}
	e.StartWorker()
	testenv.Eventually(t, 60*time.Second, "the queued close applied", func() bool {
		got, err := e.Store.GetConversation(context.Background(), ws.WorkspaceID, conv)
		return err == nil && got.State == domain.Closed
	})
}
