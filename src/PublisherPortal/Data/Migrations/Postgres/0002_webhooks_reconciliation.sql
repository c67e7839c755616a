-- PostgreSQL twin of Sqlite/0002_webhooks_reconciliation.sql.
ALTER TABLE acknowledgements ADD COLUMN IF NOT EXISTS action TEXT NULL;

CREATE TABLE IF NOT EXISTS reconciliation_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    trigger     TEXT NOT NULL,              -- schedule | operator | subscription
    checked     INTEGER NOT NULL,
    corrected   INTEGER NOT NULL,
    added       INTEGER NOT NULL,
    skipped     INTEGER NOT NULL,           -- left alone because a change was in flight
    failed      INTEGER NOT NULL,
    outcome     TEXT NOT NULL,              -- Completed | Failed
    detail      TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_reconciliation_runs_started ON reconciliation_runs (started_at, id);
