-- PostgreSQL twin of Sqlite/0013_entitlement_events.sql (entitlement events to the product, issue 18).
CREATE TABLE IF NOT EXISTS entitlement_endpoints (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                   TEXT NOT NULL,
    description           TEXT NOT NULL,
    secret                TEXT NOT NULL,
    previous_secret       TEXT NULL,
    previous_secret_until TIMESTAMPTZ NULL,
    enabled               BOOLEAN NOT NULL DEFAULT TRUE,
    created_at            TIMESTAMPTZ NOT NULL,
    created_by            TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS entitlement_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_event_id BIGINT NOT NULL,
    subscription_id TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    version         BIGINT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_entitlement_events_source ON entitlement_events (source_event_id);
CREATE INDEX IF NOT EXISTS ix_entitlement_events_subscription ON entitlement_events (subscription_id, id);

CREATE TABLE IF NOT EXISTS entitlement_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        BIGINT NOT NULL REFERENCES entitlement_events (id),
    endpoint_id     BIGINT NOT NULL REFERENCES entitlement_endpoints (id),
    subscription_id TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_status     INTEGER NULL,
    last_error      TEXT NULL,
    last_latency_ms INTEGER NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ NULL,
    lease_owner     TEXT NULL,
    lease_until     TIMESTAMPTZ NULL
);
CREATE INDEX IF NOT EXISTS ix_entitlement_deliveries_due ON entitlement_deliveries (state, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS ix_entitlement_deliveries_order ON entitlement_deliveries (endpoint_id, subscription_id, id);
