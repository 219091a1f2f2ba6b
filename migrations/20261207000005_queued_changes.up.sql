-- Lifecycle changes a burst left waiting: a change that could not be sent to its workflow
-- within its request's time is written here instead, answered 202, and sent in order by the
-- worker's queue runner (app/queue.go). A row is not a change: nothing reads it as one, it
-- only waits to be sent, and is deleted once its workflow has answered.
CREATE TABLE queued_changes (
    id              bigserial PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The Update's id: sent again under it, the workflow applies the change once.
    update_id       text NOT NULL UNIQUE,
    update_name     text NOT NULL,
    update_arg      jsonb NOT NULL,
    -- The Idempotency-Key the request came with, marked completed once the change is.
    user_id         uuid,
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Not sent before then: a lease while a runner sends it, a back-off after a failure.
    not_before      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text
);
-- A conversation's changes are sent in the order they were queued, oldest first.
CREATE INDEX queued_changes_conversation_idx ON queued_changes (conversation_id, id);
