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

// Member is a user as seen from one workspace. It has no JSON form: the API answers with
// a type of its own.
type Member struct {
	UserID    uuid.UUID   `bun:"user_id"`
	Email     string      `bun:"email"`
	Name      string      `bun:"name"`
	Role      domain.Role `bun:"role"`
	CreatedAt time.Time   `bun:"created_at"`
	// InvitePending: they have not set a password yet, so an admin may make them a new
	// invite link (if they are in no other workspace).
	InvitePending bool `bun:"invite_pending"`
}

// ErrAlreadyMember is returned when adding a user who is already in the workspace.
var ErrAlreadyMember = errors.New("already a member of this workspace")

// MemberOf returns userID's membership of workspaceID, or ErrNotFound. Every admin request
// asks this, so a role change or a removal takes effect on the very next request.
func (s *Store) MemberOf(ctx context.Context, workspaceID, userID uuid.UUID) (*Member, error) {
	return memberOf(ctx, s.DB, workspaceID, userID)
}

func memberOf(ctx context.Context, db bun.IDB, workspaceID, userID uuid.UUID) (*Member, error) {
	m := new(Member)
	err := db.NewSelect().TableExpr("memberships AS m").
		Join("JOIN users AS u ON u.id = m.user_id").
		ColumnExpr("m.user_id, u.email, u.name, m.role, m.created_at, u.password_hash IS NULL AS invite_pending").
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
		ColumnExpr("m.user_id, u.email, u.name, m.role, m.created_at, u.password_hash IS NULL AS invite_pending").
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

// ErrHasAccount refuses to make a password link for a person who already has an account:
// a password of their own, or a membership of another workspace. Their password is theirs
// to change; a link in another workspace's hands would open every workspace they are in.
var ErrHasAccount = errors.New("this person already has an account")

// newcomer is the one definition of a newcomer to a workspace (the SQL expression
// workspace): a user (u) who has not set a password and belongs to no other workspace. Only
// a newcomer is handed an invite link or an API token by the workspace that adds them.
func newcomer(workspace string) string {
	return `(u.password_hash IS NULL AND NOT EXISTS (
		SELECT 1 FROM memberships AS other WHERE other.user_id = u.id AND other.workspace_id <> ` + workspace + `))`
}

// isNewcomer says whether userID is a newcomer to workspaceID (see newcomer); ErrNotFound
// if there is no such user. The caller's transaction should hold the user's row lock.
func isNewcomer(ctx context.Context, db bun.IDB, workspaceID, userID uuid.UUID) (bool, error) {
	var is bool
	err := db.NewRaw(`SELECT `+newcomer("?0")+` FROM users AS u WHERE u.id = ?1`, workspaceID, userID).Scan(ctx, &is)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("check newcomer: %w", err)
	}
	return is, nil
}

// AddMember adds the person with this email to the workspace with role, creating their
// account if there is none. A newcomer (see newcomer) is also issued an API token for
// this membership, shown once; for a person who already has an account the token is "" and
// the membership is all that is made: adding someone must never hand over their account.
func (s *Store) AddMember(ctx context.Context, workspaceID uuid.UUID, email, name string, role domain.Role) (*Member, string, error) {
	email = strings.TrimSpace(email)
	if !validEmail(email) {
		return nil, "", ErrNotAnEmail
	}
	var token string
	var member *Member
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		user, err := upsertUser(ctx, tx, email, name)
		if err != nil {
			return err
		}
		// Lock the user: an invite accepted meanwhile must not turn a newcomer into an
		// account holder between the check and the token.
		if _, err := tx.NewRaw(`SELECT 1 FROM users WHERE id = ? FOR NO KEY UPDATE`, user.ID).Exec(ctx); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		res, err := tx.NewInsert().Model(&Membership{WorkspaceID: workspaceID, UserID: user.ID, Role: role}).
			On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert membership: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrAlreadyMember
		}
		fresh, err := isNewcomer(ctx, tx, workspaceID, user.ID)
		if err != nil {
			return err
		}
		if fresh {
			if token, _, err = s.issueToken(ctx, tx, workspaceID, user.ID, "made when they were added"); err != nil {
				return err
			}
		}
		member = &Member{UserID: user.ID, Email: user.Email, Name: user.Name, Role: role, CreatedAt: time.Now().UTC(), InvitePending: fresh}
		return nil
	})
	return member, token, err
}

// ErrLastOwner refuses a demotion or removal that would leave a workspace without an owner.
var ErrLastOwner = errors.New("a workspace needs at least one owner")

