-- PostgreSQL twin of Sqlite/0003_metering_usage.sql (metered billing, issue 11): times timestamptz, flags boolean. Quantities are whole millionths (quantity_micros) so sums are exact on both databases.

-- Usage as the publisher's product reported it: one row per accepted intake call, kept as the evidence.
CREATE TABLE IF NOT EXISTS usage_records (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source            TEXT NOT NULL,              -- API key name (demo) or calling app id (real)
    idempotency_key   TEXT NOT NULL,
    request_hash      TEXT NOT NULL,              -- same key with other content is refused, not merged
    subscription_id   TEXT NOT NULL,
    dimension         TEXT NOT NULL,
    quantity_micros   BIGINT NOT NULL,
    occurred_at       TIMESTAMPTZ NOT NULL,
    hour_start        TIMESTAMPTZ NOT NULL,              -- occurred_at truncated to the hour: the marketplace's unit
    received_at       TIMESTAMPTZ NOT NULL,
    hour_id           BIGINT NULL,                -- the usage_hours row it was aggregated into
    aggregation_batch TEXT NULL,
    late              BOOLEAN NOT NULL DEFAULT FALSE -- arrived after its hour had been sent: not billable, shown to operators
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_usage_records_idempotency ON usage_records (source, idempotency_key);
CREATE INDEX IF NOT EXISTS ix_usage_records_unaggregated ON usage_records (hour_start, id) WHERE hour_id IS NULL;
CREATE INDEX IF NOT EXISTS ix_usage_records_batch ON usage_records (aggregation_batch, hour_id);
CREATE INDEX IF NOT EXISTS ix_usage_records_hour ON usage_records (hour_id);

-- One row per subscription, dimension and hour: what is (or will be) one usage event at the marketplace.
CREATE TABLE IF NOT EXISTS usage_hours (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id        TEXT NOT NULL,
    dimension              TEXT NOT NULL,
    hour_start             TIMESTAMPTZ NOT NULL,
    quantity_micros        BIGINT NOT NULL DEFAULT 0,
    record_count           INTEGER NOT NULL DEFAULT 0,
    late_quantity_micros   BIGINT NOT NULL DEFAULT 0,
    late_record_count      INTEGER NOT NULL DEFAULT 0,
    state                  TEXT NOT NULL,          -- Pending | Submitting | Accepted | Duplicate | Failed | Expired
    result_status          TEXT NULL,              -- the marketplace's word: Accepted, Duplicate, Expired, ResourceNotActive, …
    result_detail          TEXT NULL,
    plan_id                TEXT NULL,              -- the plan sent, kept so a re-send is the same event
    batch_id               TEXT NULL,              -- set with state Submitting, before the call
    usage_event_id         TEXT NULL,
    billed_quantity_micros BIGINT NULL,           -- what the marketplace holds for the hour (ours, or the earlier accepted one)
    attempts               INTEGER NOT NULL DEFAULT 0,
    next_attempt_at        TIMESTAMPTZ NULL,
    last_error             TEXT NULL,
    submitted_at           TIMESTAMPTZ NULL,
    answered_at            TIMESTAMPTZ NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_usage_hours_key ON usage_hours (subscription_id, dimension, hour_start);
CREATE INDEX IF NOT EXISTS ix_usage_hours_state ON usage_hours (state, hour_start, id);
CREATE INDEX IF NOT EXISTS ix_usage_hours_batch ON usage_hours (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_usage_hours_subscription ON usage_hours (subscription_id, hour_start);
CREATE INDEX IF NOT EXISTS ix_usage_hours_answered ON usage_hours (answered_at, id);
