DROP INDEX CONCURRENTLY IF EXISTS leads_status_created_idx;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS conversations_active_idx;
