-- 0005_console_search_indexes replaced these single-column tenant indexes on both engines but dropped them only on SQLite.
-- No query needs them on PostgreSQL either, and every subscription write maintained them. Already gone on SQLite.
DROP INDEX IF EXISTS ix_subscriptions_beneficiary_tenant;
DROP INDEX IF EXISTS ix_subscriptions_purchaser_tenant;
