-- Times are ISO-8601 UTC text of fixed width ('yyyy-MM-ddTHH:mm:ss.fffffffZ'), so text order is time order.
CREATE TABLE IF NOT EXISTS subscriptions (
    id                          TEXT PRIMARY KEY,          -- the marketplace's SaaS subscription id
    name                        TEXT NOT NULL,
    publisher_id                TEXT NOT NULL,
    offer_id                    TEXT NOT NULL,
    plan_id                     TEXT NOT NULL,
    quantity                    INTEGER NULL,
    status                      TEXT NOT NULL,
    beneficiary_email           TEXT NULL,
    beneficiary_object_id       TEXT NULL,
    beneficiary_tenant_id       TEXT NULL,
    beneficiary_puid            TEXT NULL,
    purchaser_email             TEXT NULL,
    purchaser_object_id         TEXT NULL,
    purchaser_tenant_id         TEXT NULL,
    purchaser_puid              TEXT NULL,
    term_unit                   TEXT NULL,
    term_start                  TEXT NULL,
    term_end                    TEXT NULL,
    auto_renew                  INTEGER NOT NULL DEFAULT 0,
    is_test                     INTEGER NOT NULL DEFAULT 0,
    is_free_trial               INTEGER NOT NULL DEFAULT 0,
    allowed_customer_operations TEXT NOT NULL DEFAULT '',  -- comma separated: Read,Update,Delete
    sandbox_type                TEXT NULL,
    session_mode                TEXT NULL,
    marketplace_created         TEXT NULL,
    access_enabled              INTEGER NOT NULL DEFAULT 0, -- does the customer reach the product now
    account_organisation        TEXT NULL,                  -- the activation wizard's answers
    account_admin_name          TEXT NULL,
    account_admin_email         TEXT NULL,
    account_settings            TEXT NULL,                  -- JSON: further answers (custom fields)
    configured_at               TEXT NULL,
    configured_by               TEXT NULL,
    wizard_step                 INTEGER NOT NULL DEFAULT 0, -- where a customer resumes the wizard
    last_marketplace_change_at  TEXT NULL,                  -- timeStamp of the last applied webhook: older ones are stale
    first_seen_at               TEXT NOT NULL,
    updated_at                  TEXT NOT NULL,
    last_synced_at              TEXT NULL,
    version                     INTEGER NOT NULL DEFAULT 1  -- optimistic concurrency: two operators never overwrite each other
);
CREATE INDEX IF NOT EXISTS ix_subscriptions_status ON subscriptions (status);
CREATE INDEX IF NOT EXISTS ix_subscriptions_offer_plan ON subscriptions (offer_id, plan_id);
CREATE INDEX IF NOT EXISTS ix_subscriptions_beneficiary_tenant ON subscriptions (beneficiary_tenant_id);
CREATE INDEX IF NOT EXISTS ix_subscriptions_purchaser_tenant ON subscriptions (purchaser_tenant_id);
CREATE INDEX IF NOT EXISTS ix_subscriptions_beneficiary_email ON subscriptions (beneficiary_email);
CREATE INDEX IF NOT EXISTS ix_subscriptions_name ON subscriptions (name);

-- The history: one row per change of status, plan or seats (and the milestones around them).
CREATE TABLE IF NOT EXISTS subscription_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL REFERENCES subscriptions (id),
    offer_id        TEXT NOT NULL,           -- copied so finance filters by offer without a join
    occurred_at     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    from_status     TEXT NULL,
    to_status       TEXT NULL,
    from_plan       TEXT NULL,
    to_plan         TEXT NULL,
    from_quantity   INTEGER NULL,
    to_quantity     INTEGER NULL,
    source          TEXT NOT NULL,           -- customer | operator | marketplace | reconciliation | system
    actor           TEXT NULL,
    operation_id    TEXT NULL,
    detail          TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_events_subscription ON subscription_events (subscription_id, occurred_at, id);
CREATE INDEX IF NOT EXISTS ix_events_time ON subscription_events (occurred_at, id);
CREATE INDEX IF NOT EXISTS ix_events_offer_time ON subscription_events (offer_id, occurred_at, id);
CREATE INDEX IF NOT EXISTS ix_events_kind_time ON subscription_events (kind, occurred_at, id);
CREATE INDEX IF NOT EXISTS ix_events_source_time ON subscription_events (source, occurred_at, id);

