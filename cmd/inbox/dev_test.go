package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/internal/testenv"
)

func TestDevDemoOwnerCanSignInWithThePrintedPassword(t *testing.T) {
	ctx := context.Background()
	a := &app{store: testenv.NewStore(t)}
	dir := t.TempDir()
	// No API listens at this address: the demo conversation is skipped, the rest is seeded.
	first, err := seedDemo(ctx, a, dir, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := accounts.ValidatePassword(first.OwnerPassword); err != nil {
		t.Fatalf("demo password %q: %v", first.OwnerPassword, err)
	}
	acc := accounts.New(a.store)
	if _, err := acc.SignIn(ctx, demoOwnerEmail, first.OwnerPassword, "127.0.0.1"); err != nil {
		t.Fatalf("the demo owner cannot sign in: %v", err)
	}
	var saved demoCredentials
	b, _ := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err := json.Unmarshal(b, &saved); err != nil || saved.OwnerPassword != first.OwnerPassword {
		t.Errorf("demo.json does not keep the password: %s", b)
	}

	// The next start prints the same password, and it still works.
	again, err := seedDemo(ctx, a, dir, "http://127.0.0.1:1")
	if err != nil || again.OwnerPassword != first.OwnerPassword || again.WorkspaceID != first.WorkspaceID {
		t.Fatalf("second start: %+v, %v", again, err)
	}
	// Changed meanwhile (in the web admin): the start sets the printed one again.
	if err := acc.SetPassword(ctx, first.OwnerUserID, "changed in the web admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := seedDemo(ctx, a, dir, "http://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.SignIn(ctx, demoOwnerEmail, first.OwnerPassword, "127.0.0.1"); err != nil {
		t.Errorf("after a change, the printed password does not sign in: %v", err)
	}

	// The owner token expired (or was revoked): the next start makes a new one in the same
	// workspace instead of printing a dead token or seeding a second workspace.
	if _, err := a.store.DB.NewRaw(`UPDATE api_tokens SET expires_at = now() - interval '1 minute'`).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	renewed, err := seedDemo(ctx, a, dir, "http://127.0.0.1:1")
	if err != nil || renewed.WorkspaceID != first.WorkspaceID || renewed.OwnerToken == first.OwnerToken {
		t.Fatalf("start after the token expired: %+v, %v", renewed, err)
	}
	if m, err := a.store.MemberByToken(ctx, renewed.OwnerToken, time.Now()); err != nil || m.WorkspaceID != first.WorkspaceID {
		t.Errorf("the renewed token: %+v %v", m, err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "demo.json"))
	if err := json.Unmarshal(b, &saved); err != nil || saved.OwnerToken != renewed.OwnerToken {
		t.Errorf("demo.json does not keep the renewed token")
	}
}
