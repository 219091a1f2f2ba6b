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

// Member is a user as seen from one workspace.
type Member struct {
	UserID    uuid.UUID   `bun:"user_id" json:"user_id"`
	Email     string      `bun:"email" json:"email"`
	Name      string      `bun:"name" json:"name"`
	Role      domain.Role `bun:"role" json:"role"`
	CreatedAt time.Time   `bun:"created_at" json:"created_at"`
}

// ErrAlreadyMember is returned when adding a user who is already in the workspace.
var ErrAlreadyMember = errors.New("already a member of this workspace")

// MemberOf returns userID's membership of workspaceID, or ErrNotFound. Every admin request
// asks this, so a role change or a removal takes effect on the very next request.
func (s *Store) MemberOf(ctx context.Context, workspaceID, userID uuid.UUID) (*Member, error) {
	m := new(Member)
	err := s.DB.NewSelect().TableExpr("memberships AS m").
		Join("JOIN users AS u ON u.id = m.user_id").
		ColumnExpr("m.user_id, u.email, u.name, m.role, m.created_at").
		Where("m.workspace_id = ? AND m.user_id = ?", workspaceID, userID).
		Scan(ctx, m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return m, err
}

// MemberPage is one page of members, ordered by when they joined.
type MemberPage struct {
	Items      []Member
	NextCursor string
}

// ListMembers pages through a workspace's members, oldest first.
func (s *Store) ListMembers(ctx context.Context, workspaceID uuid.UUID, limit int, cursor string) (MemberPage, error) {
	q := s.DB.NewSelect().TableExpr("memberships AS m").
		Join("JOIN users AS u ON u.id = m.user_id").
		ColumnExpr("m.user_id, u.email, u.name, m.role, m.created_at").
		Where("m.workspace_id = ?", workspaceID).
		OrderExpr("m.created_at, m.user_id").
		Limit(limit + 1)
	if cursor != "" {
		c, err := decodeListCursor(cursor, memberCursorKind)
		if err != nil {
			return MemberPage{}, err
		}
		q = q.Where("(m.created_at, m.user_id) > (?, ?)", c.At, c.ID)
	}
	var items []Member
	if err := q.Scan(ctx, &items); err != nil {
		return MemberPage{}, err
	}
	var page MemberPage
	page.Items, page.NextCursor = cutPage(items, limit, memberCursorKind,
		func(m Member) (time.Time, uuid.UUID) { return m.CreatedAt, m.UserID })
	return page, nil
}

// AddMember adds the user with this email (creating them if needed) with role, and issues
// them a new API token, shown once.
func (s *Store) AddMember(ctx context.Context, workspaceID uuid.UUID, email, name string, role domain.Role) (*Member, string, error) {
	email = strings.TrimSpace(email)
	if !validEmail(email) {
		return nil, "", fmt.Errorf("email %q is not an email address", email)
	}
	var token string
	var member *Member
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		user, err := upsertUser(ctx, tx, email, name)
		if err != nil {
			return err
		}
		res, err := tx.NewInsert().Model(&Membership{WorkspaceID: workspaceID, UserID: user.ID, Role: role}).
			On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert membership: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrAlreadyMember
		}
		if token, err = issueToken(ctx, tx, user.ID); err != nil {
			return err
		}
		member = &Member{UserID: user.ID, Email: user.Email, Name: user.Name, Role: role, CreatedAt: time.Now().UTC()}
		return nil
	})
	return member, token, err
}

// ChangeRole sets a member's role; ErrNotFound if they are not a member.
func (s *Store) ChangeRole(ctx context.Context, workspaceID, userID uuid.UUID, role domain.Role) error {
	res, err := s.DB.NewUpdate().Model((*Membership)(nil)).Set("role = ?", role).
		Where("workspace_id = ? AND user_id = ?", workspaceID, userID).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RemoveMember deletes a membership; ErrNotFound if there was none. The caller unassigns
// the member's conversations through their workflows.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID uuid.UUID) error {
	res, err := s.DB.NewDelete().Model((*Membership)(nil)).
		Where("workspace_id = ? AND user_id = ?", workspaceID, userID).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// CountOwners counts a workspace's owners, so the last one cannot be removed or demoted.
func (s *Store) CountOwners(ctx context.Context, workspaceID uuid.UUID) (int, error) {
	return s.DB.NewSelect().Model((*Membership)(nil)).
		Where("workspace_id = ? AND role = ?", workspaceID, domain.Owner).Count(ctx)
}

// AssignedConversations lists up to limit conversation ids in the workspace assigned to userID.
func (s *Store) AssignedConversations(ctx context.Context, workspaceID, userID uuid.UUID, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.DB.NewSelect().Table("conversations").Column("id").
		Where("workspace_id = ? AND assignee_id = ?", workspaceID, userID).
		Limit(limit).Scan(ctx, &ids)
	return ids, err
}
