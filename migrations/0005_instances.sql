-- The CRM store, version 5: several instances on one database, and polling
-- inboxes by UID.
--
-- Portable SQL, as version 1 (SQLite and PostgreSQL run the same file).
-- Version 4 is another branch's; sqlx applies the versions it has in order.

-- One row per polled folder (`user@host:port/folder`): which instance polls
-- it (`holder`, until `lease_until`, RFC 3339 UTC), the lease's
-- `generation` (raised at every take-over; every cursor write names the
-- generation it holds and changes nothing when it is not the current one),
-- and the cursor: the folder's UIDVALIDITY and the next UID to read.
CREATE TABLE inbox_leases (
    inbox TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    generation BIGINT NOT NULL,
    uid_validity BIGINT NULL,
    next_uid BIGINT NOT NULL DEFAULT 1
);

-- The outbox row's sender: the instance sending it (`lease_holder`) until
-- `lease_until`. Only that instance marks it sent or failed; a lease that
-- ran out is taken over.
ALTER TABLE outbox ADD COLUMN lease_holder TEXT NULL;
ALTER TABLE outbox ADD COLUMN lease_until TEXT NULL;
