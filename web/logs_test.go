package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/internal/testenv"
)

// An invite link's token signs its holder in until used: it must not reach the logs, which
// more people read than should hold one.
func TestInviteTokensStayOutOfTheLogs(t *testing.T) {
	var logs testenv.LogBuffer
	e := testenv.New(t, testenv.Options{NoWorker: true, Log: &logs})
	ws := e.NewWorkspace("Acme")
	base := e.Serve("")
	owner, err := e.Store.SignInUserByEmail(context.Background(), testenv.OwnerEmail("Acme"))
	if err != nil {
		t.Fatal(err)
	}
	good, _, err := e.Accounts.CreateInvite(context.Background(), ws.WorkspaceID, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	const bad = "not-a-real-invite-token-0123456789abcdef"

	v := newVisitor(t, base)
	for _, token := range []string{bad, good} {
		v.get(accounts.InvitePath + token)
		v.post(accounts.InvitePath+token, url.Values{"password": {"short"}, "confirm": {"short"}}, true)
		v.get(accounts.InvitePath + token + "/more")
	}
	// The error case: the database gone, the page fails and logs why.
	_ = e.Store.DB.Close()
	for _, token := range []string{bad, good} {
		if code, _, _ := v.get(accounts.InvitePath + token); code < 500 {
			t.Errorf("invite page without a database: %d, want a 5xx", code)
		}
		v.post(accounts.InvitePath+token, url.Values{"password": {password}, "confirm": {password}}, true)
	}

	out := logs.String()
	if !strings.Contains(out, "request failed") {
		t.Fatalf("the failures were not logged, so this test shows nothing:\n%s", out)
	}
	for _, token := range []string{bad, good} {
		if strings.Contains(out, token) {
			t.Errorf("the logs carry the invite token %s:\n%s", token, out)
		}
	}
}
