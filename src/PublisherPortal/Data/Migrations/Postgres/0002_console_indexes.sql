-- PostgreSQL twin of Sqlite/0002_console_indexes.sql (the statements are the same in both dialects).
-- The operator console's grids: an index behind every sort and filter they offer.
-- Subscriptions grid: default order is newest first; "recently changed" sorts by updated_at.
CREATE INDEX IF NOT EXISTS ix_subscriptions_first_seen ON subscriptions (first_seen_at, id);
CREATE INDEX IF NOT EXISTS ix_subscriptions_updated ON subscriptions (updated_at, id);
CREATE INDEX IF NOT EXISTS ix_subscriptions_purchaser_email ON subscriptions (purchaser_email);
CREATE INDEX IF NOT EXISTS ix_subscriptions_plan ON subscriptions (plan_id);

-- Webhook log: filtered by result or action, newest first.
CREATE INDEX IF NOT EXISTS ix_deliveries_result_received ON webhook_deliveries (result, received_at, id);
CREATE INDEX IF NOT EXISTS ix_deliveries_action_received ON webhook_deliveries (action, received_at, id);

-- Operations page: what is pending or failed, newest first.
CREATE INDEX IF NOT EXISTS ix_operations_status_requested ON operations (status, requested_at);
CREATE INDEX IF NOT EXISTS ix_operations_subscription ON operations (subscription_id, requested_at);
