-- conversations_report_idx (workspace_id, created_at) INCLUDE (...) answers everything that
-- conversations_created_idx (workspace_id, created_at) did, in the same order, so the older
-- index only cost work: every conversation's insert, and every update that moves its row (a
-- message's, a change's), wrote an entry into it. Dropped CONCURRENTLY (no .tx. in the file
-- name), so applying this to a live database does not block ingest.
DROP INDEX CONCURRENTLY IF EXISTS conversations_created_idx;
