-- The CRM store, version 2: mail in and out.
--
-- Portable SQL, as version 1.

-- The outbox's sending state: status `queued`, `sent` or `failed`; a failed
-- message with a `retry_at` is due again then, one without failed for good.
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN retry_at TEXT NULL;
ALTER TABLE outbox ADD COLUMN last_error TEXT NULL;
CREATE INDEX outbox_retry ON outbox (status, retry_at);

-- Messages polled from a mailbox and refused for good (not a meeting
-- message, malformed, not entitled): one row per mailbox and key (the
-- SHA-256 of the raw message, hex), with the error.
CREATE TABLE rejected_messages (
    mailbox TEXT NOT NULL,
    message_key TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (mailbox, message_key)
);
