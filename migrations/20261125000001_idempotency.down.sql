DROP TABLE IF EXISTS idempotency_keys;

--bun:split

DROP INDEX IF EXISTS audit_log_conversation_request_idx;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_request_id_key UNIQUE (request_id);
