//! The `invitelink` command line as a program: the built binary runs on
//! fixture files, and its stdout, stderr and exit code are checked against the
//! contract of SPEC 3.4 and `docs/cli.md`: the exact field names of every
//! command's JSON, every error code with its exit code (and line, for input
//! the parser stops on), and the limits of SPEC 7.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use invitelink::api;
use serde_json::{Map, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_invitelink");

/// No command may take longer than this (a hang is a failure, not a wait).
const DEADLINE: Duration = Duration::from_secs(60);

fn repo(path: &str) -> String {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(path).display().to_string()
}

fn shared(path: &str) -> String {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("../shared").join(path).display().to_string()
}

fn cli(name: &str) -> String {
    repo(&format!("tests/fixtures/cli/{name}"))
}

fn message(name: &str) -> String {
    repo(&format!("tests/fixtures/decide/messages/{name}"))
}

/// Writes `bytes` to a fresh file under the target's temporary directory.
fn temp_file(name: &str, bytes: &[u8]) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

/// What one run of the program gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Asserts success and returns stdout as JSON.
    fn ok_json(&self) -> Value {
        assert_eq!(self.code, 0, "exit code; stderr: {}", self.stderr);
        self.json()
    }

    /// Asserts a failure with `code` and `exit`, and returns the error object.
    fn failure(&self, code: &str, exit: i32) -> Map<String, Value> {
        assert_eq!(self.code, exit, "exit code for `{code}`; stdout: {}; stderr: {}", self.stdout, self.stderr);
        assert!(self.stdout.is_empty(), "nothing on stdout on failure: {}", self.stdout);
        let error = failure_of(&self.stderr);
        assert_eq!(error["code"], code, "stderr: {}", self.stderr);
        error
    }
}

