-- E-mail notifications (issue 10 part 2). Times are fixed-width ISO-8601 UTC text, as everywhere on SQLite.

-- Mails owed, written in the same transaction as the change that causes them, drained by NotificationSender.
-- Subject and body are rendered when the row is written, so the mail says what was true at that moment and a resend
-- is byte-for-byte the same mail (same Message-ID, same words) even if the template or the subscription changed since.
CREATE TABLE IF NOT EXISTS notification_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key      TEXT NOT NULL,             -- one mail per (notification, history event): the same event never mails twice
    notification    TEXT NOT NULL,             -- ActivationDone | NewPurchase | ... (NotificationCatalog)
    event_kind      TEXT NOT NULL,             -- the history event kind that caused it (or AcknowledgementFailed)
    audience        TEXT NOT NULL,             -- Customer | Operators
    subscription_id TEXT NULL,
    source_event_id INTEGER NULL,              -- subscription_events.id
    recipients      TEXT NOT NULL,             -- comma separated addresses
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    message_id      TEXT NOT NULL,             -- stable Message-ID: a receiver drops a repeat of the same mail
    state           TEXT NOT NULL,             -- Pending | Sending | Sent | Failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT NULL,
    lease_owner     TEXT NULL,
    lease_until     TEXT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_notification_outbox_dedupe ON notification_outbox (dedupe_key);
CREATE UNIQUE INDEX IF NOT EXISTS ux_notification_outbox_message_id ON notification_outbox (message_id);
CREATE INDEX IF NOT EXISTS ix_notification_outbox_due ON notification_outbox (state, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS ix_notification_outbox_subscription ON notification_outbox (subscription_id, created_at);

-- An Admin's wording of a notification; a notification without a row uses the built-in default.
CREATE TABLE IF NOT EXISTS notification_templates (
    notification TEXT PRIMARY KEY,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL
);

-- Per offer, per notification: only switches turned off need a row, so a new offer mails everything by default.
CREATE TABLE IF NOT EXISTS notification_switches (
    offer_id     TEXT NOT NULL,
    notification TEXT NOT NULL,
    enabled      INTEGER NOT NULL,
    updated_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    PRIMARY KEY (offer_id, notification)
);

-- Demo mode only: what the in-process SMTP server received. In the database so it survives restarts and every
-- instance of a scale-out demo shows the same mailbox.
CREATE TABLE IF NOT EXISTS demo_mailbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    mail_from   TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL
);
-- A receiver that keys on Message-ID drops the duplicate of the at-least-once window (see NotificationSender).
CREATE UNIQUE INDEX IF NOT EXISTS ux_demo_mailbox_message_id ON demo_mailbox (message_id);
CREATE INDEX IF NOT EXISTS ix_demo_mailbox_received ON demo_mailbox (received_at, id);
