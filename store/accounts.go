package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The SQL behind sign-in to the web admin (package accounts decides the rules): password
// hashes, invites, sessions and the failed-sign-in counters. Every token arrives here as its
// SHA-256; the raw value never reaches Postgres. Times come from the caller's clock, not
// now(), so that tests can move it and one request compares against one instant.

// SignInUser is a user as sign-in sees them.
type SignInUser struct {
	ID    uuid.UUID `bun:"id"`
	Email string    `bun:"email"`
	Name  string    `bun:"name"`
	// PasswordHash is bcrypt's text form, "" until the user sets a password.
	PasswordHash string `bun:"password_hash"`
}

// SignInUserByEmail finds a user by email, case-insensitively, or returns ErrNotFound.
func (s *Store) SignInUserByEmail(ctx context.Context, email string) (*SignInUser, error) {
	return signInUser(ctx, s.DB, "lower(email) = lower(?)", email)
}

// SignInUserByID finds a user by id, or returns ErrNotFound.
func (s *Store) SignInUserByID(ctx context.Context, userID uuid.UUID) (*SignInUser, error) {
	return signInUser(ctx, s.DB, "id = ?", userID)
}

func signInUser(ctx context.Context, db bun.IDB, where string, args ...any) (*SignInUser, error) {
	u := new(SignInUser)
	err := db.NewSelect().Table("users").
		ColumnExpr("id, email, name, coalesce(password_hash, '') AS password_hash").
		Where(where, args...).Scan(ctx, u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// SetPasswordHash replaces a user's password hash and ends all their sessions, in one
// transaction: whoever knew the old password must not stay signed in. ErrNotFound if there
// is no such user.
func (s *Store) SetPasswordHash(ctx context.Context, userID uuid.UUID, passwordHash string) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return setPasswordHash(ctx, tx, userID, passwordHash)
	})
}

func setPasswordHash(ctx context.Context, tx bun.Tx, userID uuid.UUID, passwordHash string) error {
	res, err := tx.NewUpdate().Table("users").Set("password_hash = ?", passwordHash).
		Where("id = ?", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := tx.NewDelete().Table("sessions").Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}

// ReplacePassword sets a user's password hash, ends all their sessions and starts session ns
// (its UserID is filled in here), in one transaction: a change of password signs out every
// other browser, but not the one that made it. ErrNotFound if there is no such user.
func (s *Store) ReplacePassword(ctx context.Context, userID uuid.UUID, passwordHash string, ns NewSession) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := setPasswordHash(ctx, tx, userID, passwordHash); err != nil {
			return err
		}
		ns.UserID = userID
		return insertSession(ctx, tx, ns)
	})
}