/// Reads stderr's failure report and checks its shape; returns the one error.
fn failure_of(stderr: &str) -> Map<String, Value> {
    assert!(!stderr.contains("panicked"), "the program panicked: {stderr}");
    let line = stderr.trim_end();
    assert!(!line.contains('\n'), "one line on stderr: {stderr}");
    assert!(line.starts_with(r#"{"type":"failure","errors":[{"code":"#), "field order: {line}");
    let report: Value = serde_json::from_str(line).unwrap();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{line}");
    let error = errors[0].as_object().unwrap().clone();
    assert_eq!(keys(&errors[0]), ["code", "line", "message"], "{line}");
    let at = |k: &str| line.find(&format!("\"{k}\":")).unwrap();
    assert!(at("code") < at("message") && at("message") < at("line"), "field order: {line}");
    let message = error["message"].as_str().unwrap();
    assert!(!message.is_empty() && !message.ends_with('.'), "message style: `{message}`");
    assert!(!message.starts_with(|c: char| c.is_uppercase()), "message starts in lower case: `{message}`");
    assert!(error["line"].is_null() || error["line"].as_u64().is_some_and(|l| l >= 1), "{line}");
    error
}

/// Reads stderr's warning report; returns the warning codes.
fn warnings_of(stderr: &str) -> Vec<String> {
    if stderr.trim().is_empty() {
        return Vec::new();
    }
    let line = stderr.trim_end();
    assert!(line.starts_with(r#"{"type":"warning","warnings":["#), "warning report: {line}");
    let report: Value = serde_json::from_str(line).unwrap();
    report["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap().to_owned()).collect()
}

/// Runs the program with `args`, killing it past [`DEADLINE`].
fn run(args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).map(|_| s)
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).map(|_| s)
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > DEADLINE {
            child.kill().unwrap();
            panic!("`invitelink {}` did not end within {DEADLINE:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = out_reader.join().unwrap().expect("stdout is UTF-8");
    let stderr = err_reader.join().unwrap().expect("stderr is UTF-8");
    assert!(!stderr.contains("panicked"), "`invitelink {}` panicked: {stderr}", args.join(" "));
    Run { code: status.code().expect("exited, not killed"), stdout, stderr, took: started.elapsed() }
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn is_utc_instant(s: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").is_ok() && s.len() == 20
}

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

const KINDS: [&str; 9] =
    ["invitation", "update", "reply", "cancel", "add", "refresh", "counter", "declinecounter", "publish"];
const IGNORED: [&str; 12] = [
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
    "unsupported",
];
const EFFECTS: [&str; 8] = [
    "create_appointment",
    "update_appointment",
    "cancel_appointment",
    "cancel_occurrence",
    "set_attendee_status",
    "send_reply",
    "notify",
    "suggest_contact",
];

/// Checks the stable core of a decision (SPEC 3.4) and returns it.
fn assert_decision_shape(d: &Value) {
    for field in ["kind", "recurring", "effects", "ignored", "buttons", "display", "reasons"] {
        assert!(d.get(field).is_some(), "decision lacks `{field}`: {d}");
    }
    assert!(KINDS.contains(&d["kind"].as_str().unwrap()), "kind {}", d["kind"]);
    assert!(d["recurring"].is_boolean());
    assert!(d["ignored"].is_null() || IGNORED.contains(&d["ignored"].as_str().unwrap()), "ignored {}", d["ignored"]);
    assert_eq!(keys(&d["buttons"]), ["accept", "accept_all", "decline", "tentative"]);
    assert!(d["buttons"].as_object().unwrap().values().all(Value::is_boolean));
    assert!(["invitation", "plain_email"].contains(&d["display"].as_str().unwrap()));
    assert!(d["reasons"].as_array().unwrap().iter().all(Value::is_string));
    for effect in d["effects"].as_array().unwrap() {
        let t = effect["type"].as_str().unwrap();
        assert!(EFFECTS.contains(&t) || t == "counter_proposal", "effect type `{t}`");
        match t {
            "create_appointment" => {
                assert!(["tentative", "accepted"].contains(&effect["status"].as_str().unwrap()), "{effect}")
            }
            "cancel_occurrence" => assert!(effect["recurrence_id"].is_string(), "{effect}"),
            "set_attendee_status" => assert!(effect["attendee"].is_string() && effect["partstat"].is_string()),
            "send_reply" => assert!(effect["partstat"].is_string() && effect["ics"].is_string(), "{effect}"),
            "notify" => assert!(effect["what"].is_string(), "{effect}"),
            "suggest_contact" => assert!(effect["email"].is_string(), "{effect}"),
            "counter_proposal" => assert!(effect.get("start").is_some() && effect.get("end").is_some(), "{effect}"),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------- decide

#[test]
fn decide_prints_the_decision_with_the_fields_of_the_contract() {
    let r = run(&[
        "decide",
        "--message",
        &repo("tests/fixtures/sample/invitation.eml"),
        "--context",
        &repo("tests/fixtures/sample/context.json"),
    ]);
    let d = r.ok_json();
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert_decision_shape(&d);
    assert_eq!(d["kind"], "invitation");
    assert_eq!(d["recurring"], false);
    assert_eq!(d["ignored"], Value::Null);
    assert_eq!(d["display"], "invitation");
    assert_eq!(
        d["buttons"],
        serde_json::json!({"accept": true, "tentative": true, "decline": true, "accept_all": false})
    );
    let effect = &d["effects"][0];
    assert_eq!(effect["type"], "create_appointment");
    assert_eq!(effect["status"], "tentative");
    assert_eq!(effect["start"], "2026-12-03T09:00:00Z");
    assert_eq!(effect["contact"]["person_id"], 17);
    assert!(d["reasons"][0].as_str().unwrap().contains("Bob Berg"), "{}", d["reasons"]);
}

/// Every case of the decision table, through the program: the same decision
/// as the library's, byte for byte, with the contract's shape.
#[test]
fn decide_gives_the_library_decision_for_every_case() {
    let dir = repo("tests/fixtures/decide/cases");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() > 40, "the decision table has its cases");
    let mut kinds = std::collections::BTreeSet::new();
    let mut ignored = std::collections::BTreeSet::new();
    for path in cases {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut context = case["context"].clone();
        if let Some(existing) = case["existing"].as_str() {
            context["existing"] = Value::String(std::fs::read_to_string(message(existing)).unwrap());
        }
        let context_text = serde_json::to_string_pretty(&context).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let context_file = temp_file(&format!("{name}.json"), context_text.as_bytes());
        let message_file = message(case["message"].as_str().unwrap());
        let r = run(&["decide", "--message", &message_file, "--context", &context_file]);
        let library = api::decide_json(&std::fs::read(&message_file).unwrap(), &context_text);
        match library {
            Ok(decision) => {
                let d = r.ok_json();
                assert_eq!(d, serde_json::to_value(&decision).unwrap(), "{name}");
                assert_decision_shape(&d);
                kinds.insert(d["kind"].as_str().unwrap().to_owned());
                if let Some(i) = d["ignored"].as_str() {
                    ignored.insert(i.to_owned());
                }
            }
            Err(e) => {
                r.failure(e.code.as_str(), 1);
            }
        }
    }
    for kind in KINDS {
        assert!(kinds.contains(kind), "no case of kind `{kind}` reached the program: {kinds:?}");
    }
    assert!(ignored.len() >= 8, "ignored codes seen: {ignored:?}");
}

#[test]
fn decide_accept_all_creates_the_series_with_its_occurrences() {
    let context = serde_json::json!({
        "mailbox": "anna.dahl@nordlys.no",
        "now": "2026-11-20T08:00:00Z",
        "contacts": [{"email": "bob.berg@customer.no", "person_id": 301, "name": "Bob Berg", "company": "Customer AS"}],
        "action": {"type": "accept_all", "notify": true}
    });
    let ctx = temp_file("accept-all.json", context.to_string().as_bytes());
    let r = run(&["decide", "--message", &message("outlook-recurring-request.eml"), "--context", &ctx]);
    let d = r.ok_json();
    assert_decision_shape(&d);
    assert_eq!(d["recurring"], true);
    assert_eq!(d["action"], "accept_all");
    let create = d["effects"].as_array().unwrap().iter().find(|e| e["type"] == "create_appointment").unwrap();
    assert_eq!(create["status"], "accepted");
    let occurrences = create["occurrences"].as_array().unwrap();
    assert!(occurrences.len() > 2, "{create}");
    let reply = d["effects"].as_array().unwrap().iter().find(|e| e["type"] == "send_reply").unwrap();
    assert_eq!(reply["partstat"], "ACCEPTED");
    assert!(reply["ics"].as_str().unwrap().contains("METHOD:REPLY"));
}

#[test]
fn decide_refuses_an_action_that_the_preferences_disable() {
    let r = run(&[
        "decide",
        "--message",
        &message("outlook-request.ics"),
        "--context",
        &cli("context-disable-all-accept.json"),
    ]);
    let e = r.failure("action_disabled", 1);
    assert!(e["message"].as_str().unwrap().contains("disable_all"), "{e:?}");
}

#[test]
fn decide_reports_a_malformed_context_with_its_json_line() {
    let r =
        run(&["decide", "--message", &message("outlook-request.ics"), "--context", &cli("context-bad-incoming.json")]);
    let e = r.failure("invalid_context", 1);
    assert_eq!(e["line"], 4);
    assert!(e["message"].as_str().unwrap().contains("sometimes"), "{e:?}");
    let not_json = temp_file("not-json.json", b"{\n  \"mailbox\": \"anna@ourcrm.example\",\n  oops\n}\n");
    let e = run(&["decide", "--message", &message("outlook-request.ics"), "--context", &not_json])
        .failure("invalid_context", 1);
    assert_eq!(e["line"], 3);
    let no_mailbox = temp_file("no-mailbox.json", br#"{"from": "bob@customer.example"}"#);
    run(&["decide", "--message", &message("outlook-request.ics"), "--context", &no_mailbox])
        .failure("invalid_context", 1);
    let not_utf8 = temp_file("latin1.json", b"{\"mailbox\": \"\xe5sa@ourcrm.example\"}");
    run(&["decide", "--message", &message("outlook-request.ics"), "--context", &not_utf8])
        .failure("invalid_context", 1);
}

// ---------------------------------------------------------------- itip process

#[test]
fn itip_process_prints_the_new_stored_object_as_icalendar() {
    let r = run(&["itip", "process", "--message", &message("outlook-request.eml")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("BEGIN:VCALENDAR\r\n"), "{}", r.stdout);
    assert!(r.stdout.ends_with("END:VCALENDAR\r\n"), "CRLF to the end");
    assert!(!r.stdout.replace("\r\n", "").contains('\n'), "CRLF line ends only");
    assert!(!r.stdout.contains("METHOD:"), "a stored object has no METHOD");
    assert!(r.stdout.lines().all(|l| l.trim_end_matches('\r').len() <= 75), "folded at 75 octets");
}

#[test]
fn itip_process_prints_ignored_with_its_reason_code() {
    let r = run(&["itip", "process", "--message", &message("publish.ics")]);
    assert_eq!(r.ok_json(), serde_json::json!({"ignored": "unsupported"}));
    // A cancellation for an object we do not have.
    let r = run(&["itip", "process", "--message", &message("outlook-cancel.eml")]);
    assert_eq!(r.ok_json(), serde_json::json!({"ignored": "no_existing_appointment"}));
    // A forged cancellation: `--sender` is not the stored organizer.
    let r = run(&[
        "itip",
        "process",
        "--message",
        &message("outlook-cancel.ics"),
        "--existing",
        &message("stored-u1-accepted.ics"),
        "--sender",
        "mallory@evil.example",
    ]);
    assert_eq!(r.ok_json(), serde_json::json!({"ignored": "sender_mismatch"}));
    // The same cancellation from the organizer applies.
    let r = run(&[
        "itip",
        "process",
        "--message",
        &message("outlook-cancel.ics"),
        "--existing",
        &message("stored-u1-accepted.ics"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("STATUS:CANCELLED"), "{}", r.stdout);
}

/// Every `process` case of the conformance suite through the program: the
/// library's answer, printed in the contract's form.
#[test]
fn itip_process_gives_the_library_result_for_the_conformance_cases() {
    let mut seen = 0;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(shared("conformance")).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.join("case.json").exists()) {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        if case["operation"] != "process" {
            continue;
        }
        let inputs = &case["inputs"];
        let msg = dir.join(inputs["message"].as_str().unwrap()).display().to_string();
        let mut args = vec!["itip".to_owned(), "process".into(), "--message".into(), msg.clone()];
        let existing = inputs["existing"].as_str().map(|e| dir.join(e).display().to_string());
        if let Some(e) = &existing {
            args.extend(["--existing".into(), e.clone()]);
        }
        if let Some(s) = inputs["sender"].as_str() {
            args.extend(["--sender".into(), s.to_owned()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(&refs);
        let request = api::ProcessRequest {
            existing: existing.map(|e| std::fs::read_to_string(e).unwrap()),
            sender: inputs["sender"].as_str().map(str::to_owned),
        };
        match api::itip_process(&std::fs::read(&msg).unwrap(), &request) {
            Ok(api::ProcessResult::Stored { ics }) => {
                assert_eq!(r.code, 0, "{}: {}", dir.display(), r.stderr);
                assert_eq!(r.stdout, ics, "{}", dir.display());
            }
            Ok(other) => assert_eq!(r.ok_json(), serde_json::to_value(&other).unwrap(), "{}", dir.display()),
            Err(e) => {
                r.failure(e.code.as_str(), 1);
            }
        }
        seen += 1;
    }
    assert!(seen >= 20, "process cases run: {seen}");
}

// ---------------------------------------------------------------- itip schedule

const MESSAGE_FIELDS: [&str; 8] =
    ["ics", "method", "recipient", "recipient_name", "sender", "sender_name", "significant_change", "uid"];

fn assert_messages_shape(list: &Value) -> &Vec<Value> {
    let list = list.as_array().unwrap();
    for m in list {
        assert_eq!(keys(m), MESSAGE_FIELDS, "{m}");
        assert!(m["uid"].is_string() && m["sender"].is_string() && m["recipient"].is_string());
        assert!(["REQUEST", "CANCEL", "REPLY"].contains(&m["method"].as_str().unwrap()), "{m}");
        assert!(m["significant_change"].is_boolean());
        let ics = m["ics"].as_str().unwrap();
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.contains(&format!("METHOD:{}\r\n", m["method"].as_str().unwrap())), "{ics}");
    }
    list
}

#[test]
fn itip_schedule_prints_one_message_per_recipient() {
    let organizer = "mailto:bob.berg@customer.example";
    let new = cli("organizer-copy.ics");
    let r = run(&["itip", "schedule", "--new", &new, "--user", organizer, "--now", "2026-11-19T09:15:00Z"]);
    let list = r.ok_json();
    let list = assert_messages_shape(&list);
    let recipients: Vec<&str> = list.iter().map(|m| m["recipient"].as_str().unwrap()).collect();
    assert_eq!(recipients, ["mailto:anna@ourcrm.example", "mailto:carl@ourcrm.example"]);
    for m in list {
        assert_eq!(m["method"], "REQUEST");
        assert_eq!(m["sender"], organizer);
        assert_eq!(m["uid"], "cli-review-2026@customer.example");
        assert!(m["ics"].as_str().unwrap().contains("DTSTAMP:20261119T091500Z"), "--now is the DTSTAMP");
    }
    // Deleted (no `--new`): a CANCEL to every attendee.
    let r = run(&["itip", "schedule", "--old", &new, "--user", organizer, "--now", "2026-11-20T00:00:00Z"]);
    let list = r.ok_json();
    let list = assert_messages_shape(&list);
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|m| m["method"] == "CANCEL" && m["significant_change"] == true));
    // Nothing changed: the messages are there, none of them significant
    // (the caller sends only significant ones, as a scheduling server does).
    let r = run(&["itip", "schedule", "--old", &new, "--new", &new, "--user", organizer]);
    let list = r.ok_json();
    let list = assert_messages_shape(&list);
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|m| m["significant_change"] == false), "{list:?}");
    // `--user` takes several addresses; `--rsvp false` asks no reply.
    let r = run(&[
        "itip",
        "schedule",
        "--new",
        &new,
        "--user",
        "mailto:bob@home.example",
        organizer,
        "--rsvp",
        "false",
        "--now",
        "2026-11-19T09:15:00Z",
    ]);
    let list = r.ok_json();
    let list = assert_messages_shape(&list);
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|m| m["ics"].as_str().unwrap().contains("RSVP=FALSE")), "{list:?}");
}

#[test]
fn itip_schedule_gives_the_library_messages_for_the_conformance_cases() {
    let mut seen = 0;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(shared("conformance")).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.join("case.json").exists()) {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        if case["operation"] != "schedule" {
            continue;
        }
        let inputs = &case["inputs"];
        let old = inputs["old"].as_str().map(|f| dir.join(f).display().to_string());
        let new = inputs["new"].as_str().map(|f| dir.join(f).display().to_string());
        let users: Vec<String> =
            inputs["user"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().into()).collect();
        let mut args = vec!["itip".to_owned(), "schedule".into(), "--now".into(), "2026-01-01T00:00:00Z".into()];
        if let Some(o) = &old {
            args.extend(["--old".into(), o.clone()]);
        }
        if let Some(n) = &new {
            args.extend(["--new".into(), n.clone()]);
        }
        args.push("--user".into());
        args.extend(users.iter().cloned());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(&refs);
        let request = api::ScheduleRequest {
            old: old.map(|p| std::fs::read_to_string(p).unwrap()),
            new: new.map(|p| std::fs::read_to_string(p).unwrap()),
            user: users,
            now: Some("2026-01-01T00:00:00Z".into()),
            rsvp: None,
        };
        match api::itip_schedule(&request) {
            Ok(messages) => {
                let got = r.ok_json();
                assert_messages_shape(&got);
                assert_eq!(got, serde_json::to_value(&messages).unwrap(), "{}", dir.display());
            }
            Err(e) => {
                r.failure(e.code.as_str(), 1);
            }
        }
        seen += 1;
    }
    assert!(seen >= 40, "schedule cases run: {seen}");
}

// ---------------------------------------------------------------- itip reply

/// The organizer invites (`itip schedule`), the attendee answers
/// (`itip reply`), and the organizer's copy takes the answer (`itip process`).
#[test]
fn itip_reply_is_applied_by_our_own_itip_process() {
    let organizer_copy = cli("organizer-copy.ics");
    let r = run(&[
        "itip",
        "schedule",
        "--new",
        &organizer_copy,
        "--user",
        "mailto:bob.berg@customer.example",
        "--now",
        "2026-11-19T09:15:00Z",
    ]);
    let list = r.ok_json();
    let to_anna = list.as_array().unwrap().iter().find(|m| m["recipient"] == "mailto:anna@ourcrm.example").unwrap();
    let invitation = temp_file("invitation-to-anna.ics", to_anna["ics"].as_str().unwrap().as_bytes());

    for (partstat, written) in [("ACCEPTED", "ACCEPTED"), ("tentative", "TENTATIVE"), ("Declined", "DECLINED")] {
        let r = run(&[
            "itip",
            "reply",
            "--invitation",
            &invitation,
            "--attendee",
            "anna@ourcrm.example",
            "--partstat",
            partstat,
            "--now",
            "2026-11-20T08:00:00Z",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let reply = &r.stdout;
        assert!(reply.starts_with("BEGIN:VCALENDAR\r\n") && reply.ends_with("END:VCALENDAR\r\n"), "{reply}");
        assert!(reply.contains("METHOD:REPLY\r\n"), "{reply}");
        assert!(reply.contains("DTSTAMP:20261120T080000Z\r\n"), "{reply}");
        let unfolded = reply.replace("\r\n ", "");
        let attendees: Vec<&str> = unfolded.lines().filter(|l| l.starts_with("ATTENDEE")).collect();
        assert_eq!(attendees.len(), 1, "a reply speaks for one attendee: {reply}");
        assert!(attendees[0].contains(&format!("PARTSTAT={written}")), "{reply}");

        let reply_file = temp_file(&format!("reply-{written}.ics"), reply.as_bytes());
        let r = run(&["itip", "process", "--message", &reply_file, "--existing", &organizer_copy]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let stored = r.stdout.replace("\r\n ", "");
        let anna = stored.lines().find(|l| l.starts_with("ATTENDEE") && l.contains("anna@ourcrm.example")).unwrap();
        assert!(anna.contains(&format!("PARTSTAT={written}")), "{stored}");
        let carl = stored.lines().find(|l| l.starts_with("ATTENDEE") && l.contains("carl@ourcrm.example")).unwrap();
        assert!(carl.contains("PARTSTAT=NEEDS-ACTION"), "the others are untouched: {stored}");
        // Sent by someone else, the same reply changes nothing.
        let r = run(&[
            "itip",
            "process",
            "--message",
            &reply_file,
            "--existing",
            &organizer_copy,
            "--sender",
            "mallory@evil.example",
        ]);
        assert_eq!(r.ok_json(), serde_json::json!({"ignored": "sender_mismatch"}));
    }
}

#[test]
fn itip_reply_refuses_a_wrong_partstat_and_an_uninvited_attendee() {
    let invitation = message("outlook-request.ics");
    let r = run(&[
        "itip",
        "reply",
        "--invitation",
        &invitation,
        "--attendee",
        "anna.dahl@nordlys.no",
        "--partstat",
        "MAYBE",
    ]);
    r.failure("usage", 2);
    let r = run(&[
        "itip",
        "reply",
        "--invitation",
        &invitation,
        "--attendee",
        "nobody@nowhere.example",
        "--partstat",
        "ACCEPTED",
    ]);
    r.failure("invalid_context", 1);
    let r = run(&["itip", "reply", "--invitation", &invitation, "--partstat", "ACCEPTED"]);
    r.failure("usage", 2);
}

// ---------------------------------------------------------------- expand

const OCCURRENCE_FIELDS: [&str; 7] = ["all_day", "end", "recurrence_id", "start", "status", "summary", "uid"];

fn assert_occurrence_shape(o: &Value) {
    assert_eq!(keys(o), OCCURRENCE_FIELDS, "{o}");
    let all_day = o["all_day"].as_bool().unwrap();
    let well_formed = if all_day { is_date } else { is_utc_instant };
    assert!(well_formed(o["start"].as_str().unwrap()) && well_formed(o["end"].as_str().unwrap()), "{o}");
    assert!(o["recurrence_id"].is_null() || well_formed(o["recurrence_id"].as_str().unwrap()), "{o}");
    assert!(o["summary"].is_null() || o["summary"].is_string());
    assert!(o["status"].is_null() || o["status"].is_string());
    assert!(o["start"].as_str().unwrap() <= o["end"].as_str().unwrap(), "{o}");
}

#[test]
fn expand_prints_every_occurrence_with_overrides_and_exdates_applied() {
    let r = run(&["expand", "--message", &cli("all-day-series.ics")]);
    let list = r.ok_json();
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    for o in list.as_array().unwrap() {
        assert_occurrence_shape(o);
    }
    let rows: Vec<(String, String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["uid"].as_str().unwrap().to_owned(),
                o["start"].as_str().unwrap().to_owned(),
                o["recurrence_id"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    let want = [
        ("offsite@ourcrm.example", "2026-12-07", "2026-12-07"),
        ("kickoff@ourcrm.example", "2026-12-08T09:00:00Z", "-"),
        ("offsite@ourcrm.example", "2026-12-15", "2026-12-14"),
        ("offsite@ourcrm.example", "2026-12-28", "2026-12-28"),
        ("offsite@ourcrm.example", "2027-01-04", "2027-01-04"),
    ];
    let want: Vec<(String, String, String)> =
        want.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned())).collect();
    assert_eq!(rows, want, "EXDATE 2026-12-21 removed, 2026-12-14 moved");
    let moved = &list[2];
    assert_eq!(moved["summary"], "Offsite day (moved)");
    assert_eq!(moved["status"], "TENTATIVE");
    assert_eq!(moved["end"], "2026-12-16");
    assert_eq!(list[1]["end"], "2026-12-08T10:30:00Z");
    assert_eq!(list[1]["all_day"], false);
    assert_eq!(list[0]["all_day"], true);
}

#[test]
fn expand_keeps_to_the_window_given_as_instants_or_dates() {
    let file = cli("all-day-series.ics");
    // [from, until): an occurrence overlapping `from` counts, one starting at `until` does not.
    let r = run(&["expand", "--message", &file, "--from", "2026-12-08T10:00:00Z", "--until", "2026-12-15"]);
    let list = r.ok_json();
    let uids: Vec<&str> = list.as_array().unwrap().iter().map(|o| o["uid"].as_str().unwrap()).collect();
    assert_eq!(uids, ["kickoff@ourcrm.example"]);
    // Offsets are allowed and read as UTC.
    let r = run(&["expand", "--message", &file, "--from", "2026-12-28T01:00:00+01:00", "--until", "2027-12-31"]);
    let starts: Vec<String> =
        r.ok_json().as_array().unwrap().iter().map(|o| o["start"].as_str().unwrap().to_owned()).collect();
    assert_eq!(starts, ["2026-12-28", "2027-01-04"]);
    // An empty window.
    let r = run(&["expand", "--message", &file, "--from", "2030-01-01", "--until", "2030-02-01"]);
    assert_eq!(r.ok_json(), serde_json::json!([]));
    // A window on a weekly series in a zone with DST: instants in UTC.
    let r = run(&[
        "expand",
        "--message",
        &message("outlook-recurring-request.ics"),
        "--from",
        "2027-01-01",
        "--until",
        "2027-02-01T00:00:00Z",
    ]);
    let list = r.ok_json();
    let list = list.as_array().unwrap();
    assert!(!list.is_empty());
    for o in list {
        assert_occurrence_shape(o);
        assert!(o["end"].as_str().unwrap() > "2027-01-01T00:00:00Z" && o["start"].as_str().unwrap() < "2027-02-01");
    }
    // Not an instant.
    let e = run(&["expand", "--message", &file, "--from", "tomorrow"]).failure("invalid_value", 1);
    assert!(e["message"].as_str().unwrap().contains("`tomorrow`"), "{e:?}");
}

#[test]
fn expand_of_a_secondly_rule_without_count_ends_quickly_with_a_warning() {
    let r = run(&["expand", "--message", &cli("secondly.ics")]);
    let list = r.ok_json();
    assert!(r.took < Duration::from_secs(10), "took {:?}", r.took);
    assert_eq!(list.as_array().unwrap().len(), 1000, "the default count limit");
    assert_eq!(warnings_of(&r.stderr), ["recurrence_limit"]);
    // A smaller limit, and a larger one still ends.
    let r = run(&["expand", "--message", &cli("secondly.ics"), "--max-instances", "10"]);
    assert_eq!(r.ok_json().as_array().unwrap().len(), 10);
    assert_eq!(warnings_of(&r.stderr), ["recurrence_limit"]);
    let r = run(&["expand", "--message", &cli("secondly.ics"), "--max-instances", "20000", "--horizon-days", "36600"]);
    assert_eq!(r.ok_json().as_array().unwrap().len(), 20_000);
    assert_eq!(warnings_of(&r.stderr), ["recurrence_limit"]);
    assert!(r.took < Duration::from_secs(30), "took {:?}", r.took);
    // The horizon cuts a long window.
    let r = run(&["expand", "--message", &cli("all-day-series.ics"), "--horizon-days", "7"]);
    assert_eq!(r.ok_json().as_array().unwrap().len(), 2);
    assert_eq!(warnings_of(&r.stderr), ["recurrence_limit"]);
}

#[test]
fn expand_names_a_rule_it_cannot_read_and_keeps_the_dtstart() {
    let r = run(&["expand", "--message", &cli("bad-rrule.ics")]);
    let list = r.ok_json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["start"], "2026-12-03T09:00:00Z");
    let report: Value = serde_json::from_str(r.stderr.trim()).unwrap();
    assert_eq!(report["type"], "warning");
    assert_eq!(report["warnings"][0]["code"], "invalid_value");
    assert_eq!(report["warnings"][0]["line"], 8, "the line of the RRULE");
}

// ---------------------------------------------------------------- check

#[test]
fn check_prints_a_line_per_file_and_a_summary() {
    let dirs = [repo("tests/fixtures/decide/messages"), repo("tests/fixtures/cli")];
    let r = run(&["check", &dirs[0], &dirs[1]]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (summary, files) = lines.split_last().unwrap();
    let summary = &summary["summary"];
    assert_eq!(keys(summary), ["by_error", "by_ignored", "by_kind", "bytes", "files", "mb_per_s", "seconds"]);
    let mut on_disk: Vec<PathBuf> = Vec::new();
    for d in &dirs {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "ics" || x == "eml") {
                on_disk.push(p);
            }
        }
    }
    assert_eq!(files.len(), on_disk.len(), "one line per .ics and .eml file");
    assert_eq!(summary["files"], files.len());
    let bytes: u64 = on_disk.iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
    assert_eq!(summary["bytes"], bytes);
    assert!(summary["seconds"].as_f64().unwrap() >= 0.0 && summary["mb_per_s"].as_f64().unwrap() >= 0.0);
    let mut kinds = 0;
    let mut errors = 0;
    let mut ignored = 0;
    for line in files {
        assert!(line["file"].is_string(), "{line}");
        if let Some(error) = line.get("error") {
            assert_eq!(keys(line), ["error", "file"]);
            assert!(error["code"].is_string() && error["message"].is_string(), "{line}");
            errors += 1;
        } else {
            assert_eq!(keys(line), ["effects", "file", "ignored", "kind"]);
            assert!(KINDS.contains(&line["kind"].as_str().unwrap()), "{line}");
            assert!(
                line["effects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|t| EFFECTS.contains(&t.as_str().unwrap()) || t == "counter_proposal")
            );
            kinds += 1;
            if line["ignored"].is_string() {
                ignored += 1;
            }
        }
    }
    let sum = |m: &Value| m.as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum(&summary["by_kind"]), kinds);
    assert_eq!(sum(&summary["by_error"]), errors);
    assert_eq!(sum(&summary["by_ignored"]), ignored);
    // The broken fixtures are counted by code, and the batch went on past them.
    for code in
        ["parse_error", "no_calendar_part", "no_event", "missing_uid", "invalid_scheduling_object", "invalid_value"]
    {
        assert!(summary["by_error"][code].as_u64().unwrap_or(0) >= 1, "{code}: {summary}");
    }
}

#[test]
fn check_with_a_context_decides_every_file_with_it() {
    let r = run(&["check", "--context", &cli("context-anna.json"), &message("outlook-request.ics")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "invitation");
    assert_eq!(lines[0]["effects"], serde_json::json!(["create_appointment"]));
    assert_eq!(lines[1]["summary"]["by_kind"]["invitation"], 1);
    // A malformed context stops the run before any file.
    let r = run(&["check", "--context", &cli("context-bad-incoming.json"), &message("outlook-request.ics")]);
    r.failure("invalid_context", 1);
    // No path, or one that does not exist.
    run(&["check"]).failure("usage", 2);
    run(&["check", &cli("no-such-dir")]).failure("io", 1);
    run(&["check", "--verbose", &cli("")]).failure("usage", 2);
}

// ---------------------------------------------------------------- errors and limits

#[test]
fn a_parse_error_names_the_line_where_reading_stopped() {
    let ctx = repo("tests/fixtures/sample/context.json");
    let file = cli("parse-error-line-7.ics");
    for args in [
        vec!["decide", "--message", &file, "--context", &ctx],
        vec!["itip", "process", "--message", &file],
        vec!["expand", "--message", &file],
        vec!["itip", "reply", "--invitation", &file, "--attendee", "a@b.example", "--partstat", "ACCEPTED"],
        vec!["itip", "schedule", "--new", &file, "--user", "a@b.example"],
    ] {
        let e = run(&args).failure("parse_error", 1);
        assert_eq!(e["line"], 7, "{args:?}");
        assert!(e["message"].as_str().unwrap().contains("`END:VTODO`"), "{e:?}");
    }
    // A folded line counts from its first physical line; LF alone works too.
    let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:a long\n  summary\n folded twice\nBEGIN:VALARM\nEND:VEVENT\n";
    let file = temp_file("stray-end.ics", text.as_bytes());
    let e = run(&["expand", "--message", &file]).failure("parse_error", 1);
    assert_eq!(e["line"], 7);
    // A calendar that is never closed: the last line.
    let file = temp_file("unclosed.ics", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n");
    let e = run(&["expand", "--message", &file]).failure("parse_error", 1);
    assert_eq!(e["line"], 3);
}

#[test]
fn every_engine_error_code_is_reachable_from_the_command_line() {
    let ctx = repo("tests/fixtures/sample/context.json");
    let decide = |file: &str| run(&["decide", "--message", file, "--context", &ctx]);
    decide(&cli("no-calendar-part.eml")).failure("no_calendar_part", 1);
    let e = decide(&cli("no-event.ics")).failure("no_event", 1);
    assert_eq!(e["line"], 1);
    let e = decide(&cli("missing-uid.ics")).failure("missing_uid", 1);
    assert_eq!(e["line"], 4, "the line of the VEVENT");
    let e = decide(&cli("two-uids.ics")).failure("invalid_scheduling_object", 1);
    assert_eq!(e["line"], 10, "the line of the second VEVENT");
    run(&["itip", "process", "--message", &cli("missing-uid.ics")]).failure("missing_uid", 1);
    run(&["itip", "process", "--message", &cli("two-uids.ics")]).failure("invalid_scheduling_object", 1);
    // A stored copy of another object.
    run(&[
        "itip",
        "process",
        "--message",
        &message("outlook-request.ics"),
        "--existing",
        &message("stored-u4-accepted.ics"),
    ])
    .failure("invalid_context", 1);
    decide(&cli("unknown-method.ics")).failure("invalid_value", 1);
    let anna = cli("context-anna.json");
    let e = run(&["decide", "--message", &cli("bad-sequence.ics"), "--context", &anna]).failure("invalid_value", 1);
    assert_eq!(e["line"], 5, "the line of the SEQUENCE");
    run(&["itip", "process", "--message", &cli("bad-sequence.ics")]).failure("invalid_value", 1);
    // `recurrence_limit` is a warning of `expand`, with exit code 0 (see the secondly test);
    // `action_disabled`, `invalid_context`, `invalid_value`, `io`, `usage` and
    // `too_large` have tests of their own.
}

#[test]
fn too_large_input_is_refused() {
    let ctx = repo("tests/fixtures/sample/context.json");
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:big\r\n");
    while ics.len() <= 1024 * 1024 {
        ics.push_str("X-FILLER:0123456789012345678901234567890123456789012345678901234567890123\r\n");
    }
    ics.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    let file = temp_file("too-large.ics", ics.as_bytes());
    for args in [
        vec!["decide", "--message", &file, "--context", &ctx],
        vec!["itip", "process", "--message", &file],
        vec!["expand", "--message", &file],
        vec!["itip", "schedule", "--new", &file, "--user", "a@b.example"],
    ] {
        let e = run(&args).failure("too_large", 1);
        assert!(e["message"].as_str().unwrap().contains("1048576"), "{e:?}");
    }
    // An e-mail over 10 MiB.
    let mut eml = b"From: a@b.example\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    eml.resize(10 * 1024 * 1024 + 1, b'x');
    let file = temp_file("too-large.eml", &eml);
    run(&["decide", "--message", &file, "--context", &ctx]).failure("too_large", 1);
    // An e-mail under the limit whose calendar part is over it.
    let mut eml = String::from("From: a@b.example\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n");
    eml.push_str(&ics);
    let file = temp_file("calendar-too-large.eml", eml.as_bytes());
    run(&["decide", "--message", &file, "--context", &ctx]).failure("too_large", 1);
}

/// A small deterministic generator, so the garbage is the same on every run.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn binary_garbage_and_an_empty_file_are_errors_not_crashes() {
    let ctx = repo("tests/fixtures/sample/context.json");
    let mut inputs: Vec<(String, Vec<u8>)> = (0..4).map(|i| (format!("garbage-{i}.bin"), garbage(i, 4096))).collect();
    let mut calendar_garbage = b"BEGIN:VCALENDAR\r\n".to_vec();
    calendar_garbage.extend(garbage(99, 2048));
    inputs.push(("calendar-garbage.ics".into(), calendar_garbage));
    inputs.push(("nul.ics".into(), vec![0; 100]));
    for (name, bytes) in inputs {
        let file = temp_file(&name, &bytes);
        for args in [
            vec!["decide", "--message", &file, "--context", &ctx],
            vec!["itip", "process", "--message", &file],
            vec!["expand", "--message", &file],
            vec!["itip", "schedule", "--new", &file, "--user", "a@b.example"],
        ] {
            let r = run(&args);
            assert_eq!(r.code, 1, "{name} {args:?}: {}", r.stderr);
            let e = failure_of(&r.stderr);
            assert!(["parse_error", "no_calendar_part"].contains(&e["code"].as_str().unwrap()), "{name}: {e:?}");
        }
    }
    let empty = temp_file("empty.ics", b"");
    run(&["decide", "--message", &empty, "--context", &ctx]).failure("no_calendar_part", 1);
    run(&["expand", "--message", &empty]).failure("no_calendar_part", 1);
    run(&["itip", "process", "--message", &empty]).failure("no_calendar_part", 1);
    // An empty stored copy or organizer's copy is not a calendar.
    let e = run(&["itip", "process", "--message", &message("outlook-request.ics"), "--existing", &empty])
        .failure("parse_error", 1);
    assert_eq!(e["line"], 1);
    run(&["itip", "schedule", "--new", &empty, "--user", "a@b.example"]).failure("parse_error", 1);
}

#[test]
fn a_missing_file_is_an_io_error() {
    let missing = cli("no-such-file.ics");
    let ctx = repo("tests/fixtures/sample/context.json");
    for args in [
        vec!["decide", "--message", &missing, "--context", &ctx],
        vec!["decide", "--message", &cli("missing-uid.ics"), "--context", &missing],
        vec!["itip", "process", "--message", &missing],
        vec!["itip", "process", "--message", &cli("missing-uid.ics"), "--existing", &missing],
        vec!["itip", "schedule", "--old", &missing, "--user", "a@b.example"],
        vec!["itip", "reply", "--invitation", &missing, "--attendee", "a@b.example", "--partstat", "ACCEPTED"],
        vec!["expand", "--message", &missing],
    ] {
        let e = run(&args).failure("io", 1);
        assert!(e["message"].as_str().unwrap().contains("no-such-file.ics"), "{e:?}");
        assert!(e["line"].is_null());
    }
}

#[test]
fn a_wrong_command_line_is_a_usage_error_with_exit_code_2() {
    let file = cli("missing-uid.ics");
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["decide", "--message", &file],
        vec!["decide", "--message", &file, "--context"],
        vec!["decide", "--mesage", &file, "--context", &file],
        vec!["decide", "--message", &file, "--message", &file, "--context", &file],
        vec!["decide", "stray", "--message", &file, "--context", &file],
        vec!["itip"],
        vec!["itip", "publish", "--message", &file],
        vec!["itip", "process"],
        vec!["itip", "schedule", "--new", &file],
        vec!["itip", "schedule", "--new", &file, "--user", "a@b.example", "--rsvp", "maybe"],
        vec!["expand", "--message", &file, "--max-instances", "many"],
        vec!["expand", "--message", &file, "--horizon-days", "1.5"],
    ] {
        let r = run(&args);
        let e = r.failure("usage", 2);
        assert!(e["line"].is_null(), "{args:?}");
    }
    let r = run(&[]);
    assert!(failure_of(&r.stderr)["message"].as_str().unwrap().contains("invitelink decide"), "usage text");
}

#[test]
fn version_and_help() {
    let r = run(&["--version"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.trim(), format!("invitelink {}", env!("CARGO_PKG_VERSION")));
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    for command in ["decide", "itip process", "itip schedule", "itip reply", "expand", "check"] {
        assert!(r.stdout.contains(&format!("invitelink {command}")), "{command}");
    }
}

#[test]
fn flags_take_the_equals_form_too() {
    let r = run(&[
        "expand",
        &format!("--message={}", cli("all-day-series.ics")),
        "--from=2026-12-28",
        "--until=2027-01-01",
    ]);
    assert_eq!(r.ok_json().as_array().unwrap().len(), 1);
    let r = run(&["check", &format!("--context={}", cli("context-anna.json")), &message("outlook-request.ics")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// `invitelink ... | head` must not turn into a crash report.
#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    let mut child = Command::new(BIN)
        .args(["expand", "--message", &cli("secondly.ics")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(status.code().is_some(), "ended by itself: {status:?}");
}

/// docs/cli.md documents every error code of `src/error.rs`.
#[test]
fn every_error_code_is_documented() {
    let source = std::fs::read_to_string(repo("src/error.rs")).unwrap();
    let doc = std::fs::read_to_string(repo("docs/cli.md")).unwrap();
    let codes: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ErrorCode::"))
        .filter_map(|l| l.split_once("=> \"").map(|(_, code)| code.trim_end_matches("\",")))
        .collect();
    assert_eq!(codes.len(), 12, "{codes:?}");
    for code in codes {
        assert!(doc.contains(&format!("| `{code}` |")), "docs/cli.md lacks a row for `{code}`");
    }
}
