DROP TABLE IF EXISTS ingest_rate_limits;
