//! `expand`: any calendar, over the default window, a few fixed ones, or a
//! fuzzed one (variant 4: `FROM UNTIL MAX HORIZON` before the first NUL
//! byte), stays within the limits (SPEC 7).
#![no_main]

use invitelink::api::{ExpandRequest, expand};
use invitelink::ical::{ParseOptions, parse_calendar};
use invitelink::message::{InputLimits, read_message};
use invitelink_fuzz::{split_at_nul, text, variant};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (which, mut message) = variant(data);
    let request = match which {
        4 => {
            let (window, rest) = split_at_nul(message);
            message = rest.unwrap_or_default();
            let window = text(window);
            let mut words = window.split_whitespace();
            let mut word = || words.next().map(str::to_owned);
            ExpandRequest {
                from: word(),
                until: word(),
                max_instances: word().and_then(|n| n.parse::<usize>().ok()).map(|n| n.min(5000)),
                horizon_days: word().and_then(|n| n.parse().ok()),
            }
        }
        1 => ExpandRequest { from: Some("2026-01-01".into()), until: Some("2027-01-01".into()), ..Default::default() },
        2 => ExpandRequest { max_instances: Some(5), horizon_days: Some(30), ..Default::default() },
        3 => ExpandRequest {
            from: Some("1900-01-01T00:00:00Z".into()),
            until: Some("9999-12-31".into()),
            ..Default::default()
        },
        _ => ExpandRequest::default(),
    };
    let max = request.max_instances.unwrap_or(1000);
    if let Ok(expansion) = expand(message, &request) {
        let events = read_message(message, &InputLimits::default())
            .ok()
            .and_then(|e| {
                parse_calendar(&e.calendar, &ParseOptions::default()).map(|c| c.children("VEVENT").count()).ok()
            })
            .unwrap_or(0)
            .max(1);
        assert!(expansion.occurrences.len() <= events * max, "{} occurrences", expansion.occurrences.len());
    }
});
