package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/config"
	"github.com/bestai/inbox/migrations"
	"github.com/bestai/inbox/store"
)

// runWorkspace implements `inbox workspace create`: it prints one JSON object with the
// workspace id, its ingest key, the owner's user id and API token, and the invite link on
// which the owner sets their web admin password. The secrets are shown only here; Postgres
// keeps their hashes.
func runWorkspace(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: inbox workspace create --name NAME --owner-email EMAIL [--owner-name NAME]")
	}
	fs := flag.NewFlagSet("workspace create", flag.ContinueOnError)
	name := fs.String("name", "", "workspace name (required)")
	email := fs.String("owner-email", "", "owner's email (required)")
	ownerName := fs.String("owner-name", "", "owner's display name")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" || *email == "" {
		return fmt.Errorf("--name and --owner-email are required")
	}
	s, cfg, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	ws, err := s.CreateWorkspace(ctx, *name, *email, *ownerName)
	if err != nil {
		return err
	}
	// A second transaction: should it fail, the workspace stands, its secrets are still
	// printed (they are shown only here), and a later invite can give the owner a password.
	// An owner who already has an account gets no link: they sign in with their password.
	created := createdWorkspace{NewWorkspace: ws}
	invite, _, inviteErr := accounts.New(s).CreateInvite(ctx, ws.WorkspaceID, ws.OwnerUserID)
	switch {
	case inviteErr == nil:
		created.OwnerInviteURL = accounts.InviteURL(cfg.PublicURL, invite)
	case errors.Is(inviteErr, store.ErrHasAccount):
		created.OwnerHasAccount, inviteErr = true, nil
	}
	if err := json.NewEncoder(out).Encode(created); err != nil {
		return err
	}
	if inviteErr != nil {
		return fmt.Errorf("workspace created, but not the owner's invite: %w", inviteErr)
	}
	return nil
}

// createdWorkspace is what `inbox workspace create` prints.
type createdWorkspace struct {
	store.NewWorkspace
	OwnerInviteURL string `json:"owner_invite_url"`
	// OwnerHasAccount: the owner signs in with the password they have; no link is made.
	OwnerHasAccount bool `json:"owner_has_account,omitempty"`
}

// openStore opens DATABASE_URL for an operator's command, with the schema brought up to
// date and the configured token lifetime.
func openStore(ctx context.Context) (*store.Store, config.Config, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, cfg, err
	}
	s, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, cfg, err
	}
	s.TokenLifetime = cfg.TokenLifetime
	if _, err := migrations.Up(ctx, s.DB); err != nil {
		_ = s.Close()
		return nil, cfg, err
	}
	return s, cfg, nil
}
