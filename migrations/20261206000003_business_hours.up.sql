-- A workspace's business hours (time zone, weekly opening ranges, holidays), as the JSON of
-- domain.BusinessHoursSpec; NULL until an owner or admin sets them. SLA clocks count time
-- only inside them.
ALTER TABLE workspace_settings ADD COLUMN business_hours jsonb;
