-- Contacts and companies (issue 12): a person's telephone number, and the
-- order of a person's e-mail addresses (0 first: the address the CRM writes
-- to; the order the form or the imported file gave). Every address still
-- identifies the person. Portable SQL: SQLite and PostgreSQL both run this
-- file as it is.
ALTER TABLE persons ADD COLUMN phone TEXT;
ALTER TABLE person_emails ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
