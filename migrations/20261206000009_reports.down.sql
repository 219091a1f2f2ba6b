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

DROP INDEX CONCURRENTLY IF EXISTS audit_log_assigned_idx;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS conversations_report_idx;
