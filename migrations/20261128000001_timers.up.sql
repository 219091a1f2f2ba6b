-- Snooze: when a Pending conversation wakes up (NULL unless snoozed). The workflow's timer
-- decides when; this copy is what lists show and what wakes_before filters on.
ALTER TABLE conversations ADD COLUMN pending_until timestamptz;
CREATE INDEX conversations_pending_until_idx ON conversations (workspace_id, pending_until)
    WHERE pending_until IS NOT NULL;

--bun:split

-- Auto-archive: closed conversations are archived this many days after they were closed
-- (NULL: off). auto_archive_changed_at orders changes of the setting, so a conversation's
-- workflow never takes an older value after a newer one.
ALTER TABLE workspace_settings
    ADD COLUMN auto_archive_days integer CHECK (auto_archive_days BETWEEN 1 AND 3650),
    ADD COLUMN auto_archive_changed_at timestamptz;
