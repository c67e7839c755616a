-- PostgreSQL twin of Sqlite/0005_notifications.sql (e-mail notifications, issue 10 part 2).
CREATE TABLE IF NOT EXISTS notification_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key      TEXT NOT NULL,
    notification    TEXT NOT NULL,
    event_kind      TEXT NOT NULL,
    audience        TEXT NOT NULL,
    subscription_id TEXT NULL,
    source_event_id BIGINT NULL,
    recipients      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ NULL,
    lease_owner     TEXT NULL,
    lease_until     TIMESTAMPTZ NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_notification_outbox_dedupe ON notification_outbox (dedupe_key);
CREATE UNIQUE INDEX IF NOT EXISTS ux_notification_outbox_message_id ON notification_outbox (message_id);
CREATE INDEX IF NOT EXISTS ix_notification_outbox_due ON notification_outbox (state, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS ix_notification_outbox_subscription ON notification_outbox (subscription_id, created_at);

CREATE TABLE IF NOT EXISTS notification_templates (
    notification TEXT PRIMARY KEY,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS notification_switches (
    offer_id     TEXT NOT NULL,
    notification TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   TEXT NOT NULL,
    PRIMARY KEY (offer_id, notification)
);

CREATE TABLE IF NOT EXISTS demo_mailbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL,
    message_id  TEXT NOT NULL,
    mail_from   TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_demo_mailbox_message_id ON demo_mailbox (message_id);
CREATE INDEX IF NOT EXISTS ix_demo_mailbox_received ON demo_mailbox (received_at, id);
