-- The Reports page (GET .../reports): each conversation's first assignment in the read
-- model, and the indexes of the report's queries. The indexes are built CONCURRENTLY, one
-- statement at a time (no .tx. in the file name), like the read-side indexes, so applying
-- this to a live database does not block ingest; a half-built index left by an interrupted
-- run is dropped and built again.

-- When the conversation first had an assignee: written once by the assignment (store), and
-- filled here from the audit log, where it is the first assignee_changed entry that names an
-- assignee (an unassignment has "assignee": null).
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS first_assigned_at timestamptz;

--bun:split

UPDATE conversations AS c SET first_assigned_at = fa.at
FROM (
    SELECT conversation_id, min(at) AS at FROM audit_log
    WHERE action = 'assignee_changed' AND (after ->> 'assignee') IS NOT NULL AND conversation_id IS NOT NULL
    GROUP BY conversation_id
) AS fa
WHERE fa.conversation_id = c.id AND c.first_assigned_at IS NULL;

--bun:split

-- Conversations created in the range: per day and channel, and the times the report
-- measures. The INCLUDE columns let Postgres answer from the index alone, without visiting
-- the heap rows (spread at random over a million) one by one.
DROP INDEX CONCURRENTLY IF EXISTS conversations_report_idx;

--bun:split

CREATE INDEX CONCURRENTLY conversations_report_idx
    ON conversations (workspace_id, created_at) INCLUDE (channel, assignee_id, first_assigned_at, closed_at);

--bun:split

-- SLA met and breached per week: each clock's stop and breach times, only where set.
DROP INDEX CONCURRENTLY IF EXISTS conversations_sla_first_response_met_idx;

--bun:split

CREATE INDEX CONCURRENTLY conversations_sla_first_response_met_idx
    ON conversations (workspace_id, sla_first_response_met_at)
    WHERE sla_first_response_met_at IS NOT NULL;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS conversations_sla_first_response_breached_idx;

--bun:split

CREATE INDEX CONCURRENTLY conversations_sla_first_response_breached_idx
    ON conversations (workspace_id, sla_first_response_breached_at)
    WHERE sla_first_response_breached_at IS NOT NULL;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS conversations_sla_resolution_met_idx;

--bun:split

CREATE INDEX CONCURRENTLY conversations_sla_resolution_met_idx
    ON conversations (workspace_id, sla_resolution_met_at)
    WHERE sla_resolution_met_at IS NOT NULL;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS conversations_sla_resolution_breached_idx;

--bun:split

CREATE INDEX CONCURRENTLY conversations_sla_resolution_breached_idx
    ON conversations (workspace_id, sla_resolution_breached_at)
    WHERE sla_resolution_breached_at IS NOT NULL;

--bun:split

-- Leads by status over the range, from the index alone.
DROP INDEX CONCURRENTLY IF EXISTS leads_report_idx;

--bun:split

CREATE INDEX CONCURRENTLY leads_report_idx ON leads (workspace_id, created_at) INCLUDE (status);
