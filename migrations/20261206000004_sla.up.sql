-- SLA: a workspace's policy, and each conversation's two clocks in the read model.
-- The policy is two durations in business time, in seconds, NULL for a clock that is off.
ALTER TABLE workspace_settings
    ADD COLUMN sla_first_response_seconds integer CHECK (sla_first_response_seconds > 0),
    ADD COLUMN sla_resolution_seconds integer CHECK (sla_resolution_seconds > 0);

-- The conversation's clocks, written by its workflow. *_due is when the clock breaches (NULL
-- while it is off or paused); *_met_at is when it stopped in time; *_breached_at is when it
-- breached (written once per clock). A reopen restarts the resolution clock.
ALTER TABLE conversations
    ADD COLUMN sla_first_response_due timestamptz,
    ADD COLUMN sla_first_response_met_at timestamptz,
    ADD COLUMN sla_first_response_breached_at timestamptz,
    ADD COLUMN sla_resolution_due timestamptz,
    ADD COLUMN sla_resolution_met_at timestamptz,
    ADD COLUMN sla_resolution_breached_at timestamptz,
    ADD COLUMN sla_resolution_paused boolean NOT NULL DEFAULT false;
