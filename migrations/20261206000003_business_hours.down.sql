ALTER TABLE workspace_settings DROP COLUMN IF EXISTS business_hours;
