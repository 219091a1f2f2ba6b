package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// Workspace is a customer's account; its members share its conversations.
type Workspace struct {
	bun.BaseModel `bun:"table:workspaces"`

	ID            uuid.UUID `bun:"id,pk,type:uuid"`
	Name          string    `bun:"name"`
	IngestKeyHash []byte    `bun:"ingest_key_hash"`
	CreatedAt     time.Time `bun:"created_at,nullzero,default:now()"`
}

// User is a person who can call the admin API with their token.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID        uuid.UUID `bun:"id,pk,type:uuid"`
	Email     string    `bun:"email"`
	Name      string    `bun:"name"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()"`
}

// Membership gives a user one role in one workspace.
type Membership struct {
	bun.BaseModel `bun:"table:memberships"`

	WorkspaceID uuid.UUID   `bun:"workspace_id,pk,type:uuid"`
	UserID      uuid.UUID   `bun:"user_id,pk,type:uuid"`
	Role        domain.Role `bun:"role"`
	CreatedAt   time.Time   `bun:"created_at,nullzero,default:now()"`
}

// NewWorkspace is what bootstrapping a workspace hands back; the secrets are shown only here.
type NewWorkspace struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	IngestKey   string    `json:"ingest_key"`
	OwnerUserID uuid.UUID `json:"owner_user_id"`
	OwnerToken  string    `json:"owner_token"`
}

// CreateWorkspace creates a workspace, its owner (or reuses the user with that email) and a
// fresh API token for the owner in this workspace, in one transaction. It is the operator's
// command, so the token is made even for an owner who has an account already.
func (s *Store) CreateWorkspace(ctx context.Context, name, ownerEmail, ownerName string) (NewWorkspace, error) {
	name, ownerEmail = strings.TrimSpace(name), strings.TrimSpace(ownerEmail)
	if name == "" {
		return NewWorkspace{}, errors.New("workspace name is required")
	}
	if !validEmail(ownerEmail) {
		return NewWorkspace{}, fmt.Errorf("owner email %q: %w", ownerEmail, ErrNotAnEmail)
	}
	out := NewWorkspace{IngestKey: NewSecret(ingestKeyPrefix)}
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ws := &Workspace{ID: uuid.Must(uuid.NewV7()), Name: name, IngestKeyHash: Hash(out.IngestKey)}
		if _, err := tx.NewInsert().Model(ws).Exec(ctx); err != nil {
			return fmt.Errorf("insert workspace: %w", err)
		}
		user, err := upsertUser(ctx, tx, ownerEmail, ownerName)
		if err != nil {
			return err
		}
		m := &Membership{WorkspaceID: ws.ID, UserID: user.ID, Role: domain.Owner}
		if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
			return fmt.Errorf("insert membership: %w", err)
		}
		token, _, err := s.issueToken(ctx, tx, ws.ID, user.ID, "owner token")
		if err != nil {
			return err
		}
		out.WorkspaceID, out.OwnerUserID, out.OwnerToken = ws.ID, user.ID, token
		return nil
	})
	return out, err
}

// upsertUser finds the user by email (case-insensitively) or creates them.
func upsertUser(ctx context.Context, db bun.IDB, email, name string) (*User, error) {
	user := new(User)
	err := db.NewSelect().Model(user).Where("lower(email) = lower(?)", email).Scan(ctx)
	if err == nil {
		return user, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find user: %w", err)
	}
	if strings.TrimSpace(name) == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	user = &User{ID: uuid.Must(uuid.NewV7()), Email: email, Name: strings.TrimSpace(name)}
	if _, err := db.NewInsert().Model(user).
		On("CONFLICT ((lower(email))) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert user: %w", err)
	}
	// A concurrent insert of the same email wins; read back whichever row stands.
	if err := db.NewSelect().Model(user).Where("lower(email) = lower(?)", email).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	return user, nil
}

// WorkspaceByIngestKey returns the workspace an ingest key identifies, or ErrNotFound.
func (s *Store) WorkspaceByIngestKey(ctx context.Context, key string) (*Workspace, error) {
	ws := new(Workspace)
	err := s.DB.NewSelect().Model(ws).Where("ingest_key_hash = ?", Hash(key)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return ws, err
}

// ErrNotAnEmail refuses an email address without one @ between text, or with spaces.
var ErrNotAnEmail = errors.New("not an email address")

// validEmail is a deliberately loose check: one @ with text on both sides, no spaces.
func validEmail(s string) bool {
	local, domainPart, ok := strings.Cut(s, "@")
	return ok && local != "" && domainPart != "" && !strings.ContainsAny(s, " \t\r\n<>") &&
		!strings.Contains(domainPart, "@") && len(s) <= 254
}

// WorkspaceMembership is one workspace a user belongs to, with the user's role in it.
type WorkspaceMembership struct {
	ID   uuid.UUID   `bun:"id"`
	Name string      `bun:"name"`
	Role domain.Role `bun:"role"`
}

// maxWorkspacesPerUser bounds the switcher's list; nobody works in more.
const maxWorkspacesPerUser = 200

// WorkspacesOf lists the workspaces userID is a member of, by name.
func (s *Store) WorkspacesOf(ctx context.Context, userID uuid.UUID) ([]WorkspaceMembership, error) {
	var out []WorkspaceMembership
	err := s.DB.NewSelect().TableExpr("memberships AS m").
		Join("JOIN workspaces AS w ON w.id = m.workspace_id").
		ColumnExpr("w.id, w.name, m.role").
		Where("m.user_id = ?", userID).
		OrderExpr("lower(w.name), w.id").
		Limit(maxWorkspacesPerUser).
		Scan(ctx, &out)
	return out, err
}
