DROP INDEX IF EXISTS conversations_sla_breached_idx;
DROP INDEX IF EXISTS conversations_sla_due_idx;
