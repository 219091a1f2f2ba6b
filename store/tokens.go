package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/bestai/inbox/domain"
)

// DefaultTokenLifetime is how long an API token works when Store.TokenLifetime is zero.
const DefaultTokenLifetime = 90 * 24 * time.Hour

// MaxTokensPerMember bounds the live tokens of one membership: enough for every script a
// person runs, few enough that a leaked session cannot mint them without end.
const MaxTokensPerMember = 50

// ErrTooManyTokens refuses a token beyond MaxTokensPerMember.
var ErrTooManyTokens = errors.New("too many API tokens")

// apiToken is a stored API token: only the SHA-256 of the secret is kept. It belongs to one
// membership, so it acts in one workspace with the role its user holds there.
type apiToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID          uuid.UUID `bun:"id,pk,type:uuid"`
	WorkspaceID uuid.UUID `bun:"workspace_id,type:uuid"`
	UserID      uuid.UUID `bun:"user_id,type:uuid"`
	Name        string    `bun:"name"`
	TokenHash   []byte    `bun:"token_hash"`
	CreatedAt   time.Time `bun:"created_at,nullzero,default:now()"`
	ExpiresAt   time.Time `bun:"expires_at"`
}

// APIToken is a token as its owner sees it in a list: never the secret.
type APIToken struct {
	ID          uuid.UUID  `bun:"id"`
	WorkspaceID uuid.UUID  `bun:"workspace_id"`
	Name        string     `bun:"name"`
	CreatedAt   time.Time  `bun:"created_at"`
	ExpiresAt   time.Time  `bun:"expires_at"`
	LastUsedAt  *time.Time `bun:"last_used_at"`
}

func (s *Store) tokenExpiry(now time.Time) time.Time {
	if s.TokenLifetime > 0 {
		return now.Add(s.TokenLifetime)
	}
	return now.Add(DefaultTokenLifetime)
}

// issueToken stores a new token for the membership (workspaceID, userID), which must
// exist, and returns the secret, shown once.
func (s *Store) issueToken(ctx context.Context, db bun.IDB, workspaceID, userID uuid.UUID, name string) (string, *APIToken, error) {
	token := NewSecret(tokenPrefix)
	now := time.Now().UTC()
	row := &apiToken{ID: uuid.Must(uuid.NewV7()), WorkspaceID: workspaceID, UserID: userID, Name: name,
		TokenHash: Hash(token), CreatedAt: now, ExpiresAt: s.tokenExpiry(now)}
	if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("insert token: %w", err)
	}
	return token, &APIToken{ID: row.ID, WorkspaceID: workspaceID, Name: name, CreatedAt: now, ExpiresAt: row.ExpiresAt}, nil
}

// TokenMember is what a bearer token acts as: its membership, with the user's name.
type TokenMember struct {
	TokenID     uuid.UUID   `bun:"token_id"`
	WorkspaceID uuid.UUID   `bun:"workspace_id"`
	UserID      uuid.UUID   `bun:"user_id"`
	Email       string      `bun:"email"`
	Name        string      `bun:"name"`
	Role        domain.Role `bun:"role"`
	LastUsedAt  *time.Time  `bun:"last_used_at"`
	// HasConversation says whether the conversation MemberByTokenFor was asked about is in
	// the token's workspace.
	HasConversation bool `bun:"has_conversation"`
	// HasQueuedChanges says whether changes of that conversation wait in the queue.
	HasQueuedChanges bool `bun:"has_queued_changes"`
}

// tokenUsedEvery is how stale a token's last use may get: writing it on every request
// would turn each read into a write.
const tokenUsedEvery = time.Minute

// MemberByToken returns the membership a live token acts as, in one query, or ErrNotFound
// when the token is unknown, expired, or its membership is gone. It records now as the
// token's last use, at most once a minute.
func (s *Store) MemberByToken(ctx context.Context, token string, now time.Time) (*TokenMember, error) {
	return s.MemberByTokenFor(ctx, token, now, uuid.Nil)
}

