-- Contacts and companies (issue 12): a person's telephone number, as the
-- contact forms and the import (CSV, vCard) take it. Portable SQL: SQLite
-- and PostgreSQL both run this file as it is.
ALTER TABLE persons ADD COLUMN phone TEXT;
