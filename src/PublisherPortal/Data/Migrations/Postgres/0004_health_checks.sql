-- PostgreSQL twin of Sqlite/0004_health_checks.sql.
CREATE TABLE IF NOT EXISTS health_checks (
    check_key      TEXT PRIMARY KEY,
    state          TEXT NOT NULL,
    figure         TEXT NOT NULL,
    details        TEXT NULL,
    checked_at     TIMESTAMPTZ NOT NULL,
    changed_at     TIMESTAMPTZ NOT NULL,
    notified_state TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_deliveries_result_received ON webhook_deliveries (result, received_at);
CREATE INDEX IF NOT EXISTS ix_acknowledgements_state_created ON acknowledgements (state, created_at);
CREATE INDEX IF NOT EXISTS ix_operations_status_requested ON operations (status, requested_at);
CREATE INDEX IF NOT EXISTS ix_subscriptions_status_first_seen ON subscriptions (status, first_seen_at);
