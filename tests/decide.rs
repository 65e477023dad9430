//! The CRM policy's decision table: every case under
//! `tests/fixtures/decide/cases/` runs through one `check()`.
//!
//! A case is one JSON file:
//! - `message`: a file under `tests/fixtures/decide/messages/` (`.ics` or `.eml`);
//! - `existing`: optionally, the file of the stored appointment (put into the
//!   context's `existing`);
//! - `context`: the context JSON (SPEC 3.4);
//! - `expect`: what to check. Either `error` (`{"code", "message"}`, the
//!   message a substring) or any of: `kind`, `recurring`, `ignored`,
//!   `display`, `buttons` (compared exactly), `effects` (the list of effect
//!   types, in order), `effects_include` (partial effects: each must match
//!   one effect, objects by subset, other values exactly), `reasons`,
//!   `notes`, `warnings` (substrings, each found in one sentence), `absent`
//!   (effect types that must not occur).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use invitelink::ical::{ParseOptions, parse_calendar};
use invitelink::message::{InputLimits, read_message};
use invitelink::policy::{self, Decision};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decide")
}

fn message_bytes(name: &str) -> Vec<u8> {
    let path = fixtures().join("messages").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decides `message` with the context JSON `context` (as a value).
fn run(message: &[u8], context: &Value) -> invitelink::Result<Decision> {
    let envelope = read_message(message, &InputLimits::default())?;
    let calendar = parse_calendar(&envelope.calendar, &ParseOptions::default())?;
    let ctx = policy::parse_context(&serde_json::to_string_pretty(context).unwrap())?;
    policy::decide(&envelope, &calendar, &ctx)
}

/// Runs one case file; returns the list of mismatches.
fn check(case_path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(case_path).unwrap();
    let case: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", case_path.display()));
    let mut context = case["context"].clone();
    if let Some(existing) = case["existing"].as_str() {
        let stored = String::from_utf8(message_bytes(existing)).unwrap();
        context["existing"] = Value::String(stored);
    }
    let message = message_bytes(case["message"].as_str().expect("`message` names a file"));
    let expect = &case["expect"];
    let mut problems = Vec::new();
    let result = run(&message, &context);
    if let Some(err) = expect.get("error") {
        match result {
            Ok(d) => problems.push(format!("expected error {err}, got {}", serde_json::to_string(&d).unwrap())),
            Err(e) => {
                if json!(e.code) != err["code"] {
                    problems.push(format!("error code {:?}, expected {}", e.code, err["code"]));
                }
                if let Some(m) = err["message"].as_str().filter(|m| !e.message.contains(m)) {
                    problems.push(format!("error message `{}` lacks `{m}`", e.message));
                }
            }
        }
        return problems;
    }
    let decision = match result {
        Ok(d) => d,
        Err(e) => return vec![format!("unexpected error: {e}")],
    };
    let got = serde_json::to_value(&decision).unwrap();
    for field in ["kind", "recurring", "ignored", "display", "buttons"] {
        if let Some(want) = expect.get(field).filter(|want| got[field] != **want) {
            problems.push(format!("{field}: got {}, expected {want}", got[field]));
        }
    }
    let types: Vec<Value> = got["effects"].as_array().unwrap().iter().map(|e| e["type"].clone()).collect();
    if let Some(want) = expect.get("effects").filter(|want| Value::Array(types.clone()) != **want) {
        problems.push(format!("effects: got {types:?}, expected {want}"));
    }
    for partial in expect.get("effects_include").and_then(Value::as_array).into_iter().flatten() {
        if !got["effects"].as_array().unwrap().iter().any(|e| subset(partial, e)) {
            problems.push(format!("no effect matches {partial}; effects: {}", brief_effects(&got["effects"])));
        }
    }
    for absent in expect.get("absent").and_then(Value::as_array).into_iter().flatten() {
        if types.contains(absent) {
            problems.push(format!("effect {absent} must not occur"));
        }
    }
    for list in ["reasons", "notes", "warnings"] {
        for want in expect.get(list).and_then(Value::as_array).into_iter().flatten() {
            let want = want.as_str().unwrap();
            let sentences = got[list].as_array().unwrap();
            if !sentences.iter().any(|s| s.as_str().unwrap().contains(want)) {
                problems.push(format!("{list}: none contains `{want}`; got {}", got[list]));
            }
        }
    }
    problems
}

/// Whether `want` is a subset of `got`: objects by their keys, arrays
/// element by element (same length), other values equal.
fn subset(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w.iter().all(|(k, v)| g.get(k).is_some_and(|gv| subset(v, gv))),
        (Value::Array(w), Value::Array(g)) => w.len() == g.len() && w.iter().zip(g).all(|(a, b)| subset(a, b)),
        (w, g) => w == g,
    }
}

