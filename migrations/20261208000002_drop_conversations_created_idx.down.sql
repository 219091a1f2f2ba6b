CREATE INDEX CONCURRENTLY IF NOT EXISTS conversations_created_idx ON conversations (workspace_id, created_at);
