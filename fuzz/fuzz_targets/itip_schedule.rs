//! `itip schedule`: the organizer's copy before and after a change. Variants:
//! 0 a fixed old copy and the input as the new one, 1 the input as the old
//! copy and no new one (deleted), 2 old and new both fuzzed (split at the
//! first NUL byte), 3 the input as a new object.
#![no_main]

use invitelink::api::{ScheduleRequest, itip_schedule};
use invitelink_fuzz::{STORED_ORGANIZER_COPY, split_at_nul, text, variant};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (which, rest) = variant(data);
    let (old, new) = match which {
        1 => (Some(text(rest)), None),
        2 => {
            let (old, new) = split_at_nul(rest);
            (Some(text(old)), new.map(text))
        }
        3 => (None, Some(text(rest))),
        _ => (Some(STORED_ORGANIZER_COPY.to_owned()), Some(text(rest))),
    };
    let request = ScheduleRequest {
        old,
        new,
        user: vec!["mailto:bob.berg@customer.example".to_owned()],
        now: Some("2026-11-19T09:15:00Z".to_owned()),
        rsvp: if which == 3 { Some(false) } else { None },
    };
    if let Ok(messages) = itip_schedule(&request) {
        for m in messages {
            assert!(m.ics.starts_with("BEGIN:VCALENDAR\r\n"));
        }
    }
});
