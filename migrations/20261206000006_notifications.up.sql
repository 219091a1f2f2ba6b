-- A person's notifications in one workspace. Each is written in the transaction of the
-- change that caused it (an assignment, a note, a visitor message, a failed summary), so
-- none is lost on a crash.
CREATE TABLE notifications (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text NOT NULL
        CHECK (kind IN ('assigned', 'mentioned', 'visitor_message', 'summary_failed', 'sla_breached')),
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- Who caused it; NULL for the system (or the visitor).
    actor_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_name      text NOT NULL DEFAULT '',
    note_id         uuid REFERENCES notes (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL,
    read_at         timestamptz
);
-- At most one unread notification per person, kind and conversation: a busy conversation
-- freshens the one it has instead of piling up more.
CREATE UNIQUE INDEX notifications_unread_once ON notifications (workspace_id, user_id, kind, conversation_id)
    WHERE read_at IS NULL;
-- The person's list, newest first.
CREATE INDEX notifications_person_idx ON notifications (workspace_id, user_id, created_at DESC, id DESC);
