ALTER TABLE workspace_settings DROP COLUMN IF EXISTS auto_archive_changed_at;
ALTER TABLE workspace_settings DROP COLUMN IF EXISTS auto_archive_days;
DROP INDEX IF EXISTS conversations_pending_until_idx;
ALTER TABLE conversations DROP COLUMN IF EXISTS pending_until;
