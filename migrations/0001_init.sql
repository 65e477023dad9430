-- The CRM store, version 1.
--
-- Portable SQL: SQLite and PostgreSQL both run this file as it is. Ids are
-- TEXT, flags are INTEGER 0/1, instants are TEXT in RFC 3339 UTC
-- (`2026-12-03T09:00:00Z`), which sorts as it compares.

-- Users of the CRM, each with a diary.
CREATE TABLE associates (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Bearer tokens, stored as the SHA-256 of the token (hex).
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    associate_id TEXT NOT NULL REFERENCES associates (id),
    created_at TEXT NOT NULL
);
CREATE INDEX tokens_associate ON tokens (associate_id);

CREATE TABLE companies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    domain TEXT,
    ours INTEGER NOT NULL DEFAULT 0
);

-- Contacts: persons at other companies, and persons without a company.
CREATE TABLE persons (
    id TEXT PRIMARY KEY,
    company_id TEXT REFERENCES companies (id),
    name TEXT NOT NULL,
    title TEXT
);
CREATE INDEX persons_company ON persons (company_id);

-- A person's e-mail addresses, lower-cased.
CREATE TABLE person_emails (
    person_id TEXT NOT NULL REFERENCES persons (id),
    email TEXT NOT NULL,
    PRIMARY KEY (person_id, email)
);
CREATE INDEX person_emails_email ON person_emails (email);

-- Rooms and equipment.
CREATE TABLE resources (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL
);

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    company_id TEXT REFERENCES companies (id),
    status TEXT NOT NULL
);
CREATE INDEX projects_company ON projects (company_id);

CREATE TABLE sales (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    company_id TEXT REFERENCES companies (id),
    status TEXT NOT NULL
);
CREATE INDEX sales_company ON sales (company_id);

-- Appointments and follow-ups: normalized columns next to the iCalendar source.
-- `origin` is `crm` (organized here), `email` (an invitation received by the
-- owner's mailbox) or `archive` (a meeting archived by hand).
CREATE TABLE appointments (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES associates (id),
    origin TEXT NOT NULL,
    title TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    all_day INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    moved INTEGER NOT NULL DEFAULT 0,
    recurring INTEGER NOT NULL DEFAULT 0,
    uid TEXT NOT NULL,
    ical_sequence INTEGER NOT NULL DEFAULT 0,
    dtstamp TEXT,
    organizer_email TEXT,
    organizer_name TEXT,
    ics TEXT,
    person_id TEXT REFERENCES persons (id),
    company_id TEXT REFERENCES companies (id),
    project_id TEXT REFERENCES projects (id),
    sale_id TEXT REFERENCES sales (id),
    assigned_by TEXT REFERENCES associates (id),
    first_available_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX appointments_owner_uid ON appointments (owner_id, uid);
CREATE INDEX appointments_uid ON appointments (uid);
CREATE INDEX appointments_time ON appointments (start_at, end_at);

-- Occurrences of a recurring appointment (created on Accept all).
CREATE TABLE occurrences (
    appointment_id TEXT NOT NULL REFERENCES appointments (id),
    recurrence_id TEXT NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (appointment_id, recurrence_id)
);

-- Participants: kind `associate`, `resource`, `person` or `email`; role
-- `invitee` or `assignee`. Status vocabulary in docs/api.md.
CREATE TABLE participants (
    id TEXT PRIMARY KEY,
    appointment_id TEXT NOT NULL REFERENCES appointments (id),
    kind TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'invitee',
    associate_id TEXT REFERENCES associates (id),
    resource_id TEXT REFERENCES resources (id),
    person_id TEXT REFERENCES persons (id),
    email TEXT,
    name TEXT,
    status TEXT NOT NULL,
    conflict INTEGER NOT NULL DEFAULT 0,
    response_seen INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX participants_appointment ON participants (appointment_id);
CREATE INDEX participants_associate ON participants (associate_id);
CREATE INDEX participants_resource ON participants (resource_id);
CREATE INDEX participants_person ON participants (person_id);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    associate_id TEXT NOT NULL REFERENCES associates (id),
    what TEXT NOT NULL,
    appointment_id TEXT REFERENCES appointments (id),
    participant_id TEXT,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL,
    got_it_at TEXT
);
CREATE INDEX notifications_associate ON notifications (associate_id);

-- System preferences (`incoming`, `request_reply`, `synchronizer`,
-- `crm_inbox`, `working_hours_start`, `working_hours_end`, `time_zone`).
CREATE TABLE system_preferences (
    name TEXT PRIMARY KEY,
    pref_value TEXT NOT NULL
);

CREATE TABLE user_settings (
    associate_id TEXT PRIMARY KEY REFERENCES associates (id),
    import_tentative INTEGER NOT NULL DEFAULT 1,
    synchronizer INTEGER NOT NULL DEFAULT 0
);

-- Archived e-mails and meetings, the raw message kept (`raw_encoding` is
-- `utf8`, or `base64` for bytes that are not UTF-8).
CREATE TABLE archived_items (
    id TEXT PRIMARY KEY,
    associate_id TEXT NOT NULL REFERENCES associates (id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    from_email TEXT,
    message_id TEXT,
    raw TEXT NOT NULL,
    raw_encoding TEXT NOT NULL,
    appointment_id TEXT REFERENCES appointments (id),
    created_at TEXT NOT NULL
);

CREATE TABLE archive_links (
    item_id TEXT NOT NULL REFERENCES archived_items (id),
    link_kind TEXT NOT NULL,
    link_id TEXT NOT NULL,
    PRIMARY KEY (item_id, link_kind, link_id)
);
CREATE INDEX archive_links_target ON archive_links (link_kind, link_id);

-- Messages already applied, for idempotency: one row per mailbox and key
-- (the Message-ID, or a digest of the calendar when there is none).
CREATE TABLE processed_messages (
    mailbox TEXT NOT NULL,
    message_key TEXT NOT NULL,
    decision TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (mailbox, message_key)
);

-- Messages to send by e-mail.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    appointment_id TEXT REFERENCES appointments (id),
    associate_id TEXT REFERENCES associates (id),
    method TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    reply_to TEXT,
    subject TEXT NOT NULL DEFAULT '',
    ics TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_status ON outbox (status);
