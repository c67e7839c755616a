-- Webhooks feature: what an acknowledgement answers (a 4xx to a Reinstate PATCH counts as done, docs/marketplace.md#where-the-docs-disagree),
-- and the summary of each reconciliation run, so operators see when drift was last checked and what it found.
ALTER TABLE acknowledgements ADD COLUMN action TEXT NULL;

CREATE TABLE IF NOT EXISTS reconciliation_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
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
