-- Finance filters the history by plan (a change away from it or onto it) and by customer (beneficiary or purchaser,
-- e-mail or tenant, whatever the case they were typed in). Each filter the history page offers needs an index.
CREATE INDEX IF NOT EXISTS ix_events_to_plan_time ON subscription_events (to_plan, occurred_at, id);
CREATE INDEX IF NOT EXISTS ix_events_from_plan_time ON subscription_events (from_plan, occurred_at, id);
CREATE INDEX IF NOT EXISTS ix_subscriptions_beneficiary_email_ci ON subscriptions (lower(beneficiary_email));
CREATE INDEX IF NOT EXISTS ix_subscriptions_purchaser_email_ci ON subscriptions (lower(purchaser_email));
CREATE INDEX IF NOT EXISTS ix_subscriptions_beneficiary_tenant_ci ON subscriptions (lower(beneficiary_tenant_id));
CREATE INDEX IF NOT EXISTS ix_subscriptions_purchaser_tenant_ci ON subscriptions (lower(purchaser_tenant_id));
