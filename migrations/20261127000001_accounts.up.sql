-- Sign-in for the web admin. A user without a password_hash cannot sign in with a password
-- yet: they set one through an invite. The hash is bcrypt's text form.
ALTER TABLE users ADD COLUMN password_hash text;

-- One-time links on which a user sets their password. Only the token's SHA-256 is stored,
-- so a copy of the database does not hand out working links. used_at is set once, by the
-- accept that wins; used rows stay until they expire so a second use finds them used.
CREATE TABLE invites (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX invites_user_idx ON invites (user_id) WHERE used_at IS NULL;
CREATE INDEX invites_expires_idx ON invites (expires_at);

-- Browser sessions: the cookie holds the token, Postgres only its SHA-256. expires_at is an
-- absolute end set at sign-in; last_seen is informational (when the session was last used).
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Failed sign-ins, one row per failure and throttling key (a hashed email or client IP),
-- shared by every replica. A row is written before the password is checked and removed again
-- when it was right, so concurrent guesses count against each other. Rows older than the
-- throttling window are purged a few at a time.
CREATE TABLE sign_in_failures (
    id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key bytea NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_key_idx ON sign_in_failures (key, at DESC);
CREATE INDEX sign_in_failures_at_idx ON sign_in_failures (at);
