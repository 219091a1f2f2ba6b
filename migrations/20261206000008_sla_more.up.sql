-- SLA list orders: conversations with a running clock by their earliest due time ("due
-- soon"), and conversations with a breached clock by their latest breach. The expressions
-- and predicates are those of store/lists.go (slaDueExpr, slaBreachedExpr).
CREATE INDEX conversations_sla_due_idx ON conversations
    (workspace_id, (LEAST(sla_first_response_due, sla_resolution_due)), id)
    WHERE sla_first_response_due IS NOT NULL OR sla_resolution_due IS NOT NULL;
CREATE INDEX conversations_sla_breached_idx ON conversations
    (workspace_id, (GREATEST(sla_first_response_breached_at, sla_resolution_breached_at)) DESC, id DESC)
    WHERE sla_first_response_breached_at IS NOT NULL OR sla_resolution_breached_at IS NOT NULL;