// lockMembers locks the workspace row, so demotions and removals in one workspace decide
// one after another on what the previous one committed: two owners demoting each other at
// once must not both see the other as the remaining owner. NO KEY UPDATE leaves inserts
// referencing the workspace (messages, new members) unblocked.
func lockMembers(ctx context.Context, tx bun.Tx, workspaceID uuid.UUID) error {
	var id uuid.UUID
	err := tx.NewSelect().Table("workspaces").Column("id").Where("id = ?", workspaceID).
		For("NO KEY UPDATE").Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// lockedMember reads a membership inside a transaction that holds lockMembers, and lets
// guard refuse a change to it on the role it holds now.
func lockedMember(ctx context.Context, tx bun.Tx, workspaceID, userID uuid.UUID, guard func(current domain.Role) error) (*Member, error) {
	if err := lockMembers(ctx, tx, workspaceID); err != nil {
		return nil, err
	}
	m, err := memberOf(ctx, tx, workspaceID, userID)
	if err != nil {
		return nil, err
	}
	if guard != nil {
		if err := guard(m.Role); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// keepAnOwner refuses to take away an owner's role when they are the last one; the caller
// holds lockMembers, so the count cannot change before the commit.
func keepAnOwner(ctx context.Context, tx bun.Tx, workspaceID uuid.UUID) error {
	n, err := tx.NewSelect().Model((*Membership)(nil)).
		Where("workspace_id = ? AND role = ?", workspaceID, domain.Owner).Count(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return ErrLastOwner
	}
	return nil
}

// ChangeRole sets a member's role and returns the member as changed. guard sees the role
// they hold at the moment of the change and may refuse it (only owners manage owners).
// ErrNotFound if they are not a member; ErrLastOwner if they are the last owner.
func (s *Store) ChangeRole(ctx context.Context, workspaceID, userID uuid.UUID, role domain.Role, guard func(current domain.Role) error) (*Member, error) {
	var m *Member
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if m, err = lockedMember(ctx, tx, workspaceID, userID, guard); err != nil {
			return err
		}
		if m.Role == domain.Owner && role != domain.Owner {
			if err := keepAnOwner(ctx, tx, workspaceID); err != nil {
				return err
			}
		}
		_, err = tx.NewUpdate().Model((*Membership)(nil)).Set("role = ?", role).
			Where("workspace_id = ? AND user_id = ?", workspaceID, userID).Exec(ctx)
		m.Role = role
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// RemoveMember deletes a membership and records the removal in the audit log, in one
// transaction; guard and the errors are as for ChangeRole. The audit entry's id names this
// removal: the caller unassigns the member's conversations through their workflows with
// Update ids built from it, so a retried removal repeats them and a later removal of the
// same user, re-added meanwhile, does not.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID uuid.UUID, actor *domain.Actor, guard func(current domain.Role) error) (uuid.UUID, error) {
	var removal uuid.UUID
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := lockedMember(ctx, tx, workspaceID, userID, guard)
		if err != nil {
			return err
		}
		if m.Role == domain.Owner {
			if err := keepAnOwner(ctx, tx, workspaceID); err != nil {
				return err
			}
		}
		if _, err := tx.NewDelete().Model((*Membership)(nil)).
			Where("workspace_id = ? AND user_id = ?", workspaceID, userID).Exec(ctx); err != nil {
			return err
		}
		e := &AuditEntry{WorkspaceID: workspaceID, Actor: actor, Action: domain.AuditMemberRemoved,
			Before: map[string]any{"user_id": m.UserID, "name": m.Name, "role": m.Role}}
		if err := insertAudit(ctx, tx, e); err != nil {
			return err
		}
		removal = e.ID
		return nil
	})
	return removal, err
}

// LastRemoval returns the id of the latest removal of userID from the workspace, for a
// retried removal to finish what it left; ErrNotFound if they were never removed.
func (s *Store) LastRemoval(ctx context.Context, workspaceID, userID uuid.UUID) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.DB.NewSelect().Model((*AuditEntry)(nil)).Column("id").
		Where("workspace_id = ? AND action = ? AND before->>'user_id' = ?", workspaceID, domain.AuditMemberRemoved, userID.String()).
		OrderExpr("at DESC, id DESC").Limit(1).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return uuid.Nil, ErrNotFound
	}
	return id, err
}

// AssignedConversations lists up to limit conversation ids in the workspace assigned to userID.
func (s *Store) AssignedConversations(ctx context.Context, workspaceID, userID uuid.UUID, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.DB.NewSelect().Table("conversations").Column("id").
		Where("workspace_id = ? AND assignee_id = ?", workspaceID, userID).
		Limit(limit).Scan(ctx, &ids)
	return ids, err
}
