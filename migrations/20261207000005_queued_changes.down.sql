DROP TABLE IF EXISTS queued_changes;
