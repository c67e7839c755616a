-- PostgreSQL twin of Sqlite/0005_scalefix_event_marketplace_time.sql.
ALTER TABLE subscription_events ADD COLUMN IF NOT EXISTS marketplace_time_stamp TIMESTAMPTZ NULL;
