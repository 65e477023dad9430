//! The input boundary: raw iCalendar or a whole e-mail (MIME, iMIP).
#![no_main]

use invitelink::ical::{ParseOptions, parse_calendar};
use invitelink::message::{InputLimits, read_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = InputLimits::default();
    let Ok(envelope) = read_message(data, &limits) else { return };
    assert!(envelope.calendar.len() <= limits.max_email_bytes.max(limits.max_calendar_bytes) * 2);
    let _ = parse_calendar(&envelope.calendar, &ParseOptions::default());
});
