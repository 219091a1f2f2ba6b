CREATE EXTENSION IF NOT EXISTS pg_trgm;

--bun:split

CREATE TABLE workspaces (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    ingest_key_hash bytea NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id         uuid PRIMARY KEY,
    email      text NOT NULL,
    name       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE memberships (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('owner', 'admin', 'support', 'viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- A token belongs to a user; only its SHA-256 is stored.
CREATE TABLE api_tokens (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversations (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    ref             text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('chat', 'web_voice', 'phone')),
    state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'pending', 'closed', 'archived')),
    unread          boolean NOT NULL DEFAULT true,
    assignee_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz,
    -- source panel, captured on the first message
    page_url        text NOT NULL DEFAULT '',
    referrer        text NOT NULL DEFAULT '',
    user_agent      text NOT NULL DEFAULT '',
    ip              inet,
    workflow_id     text NOT NULL,
    workflow_run_id text NOT NULL DEFAULT '',
    -- the AI summary; generation orders attempt series so a stale one never overwrites a newer
    summary_status        text NOT NULL DEFAULT 'none' CHECK (summary_status IN ('none', 'pending', 'ready', 'failed')),
    summary_text          text NOT NULL DEFAULT '',
    summary_error         text NOT NULL DEFAULT '',
    summary_attempts      integer NOT NULL DEFAULT 0,
    summary_generation    bigint NOT NULL DEFAULT 0,
    summary_model         text NOT NULL DEFAULT '',
    summary_key_kind      text NOT NULL DEFAULT '',
    summary_generated_at  timestamptz,
    UNIQUE (workspace_id, ref)
);
-- The list is ordered by last activity, newest first, with the id as tie-breaker (keyset).
CREATE INDEX conversations_activity_idx ON conversations (workspace_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_unread_idx ON conversations (workspace_id, last_message_at DESC, id DESC) WHERE unread;
CREATE INDEX conversations_assignee_idx ON conversations (workspace_id, assignee_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_state_idx ON conversations (workspace_id, state, last_message_at DESC, id DESC);
CREATE INDEX conversations_created_idx ON conversations (workspace_id, created_at);

CREATE TABLE messages (
    id              uuid PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    external_id     text,
    role            text NOT NULL CHECK (role IN ('visitor', 'assistant')),
    text            text NOT NULL,
    sent_at         timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, external_id)
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, sent_at, id);
CREATE INDEX messages_text_trgm_idx ON messages USING gin (text gin_trgm_ops);

CREATE TABLE leads (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL UNIQUE REFERENCES conversations (id) ON DELETE CASCADE,
    name            text NOT NULL DEFAULT '',
    email           text NOT NULL DEFAULT '',
    phone           text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'contacted', 'qualified', 'won', 'lost')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leads_workspace_created_idx ON leads (workspace_id, created_at DESC, id DESC);
CREATE INDEX leads_contact_trgm_idx ON leads USING gin ((name || ' ' || email) gin_trgm_ops);

-- Append-only. request_id makes a retried lifecycle write a no-op.
CREATE TABLE audit_log (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id uuid REFERENCES conversations (id) ON DELETE CASCADE,
    actor_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_name      text NOT NULL DEFAULT '',
    action          text NOT NULL,
    before          jsonb NOT NULL DEFAULT '{}',
    after           jsonb NOT NULL DEFAULT '{}',
    request_id      text UNIQUE,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_conversation_idx ON audit_log (conversation_id, at, id);
CREATE INDEX audit_log_workspace_idx ON audit_log (workspace_id, at);

CREATE TABLE workspace_settings (
    workspace_id      uuid PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    openai_key_sealed bytea,
    openai_key_last4  text NOT NULL DEFAULT '',
    updated_at        timestamptz NOT NULL DEFAULT now()
);
