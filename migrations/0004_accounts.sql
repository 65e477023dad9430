-- The CRM store, version 4: tokens that expire.
--
-- Portable SQL, as version 1. (Version 3 belongs to mail authentication;
-- sqlx applies the versions present in order, a gap is allowed.)

-- When a token was last used (RFC 3339 UTC, to the minute it was refreshed);
-- NULL until its first use after sign-in, when `created_at` counts. A token
-- idle longer than the idle limit, or older than the absolute limit, is
-- refused and deleted (docs/api.md, "Sessions").
ALTER TABLE tokens ADD COLUMN last_used_at TEXT NULL;
