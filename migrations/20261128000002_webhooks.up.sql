-- Signed webhooks (Standard Webhooks). An endpoint belongs to one workspace; its signing
-- secret is sealed with INBOX_SECRET_KEY like BYOK keys. During a rotation the previous
-- secret keeps signing too, until previous_secret_expires_at.
CREATE TABLE webhooks (
    id                         uuid PRIMARY KEY,
    workspace_id               uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url                        text NOT NULL,
    events                     text[] NOT NULL,
    enabled                    boolean NOT NULL DEFAULT true,
    -- why the inbox disabled it (a 410 from the receiver); '' when enabled or disabled by a member
    disabled_reason            text NOT NULL DEFAULT '',
    secret_sealed              bytea NOT NULL,
    previous_secret_sealed     bytea,
    previous_secret_expires_at timestamptz,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL
);
CREATE INDEX webhooks_workspace_idx ON webhooks (workspace_id, created_at DESC, id DESC);

-- The outbox: one row per event and matching enabled endpoint, inserted in the transaction
-- of the change that causes the event, so a crash loses none. The body is kept as sent, so
-- every attempt and redelivery signs the same bytes under the same webhook-id (the row's id).
-- dispatched_at is null until a WebhookDelivery workflow has been started for the current
-- generation; a redelivery bumps generation and clears it.
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    workspace_id     uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    event            text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    generation       integer NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    delivered_at     timestamptz,
    dispatched_at    timestamptz
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_undispatched_idx ON webhook_deliveries (created_at) WHERE dispatched_at IS NULL;

-- Every HTTP attempt of a delivery: what the receiver answered, how long it took, or why it
-- could not be reached.
CREATE TABLE webhook_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    generation  integer NOT NULL,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL,
    status_code integer,
    latency_ms  integer NOT NULL,
    error       text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);
