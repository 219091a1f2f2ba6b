package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/store"
)

// runUser implements `inbox user invite --email EMAIL`: the operator's way back in for a
// person who lost their password. A workspace admin cannot reset anyone's password; whoever
// runs the inbox can, from its shell. It prints one JSON object with the one-time link.
func runUser(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "invite" {
		return fmt.Errorf("usage: inbox user invite --email EMAIL")
	}
	fs := flag.NewFlagSet("user invite", flag.ContinueOnError)
	email := fs.String("email", "", "the person's email (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" {
		return fmt.Errorf("--email is required")
	}
	s, cfg, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := s.SignInUserByEmail(ctx, strings.TrimSpace(*email))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no account has the email %q", *email)
	}
	if err != nil {
		return err
	}
	token, expires, err := accounts.New(s).CreateOperatorInvite(ctx, u.ID)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(operatorInvite{
		UserID: u.ID.String(), Email: u.Email,
		InviteURL: accounts.InviteURL(cfg.PublicURL, token), ExpiresAt: expires.UTC(),
	})
}

// operatorInvite is what `inbox user invite` prints.
type operatorInvite struct {
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	InviteURL string    `json:"invite_url"`
	ExpiresAt time.Time `json:"expires_at"`
}
