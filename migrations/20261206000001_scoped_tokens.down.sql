ALTER TABLE invites DROP COLUMN IF EXISTS workspace_id;
DROP INDEX IF EXISTS api_tokens_user_idx;
DROP INDEX IF EXISTS api_tokens_membership_idx;
ALTER TABLE api_tokens DROP CONSTRAINT IF EXISTS api_tokens_membership_fkey;
ALTER TABLE api_tokens DROP COLUMN IF EXISTS last_used_at;
ALTER TABLE api_tokens DROP COLUMN IF EXISTS expires_at;
ALTER TABLE api_tokens DROP COLUMN IF EXISTS name;
ALTER TABLE api_tokens DROP COLUMN IF EXISTS workspace_id;
