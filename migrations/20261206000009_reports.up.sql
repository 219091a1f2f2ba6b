-- Indexes of the Reports page (GET .../reports). Built CONCURRENTLY, one statement at a time
-- (no .tx. in the file name), like the read-side indexes, so applying this to a live database
-- does not block ingest; a half-built index left by an interrupted run is dropped and built
-- again.

-- Conversations created in the range: per day and channel, and the rows whose time to first
-- assignment and time to close the report measures. The INCLUDE columns let Postgres answer
-- from the index alone, without visiting a million heap rows at random.
DROP INDEX CONCURRENTLY IF EXISTS conversations_report_idx;

--bun:split

CREATE INDEX CONCURRENTLY conversations_report_idx
    ON conversations (workspace_id, created_at) INCLUDE (id, channel, assignee_id, closed_at);

--bun:split

-- A conversation's first assignment is its first assignee_changed audit entry with an
-- assignee (an unassignment has "assignee": null).
DROP INDEX CONCURRENTLY IF EXISTS audit_log_assigned_idx;

--bun:split

CREATE INDEX CONCURRENTLY audit_log_assigned_idx
    ON audit_log (conversation_id, at)
    WHERE action = 'assignee_changed' AND (after ->> 'assignee') IS NOT NULL;

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
