-- Entitlement events to the publisher's product (issue 18). Times are fixed-width ISO-8601 UTC text, as everywhere on SQLite.

-- Where an Admin wants events sent. Two secrets may be active at once: after a rotation the old one keeps signing
-- beside the new one until previous_secret_until, so the product can switch without missing an event.
CREATE TABLE IF NOT EXISTS entitlement_endpoints (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    url                   TEXT NOT NULL,
    description           TEXT NOT NULL,
    secret                TEXT NOT NULL,             -- whsec_<base64>, as Standard Webhooks writes it
    previous_secret       TEXT NULL,
    previous_secret_until TEXT NULL,
    enabled               INTEGER NOT NULL DEFAULT 1,
    created_at            TEXT NOT NULL,
    created_by            TEXT NOT NULL
);

-- One row per entitlement change, written in the transaction of the change: the CloudEvent as it will be sent.
CREATE TABLE IF NOT EXISTS entitlement_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source_event_id INTEGER NOT NULL,                -- the subscription_events row: one entitlement event per history event
    subscription_id TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_entitlement_events_source ON entitlement_events (source_event_id);
CREATE INDEX IF NOT EXISTS ix_entitlement_events_subscription ON entitlement_events (subscription_id, id);

-- One delivery per event and endpoint, drained by EntitlementEventSender under leases; per endpoint and subscription
-- a delivery waits until every older one is delivered or dead-lettered, so the product sees changes in order.
CREATE TABLE IF NOT EXISTS entitlement_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        INTEGER NOT NULL REFERENCES entitlement_events (id),
    endpoint_id     INTEGER NOT NULL REFERENCES entitlement_endpoints (id),
    subscription_id TEXT NOT NULL,
    state           TEXT NOT NULL,                   -- Pending | Sending | Delivered | DeadLettered
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_status     INTEGER NULL,
    last_error      TEXT NULL,
    last_latency_ms INTEGER NULL,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT NULL,
    lease_owner     TEXT NULL,
    lease_until     TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_entitlement_deliveries_due ON entitlement_deliveries (state, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS ix_entitlement_deliveries_order ON entitlement_deliveries (endpoint_id, subscription_id, id);
