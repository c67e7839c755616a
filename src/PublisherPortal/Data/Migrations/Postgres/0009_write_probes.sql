-- One row per running instance, rewritten every few seconds by WritableDatabase: the proof that this instance's
-- writes land in the database everyone else reads (readiness, and the intake endpoints' 503 when they do not).
CREATE TABLE IF NOT EXISTS write_probes (
    instance   TEXT PRIMARY KEY,
    token      TEXT NOT NULL,
    written_at TIMESTAMPTZ NOT NULL
);
