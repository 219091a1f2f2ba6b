ALTER TABLE ingest_rate_limits DROP COLUMN IF EXISTS granted;
