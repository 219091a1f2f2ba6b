-- Saved views: a named set of the inbox list's filters (the list's own query parameters, as
-- a JSON object of name -> list of values), personal to one member or shared with the
-- workspace (owner_id NULL).
CREATE TABLE saved_views (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- The member whose personal view it is; NULL for a view shared with the workspace.
    owner_id     uuid,
    -- Who made it (a shared view's maker may leave; the view stays).
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    name         text NOT NULL,
    filters      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    -- A personal view goes with its owner's membership of the workspace.
    FOREIGN KEY (workspace_id, owner_id) REFERENCES memberships (workspace_id, user_id) ON DELETE CASCADE
);
-- A name is unique, whatever its case, among one member's personal views, and among the
-- workspace's shared views; a personal view may have a shared view's name. The indexes also
-- serve the lists, ordered by name.
CREATE UNIQUE INDEX saved_views_personal_name_idx ON saved_views (workspace_id, owner_id, lower(name))
    WHERE owner_id IS NOT NULL;
CREATE UNIQUE INDEX saved_views_shared_name_idx ON saved_views (workspace_id, lower(name))
    WHERE owner_id IS NULL;
