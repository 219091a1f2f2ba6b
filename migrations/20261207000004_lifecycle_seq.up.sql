-- The sequence number of the last lifecycle change applied to the row (see
-- domain.LifecycleChange.Seq): a change that arrives late or twice is applied over an older
-- one only, so it never undoes a newer change. 0: none applied since the workflow started
-- numbering its changes.
ALTER TABLE conversations ADD COLUMN lifecycle_seq bigint NOT NULL DEFAULT 0;
