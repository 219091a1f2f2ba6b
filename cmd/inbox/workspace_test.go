package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

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
	for _, k := range []string{"workspace_id", "ingest_key", "owner_user_id", "owner_token"} {
		if got[k] == "" {
			t.Errorf("missing %s in %s", k, out.String())
		}
	}
	s, err := store.Open(context.Background(), db.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.UserByToken(context.Background(), got["owner_token"])
	if err != nil || u.ID.String() != got["owner_user_id"] || u.Name != "Ana" {
		t.Errorf("the printed token does not resolve to the owner: %+v %v", u, err)
	}
	var hashes int
	hashes, _ = s.DB.NewSelect().Table("api_tokens").Where("token_hash = sha256(?::bytea)", got["owner_token"]).Count(context.Background())
	if hashes != 1 {
		t.Errorf("the token is not stored as its SHA-256")
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
