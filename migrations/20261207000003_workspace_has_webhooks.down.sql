ALTER TABLE workspaces DROP COLUMN IF EXISTS has_webhooks;
