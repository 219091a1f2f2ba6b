package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/accounts"
	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/policies"
	"github.com/bestai/inbox/secretbox"
	"github.com/bestai/inbox/store"
	"github.com/bestai/inbox/workflows"
)

// DefaultUpdateTimeout is how long a lifecycle change waits for its workflow by default.
const DefaultUpdateTimeout = 15 * time.Second

// New is the one way to build the application layer that the API and the pages both
// receive: the fields of s, with defaults for those left zero (Logger, UpdateTimeout).
func New(s Service) *Service {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.UpdateTimeout == 0 {
		s.UpdateTimeout = DefaultUpdateTimeout
	}
	s.admission = newAdmission(s.MaxUpdatesInFlight)
	s.ingestTokens = &tokenLeases{}
	return &s
}

// Service is the application layer. Its zero value is not usable: build it with New.
type Service struct {
	Store      *store.Store
	Lifecycle  workflows.Lifecycle
	Authorizer *policies.Authorizer
	Secrets    *secretbox.Box
	Logger     *slog.Logger
	// UpdateTimeout bounds how long a lifecycle change waits for its workflow, its time
	// queued for admission included.
	UpdateTimeout time.Duration
	// MaxUpdatesInFlight bounds the lifecycle Updates this process has sent and no workflow
	// has accepted yet (admission.go); 0 is DefaultMaxUpdatesInFlight.
	MaxUpdatesInFlight int
	// Accounts signs people in to the pages (accounts.go) and makes the one-time links on
	// which newcomers set a password; nil adds members without a link.
	Accounts *accounts.Accounts
	// PublicURL is the address people reach the inbox at, the base of invite links.
	PublicURL string
	// WebhookAllowPrivate accepts webhook URLs on private and loopback addresses
	// (INBOX_WEBHOOK_ALLOW_PRIVATE).
	WebhookAllowPrivate bool
	// BulkMax is the most conversations a bulk action takes (0: MaxBulk); BulkConcurrency
	// and BulkRate bound its changes in flight and per second (0: the defaults).
	BulkMax         int
	BulkConcurrency int
	BulkRate        float64

	admission *admission
	// ingestTokens are the ingest tokens this process has leased (ingesttokens.go).
	ingestTokens *tokenLeases
}

// Caller is a member acting in one workspace, as looked up for this request.
type Caller struct {
	WorkspaceID uuid.UUID
	UserID      uuid.UUID
	Name        string
	Email       string
	Role        domain.Role
	// TokenID is the API token the request came with; zero for a browser session.
	TokenID uuid.UUID
	// seen is a conversation the authentication found in WorkspaceID (AuthenticateTokenFor).
	seen uuid.UUID
	// seenQueued says that changes of seen wait in the queue (queue.go).
	seenQueued bool
}

// Actor is the caller as the audit log and the workflow record it.
func (c *Caller) Actor() *domain.Actor { return &domain.Actor{UserID: c.UserID, Name: c.Name} }

// Member looks up userID's membership of workspaceID, from Postgres on every request, so
// a removal or a demotion takes effect on the very next one. A workspace the user is not
// in is ErrNotFound, like one that does not exist.
func (s *Service) Member(ctx context.Context, workspaceID, userID uuid.UUID) (*Caller, error) {
	m, err := s.Store.MemberOf(ctx, workspaceID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &Caller{WorkspaceID: workspaceID, UserID: m.UserID, Name: m.Name, Email: m.Email, Role: m.Role}, nil
}

// Can reports whether the caller's role may have perm in its workspace. Pages ask it to
// decide which controls to show; operations ask Authorize.
func (s *Service) Can(c *Caller, perm domain.Permission) bool {
	return s.Authorizer.Allowed(c.Role, c.WorkspaceID.String(), perm)
}

// Authorize is ErrForbidden unless the caller may have perm. Every operation starts with it.
func (s *Service) Authorize(c *Caller, perm domain.Permission) error {
	if !s.Can(c, perm) {
		return ErrForbidden
	}
	return nil
}

// Workspaces lists the workspaces userID is a member of, for a workspace switcher.
func (s *Service) Workspaces(ctx context.Context, userID uuid.UUID) ([]WorkspaceMembership, error) {
	return s.Store.WorkspacesOf(ctx, userID)
}
