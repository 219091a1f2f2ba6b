-- Internal notes: the team's own words on a conversation. They live apart from messages,
-- so nothing that reads the transcript for the visitor's channel or the summary can pick
-- them up by accident.
CREATE TABLE notes (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The author's name is kept as it was, so a note still says who wrote it after they leave.
    author_id       uuid REFERENCES users (id) ON DELETE SET NULL,
    author_name     text NOT NULL DEFAULT '',
    text            text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 10000),
    created_at      timestamptz NOT NULL
);
-- The conversation's notes, oldest first (the list, and the transcript's time window).
CREATE INDEX notes_conversation_idx ON notes (conversation_id, created_at, id);

-- Who a note mentions: members of the workspace when it was written.
CREATE TABLE note_mentions (
    note_id uuid NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name    text NOT NULL DEFAULT '',
    PRIMARY KEY (note_id, user_id)
);
