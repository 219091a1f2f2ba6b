-- One token bucket per workspace ingest key, shared by every API replica: the tokens left
-- at `at` (Postgres's clock, so replicas' clocks do not matter). One row per workspace,
-- updated in place, so there is nothing to purge.
CREATE TABLE ingest_rate_limits (
    workspace_id uuid PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    tokens       double precision NOT NULL,
    at           timestamptz NOT NULL,
    allowed      boolean NOT NULL
);
