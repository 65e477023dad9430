//! `itip process`: a message against a stored copy. Variants: 0 the
//! attendee's stored copy, 1 the same with the organizer as sender, 2 the
//! organizer's copy (replies), 3 no stored copy, 4 the stored copy fuzzed too
//! (after the first NUL byte).
#![no_main]

use invitelink::api::{ProcessRequest, itip_process};
use invitelink_fuzz::{STORED_ATTENDEE_COPY, STORED_ORGANIZER_COPY, split_at_nul, text, variant};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (which, rest) = variant(data);
    let (message, existing, sender) = match which {
        1 => (rest, Some(STORED_ATTENDEE_COPY.to_owned()), Some("bob.berg@customer.no".to_owned())),
        2 => (rest, Some(STORED_ORGANIZER_COPY.to_owned()), None),
        3 => (rest, None, None),
        4 => {
            let (message, existing) = split_at_nul(rest);
            (message, existing.map(text), None)
        }
        _ => (rest, Some(STORED_ATTENDEE_COPY.to_owned()), None),
    };
    let _ = itip_process(message, &ProcessRequest { existing, sender });
});
