package app

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// MaxTokenNameLen bounds a token's name: a word or two saying what it is for.
const MaxTokenNameLen = 100

// ErrUnauthenticated: no token, or one that is unknown, expired or revoked, or whose
// membership is gone.
var ErrUnauthenticated = &Error{Status: http.StatusUnauthorized, Code: "unauthenticated",
	Message: "a valid API token is required (Authorization: Bearer <token>)"}

// maxTokenLen bounds what is hashed and looked up; ours are about 50 characters.
const maxTokenLen = 256

// AuthenticateToken resolves a bearer token to the member it acts as: one workspace, with
// the role its user holds there now. A token acts only in the workspace it was made in; the
// front door answers any other workspace's path 404 (CallerIn).
func (s *Service) AuthenticateToken(ctx context.Context, token string) (*Caller, error) {
	return s.AuthenticateTokenFor(ctx, token, uuid.Nil)
}

// AuthenticateTokenFor is AuthenticateToken for a request about one conversation (uuid.Nil
// for none). The token's query also looks the conversation up in the token's workspace;
// when it is there, the caller remembers it, and a lifecycle change of it (target) makes
// no lookup of its own. A conversation that is not there is left for the operation to
// refuse, as before.
func (s *Service) AuthenticateTokenFor(ctx context.Context, token string, conversationID uuid.UUID) (*Caller, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenLen {
		return nil, ErrUnauthenticated
	}
	tm, err := s.Store.MemberByTokenFor(ctx, token, time.Now().UTC(), conversationID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	c := &Caller{WorkspaceID: tm.WorkspaceID, UserID: tm.UserID, Name: tm.Name, Email: tm.Email,
		Role: tm.Role, TokenID: tm.TokenID}
	if tm.HasConversation {
		c.seen, c.seenQueued = conversationID, tm.HasQueuedChanges
	}
	return c, nil
}

// In is the caller acting in workspaceID: itself when that is its workspace, else
// ErrNotFound, as for a workspace that does not exist.
func (c *Caller) In(workspaceID uuid.UUID) (*Caller, error) {
	if c.WorkspaceID != workspaceID {
		return nil, ErrNotFound
	}
	return c, nil
}

// Token is an API token as its owner sees it; Current marks the one making the request.
type Token struct {
	ID          uuid.UUID  `json:"id"`
	WorkspaceID uuid.UUID  `json:"workspace_id"`
	Name        string     `json:"name"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	Current     bool       `json:"current"`
}

func tokenOf(c *Caller, t store.APIToken) Token {
	return Token{ID: t.ID, WorkspaceID: t.WorkspaceID, Name: t.Name, CreatedAt: t.CreatedAt.UTC(),
		ExpiresAt: t.ExpiresAt.UTC(), LastUsedAt: t.LastUsedAt, Current: t.ID == c.TokenID}
}

// TokenPage is a page of the caller's tokens.
type TokenPage struct {
	Items      []Token
	NextCursor string
}

// ListTokens pages through the caller's own live tokens in its workspace, newest first;
// never anyone else's, and never those of their other workspaces.
func (s *Service) ListTokens(ctx context.Context, c *Caller, q Query) (TokenPage, error) {
	if err := s.Authorize(c, domain.ManageOwnTokens); err != nil {
		return TokenPage{}, err
	}
	limit, cursor, err := q.Page()
	if err != nil {
		return TokenPage{}, err
	}
	items, next, err := s.Store.ListTokens(ctx, c.WorkspaceID, c.UserID, time.Now().UTC(), limit, cursor)
	if err != nil {
		return TokenPage{}, err
	}
	page := TokenPage{Items: make([]Token, 0, len(items)), NextCursor: next}
	for _, t := range items {
		page.Items = append(page.Items, tokenOf(c, t))
	}
	return page, nil
}

// NewToken is a token just made, with its secret, shown this once.
type NewToken struct {
	Token  Token  `json:"token"`
	Secret string `json:"api_token"`
}

// CreateToken makes a new token for the caller in its workspace.
func (s *Service) CreateToken(ctx context.Context, c *Caller, name string) (*NewToken, error) {
	if err := s.Authorize(c, domain.ManageOwnTokens); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if err := CheckText("name", name, MaxTokenNameLen, true); err != nil {
		return nil, err
	}
	secret, t, err := s.Store.CreateToken(ctx, c.WorkspaceID, c.UserID, name)
	if errors.Is(err, store.ErrTooManyTokens) {
		return nil, Conflict("you have the most API tokens one person may hold here; revoke one you no longer use first")
	}
	if err != nil {
		return nil, err
	}
	return &NewToken{Token: tokenOf(c, *t), Secret: secret}, nil
}

// RevokeToken deletes one of the caller's tokens in its workspace at once; another
// person's, or one of another workspace, is ErrNotFound.
func (s *Service) RevokeToken(ctx context.Context, c *Caller, tokenID uuid.UUID) error {
	if err := s.Authorize(c, domain.ManageOwnTokens); err != nil {
		return err
	}
	return s.Store.RevokeToken(ctx, c.WorkspaceID, c.UserID, tokenID)
}