// MemberByTokenFor is MemberByToken for a request about one conversation (conversationID,
// or uuid.Nil for none): the same query also says whether that conversation is in the
// token's workspace (HasConversation), so the request needs no lookup of its own.
func (s *Store) MemberByTokenFor(ctx context.Context, token string, now time.Time, conversationID uuid.UUID) (*TokenMember, error) {
	tm := new(TokenMember)
	q := s.DB.NewSelect().TableExpr("api_tokens AS t").
		Join("JOIN memberships AS m ON m.workspace_id = t.workspace_id AND m.user_id = t.user_id").
		Join("JOIN users AS u ON u.id = t.user_id").
		ColumnExpr("t.id AS token_id, t.workspace_id, t.user_id, u.email, u.name, m.role, t.last_used_at").
		Where("t.token_hash = ? AND t.expires_at > ?", Hash(token), now)
	if conversationID != uuid.Nil {
		q = q.ColumnExpr("EXISTS (SELECT 1 FROM conversations AS c WHERE c.workspace_id = t.workspace_id AND c.id = ?) AS has_conversation", conversationID).
			ColumnExpr("EXISTS (SELECT 1 FROM queued_changes AS q WHERE q.conversation_id = ?) AS has_queued_changes", conversationID)
	}
	err := q.Scan(ctx, tm)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	if tm.LastUsedAt == nil || now.Sub(*tm.LastUsedAt) >= tokenUsedEvery {
		if _, err := s.DB.NewUpdate().Table("api_tokens").Set("last_used_at = ?", now).
			Where("id = ?", tm.TokenID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("touch token: %w", err)
		}
		tm.LastUsedAt = &now
	}
	return tm, nil
}

// CreateToken makes a new token for a member, shown once; ErrTooManyTokens when they have
// MaxTokensPerMember live ones already, ErrNotFound when the membership is gone.
func (s *Store) CreateToken(ctx context.Context, workspaceID, userID uuid.UUID, name string) (string, *APIToken, error) {
	var token string
	var made *APIToken
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Lock the membership: two creations at once count each other.
		var role string
		err := tx.NewSelect().Table("memberships").Column("role").
			Where("workspace_id = ? AND user_id = ?", workspaceID, userID).
			For("NO KEY UPDATE").Scan(ctx, &role)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("find membership: %w", err)
		}
		n, err := tx.NewSelect().Table("api_tokens").
			Where("workspace_id = ? AND user_id = ? AND expires_at > now()", workspaceID, userID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count tokens: %w", err)
		}
		if n >= MaxTokensPerMember {
			return ErrTooManyTokens
		}
		token, made, err = s.issueToken(ctx, tx, workspaceID, userID, name)
		return err
	})
	return token, made, err
}

// ListTokens pages through a member's live tokens in one workspace, newest first.
func (s *Store) ListTokens(ctx context.Context, workspaceID, userID uuid.UUID, now time.Time, limit int, cursor string) ([]APIToken, string, error) {
	q := s.DB.NewSelect().Table("api_tokens").
		Column("id", "workspace_id", "name", "created_at", "expires_at", "last_used_at").
		Where("workspace_id = ? AND user_id = ? AND expires_at > ?", workspaceID, userID, now).
		OrderExpr("created_at DESC, id DESC").
		Limit(limit + 1)
	if cursor != "" {
		c, err := decodeListCursor(cursor, tokenCursorKind)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("(created_at, id) < (?, ?)", c.At, c.ID)
	}
	var items []APIToken
	if err := q.Scan(ctx, &items); err != nil {
		return nil, "", fmt.Errorf("list tokens: %w", err)
	}
	items, next := cutPage(items, limit, tokenCursorKind,
		func(t APIToken) (time.Time, uuid.UUID) { return t.CreatedAt, t.ID })
	return items, next, nil
}

// RevokeToken deletes one of a member's tokens in a workspace; ErrNotFound when it is not
// theirs there (or already gone).
func (s *Store) RevokeToken(ctx context.Context, workspaceID, userID, tokenID uuid.UUID) error {
	res, err := s.DB.NewDelete().Table("api_tokens").
		Where("id = ? AND workspace_id = ? AND user_id = ?", tokenID, workspaceID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
