DROP INDEX CONCURRENTLY IF EXISTS leads_report_idx;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS conversations_sla_resolution_breached_idx;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS conversations_sla_resolution_met_idx;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS conversations_sla_first_response_breached_idx;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS conversations_sla_first_response_met_idx;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS conversations_report_idx;

--bun:split

ALTER TABLE conversations DROP COLUMN IF EXISTS first_assigned_at;
