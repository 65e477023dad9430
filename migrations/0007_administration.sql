-- The CRM store, version 7: administration, one-time password links, the
-- private calendar feeds, and what each polled inbox last did.
--
-- Portable SQL, as version 1 (SQLite and PostgreSQL run the same file).

-- A disabled associate (RFC 3339 UTC, when) cannot sign in and their
-- tokens are refused; their diary, follow-ups and history stay.
ALTER TABLE associates ADD COLUMN disabled_at TEXT NULL;

-- A retired room or piece of equipment is no longer offered for new
-- follow-ups; the follow-ups that booked it keep it.
ALTER TABLE resources ADD COLUMN retired_at TEXT NULL;

-- One-time links to set a password (a new associate's first one, or a
-- reset): the SHA-256 (hex) of the link's secret, used once, until
-- `expires_at`.
CREATE TABLE password_links (
    token_hash TEXT PRIMARY KEY,
    associate_id TEXT NOT NULL REFERENCES associates (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX password_links_associate ON password_links (associate_id);

-- Each associate's private calendar feed (at most one): the SHA-256 (hex)
-- of the secret in its URL. Deleting the row revokes the feed.
CREATE TABLE calendar_feeds (
    associate_id TEXT PRIMARY KEY REFERENCES associates (id),
    secret_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_fetched_at TEXT NULL
);

-- What the poller of each configured inbox (by its name) last did, for
-- the administrator's mail status: the last poll, the last success, the
-- last error, and running counts of the messages taken in, rejected, and
-- failed (offered again later).
CREATE TABLE inbox_polls (
    inbox TEXT PRIMARY KEY,
    last_poll_at TEXT NULL,
    last_success_at TEXT NULL,
    last_error TEXT NULL,
    last_error_at TEXT NULL,
    applied BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0
);
