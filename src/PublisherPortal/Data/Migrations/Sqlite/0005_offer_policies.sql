-- Offer policies (issue #10): how each offer is onboarded and which customer changes it accepts. An offer without a
-- row keeps the defaults (automatic activation, every change accepted, no custom fields), which is what the portal did
-- before policies existed.
CREATE TABLE IF NOT EXISTS offer_policies (
    offer_id             TEXT PRIMARY KEY,
    activation           TEXT NOT NULL,             -- Automatic | OperatorApproval
    accept_changes       INTEGER NOT NULL DEFAULT 1, -- ChangePlan/ChangeQuantity webhooks accepted at all
    allowed_plan_moves   TEXT NOT NULL DEFAULT '[]', -- JSON [{"from":"team","to":"business"}]; empty = any move
    minimum_seats        TEXT NOT NULL DEFAULT 'None', -- None | Fixed | SeatsInUse
    minimum_seats_fixed  INTEGER NULL,
    custom_fields        TEXT NOT NULL DEFAULT '[]', -- JSON: the fields the activation wizard asks for this offer
    version              INTEGER NOT NULL,          -- optimistic concurrency: two admins never overwrite each other
    updated_at           TEXT NOT NULL,
    updated_by           TEXT NOT NULL
);

-- Activations that wait for an operator. One row per subscription; state moves Pending -> Approved | Rejected once,
-- by a conditional update, so two operators deciding at once cannot both win.
CREATE TABLE IF NOT EXISTS activation_approvals (
    subscription_id TEXT PRIMARY KEY REFERENCES subscriptions (id),
    offer_id        TEXT NOT NULL,
    state           TEXT NOT NULL,                  -- Pending | Approved | Rejected
    requested_at    TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    decided_at      TEXT NULL,
    decided_by      TEXT NULL,
    reason          TEXT NULL                       -- the rejection reason the customer is shown
);
-- The queue: pending ones, oldest first.
CREATE INDEX IF NOT EXISTS ix_approvals_state_requested ON activation_approvals (state, requested_at);

-- The offer settings page shows the audit trail of one kind of action.
CREATE INDEX IF NOT EXISTS ix_audit_action_at ON audit_log (action, at);
