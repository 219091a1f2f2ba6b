-- A lifecycle request id is unique within its conversation, not across the whole inbox:
-- the same Idempotency-Key on two conversations names two different changes.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_request_id_key;
CREATE UNIQUE INDEX audit_log_conversation_request_idx ON audit_log (conversation_id, request_id);

--bun:split

-- One row per Idempotency-Key a caller used on a conversation (IETF Idempotency-Key draft):
-- the fingerprint of the request it first named, and when that request completed.
CREATE TABLE idempotency_keys (
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    key             text NOT NULL,
    fingerprint     bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    PRIMARY KEY (conversation_id, user_id, key)
);
