//! `decide` on any message, with one of a few fixed contexts (the variant
//! byte picks it): arrival, stored copy, each button, preferences, organizer.
#![no_main]

use invitelink::api;
use invitelink_fuzz::{contexts, variant};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (which, message) = variant(data);
    let all = contexts();
    let Some(context) = all.get(usize::from(which) % all.len().max(1)) else { return };
    if let Ok(decision) = api::decide(message, context) {
        let json = serde_json::to_value(&decision).expect("a decision is JSON");
        assert!(json["kind"].is_string() && json["buttons"].is_object());
    }
});
