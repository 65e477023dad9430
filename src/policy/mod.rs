//! The CRM policy: what the diary does with a message (SPEC 3.3).