/// Effects without their (long) iCalendar texts, for failure messages.
fn brief_effects(effects: &Value) -> String {
    let mut effects = effects.clone();
    for e in effects.as_array_mut().unwrap() {
        if let Some(o) = e.as_object_mut() {
            o.remove("ics");
            o.remove("attendees");
            o.remove("occurrences");
        }
    }
    effects.to_string()
}

fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn decision_table() {
    let files = case_files();
    assert!(files.len() >= 40, "only {} cases", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let problems = check(file);
        if !problems.is_empty() {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            failures.push(format!("{name}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases fail:\n{}", failures.len(), files.len(), failures.join("\n"));
}

/// Every `ignored` code of SPEC 3.4 and every value of every preference,
/// setting and action is reached by some case.
#[test]
fn the_table_covers_every_code_and_setting() {
    let mut ignored = Vec::new();
    let mut incoming = Vec::new();
    let mut actions = Vec::new();
    let mut kinds = Vec::new();
    let mut flags = Vec::new();
    for file in case_files() {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        if let Some(code) = case["expect"]["ignored"].as_str() {
            ignored.push(code.to_owned());
        }
        if let Some(kind) = case["expect"]["kind"].as_str() {
            kinds.push(kind.to_owned());
        }
        let ctx = &case["context"];
        incoming.push(ctx["preferences"]["incoming"].as_str().unwrap_or("enable_all").to_owned());
        if let Some(t) = ctx["action"]["type"].as_str() {
            let notify = ctx["action"]["notify"].as_bool().unwrap_or(true);
            actions.push(format!("{t}/{notify}"));
        }
        for (path, value) in [
            ("preferences.request_reply", &ctx["preferences"]["request_reply"]),
            ("preferences.synchronizer", &ctx["preferences"]["synchronizer"]),
            ("user.import_tentative", &ctx["user"]["import_tentative"]),
            ("user.synchronizer", &ctx["user"]["synchronizer"]),
        ] {
            if let Some(b) = value.as_bool() {
                flags.push(format!("{path}={b}"));
            }
        }
    }
    for code in [
        "unknown_sender",
        "recurring_needs_accept_all",
        "disabled_by_preference",
        "import_off",
        "synchronizer_active",
        "stale",
        "duplicate",
        "not_addressed_to_user",
        "sender_mismatch",
        "unknown_attendee",
        "no_existing_appointment",
    ] {
        assert!(ignored.iter().any(|c| c == code), "no case reaches ignored `{code}`");
    }
    for value in ["enable_all", "disable_tentative", "disable_automation", "disable_all"] {
        assert!(incoming.iter().any(|c| c == value), "no case with incoming `{value}`");
    }
    for action in ["accept", "tentative", "decline", "accept_all"] {
        for notify in [true, false] {
            let key = format!("{action}/{notify}");
            assert!(actions.contains(&key), "no case with action {key}");
        }
    }
    for kind in ["invitation", "update", "reply", "cancel", "add", "refresh", "counter", "declinecounter", "publish"] {
        assert!(kinds.iter().any(|k| k == kind), "no case of kind `{kind}`");
    }
    for flag in [
        "preferences.request_reply=false",
        "preferences.request_reply=true",
        "preferences.synchronizer=true",
        "user.import_tentative=false",
        "user.synchronizer=true",
    ] {
        assert!(flags.iter().any(|f| f == flag), "no case with {flag}");
    }
}

/// The same input gives the same decision, byte for byte.
#[test]
fn decisions_are_deterministic() {
    for file in case_files() {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let mut context = case["context"].clone();
        if let Some(existing) = case["existing"].as_str() {
            context["existing"] = Value::String(String::from_utf8(message_bytes(existing)).unwrap());
        }
        let message = message_bytes(case["message"].as_str().unwrap());
        let a = run(&message, &context).map(|d| serde_json::to_string(&d).unwrap());
        let b = run(&message, &context).map(|d| serde_json::to_string(&d).unwrap());
        assert_eq!(a, b, "{}", file.display());
    }
}

/// The decision JSON has the stable core fields of SPEC 3.4.
#[test]
fn decision_json_has_the_stable_fields() {
    let ctx = json!({"mailbox": "anna.dahl@nordlys.no",
        "contacts": [{"email": "bob.berg@customer.no", "person_id": 301, "name": "Bob Berg", "company": "Customer AS"}]});
    let d = run(&message_bytes("outlook-request.eml"), &ctx).unwrap();
    let v = serde_json::to_value(&d).unwrap();
    for key in ["kind", "recurring", "effects", "ignored", "buttons", "display", "reasons"] {
        assert!(v.get(key).is_some(), "missing `{key}`");
    }
    for key in ["accept", "tentative", "decline", "accept_all"] {
        assert!(v["buttons"][key].is_boolean(), "buttons.{key}");
    }
    let create = &v["effects"][0];
    assert_eq!(create["type"], "create_appointment");
    assert_eq!(create["status"], "tentative");
    assert_eq!(create["start"], "2026-12-03T09:00:00Z");
    assert_eq!(create["end"], "2026-12-03T10:00:00Z");
    assert_eq!(create["contact"]["person_id"], 301);
    assert!(create["ics"].as_str().unwrap().contains("BEGIN:VEVENT"));
    assert!(!create["ics"].as_str().unwrap().contains("METHOD:"));
}

/// A `REPLY` written by a `send_reply` effect, received by the organizer,
/// records the answer (SPEC 3.3, STYLE 8: a reply we write, our engine applies).
#[test]
fn a_reply_we_send_is_applied_by_the_organizer() {
    // Anna answers Bob's invitation.
    let attendee_ctx = json!({
        "mailbox": "anna.dahl@nordlys.no",
        "now": "2026-11-21T08:00:00Z",
        "contacts": [{"email": "bob.berg@customer.no", "person_id": 301, "name": "Bob Berg", "company": "Customer AS"}],
        "action": {"type": "accept", "notify": true}
    });
    let invitation = message_bytes("outlook-request.eml");
    let d = run(&invitation, &attendee_ctx).unwrap();
    let v = serde_json::to_value(&d).unwrap();
    let reply = v["effects"].as_array().unwrap().iter().find(|e| e["type"] == "send_reply").expect("a send_reply");
    assert_eq!(reply["partstat"], "ACCEPTED");
    assert_eq!(reply["to"], "bob.berg@customer.no");
    let reply_ics = reply["ics"].as_str().unwrap();
    assert!(reply_ics.contains("METHOD:REPLY"));
    assert!(reply_ics.contains("DTSTAMP:20261121T080000Z"), "{reply_ics}");

    // Bob's copy as organizer: the invitation, stored.
    let envelope = read_message(&invitation, &InputLimits::default()).unwrap();
    let organizer_copy = envelope.calendar.replace("METHOD:REQUEST\r\n", "");
    let organizer_ctx = json!({
        "mailbox": "bob.berg@customer.no",
        "from": "anna.dahl@nordlys.no",
        "existing": organizer_copy,
        "associates": [{"email": "bob.berg@customer.no", "associate_id": 5, "name": "Bob Berg"}]
    });
    let d = run(reply_ics.as_bytes(), &organizer_ctx).unwrap();
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["kind"], "reply");
    assert_eq!(v["ignored"], Value::Null, "{}", v["reasons"]);
    let set = v["effects"].as_array().unwrap().iter().find(|e| e["type"] == "set_attendee_status").expect("applied");
    assert_eq!(set["attendee"], "anna.dahl@nordlys.no");
    assert_eq!(set["partstat"], "ACCEPTED");
    assert!(set["ics"].as_str().unwrap().contains("PARTSTAT=ACCEPTED"));

    // The same reply again is a duplicate.
    let mut again = organizer_ctx.clone();
    again["existing"] = set["ics"].clone();
    let v = serde_json::to_value(run(reply_ics.as_bytes(), &again).unwrap()).unwrap();
    assert_eq!(v["ignored"], "duplicate");
    assert_eq!(v["effects"], json!([]));
}

/// A tentative appointment created on arrival, then accepted: the second
/// decision (with the stored copy) updates it, and a later significant change
/// makes it tentative again.
#[test]
fn arrival_then_accept_then_move() {
    let contacts =
        json!([{"email": "bob.berg@customer.no", "person_id": 301, "name": "Bob Berg", "company": "Customer AS"}]);
    let ctx = json!({"mailbox": "anna.dahl@nordlys.no", "contacts": contacts});
    let v = serde_json::to_value(run(&message_bytes("outlook-request.eml"), &ctx).unwrap()).unwrap();
    let stored = v["effects"][0]["ics"].as_str().unwrap().to_owned();

    let ctx = json!({"mailbox": "anna.dahl@nordlys.no", "contacts": contacts, "existing": stored,
        "action": {"type": "accept", "notify": false}});
    let v = serde_json::to_value(run(&message_bytes("outlook-request.eml"), &ctx).unwrap()).unwrap();
    assert_eq!(v["kind"], "update");
    assert_eq!(v["effects"][0]["type"], "update_appointment");
    assert_eq!(v["effects"][0]["status"], "accepted");
    let accepted = v["effects"][0]["ics"].as_str().unwrap().to_owned();
    assert!(accepted.contains("PARTSTAT=ACCEPTED"));

    let ctx = json!({"mailbox": "anna.dahl@nordlys.no", "contacts": contacts, "existing": accepted});
    let v = serde_json::to_value(run(&message_bytes("outlook-update-moved.eml"), &ctx).unwrap()).unwrap();
    assert_eq!(v["effects"][0]["type"], "update_appointment");
    assert_eq!(v["effects"][0]["status"], "tentative");
    assert_eq!(v["effects"][0]["moved"], true);
    assert_eq!(v["effects"][0]["start"], "2026-12-03T12:00:00Z");
}

/// A malformed context is refused with its line.
#[test]
fn bad_context_is_an_invalid_context_error() {
    let err =
        policy::parse_context("{\n  \"mailbox\": \"a@b.c\",\n  \"action\": {\"type\": \"maybe\"}\n}").unwrap_err();
    assert_eq!(err.code, invitelink::ErrorCode::InvalidContext);
    assert_eq!(err.line, Some(3));
}

/// One reading of a meeting's time: the diary's appointment (`decide`) and
/// the expansion (`expand`) give the same start and end, `DURATION` days
/// nominal across daylight-saving changes (RFC 5545 3.3.6).
#[test]
fn the_diary_and_the_expansion_show_the_same_meeting() {
    let cases = [
        // Spring forward in Oslo: a nominal day is 23 exact hours.
        ("DTSTART;TZID=Europe/Oslo:20260328T120000\r\nDURATION:P1D", "2026-03-28T11:00:00Z", "2026-03-29T10:00:00Z"),
        // Fall back: 25 exact hours.
        ("DTSTART;TZID=Europe/Oslo:20261024T120000\r\nDURATION:P1D", "2026-10-24T10:00:00Z", "2026-10-25T11:00:00Z"),
        // A week and an exact time part.
        ("DTSTART;TZID=Europe/Oslo:20260325T090000\r\nDURATION:P1WT2H", "2026-03-25T08:00:00Z", "2026-04-01T09:00:00Z"),
        ("DTSTART;VALUE=DATE:20261024\r\nDURATION:P2D", "2026-10-24", "2026-10-26"),
        ("DTSTART:20261024T120000Z\r\nDTEND:20261025T120000Z", "2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z"),
    ];
    for (when, start, end) in cases {
        let ics = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:span-1\r\nDTSTAMP:20260101T000000Z\r\n\
             {when}\r\nSUMMARY:Day\r\nORGANIZER:mailto:bob@customer.example\r\n\
             ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:anna@crm.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let context = json!({
            "mailbox": "anna@crm.example", "from": "bob@customer.example",
            "contacts": [{"email": "bob@customer.example", "person_id": 1}]
        });
        let d = serde_json::to_value(run(ics.as_bytes(), &context).unwrap()).unwrap();
        let created = &d["effects"][0];
        assert_eq!(created["type"], "create_appointment", "{when}: {d}");
        assert_eq!((created["start"].as_str(), created["end"].as_str()), (Some(start), Some(end)), "decide: {when}");
        let expansion = invitelink::api::expand(ics.as_bytes(), &invitelink::api::ExpandRequest::default()).unwrap();
        let o = &expansion.occurrences[0];
        assert_eq!((o.start.as_str(), o.end.as_str()), (start, end), "expand: {when}");
        // iTIP processing stores a copy whose meeting is the same, read
        // through the one snapshot.
        let request = invitelink::api::ProcessRequest::default();
        let Ok(invitelink::api::ProcessResult::Stored { ics: stored }) =
            invitelink::api::itip_process(ics.as_bytes(), &request)
        else {
            panic!("{when}: itip process stores a new invitation");
        };
        let calendar = invitelink::ical::parse_calendar(&stored, &invitelink::ical::ParseOptions::default()).unwrap();
        let object = invitelink::itip::SchedulingObject::read(&calendar).unwrap();
        let (s, e, _) = object.span(object.main().unwrap());
        assert_eq!((s.as_deref(), e.as_deref()), (Some(start), Some(end)), "itip process: {when}");
    }
}

/// Rule 6 is iTIP processing's: an update at the same revision (the same
/// `SEQUENCE` and `DTSTAMP`) that moves the meeting is a duplicate with a
/// warning, and its answer buttons stay (it is not stale); an older one is
/// stale and cannot be answered.
#[test]
fn the_same_revision_moving_the_meeting_is_not_applied() {
    let event = |seq: u32, stamp: &str, start: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:rev-1\r\nSEQUENCE:{seq}\r\nDTSTAMP:{stamp}\r\nDTSTART:{start}\r\n\
             DURATION:PT1H\r\nSUMMARY:Review\r\nORGANIZER:mailto:bob@customer.example\r\n\
             ATTENDEE;PARTSTAT=ACCEPTED:mailto:anna@crm.example\r\nEND:VEVENT\r\n"
        )
    };
    let stored = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{}END:VCALENDAR\r\n",
        event(2, "20261101T100000Z", "20261210T090000Z")
    );
    let message = |seq, stamp| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n{}END:VCALENDAR\r\n",
            event(seq, stamp, "20261211T090000Z")
        )
    };
    let context = json!({
        "mailbox": "anna@crm.example", "from": "bob@customer.example", "existing": stored,
        "contacts": [{"email": "bob@customer.example", "person_id": 1}]
    });
    let same = serde_json::to_value(run(message(2, "20261101T100000Z").as_bytes(), &context).unwrap()).unwrap();
    assert_eq!(same["ignored"], "duplicate", "{same}");
    assert!(same["warnings"].to_string().contains("same version"), "{same}");
    assert_eq!(same["buttons"]["accept"], true, "{same}");
    let newer = serde_json::to_value(run(message(2, "20261102T100000Z").as_bytes(), &context).unwrap()).unwrap();
    assert_eq!(newer["ignored"], Value::Null, "{newer}");
    assert_eq!(newer["effects"][0]["type"], "update_appointment", "{newer}");
    let older = serde_json::to_value(run(message(1, "20261105T100000Z").as_bytes(), &context).unwrap()).unwrap();
    assert_eq!(older["ignored"], "stale", "{older}");
    assert_eq!(older["buttons"]["accept"], false, "{older}");
}
