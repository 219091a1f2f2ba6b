-- Workspace labels, and which conversations carry them. The colour is a name from a fixed
-- palette (domain.LabelColors), so the pages decide how it looks.
CREATE TABLE labels (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL,
    color        text NOT NULL DEFAULT 'gray'
        CHECK (color IN ('gray', 'red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple', 'pink')),
    created_at   timestamptz NOT NULL
);
-- A name is unique in its workspace whatever its case: "Urgent" and "urgent" would be one
-- label to a reader. The index also serves the list, ordered by name.
CREATE UNIQUE INDEX labels_workspace_name_idx ON labels (workspace_id, lower(name));

CREATE TABLE conversation_labels (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    label_id        uuid NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, label_id)
);
-- The list filter (label=) and deleting a label look conversations up by label.
CREATE INDEX conversation_labels_label_idx ON conversation_labels (label_id, conversation_id);
