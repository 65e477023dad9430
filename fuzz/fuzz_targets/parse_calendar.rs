//! The iCalendar reader and writer: no panic on any text, what was read is
//! written so that reading it again gives the same tree and text, and the
//! stored copy spliced from the lines kept as read is the written one.
#![no_main]

use invitelink::ical::{ParseOptions, parse_calendar};
use invitelink::itip::stored_ics;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(calendar) = parse_calendar(&text, &ParseOptions::default()) else { return };
    let written = calendar.to_ics();
    for line in written.split("\r\n") {
        assert!(line.len() <= 75, "a written line is longer than 75 octets: {line:?}");
    }
    let again = match parse_calendar(&written, &ParseOptions { max_bytes: usize::MAX, ..ParseOptions::default() }) {
        Ok(c) => c,
        Err(e) => panic!("what we wrote does not read back: {e}\n{written}"),
    };
    assert_eq!(again.to_ics(), written, "writing is not stable");
    if let Ok(kept) = parse_calendar(&text, &ParseOptions { keep_raw: true, ..ParseOptions::default() }) {
        assert_eq!(stored_ics(&kept), stored_ics(&calendar), "the spliced copy differs from the written one");
    }
});
