package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
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
	v := newVisitor(t, base)
	if code, _, _ := v.signIn(testenv.OwnerEmail("Queued Page"), password); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	detail := web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox) + "c/" + id
	if code, _, _ := v.get(detail); code != http.StatusOK { // the page's form token
		t.Fatalf("detail: %d", code)
	}
	form := url.Values{"state": {"closed"}, "idempotency_key": {"k-queued"}, web.CSRFFormField: {v.token}}
	req, _ := http.NewRequest(http.MethodPost, v.base+detail+"/state", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", v.base)
	req.Header.Set("HX-Request", "true")
	resp, err := v.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(page, "this one is queued and will be applied in order") {
		t.Fatalf("close in a burst: %d, want 202 saying the change is queued\n%s", resp.StatusCode, page)
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
