DROP FUNCTION IF EXISTS inbox_store_message(timestamptz, uuid, text, text, text, uuid, text, timestamptz, boolean,
    uuid, text, text, text, text, text, inet, uuid, text, text, text, uuid, jsonb);
