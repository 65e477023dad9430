//! What the fuzz targets share: the fixed contexts and stored copies they
//! run the fuzzed message against, and how a target reads its input.
//!
//! Every target takes raw bytes. Inputs that start with a byte below 0x08
//! use it to pick a variant (a context, a stored copy, a window); any other
//! input runs as is, so the seed files (real messages) need no prefix. A NUL
//! byte splits an input in two where a target needs two texts (`old` and
//! `new`, or a message and its stored copy).

use invitelink::policy::{Context, parse_context};
use std::sync::OnceLock;

/// The stored copy of the Outlook invitation `u1` (the attendee's side).
pub const STORED_ATTENDEE_COPY: &str = include_str!("../../tests/fixtures/decide/messages/stored-u1-accepted.ics");

/// An organizer's stored copy with three attendees.
pub const STORED_ORGANIZER_COPY: &str = include_str!("../../tests/fixtures/cli/organizer-copy.ics");

/// A real Outlook invitation, for targets that fuzz something else.
pub const INVITATION: &[u8] = include_bytes!("../../tests/fixtures/decide/messages/outlook-request.eml");

/// The variant byte and the rest of the input.
pub fn variant(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((&b, rest)) if b < 0x08 => (b, rest),
        _ => (0, data),
    }
}

/// The input split at its first NUL byte, if it has one.
pub fn split_at_nul(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (data.get(..i).unwrap_or_default(), data.get(i + 1..)),
        None => (data, None),
    }
}

/// Text as the CLI reads a stored copy (lossy: the engine takes `&str`).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CONTACTS: &str = r#"[
    {"email": "bob.berg@customer.no", "person_id": 301, "name": "Bob Berg", "company": "Customer AS"},
    {"email": "bob.berg@customer.example", "person_id": 17, "name": "Bob Berg", "company": "Customer AS"}
]"#;

const ASSOCIATES: &str = r#"[
    {"email": "anna.dahl@nordlys.no", "associate_id": 12, "name": "Anna Dahl"},
    {"email": "anna@ourcrm.example", "associate_id": 1, "name": "Anna Ask"}
]"#;

/// The fixed contexts of the `decide` target, picked by the variant byte:
/// an arrival, an arrival with a stored copy, each button, the strictest
/// preference, and the organizer's side (replies).
pub fn contexts() -> &'static [Context] {
    static CONTEXTS: OnceLock<Vec<Context>> = OnceLock::new();
    CONTEXTS.get_or_init(|| {
        let attendee = serde_json::json!(STORED_ATTENDEE_COPY);
        let organizer = serde_json::json!(STORED_ORGANIZER_COPY);
        let extra = [
            "".to_owned(),
            format!(r#", "existing": {attendee}"#),
            format!(r#", "existing": {attendee}, "action": {{"type": "accept"}}"#),
            r#", "action": {"type": "accept_all", "notify": false}"#.to_owned(),
            format!(r#", "existing": {attendee}, "action": {{"type": "decline"}}, "now": "2026-12-01T08:00:00Z""#),
            r#", "preferences": {"incoming": "disable_tentative", "synchronizer": false}, "action": {"type": "tentative"}"#
                .to_owned(),
            r#", "preferences": {"incoming": "disable_all"}"#.to_owned(),
            format!(r#", "existing": {organizer}"#),
        ];
        extra
            .iter()
            .enumerate()
            .filter_map(|(i, more)| {
                let mailbox = if i == 7 { "bob.berg@customer.example" } else { "anna.dahl@nordlys.no" };
                let json =
                    format!(r#"{{"mailbox": "{mailbox}", "contacts": {CONTACTS}, "associates": {ASSOCIATES}{more}}}"#);
                parse_context(&json).ok()
            })
            .collect()
    })
}
