//! The context JSON, and a decision with whatever context it reads.
#![no_main]

use invitelink::api;
use invitelink::policy::parse_context;
use invitelink_fuzz::INVITATION;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    let Ok(context) = parse_context(json) else { return };
    let _ = api::decide(INVITATION, &context);
});
