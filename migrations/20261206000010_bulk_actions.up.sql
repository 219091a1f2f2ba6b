-- Bulk actions: one batch of the same change applied to many conversations (at most 10,000),
-- run by a BulkAction workflow. The batch's state and each item's result live here, so the
-- API and the pages answer from Postgres, and a batch resumed after a crash skips the items
-- it already recorded.
CREATE TABLE bulk_actions (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- Who started it; the batch acts as them (their role is checked again when it runs).
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_by_name text NOT NULL DEFAULT '',
    -- state, assign, read, unread or labels, and its fields as the request gave them.
    action       text NOT NULL,
    params       jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- running, cancelling, done, cancelled or failed.
    status       text NOT NULL,
    total        integer NOT NULL,
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz
);
CREATE INDEX bulk_actions_workspace_idx ON bulk_actions (workspace_id, created_at DESC);

-- One row per conversation of a batch, in the batch's order. result is NULL until the item
-- is done: applied, refused (reason says why, in words), skipped or failed.
CREATE TABLE bulk_action_items (
    bulk_id         uuid NOT NULL REFERENCES bulk_actions (id) ON DELETE CASCADE,
    position        integer NOT NULL,
    conversation_id uuid NOT NULL,
    result          text,
    reason          text NOT NULL DEFAULT '',
    done_at         timestamptz,
    PRIMARY KEY (bulk_id, position)
);
-- The items still to do, in order: what a resumed run reads.
CREATE INDEX bulk_action_items_todo_idx ON bulk_action_items (bulk_id, position) WHERE result IS NULL;
