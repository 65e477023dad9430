-- The CRM store, version 3: trust in incoming mail.
--
-- Portable SQL, as version 1 (SQLite and PostgreSQL run the same file).

-- The backend's verdict on each recorded message (SPEC 5, "Mail
-- authentication"): 1 authenticated, 0 not, NULL no verdict; and how it was
-- reached (domains and results, for the administrator).
ALTER TABLE processed_messages ADD COLUMN authenticated INTEGER NULL;
ALTER TABLE processed_messages ADD COLUMN authentication TEXT NULL;
ALTER TABLE rejected_messages ADD COLUMN authenticated INTEGER NULL;
ALTER TABLE rejected_messages ADD COLUMN authentication TEXT NULL;

-- From this version on, `processed_messages.message_key` holds the SHA-256
-- (hex, 64 characters) of the message's key, so that a huge `Message-ID`
-- cannot exceed what an index entry may hold. Rows written before keep
-- their plain key, and the inbox looks a message up under both, so a
-- message applied before the upgrade is still applied only once.
