DROP FUNCTION IF EXISTS inbox_store_follow_up(timestamptz, uuid, text, text, text, uuid, text, timestamptz);
