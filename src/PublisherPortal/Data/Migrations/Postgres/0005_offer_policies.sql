-- PostgreSQL twin of Sqlite/0005_offer_policies.sql.
CREATE TABLE IF NOT EXISTS offer_policies (
    offer_id             TEXT PRIMARY KEY,
    activation           TEXT NOT NULL,
    accept_changes       BOOLEAN NOT NULL DEFAULT TRUE,
    allowed_plan_moves   TEXT NOT NULL DEFAULT '[]',
    minimum_seats        TEXT NOT NULL DEFAULT 'None',
    minimum_seats_fixed  INTEGER NULL,
    custom_fields        TEXT NOT NULL DEFAULT '[]',
    version              BIGINT NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    updated_by           TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS activation_approvals (
    subscription_id TEXT PRIMARY KEY REFERENCES subscriptions (id),
    offer_id        TEXT NOT NULL,
    state           TEXT NOT NULL,
    requested_at    TIMESTAMPTZ NOT NULL,
    requested_by    TEXT NOT NULL,
    decided_at      TIMESTAMPTZ NULL,
    decided_by      TEXT NULL,
    reason          TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_approvals_state_requested ON activation_approvals (state, requested_at);

CREATE INDEX IF NOT EXISTS ix_audit_action_at ON audit_log (action, at);
