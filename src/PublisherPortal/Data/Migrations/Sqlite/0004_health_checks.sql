-- Integration health: the last state of each check, so an alert goes out once per change of state (not once per run),
-- the page shows when each was last checked, and every instance agrees on what was already announced.
CREATE TABLE IF NOT EXISTS health_checks (
    check_key      TEXT PRIMARY KEY,           -- marketplace-token | credential-expiry | webhooks | ...
    state          TEXT NOT NULL,              -- Healthy | Warning | Failing
    figure         TEXT NOT NULL,              -- the number behind the state; never a secret or personal data
    details        TEXT NULL,                  -- JSON lines for the page (may name a customer's contact)
    checked_at     TEXT NOT NULL,
    changed_at     TEXT NOT NULL,
    notified_state TEXT NOT NULL               -- the state last announced (log and alert webhook)
);

-- The filters behind the checks: each reads a time range of one state, newest or oldest first.
CREATE INDEX IF NOT EXISTS ix_deliveries_result_received ON webhook_deliveries (result, received_at);
CREATE INDEX IF NOT EXISTS ix_acknowledgements_state_created ON acknowledgements (state, created_at);
CREATE INDEX IF NOT EXISTS ix_operations_status_requested ON operations (status, requested_at);
CREATE INDEX IF NOT EXISTS ix_subscriptions_status_first_seen ON subscriptions (status, first_seen_at);
