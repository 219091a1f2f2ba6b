ALTER TABLE conversations DROP COLUMN IF EXISTS lifecycle_seq;
