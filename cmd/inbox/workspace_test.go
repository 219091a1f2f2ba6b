package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/store"
)

func TestWorkspaceCreatePrintsTheBootstrapJSON(t *testing.T) {
	admin, err := url.Parse(testenv.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	// A database that does not exist yet: the command creates and migrates it.
	db := *admin
	db.Path = fmt.Sprintf("/inbox_cmd_test_%d", time.Now().UnixNano())
	t.Setenv("DATABASE_URL", db.String())
	t.Setenv("INBOX_PUBLIC_URL", "https://inbox.example.com/")
	t.Cleanup(func() {
		s, err := store.Open(context.Background(), admin.String())
		if err == nil {
			_, _ = s.DB.Exec(`DROP DATABASE IF EXISTS "` + strings.TrimPrefix(db.Path, "/") + `" WITH (FORCE)`)
			_ = s.Close()
		}
	})
	var out bytes.Buffer
	err = runWorkspace(context.Background(), []string{"create", "--name", "Acme", "--owner-email", "ana@acme.example", "--owner-name", "Ana"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON object: %q", out.String())
	}
	for _, k := range []string{"workspace_id", "ingest_key", "owner_user_id", "owner_token", "owner_invite_url"} {
		if got[k] == "" {
			t.Errorf("missing %s in %s", k, out.String())
		}
	}
	s, err := store.Open(context.Background(), db.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.MemberByToken(context.Background(), got["owner_token"], time.Now())
	if err != nil || u.UserID.String() != got["owner_user_id"] || u.Name != "Ana" ||
		u.WorkspaceID.String() != got["workspace_id"] || u.Role != domain.Owner {
		t.Errorf("the printed token does not resolve to the owner in the new workspace: %+v %v", u, err)
	}
	var hashes int
	hashes, _ = s.DB.NewSelect().Table("api_tokens").Where("token_hash = sha256(?::bytea)", got["owner_token"]).Count(context.Background())
	if hashes != 1 {
		t.Errorf("the token is not stored as its SHA-256")
	}

	// The invite link is under INBOX_PUBLIC_URL and lets the owner set a password once.
	invite, ok := strings.CutPrefix(got["owner_invite_url"], "https://inbox.example.com/invite/")
	if !ok || invite == "" {
		t.Fatalf("owner_invite_url = %q", got["owner_invite_url"])
	}
	acc := accounts.New(s)
	acc.BcryptCost = bcrypt.MinCost
	who, err := acc.InviteInfo(context.Background(), invite)
	if err != nil || who.Email != "ana@acme.example" || who.UserID.String() != got["owner_user_id"] {
		t.Fatalf("InviteInfo = %+v, %v", who, err)
	}
	if _, err := acc.AcceptInvite(context.Background(), invite, "the owner's password"); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.SignIn(context.Background(), "ana@acme.example", "the owner's password", "127.0.0.1"); err != nil {
		t.Errorf("the owner cannot sign in with the password set on the invite: %v", err)
	}
	if _, err := acc.AcceptInvite(context.Background(), invite, "another password"); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("the invite worked twice: %v", err)
	}

	// A second workspace for the same owner: a token of that workspace, and no link, since
	// they have a password.
	out.Reset()
	if err := runWorkspace(context.Background(), []string{"create", "--name", "Acme Two", "--owner-email", "ANA@acme.example"}, &out); err != nil {
		t.Fatal(err)
	}
	var second struct {
		WorkspaceID     string `json:"workspace_id"`
		OwnerToken      string `json:"owner_token"`
		OwnerInviteURL  string `json:"owner_invite_url"`
		OwnerHasAccount bool   `json:"owner_has_account"`
	}
	if err := json.Unmarshal(out.Bytes(), &second); err != nil || second.OwnerInviteURL != "" || !second.OwnerHasAccount {
		t.Errorf("a second workspace of an account holder: %s (%v)", out.String(), err)
	}
	if m, err := s.MemberByToken(context.Background(), second.OwnerToken, time.Now()); err != nil || m.WorkspaceID.String() != second.WorkspaceID {
		t.Errorf("the second owner token: %+v %v", m, err)
	}

	// The operator's way back in for a lost password: a link for anyone, by email.
	out.Reset()
	if err := runUser(context.Background(), []string{"invite", "--email", "ana@acme.example"}, &out); err != nil {
		t.Fatal(err)
	}
	var reset struct {
		UserID    string `json:"user_id"`
		InviteURL string `json:"invite_url"`
	}
	if err := json.Unmarshal(out.Bytes(), &reset); err != nil || reset.UserID != got["owner_user_id"] {
		t.Fatalf("inbox user invite: %s (%v)", out.String(), err)
	}
	link, _ := strings.CutPrefix(reset.InviteURL, "https://inbox.example.com/invite/")
	if _, err := acc.AcceptInvite(context.Background(), link, "a password after the reset"); err != nil {
		t.Errorf("the operator's link: %v", err)
	}
	if _, err := acc.SignIn(context.Background(), "ana@acme.example", "a password after the reset", "127.0.0.1"); err != nil {
		t.Errorf("sign in after the reset: %v", err)
	}
	for _, args := range [][]string{nil, {"invite"}, {"invite", "--email", "nobody@acme.example"}} {
		if err := runUser(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("runUser(%v) accepted", args)
		}
	}
}

func TestWorkspaceCreateNeedsItsFlags(t *testing.T) {
	for _, args := range [][]string{nil, {"delete"}, {"create", "--name", "Acme"}, {"create", "--owner-email", "a@b.c"}} {
		if err := runWorkspace(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("runWorkspace(%v) accepted", args)
		}
	}
}

func TestBadConfigurationIsReportedPerVariable(t *testing.T) {
	t.Setenv("INBOX_HTTP_ADDR", "nonsense")
	t.Setenv("INBOX_SECRET_KEY", "short")
	_, err := loadConfig()
	if err == nil || !strings.Contains(err.Error(), "INBOX_HTTP_ADDR") || !strings.Contains(err.Error(), "INBOX_SECRET_KEY") {
		t.Errorf("loadConfig = %v", err)
	}
}
