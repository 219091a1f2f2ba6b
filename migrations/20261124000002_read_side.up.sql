-- Indexes for the read side (conversation list filters, lead list and export).
-- Built CONCURRENTLY so applying this to a live database does not block ingest; each
-- statement runs on its own (no .tx. in the file name), and a half-built index left by an
-- interrupted run is dropped and built again.

-- The default conversation list hides archived conversations. Archived ones pile up over
-- time (the guide archives anything older than 30 days), so walking the activity index and
-- skipping them would slow the list down as the workspace ages.
DROP INDEX CONCURRENTLY IF EXISTS conversations_active_idx;

--bun:split

CREATE INDEX CONCURRENTLY conversations_active_idx
    ON conversations (workspace_id, last_message_at DESC, id DESC)
    WHERE state <> 'archived';

--bun:split

-- The lead list and export filtered by status, newest first.
DROP INDEX CONCURRENTLY IF EXISTS leads_status_created_idx;

--bun:split

CREATE INDEX CONCURRENTLY leads_status_created_idx
    ON leads (workspace_id, status, created_at DESC, id DESC);