// ReplaceInvite stores a new invite for userID and deletes the user's unused ones, so only
// the latest link works. workspaceID is the workspace whose admin asks for the link: the
// user must be a newcomer to it (see newcomer), else ErrHasAccount. A nil workspaceID is
// an operator's link from the command line, for any user. ErrNotFound if there is no such
// user.
func (s *Store) ReplaceInvite(ctx context.Context, userID uuid.UUID, workspaceID *uuid.UUID, tokenHash []byte, createdAt, expiresAt time.Time) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Lock the user row: two invites created at once for one user then replace one
		// another in turn instead of both surviving, and an accept or a membership
		// elsewhere cannot slip between the check and the insert.
		var id uuid.UUID
		err := tx.NewSelect().Table("users").Column("id").Where("id = ?", userID).
			For("NO KEY UPDATE").Scan(ctx, &id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("find user: %w", err)
		}
		if workspaceID != nil {
			fresh, err := isNewcomer(ctx, tx, *workspaceID, userID)
			if err != nil {
				return err
			}
			if !fresh {
				return ErrHasAccount
			}
		}
		if _, err := tx.NewDelete().Table("invites").
			Where("user_id = ? AND used_at IS NULL", userID).Exec(ctx); err != nil {
			return fmt.Errorf("delete old invites: %w", err)
		}
		_, err = tx.NewRaw(`INSERT INTO invites (token_hash, user_id, workspace_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			tokenHash, userID, workspaceID, createdAt, expiresAt).Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert invite: %w", err)
		}
		return nil
	})
}

// InvitedUser returns the user an unused, unexpired invite is for; ErrNotFound when the
// invite is unknown, used or expired, without saying which.
func (s *Store) InvitedUser(ctx context.Context, tokenHash []byte, now time.Time) (*SignInUser, error) {
	return signInUser(ctx, s.DB, `id = (SELECT i.user_id FROM invites AS i JOIN users AS u ON u.id = i.user_id
		WHERE i.token_hash = ?0 AND i.used_at IS NULL AND i.expires_at > ?1
		AND (i.workspace_id IS NULL OR `+newcomer("i.workspace_id")+`))`, tokenHash, now)
}

// NewSession is a session about to be stored.
type NewSession struct {
	TokenHash []byte
	UserID    uuid.UUID
	CreatedAt time.Time
	ExpiresAt time.Time
}

func insertSession(ctx context.Context, db bun.IDB, ns NewSession) error {
	_, err := db.NewRaw(`INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen) VALUES (?, ?, ?, ?, ?)`,
		ns.TokenHash, ns.UserID, ns.CreatedAt, ns.ExpiresAt, ns.CreatedAt).Exec(ctx)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// AcceptInvite uses an invite once: it marks it used, sets the user's password hash, ends
// their other sessions and starts session ns (its UserID is filled in here), in one
// transaction. The conditional UPDATE is what makes it single-use: of two concurrent
// accepts, the second waits on the row and then finds used_at set. ErrNotFound when the
// invite is unknown, used or expired. It returns the user.
func (s *Store) AcceptInvite(ctx context.Context, tokenHash []byte, passwordHash string, ns NewSession) (*SignInUser, error) {
	var user *SignInUser
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var used struct {
			UserID      uuid.UUID  `bun:"user_id"`
			WorkspaceID *uuid.UUID `bun:"workspace_id"`
		}
		err := tx.NewRaw(`UPDATE invites SET used_at = ?1
			WHERE token_hash = ?0 AND used_at IS NULL AND expires_at > ?1
			RETURNING user_id, workspace_id`, tokenHash, ns.CreatedAt).Scan(ctx, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("use invite: %w", err)
		}
		userID := used.UserID
		if used.WorkspaceID != nil {
			// A workspace's link sets the password of a newcomer only. Someone who has
			// joined another workspace since the link was made is no longer one: the link
			// would open that workspace too, so it is refused like an unknown one.
			if _, err := tx.NewRaw(`SELECT 1 FROM users WHERE id = ? FOR NO KEY UPDATE`, userID).Exec(ctx); err != nil {
				return fmt.Errorf("lock user: %w", err)
			}
			fresh, err := isNewcomer(ctx, tx, *used.WorkspaceID, userID)
			if err != nil {
				return err
			}
			if !fresh {
				return ErrNotFound
			}
		}
		if err := setPasswordHash(ctx, tx, userID, passwordHash); err != nil {
			return err
		}
		ns.UserID = userID
		if err := insertSession(ctx, tx, ns); err != nil {
			return err
		}
		user, err = signInUser(ctx, tx, "id = ?", userID)
		return err
	})
	return user, err
}

// SessionRow is a stored session with its user.
type SessionRow struct {
	TokenHash []byte    `bun:"token_hash"`
	UserID    uuid.UUID `bun:"user_id"`
	Email     string    `bun:"email"`
	Name      string    `bun:"name"`
	CreatedAt time.Time `bun:"created_at"`
	ExpiresAt time.Time `bun:"expires_at"`
	LastSeen  time.Time `bun:"last_seen"`
}

// lastSeenEvery is how stale last_seen may get: refreshing it on every page view would turn
// each read into a write.
const lastSeenEvery = time.Minute

// SessionByHash returns the live session with this token hash, or ErrNotFound when it is
// unknown or expired at now. It records now as last seen, at most once a minute.
func (s *Store) SessionByHash(ctx context.Context, tokenHash []byte, now time.Time) (*SessionRow, error) {
	row := new(SessionRow)
	err := s.DB.NewSelect().TableExpr("sessions AS s").
		Join("JOIN users AS u ON u.id = s.user_id").
		ColumnExpr("s.token_hash, s.user_id, u.email, u.name, s.created_at, s.expires_at, s.last_seen").
		Where("s.token_hash = ? AND s.expires_at > ?", tokenHash, now).
		Scan(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	if now.Sub(row.LastSeen) >= lastSeenEvery {
		if _, err := s.DB.NewUpdate().Table("sessions").Set("last_seen = ?", now).
			Where("token_hash = ?", tokenHash).Exec(ctx); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
		row.LastSeen = now
	}
	return row, nil
}

// DeleteSession removes a session; removing one that is not there is not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	_, err := s.DB.NewDelete().Table("sessions").Where("token_hash = ?", tokenHash).Exec(ctx)
	return err
}

// DeleteUserSessions removes every session of a user and says how many there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userID uuid.UUID) (int, error) {
	res, err := s.DB.NewDelete().Table("sessions").Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ThrottleKey is one thing failed sign-ins are counted by (a hashed email, a client IP)
// and how many failures it may have within the window.
type ThrottleKey struct {
	Key []byte
	Max int
}

// signInLockClass is the first half of the advisory lock ids of sign-in throttling, so
// they cannot meet another feature's advisory locks.
const signInLockClass = 0x51_6e_49_6e // "SnIn"

// BeginSignInAttempt decides whether a sign-in may check its password. When one of the keys
// already has Max failures within window before now, it returns how long until the oldest
// of them leaves the window, and records nothing. Otherwise it records a failure for every
// key, before the password is checked, and returns their ids for FinishSignIn to remove if
// the password was right.
//
// Recording first, under an advisory lock per key, is what makes the limit hold against
// concurrent guesses: each one counts the failures of those before it, also on other
// replicas, instead of all of them seeing zero and checking their passwords.
func (s *Store) BeginSignInAttempt(ctx context.Context, keys []ThrottleKey, window time.Duration, now time.Time) (ids []int64, retryAfter time.Duration, err error) {
	locks := make([]int32, 0, len(keys))
	for _, k := range keys {
		locks = append(locks, int32(binary.BigEndian.Uint32(Hash(string(k.Key)))))
	}
	slices.Sort(locks) // one order for everyone, so two attempts cannot deadlock
	since := now.Add(-window)
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, l := range locks {
			if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(?, ?)", signInLockClass, l).Exec(ctx); err != nil {
				return fmt.Errorf("lock sign-in throttle: %w", err)
			}
		}
		for _, k := range keys {
			// The Max-th most recent failure in the window: while it is there, the key is
			// at its limit; when it leaves, one more attempt is allowed.
			var at time.Time
			err := tx.NewRaw(`SELECT at FROM sign_in_failures WHERE key = ? AND at > ?
				ORDER BY at DESC OFFSET ? LIMIT 1`, k.Key, since, max(k.Max, 1)-1).Scan(ctx, &at)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("count sign-in failures: %w", err)
			}
			retryAfter = max(retryAfter, at.Add(window).Sub(now))
		}
		if retryAfter > 0 {
			return nil
		}
		for _, k := range keys {
			var id int64
			if err := tx.NewRaw(`INSERT INTO sign_in_failures (key, at) VALUES (?, ?) RETURNING id`,
				k.Key, now).Scan(ctx, &id); err != nil {
				return fmt.Errorf("record sign-in attempt: %w", err)
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return ids, retryAfter, nil
}

// FinishSignIn completes a sign-in whose password was right, in one transaction: it removes
// the attempt's rows (ids from BeginSignInAttempt), every failure of clearKeys (the email's,
// so its owner starts afresh) and stores the session.
func (s *Store) FinishSignIn(ctx context.Context, clearKeys [][]byte, ids []int64, ns NewSession) error {
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if len(ids) > 0 {
			if _, err := tx.NewDelete().Table("sign_in_failures").Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
				return fmt.Errorf("clear sign-in attempt: %w", err)
			}
		}
		for _, k := range clearKeys {
			if _, err := tx.NewDelete().Table("sign_in_failures").Where("key = ?", k).Exec(ctx); err != nil {
				return fmt.Errorf("clear sign-in failures: %w", err)
			}
		}
		return insertSession(ctx, tx, ns)
	})
}

// PurgeExpiredAccounts deletes up to limit rows of each kind that no longer matter: sessions,
// invites and API tokens expired at now, and failures from before failuresBefore. It is called now and
// then from sign-in, bounded so that no single request pays for a large backlog.
func (s *Store) PurgeExpiredAccounts(ctx context.Context, now, failuresBefore time.Time, limit int) error {
	for _, q := range []struct{ table, key, col string }{
		{"sessions", "token_hash", "expires_at"},
		{"invites", "token_hash", "expires_at"},
		{"api_tokens", "id", "expires_at"},
		{"sign_in_failures", "id", "at"},
	} {
		cutoff := now
		if q.table == "sign_in_failures" {
			cutoff = failuresBefore
		}
		_, err := s.DB.NewRaw(`DELETE FROM ? WHERE ? IN (SELECT ? FROM ? WHERE ? < ? LIMIT ?)`,
			bun.Ident(q.table), bun.Ident(q.key), bun.Ident(q.key), bun.Ident(q.table),
			bun.Ident(q.col), cutoff, limit).Exec(ctx)
		if err != nil {
			return fmt.Errorf("purge %s: %w", q.table, err)
		}
	}
	return nil
}
