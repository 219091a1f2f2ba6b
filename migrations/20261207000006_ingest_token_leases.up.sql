-- How many tokens the bucket's last call took: a replica takes a few at a time and spends
-- them itself (app.tokenLeases), so that a busy key's messages do not all queue on its row.
ALTER TABLE ingest_rate_limits ADD COLUMN IF NOT EXISTS granted integer NOT NULL DEFAULT 0;