-- Operations we started (plan/seat changes, cancellations), followed until the marketplace ends them.
CREATE TABLE IF NOT EXISTS operations (
    id                 TEXT PRIMARY KEY,     -- the marketplace's operation id
    subscription_id    TEXT NOT NULL REFERENCES subscriptions (id),
    action             TEXT NOT NULL,        -- ChangePlan | ChangeQuantity | Unsubscribe
    requested_plan_id  TEXT NULL,
    requested_quantity INTEGER NULL,
    status             TEXT NOT NULL,        -- InProgress | Succeeded | Failed | Conflict | TimedOut
    source             TEXT NOT NULL,        -- customer | operator
    requested_by       TEXT NOT NULL,
    requested_at       TEXT NOT NULL,
    location           TEXT NOT NULL,
    correlation_id     TEXT NOT NULL,
    next_poll_at       TEXT NOT NULL,
    poll_count         INTEGER NOT NULL DEFAULT 0,
    completed_at       TEXT NULL,
    error_message      TEXT NULL,
    lease_owner        TEXT NULL,
    lease_until        TEXT NULL
);
-- One change at a time per subscription, enforced by the database rather than by luck.
CREATE UNIQUE INDEX IF NOT EXISTS ux_operations_one_pending ON operations (subscription_id) WHERE status = 'InProgress';
CREATE INDEX IF NOT EXISTS ix_operations_due ON operations (status, next_poll_at);

-- Every webhook delivery, accepted or not: the inbox and the log in one.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at          TEXT NOT NULL,
    operation_id         TEXT NULL,
    subscription_id      TEXT NULL,
    action               TEXT NULL,
    operation_time_stamp TEXT NULL,
    body                 TEXT NOT NULL,
    headers              TEXT NOT NULL,       -- the ones that matter; never the Authorization header
    result               TEXT NOT NULL,       -- Accepted | Duplicate | Unauthorized | Malformed
    reject_reason        TEXT NULL,
    is_test              INTEGER NOT NULL DEFAULT 0,
    processing_state     TEXT NULL,           -- Pending | Applied | Stale | Ignored | Failed (accepted ones only)
    attempts             INTEGER NOT NULL DEFAULT 0,
    next_attempt_at      TEXT NULL,
    processed_at         TEXT NULL,
    process_detail       TEXT NULL,
    lease_owner          TEXT NULL,
    lease_until          TEXT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_deliveries_operation ON webhook_deliveries (operation_id) WHERE result = 'Accepted';
CREATE INDEX IF NOT EXISTS ix_deliveries_pending ON webhook_deliveries (processing_state, next_attempt_at);
CREATE INDEX IF NOT EXISTS ix_deliveries_subscription ON webhook_deliveries (subscription_id, received_at);
CREATE INDEX IF NOT EXISTS ix_deliveries_received ON webhook_deliveries (received_at, id);

-- What we owe the marketplace for its operations: PATCH Success/Failure, or a cancellation for a refused reinstatement.
CREATE TABLE IF NOT EXISTS acknowledgements (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL,
    operation_id    TEXT NOT NULL UNIQUE,
    answer          TEXT NOT NULL,            -- Success | Failure | Cancel
    reason          TEXT NULL,
    created_at      TEXT NOT NULL,
    due_by          TEXT NOT NULL,            -- delivery time + 10 s for changes (docs/marketplace.md#answering-deliveries)
    state           TEXT NOT NULL,            -- Pending | Sent | Failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at         TEXT NULL,
    last_error      TEXT NULL,
    lease_owner     TEXT NULL,
    lease_until     TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_acknowledgements_due ON acknowledgements (state, next_attempt_at);

-- The catalogue as the marketplace lists it.
CREATE TABLE IF NOT EXISTS plans (
    offer_id          TEXT NOT NULL,
    plan_id           TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    description       TEXT NULL,
    is_price_per_seat INTEGER NOT NULL DEFAULT 0,
    min_quantity      INTEGER NULL,
    max_quantity      INTEGER NULL,
    is_private        INTEGER NOT NULL DEFAULT 0,
    is_stop_sell      INTEGER NOT NULL DEFAULT 0,
    raw_json          TEXT NOT NULL,
    refreshed_at      TEXT NOT NULL,
    PRIMARY KEY (offer_id, plan_id)
);

-- Who did what, when, with which result.
CREATE TABLE IF NOT EXISTS audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    subscription_id TEXT NULL,
    detail          TEXT NULL,
    outcome         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_audit_at ON audit_log (at, id);
CREATE INDEX IF NOT EXISTS ix_audit_subscription ON audit_log (subscription_id, at);

-- Scheduled jobs run on one instance at a time.
CREATE TABLE IF NOT EXISTS job_leases (
    name        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    lease_until TEXT NOT NULL
);

-- ASP.NET Core Data Protection keys, shared by every instance.
CREATE TABLE IF NOT EXISTS data_protection_keys (
    friendly_name TEXT PRIMARY KEY,
    xml           TEXT NOT NULL
);
