ALTER TABLE conversations
    DROP COLUMN IF EXISTS sla_first_response_due,
    DROP COLUMN IF EXISTS sla_first_response_met_at,
    DROP COLUMN IF EXISTS sla_first_response_breached_at,
    DROP COLUMN IF EXISTS sla_resolution_due,
    DROP COLUMN IF EXISTS sla_resolution_met_at,
    DROP COLUMN IF EXISTS sla_resolution_breached_at,
    DROP COLUMN IF EXISTS sla_resolution_paused;
ALTER TABLE workspace_settings
    DROP COLUMN IF EXISTS sla_first_response_seconds,
    DROP COLUMN IF EXISTS sla_resolution_seconds;
