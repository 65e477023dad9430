-- The e-mails each mailbox received through the inbox endpoint or the IMAP
-- poller, as they arrived, for the web client's Inbox page. One row per
-- mailbox and message (the SHA-256 of the raw bytes); the decision made on
-- arrival is kept beside it.
CREATE TABLE received_messages (
    id TEXT PRIMARY KEY,
    mailbox TEXT NOT NULL,
    digest TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    from_email TEXT,
    from_name TEXT,
    raw TEXT NOT NULL,
    raw_encoding TEXT NOT NULL,
    decision TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE UNIQUE INDEX received_messages_digest ON received_messages (mailbox, digest);
CREATE INDEX received_messages_mailbox ON received_messages (mailbox, received_at);
