//! Properties of the engine's input boundaries, over generated input:
//!
//! - (a) reading and writing iCalendar loses nothing: a generated tree with
//!   any property names, parameters (quoted values with `:` `;` `,`) and
//!   unicode values of any length is written, read and written again to the
//!   same tree and text, folded at 75 octets;
//! - (b) no boundary function of `invitelink::api` panics, on arbitrary bytes
//!   and on mutations of real messages (so that the input gets past the
//!   reader into the rules), with arbitrary context JSON, stored copies,
//!   addresses and windows;
//! - (c) any recurrence rule of the RFC 5545 grammar expands within the
//!   limits of SPEC 7, in bounded time;
//! - the inputs that fuzzing found (`tests/fixtures/fuzz/`) stay fixed;
//! - the stored copy spliced from the lines kept as read
//!   (`ParseOptions::keep_raw`) is, octet for octet, the copy written from
//!   the tree, on real, mutated and generated input; and the writer's own
//!   text is kept whole.
//!
//! Case counts are modest so that the whole file runs in well under a minute
//! in a debug build; `PROPTEST_CASES` raises them for a longer run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use invitelink::api::{self, ExpandRequest, ProcessRequest, ReplyRequest, ScheduleRequest};
use invitelink::ical::{Component, Param, ParseOptions, Property, parse_calendar};
use invitelink::itip::{PartStat, stored_ics};
use invitelink::message::{InputLimits, read_message};
use invitelink::policy::{Context, parse_context};
use invitelink::recur::{Limits, RRule};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::RngSeed;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Cases per property: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let mut config = ProptestConfig { cases: n, failure_persistence: None, ..ProptestConfig::default() };
    // The same cases on every run (CI must not flake); `PROPTEST_RNG_SEED`
    // picks other ones.
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(20_261_203);
    }
    config
}

// ======================================================================
// (a) parse / write round trip
// ======================================================================

/// A property or component name: an IANA token or an `X-` name, never
/// `BEGIN` or `END`.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][A-Z0-9-]{0,11}",
        "X-[A-Z0-9-]{1,24}",
        select(vec!["DTSTART", "SUMMARY", "ATTENDEE", "RRULE", "X-MICROSOFT-CDO-BUSYSTATUS"]).prop_map(str::to_owned),
    ]
    .prop_filter("not a structure line", |n| n != "BEGIN" && n != "END")
}

/// A parameter value: any text but controls and DQUOTE (RFC 5545
/// `paramtext` / `quoted-string`), often with `:` `;` `,` that force quoting.
fn param_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^\"\\x00-\\x1F\\x7F]{0,40}",
        "[a-z ]{0,5}[:;,][^\"\\x00-\\x1F\\x7F]{0,20}",
        select(vec!["mailto:bob@customer.example", "Berg, Bob", "a;b", "W. Europe Standard Time", ""])
            .prop_map(str::to_owned),
    ]
}

/// A property value: any text but controls (HTAB allowed), of any length,
/// so that long values fold many times, also inside multi-byte characters.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^\\x00-\\x08\\x0A-\\x1F\\x7F]{0,120}",
        "[^\\x00-\\x08\\x0A-\\x1F\\x7F]{200,600}",
        "[ä€😀a]{70,160}",
        "[:;,\\\\\" ]{0,30}",
    ]
}

fn param() -> impl Strategy<Value = Param<'static>> {
    ("[A-Z][A-Z0-9-]{0,10}", prop::collection::vec(param_value(), 1..4))
        .prop_map(|(n, vs)| Param { name: Cow::Owned(n), values: vs.into_iter().map(Cow::Owned).collect() })
}

fn property() -> impl Strategy<Value = Property<'static>> {
    (name(), prop::collection::vec(param(), 0..4), value()).prop_map(|(n, params, v)| Property {
        name: Cow::Owned(n),
        params,
        value: Cow::Owned(v),
        line: 0,
        raw: None,
    })
}

fn component(depth: u32) -> BoxedStrategy<Component<'static>> {
    let leaf = (name(), prop::collection::vec(property(), 0..6)).prop_map(|(n, properties)| Component {
        name: Cow::Owned(n),
        properties,
        components: Vec::new(),
        line: 0,
    });
    if depth == 0 {
        return leaf.boxed();
    }
    (name(), prop::collection::vec(property(), 0..6), prop::collection::vec(component(depth - 1), 0..3))
        .prop_map(|(n, properties, components)| Component { name: Cow::Owned(n), properties, components, line: 0 })
        .boxed()
}

fn calendar() -> impl Strategy<Value = Component<'static>> {
    (prop::collection::vec(property(), 0..5), prop::collection::vec(component(2), 0..4)).prop_map(
        |(properties, components)| Component { name: Cow::Borrowed("VCALENDAR"), properties, components, line: 0 },
    )
}

/// The tree without the line numbers the reader records.
fn without_lines(c: &Component<'_>) -> Component<'static> {
    let mut owned = c.clone().into_owned();
    let mut stack = vec![&mut owned];
    while let Some(c) = stack.pop() {
        c.line = 0;
        for p in &mut c.properties {
            p.line = 0;
        }
        stack.extend(c.components.iter_mut());
    }
    owned
}

fn assert_folded(text: &str) {
    assert!(text.ends_with("\r\n"), "ends with CRLF");
    for line in text.split_terminator("\r\n") {
        assert!(line.len() <= 75, "a line of {} octets: {line:?}", line.len());
        assert!(!line.contains('\n'), "a bare LF: {line:?}");
    }
}

proptest! {
    #![proptest_config(cases(200))]

    #[test]
    fn a_written_calendar_reads_back_to_the_same_tree_and_text(tree in calendar()) {
        let text = tree.to_ics();
        assert_folded(&text);
        let read = parse_calendar(&text, &ParseOptions { max_bytes: usize::MAX, ..ParseOptions::default() })
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(without_lines(&read), tree);
        prop_assert_eq!(read.to_ics(), text);
    }

    #[test]
    fn the_writers_own_text_is_kept_whole(tree in calendar()) {
        // What the writer wrote is written again as it stands: every line kept.
        let text = tree.to_ics();
        let (raw, all) = spliced_as_written(&text);
        prop_assert_eq!(raw, all, "{}", text);
    }

    #[test]
    fn a_mutated_message_is_spliced_as_written(msg in message()) {
        if let Ok(envelope) = read_message(&msg, &InputLimits::default()) {
            spliced_as_written(&envelope.calendar);
            // The same with every line ending in LF alone: nothing is kept.
            let lf = envelope.calendar.replace("\r\n", "\n");
            prop_assert_eq!(spliced_as_written(&lf).0, 0);
        }
    }

    #[test]
    fn names_are_read_in_upper_case_whatever_their_case(tree in calendar(), seed in any::<u64>()) {
        // The same text with every name in mixed case reads to the same tree.
        let mut lower = tree.clone();
        let mut stack = vec![&mut lower];
        let mut bit = seed;
        let mut mix = |s: &mut Cow<'static, str>| {
            let mixed: String = s.chars().map(|c| { bit = bit.rotate_left(1); if bit & 1 == 1 { c.to_ascii_lowercase() } else { c } }).collect();
            *s = Cow::Owned(mixed);
        };
        while let Some(c) = stack.pop() {
            mix(&mut c.name);
            for p in &mut c.properties {
                mix(&mut p.name);
                for param in &mut p.params {
                    mix(&mut param.name);
                }
            }
            stack.extend(c.components.iter_mut());
        }
        let text = lower.to_ics();
        let read = parse_calendar(&text, &ParseOptions { max_bytes: usize::MAX, ..ParseOptions::default() }).unwrap();
        prop_assert_eq!(without_lines(&read), tree);
    }
}

/// `text` read twice, with and without the lines kept: the stored copy
/// spliced from the kept lines is the one written from the tree. Returns how
/// many of its properties were kept, and how many there are.
fn spliced_as_written(text: &str) -> (usize, usize) {
    let plain = ParseOptions { max_bytes: usize::MAX, ..ParseOptions::default() };
    let keep = ParseOptions { keep_raw: true, ..plain };
    let (Ok(written), Ok(kept)) = (parse_calendar(text, &plain), parse_calendar(text, &keep)) else { return (0, 0) };
    assert_eq!(stored_ics(&kept), stored_ics(&written), "{text}");
    let (mut raw, mut all) = (0, 0);
    let mut stack = vec![&kept];
    while let Some(c) = stack.pop() {
        raw += c.properties.iter().filter(|p| p.raw.is_some()).count();
        all += c.properties.len();
        stack.extend(c.components.iter());
    }
    (raw, all)
}

/// The real files: spliced and written stored copies are the same, and
/// most lines of real invitations are kept as read.
#[test]
fn real_files_spliced_as_written() {
    let (mut raw, mut all) = (0, 0);
    for file in real_files() {
        let bytes = std::fs::read(file).unwrap();
        let Ok(envelope) = read_message(&bytes, &InputLimits::default()) else { continue };
        let (r, a) = spliced_as_written(&envelope.calendar);
        raw += r;
        all += a;
    }
    assert!(raw * 2 > all, "{raw} of {all} lines kept as read");
}

/// Every real file of the project and of the shared corpus: what is read is
/// written so that it reads back to the same tree and text.
#[test]
fn real_files_read_and_write_stably() {
    let mut checked = 0;
    for file in real_files() {
        let bytes = std::fs::read(file).unwrap();
        let Ok(envelope) = read_message(&bytes, &InputLimits::default()) else { continue };
        let Ok(cal) = parse_calendar(&envelope.calendar, &ParseOptions::default()) else { continue };
        let text = cal.to_ics();
        assert_folded(&text);
        let again = parse_calendar(&text, &ParseOptions { max_bytes: usize::MAX, ..ParseOptions::default() })
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(without_lines(&again), without_lines(&cal), "{}", file.display());
        assert_eq!(again.to_ics(), text, "{}", file.display());
        checked += 1;
    }
    assert!(checked > 150, "files checked: {checked}");
}

// ======================================================================
// (b) no panic at any boundary
// ======================================================================

/// Every `.ics` and `.eml` under the project's fixtures and the shared
/// corpus and conformance suite.
fn real_files() -> &'static [PathBuf] {
    static FILES: OnceLock<Vec<PathBuf>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut out = Vec::new();
        let mut dirs = vec![repo("tests/fixtures"), repo("../shared/corpus"), repo("../shared/conformance")];
        while let Some(dir) = dirs.pop() {
            if dir.ends_with("fixtures/fuzz") {
                continue; // the findings of fuzzing have tests of their own
            }
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "ics" || x == "eml") {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    })
}

/// The real files, read once (the larger corpus files are left out to keep
/// each case fast in a debug build).
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        real_files().iter().map(|p| std::fs::read(p).unwrap()).filter(|b| b.len() < 64 * 1024).collect()
    })
}

/// Lines worth inserting: values at the edges of what the engine reads.
const INTERESTING_LINES: &[&str] = &[
    "BEGIN:VEVENT",
    "END:VEVENT",
    "BEGIN:VCALENDAR",
    "END:VCALENDAR",
    "METHOD:REQUEST",
    "METHOD:REPLY",
    "METHOD:CANCEL",
    "METHOD:COUNTER",
    "METHOD:ADD",
    "RRULE:FREQ=SECONDLY",
    "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    "RRULE:FREQ=MINUTELY;INTERVAL=0",
    "RRULE:FREQ=DAILY;UNTIL=99991231T235959Z",
    "RRULE:FREQ=MONTHLY;BYDAY=-53MO;BYSETPOS=-366",
    "RDATE;VALUE=PERIOD:20261203T090000Z/PT1H,20261204T090000Z/20261203T090000Z",
    "EXDATE;VALUE=DATE:20261203",
    "EXDATE;TZID=Nowhere/City:20261203T100000",
    "RECURRENCE-ID;RANGE=THISANDFUTURE:20261210T090000Z",
    "RECURRENCE-ID;VALUE=DATE:00000101",
    "DTSTART:99991231T235959Z",
    "DTSTART;VALUE=DATE:20261303",
    "DTSTART;TZID=W. Europe Standard Time:20260329T023000",
    "DTSTART;TZID=America/New_York:20261101T013000",
    "DTEND:16010101T000000",
    "DURATION:P99999999W",
    "DURATION:-PT1H",
    "DURATION:PT",
    "SEQUENCE:99999999999999999999",
    "SEQUENCE:-1",
    "X-MICROSOFT-CDO-APPT-SEQUENCE:4294967296",
    "DTSTAMP:20261203T090000",
    "UID:",
    "ORGANIZER;SENT-BY=\"mailto:\":mailto:",
    "ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO=\"mailto:x@y.z\":mailto:anna.dahl@nordlys.no",
    "ATTENDEE;RSVP=FALSE;SCHEDULE-AGENT=CLIENT:MAILTO:ANNA@OURCRM.EXAMPLE",
    "ATTENDEE:mailto:anna@ourcrm.example",
    "REQUEST-STATUS:2.0;Success",
    "SCHEDULE-STATUS:9.9.9",
    "STATUS:CANCELLED",
    "BEGIN:VTIMEZONE",
    "TZID:W. Europe Standard Time",
    "TZOFFSETFROM:+9999",
    "TZOFFSETTO:-0000",
    "END:VTIMEZONE",
    "Content-Type: text/calendar; method=REQUEST; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "Content-Transfer-Encoding: quoted-printable",
    "--b1",
    "=E2=82=AC=",
    " folded continuation",
    "\u{feff}BEGIN:VCALENDAR",
    "",
];

/// One change to a message, applied line-wise so that most results still read.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    InsertLine(Index, &'static str),
    ReplaceValue(Index, String),
    ReplaceByte(Index, u8),
    InsertBytes(Index, Vec<u8>),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let value = prop_oneof![
        "[0-9TZ:+-]{0,20}",
        "[^\\x00-\\x1F]{0,20}",
        select(vec!["99991231T235959Z", "00000229", "P1D", "FREQ=HOURLY;BYSECOND=60", "mailto:", ""])
            .prop_map(str::to_owned),
    ];
    prop_oneof![
        1 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        3 => (any::<Index>(), select(INTERESTING_LINES)).prop_map(|(i, l)| Mutation::InsertLine(i, l)),
        2 => (any::<Index>(), value).prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::ReplaceByte(i, b)),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Mutation::InsertBytes(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = seed.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    for m in mutations {
        let n = lines.len().max(1);
        match m {
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i.index(n));
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i.index(n)].clone();
                lines.insert(i.index(n), l);
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => lines.swap(a.index(n), b.index(n)),
            Mutation::InsertLine(i, l) => lines.insert(i.index(n + 1).min(lines.len()), format!("{l}\r").into_bytes()),
            Mutation::ReplaceValue(i, v) if !lines.is_empty() => {
                let line = &mut lines[i.index(n)];
                if let Some(colon) = line.iter().position(|&b| b == b':') {
                    line.truncate(colon + 1);
                    line.extend_from_slice(v.as_bytes());
                    line.push(b'\r');
                }
            }
            Mutation::ReplaceByte(i, b) if !lines.is_empty() => {
                let line = &mut lines[i.index(n)];
                if !line.is_empty() {
                    let at = i.index(line.len());
                    line[at] = *b;
                }
            }
            Mutation::InsertBytes(i, bytes) if !lines.is_empty() => {
                let line = &mut lines[i.index(n)];
                let at = i.index(line.len() + 1).min(line.len());
                line.splice(at..at, bytes.iter().copied());
            }
            Mutation::Truncate(i) if !lines.is_empty() => lines.truncate(i.index(n) + 1),
            _ => {}
        }
    }
    lines.join(&b'\n')
}

/// A real message with a few mutations, or raw bytes.
fn message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => (any::<Index>(), prop::collection::vec(mutation(), 0..6))
            .prop_map(|(i, ms)| { let s = seeds(); apply(&s[i.index(s.len())], &ms) }),
        1 => prop::collection::vec(any::<u8>(), 0..512),
        1 => "BEGIN:VCALENDAR\r\n[ -~\r\n]{0,400}".prop_map(String::into_bytes),
    ]
}

/// Optional text for a stored copy: a mutated real file, garbage, or none.
fn stored_text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        3 => message().prop_map(|b| Some(String::from_utf8_lossy(&b).into_owned())),
    ]
}

fn address() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "anna.dahl@nordlys.no",
            "mailto:bob.berg@customer.no",
            "MAILTO:Bob.Berg@Customer.no",
            "bob.berg@customer.example",
            "anna@ourcrm.example",
            "mailto:",
            "",
        ])
        .prop_map(str::to_owned),
        "[^\\x00-\\x1F]{0,30}",
    ]
}

fn time_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "2026-12-03T09:00:00Z",
            "2026-12-03",
            "2026-12-03T10:00:00+01:00",
            "0000-01-01",
            "9999-12-31T23:59:59Z",
            "-262143-01-01",
            "2026-02-30",
            "",
        ])
        .prop_map(str::to_owned),
        "[0-9T:Z+-]{0,25}",
    ]
}

/// Context JSON shaped like the real thing, with any value in any field.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        "[^\\x00]{0,20}".prop_map(serde_json::Value::String),
        select(vec!["enable_all", "disable_all", "disable_tentative", "disable_automation", "accept", "accept_all"])
            .prop_map(|s| serde_json::json!(s)),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn context_json() -> impl Strategy<Value = String> {
    let field = |name: &'static str, v: BoxedStrategy<serde_json::Value>| {
        prop::option::of(v).prop_map(move |v| v.map(|v| (name.to_owned(), v)))
    };
    let contact = (address(), prop::option::of(any::<i64>()), prop::option::of("[A-Za-z ]{0,10}"))
        .prop_map(|(e, id, n)| serde_json::json!({"email": e, "person_id": id, "name": n, "company": "Customer AS"}));
    let shaped = (
        address(),
        field("from", address().prop_map(serde_json::Value::String).boxed()),
        field("now", time_text().prop_map(serde_json::Value::String).boxed()),
        field(
            "preferences",
            (
                select(vec!["enable_all", "disable_tentative", "disable_automation", "disable_all"]),
                any::<bool>(),
                any::<bool>(),
            )
                .prop_map(|(i, r, s)| serde_json::json!({"incoming": i, "request_reply": r, "synchronizer": s}))
                .boxed(),
        ),
        field(
            "user",
            (any::<bool>(), any::<bool>())
                .prop_map(|(i, s)| serde_json::json!({"import_tentative": i, "synchronizer": s}))
                .boxed(),
        ),
        field("contacts", prop::collection::vec(contact, 0..3).prop_map(serde_json::Value::Array).boxed()),
        field("existing", stored_text().prop_map(|t| serde_json::json!(t)).boxed()),
        field(
            "action",
            (select(vec!["accept", "tentative", "decline", "accept_all"]), any::<bool>())
                .prop_map(|(t, n)| serde_json::json!({"type": t, "notify": n}))
                .boxed(),
        ),
        field("junk", json_value().boxed()),
    )
        .prop_map(|(mailbox, a, b, c, d, e, f, g, h)| {
            let mut m = serde_json::Map::new();
            m.insert("mailbox".into(), serde_json::Value::String(mailbox));
            for (k, v) in [a, b, c, d, e, f, g, h].into_iter().flatten() {
                m.insert(k, v);
            }
            serde_json::Value::Object(m).to_string()
        });
    prop_oneof![
        6 => shaped,
        1 => json_value().prop_map(|v| v.to_string()),
        1 => "[^\\x00]{0,80}",
    ]
}

/// A few fixed contexts for `decide` on arbitrary messages.
fn fixed_contexts() -> &'static [Context] {
    static CONTEXTS: OnceLock<Vec<Context>> = OnceLock::new();
    CONTEXTS.get_or_init(|| {
        let stored = std::fs::read_to_string(repo("tests/fixtures/decide/messages/stored-u1-accepted.ics")).unwrap();
        let base = r#""contacts": [{"email": "bob.berg@customer.no", "person_id": 301, "name": "Bob Berg"}]"#;
        [
            format!(r#"{{"mailbox": "anna.dahl@nordlys.no", {base}}}"#),
            format!(r#"{{"mailbox": "anna.dahl@nordlys.no", {base}, "existing": {}}}"#, serde_json::json!(stored)),
            format!(r#"{{"mailbox": "anna.dahl@nordlys.no", {base}, "action": {{"type": "accept_all"}}}}"#),
            format!(
                r#"{{"mailbox": "anna.dahl@nordlys.no", {base}, "existing": {}, "action": {{"type": "decline"}}}}"#,
                serde_json::json!(stored)
            ),
            r#"{"mailbox": "bob.berg@customer.no", "preferences": {"incoming": "disable_tentative"}}"#.to_owned(),
        ]
        .iter()
        .map(|j| parse_context(j).unwrap())
        .collect()
    })
}

/// Every error has a code, a message in the house style, and a sane line.
fn assert_good_error(e: &invitelink::EngineError) {
    assert!(!e.message.is_empty() && !e.message.ends_with('.'), "message style: {e}");
    assert!(e.line.is_none_or(|l| l >= 1), "line: {e}");
}

proptest! {
    #![proptest_config(cases(96))]

    #[test]
    fn decide_never_panics(msg in message(), which in any::<Index>()) {
        let contexts = fixed_contexts();
        match api::decide(&msg, &contexts[which.index(contexts.len())]) {
            Ok(d) => { serde_json::to_string(&d).unwrap(); }
            Err(e) => assert_good_error(&e),
        }
        if let Err(e) = api::decide_with_default_context(&msg) {
            assert_good_error(&e);
        }
    }

    #[test]
    fn decide_never_panics_on_any_context(msg in message(), context in context_json()) {
        match api::decide_json(&msg, &context) {
            Ok(d) => { serde_json::to_string(&d).unwrap(); }
            Err(e) => assert_good_error(&e),
        }
    }

    #[test]
    fn itip_process_never_panics(msg in message(), existing in stored_text(), sender in prop::option::of(address())) {
        match api::itip_process(&msg, &ProcessRequest { existing, sender }) {
            Ok(api::ProcessResult::Stored { ics }) => {
                assert_folded(&ics);
                parse_calendar(&ics, &ParseOptions { max_bytes: usize::MAX, ..ParseOptions::default() }).unwrap();
            }
            Ok(_) => {}
            Err(e) => assert_good_error(&e),
        }
    }

    #[test]
    fn itip_schedule_never_panics(
        old in stored_text(),
        new in stored_text(),
        user in prop::collection::vec(address(), 0..3),
        now in prop::option::of(time_text()),
        rsvp in any::<Option<bool>>(),
    ) {
        match api::itip_schedule(&ScheduleRequest { old, new, user, now, rsvp }) {
            Ok(messages) => for m in messages {
                assert_folded(&m.ics);
                parse_calendar(&m.ics, &ParseOptions { max_bytes: usize::MAX, ..ParseOptions::default() }).unwrap();
            },
            Err(e) => assert_good_error(&e),
        }
    }

    #[test]
    fn itip_reply_never_panics(
        msg in message(),
        attendee in address(),
        partstat in prop_oneof![
            select(vec!["ACCEPTED", "TENTATIVE", "DECLINED", "DELEGATED", "NEEDS-ACTION"]).prop_map(str::to_owned),
            "[ -~]{0,12}",
        ],
        now in prop::option::of(time_text()),
    ) {
        match api::itip_reply(&msg, &ReplyRequest { attendee, partstat: PartStat::parse(&partstat), now }) {
            Ok(ics) => assert_folded(&ics),
            Err(e) => assert_good_error(&e),
        }
    }

    #[test]
    fn expand_never_panics_and_keeps_its_limits(
        msg in message(),
        from in prop::option::of(time_text()),
        until in prop::option::of(time_text()),
        max_instances in prop::option::of(0usize..1500),
        horizon_days in prop::option::of(any::<i64>()),
    ) {
        let started = Instant::now();
        let request = ExpandRequest { from, until, max_instances, horizon_days };
        match api::expand(&msg, &request) {
            Ok(expansion) => {
                let cap = max_instances.unwrap_or(1000);
                let mut per_uid = std::collections::HashMap::<&str, usize>::new();
                for o in &expansion.occurrences {
                    *per_uid.entry(&*o.uid).or_default() += 1;
                }
                let events = read_message(&msg, &InputLimits::default())
                    .ok()
                    .and_then(|e| parse_calendar(&e.calendar, &ParseOptions::default()).ok().map(|c| c.children("VEVENT").count()))
                    .unwrap_or(0);
                prop_assert!(expansion.occurrences.len() <= events.max(1) * cap.max(1));
            }
            Err(e) => assert_good_error(&e),
        }
        prop_assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    }

    #[test]
    fn reading_instants_and_contexts_never_panics(t in "\\PC{0,40}", json in context_json()) {
        let _ = api::parse_instant(&t);
        if let Err(e) = parse_context(&json) {
            assert_good_error(&e);
            prop_assert_eq!(e.code, invitelink::ErrorCode::InvalidContext);
        }
    }
}

// ======================================================================
// (c) any recurrence rule expands within the limits
// ======================================================================

fn list<T: std::fmt::Display>(items: Vec<T>) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

fn signed(max: i32) -> impl Strategy<Value = i32> {
    (1..=max, any::<bool>()).prop_map(|(n, neg)| if neg { -n } else { n })
}

/// A rule of the RFC 5545 3.3.10 grammar (and some values just outside it).
fn rrule() -> impl Strategy<Value = String> {
    let weekday = select(vec!["MO", "TU", "WE", "TH", "FR", "SA", "SU"]);
    let byday = (prop::option::of(signed(53)), weekday.clone()).prop_map(|(n, d)| match n {
        Some(n) => format!("{n}{d}"),
        None => d.to_owned(),
    });
    let until = prop_oneof![
        (1900i32..2200, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}{m:02}{d:02}")),
        (1900i32..10000, 1u32..13, 1u32..29, 0u32..24)
            .prop_map(|(y, m, d, h)| format!("{y:04}{m:02}{d:02}T{h:02}0000Z")),
    ];
    (
        select(vec!["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]),
        prop::option::of(prop_oneof![1u32..5, 1u32..1000]),
        prop::option::of(prop_oneof![0u32..50, 0u32..100_000]),
        prop::option::of(until),
        (
            prop::option::of(prop::collection::vec(0u32..61, 1..4)),
            prop::option::of(prop::collection::vec(0u32..60, 1..4)),
            prop::option::of(prop::collection::vec(0u32..24, 1..4)),
        ),
        (
            prop::option::of(prop::collection::vec(byday, 1..4)),
            prop::option::of(prop::collection::vec(signed(31), 1..4)),
            prop::option::of(prop::collection::vec(signed(366), 1..3)),
            prop::option::of(prop::collection::vec(signed(53), 1..3)),
            prop::option::of(prop::collection::vec(1u32..13, 1..4)),
            prop::option::of(prop::collection::vec(signed(366), 1..3)),
        ),
        prop::option::of(weekday),
    )
        .prop_map(|(freq, interval, count, until, (bysecond, byminute, byhour), days, wkst)| {
            let (byday, bymonthday, byyearday, byweekno, bymonth, bysetpos) = days;
            let mut parts = vec![format!("FREQ={freq}")];
            let mut add = |name: &str, v: Option<String>| {
                if let Some(v) = v {
                    parts.push(format!("{name}={v}"));
                }
            };
            add("INTERVAL", interval.map(|n| n.to_string()));
            add("COUNT", count.map(|n| n.to_string()));
            add("UNTIL", until);
            add("BYSECOND", bysecond.map(list));
            add("BYMINUTE", byminute.map(list));
            add("BYHOUR", byhour.map(list));
            add("BYDAY", byday.map(list));
            add("BYMONTHDAY", bymonthday.map(list));
            add("BYYEARDAY", byyearday.map(list));
            add("BYWEEKNO", byweekno.map(list));
            add("BYMONTH", bymonth.map(list));
            add("BYSETPOS", bysetpos.map(list));
            add("WKST", wkst.map(str::to_owned));
            parts.join(";")
        })
}

/// `DTSTART` and `DTEND` of a series: UTC, in a zone with DST, floating, or all day.
fn series_start() -> impl Strategy<Value = (String, String)> {
    (1900i32..2100, 1u32..13, 1u32..29, 0u32..24, 0u32..60, 0usize..4).prop_map(|(y, mo, d, h, mi, kind)| {
        let date = format!("{y:04}{mo:02}{d:02}");
        let time = format!("{date}T{h:02}{mi:02}00");
        match kind {
            0 => (format!("DTSTART:{time}Z"), format!("DURATION:PT{}M", mi + 1)),
            1 => (format!("DTSTART;TZID=Europe/Oslo:{time}"), "DURATION:PT1H".to_owned()),
            2 => (format!("DTSTART:{time}"), "DURATION:PT30M".to_owned()),
            _ => (format!("DTSTART;VALUE=DATE:{date}"), "DURATION:P1D".to_owned()),
        }
    })
}

proptest! {
    #![proptest_config(cases(160))]

    #[test]
    fn any_rule_expands_within_the_limits(
        rule in rrule(),
        (dtstart, duration) in series_start(),
        window in prop::option::of((1900i32..2150, 0i64..20_000)),
        max_instances in prop::option::of(1usize..1500),
    ) {
        let ics = format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:generated\r\n{dtstart}\r\n{duration}\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let (from, until) = match window {
            Some((year, days)) => {
                let from = chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
                let until = from + chrono::TimeDelta::days(days);
                (Some(from.format("%Y-%m-%dT%H:%M:%SZ").to_string()), Some(until.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
            }
            None => (None, None),
        };
        let request = ExpandRequest { from: from.clone(), until: until.clone(), max_instances, horizon_days: None };
        let started = Instant::now();
        let expansion = api::expand(ics.as_bytes(), &request).unwrap_or_else(|e| panic!("{e}\n{ics}"));
        let took = started.elapsed();
        prop_assert!(took < Duration::from_secs(10), "{rule} took {took:?}");
        let cap = max_instances.unwrap_or(1000);
        prop_assert!(expansion.occurrences.len() <= cap, "{} > {cap}: {rule}", expansion.occurrences.len());
        // Every occurrence overlaps the window, cut at the two-year horizon.
        if let (Some(from), Some(until)) = (from, until) {
            let from = api::parse_instant(&from).unwrap();
            let until = api::parse_instant(&until).unwrap().min(from + chrono::TimeDelta::days(730));
            for o in &expansion.occurrences {
                let start = api::parse_instant(o.start.trim_end_matches('Z')).unwrap();
                let end = api::parse_instant(o.end.trim_end_matches('Z')).unwrap();
                prop_assert!(start < until, "{} starts after the window: {rule}", o.start);
                prop_assert!(end > from || (end == start && start >= from), "{} ends before the window: {rule}", o.end);
            }
        }
        // An unreadable rule is named, not skipped in silence.
        if RRule::parse(&rule).is_err() {
            prop_assert!(!expansion.errors.is_empty(), "{rule}");
        }
    }

    #[test]
    fn any_rule_iterates_within_its_limits(rule in rrule(), year in 1900i32..2100, hour in 0u32..24) {
        let Ok(rule) = RRule::parse(&rule) else { return Ok(()) };
        let start = chrono::NaiveDate::from_ymd_opt(year, 3, 29).unwrap().and_hms_opt(hour, 30, 0).unwrap();
        let limits = Limits { max_instances: 2_000, max_periods: 50_000 };
        let started = Instant::now();
        let mut walk = rule.instances(start, |t| t).with_limits(limits);
        let mut n = 0usize;
        let mut last = None;
        for t in walk.by_ref() {
            prop_assert!(last.is_none_or(|l| l < t), "instances in order: {rule}");
            last = Some(t);
            n += 1;
        }
        prop_assert!(n <= limits.max_instances, "{n} instances: {rule}");
        prop_assert!(walk.periods_examined() <= limits.max_periods + 1, "{} periods: {rule}", walk.periods_examined());
        prop_assert!(started.elapsed() < Duration::from_secs(10), "{rule} took {:?}", started.elapsed());
    }
}

// ======================================================================
// inputs found by fuzzing (tests/fixtures/fuzz/)
// ======================================================================

fn fuzz_findings() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(repo("tests/fixtures/fuzz")).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|x| x != "md"));
    files.sort();
    files
}

/// Every finding goes through every boundary without a panic.
#[test]
fn fuzz_findings_do_not_panic() {
    for file in fuzz_findings() {
        let bytes = std::fs::read(&file).unwrap();
        for context in fixed_contexts() {
            let _ = api::decide(&bytes, context);
        }
        let _ = api::decide_with_default_context(&bytes);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let _ = api::itip_process(&bytes, &ProcessRequest::default());
        let _ = api::itip_process(&bytes, &ProcessRequest { existing: Some(text.clone()), sender: None });
        let _ = api::itip_schedule(&ScheduleRequest {
            old: Some(text.clone()),
            new: None,
            user: vec!["a@b.c".into()],
            ..Default::default()
        });
        let _ = api::itip_schedule(&ScheduleRequest {
            old: None,
            new: Some(text),
            user: vec!["a@b.c".into()],
            ..Default::default()
        });
        let _ = api::expand(&bytes, &ExpandRequest::default());
        let _ = parse_context(&String::from_utf8_lossy(&bytes));
    }
}

/// The round-trip findings of the `parse_calendar` target: writing what was
/// read must be stable. Fixed: a property or parameter name that is only
/// white space (`\x0c:PUBLIC`) is no name (the line joins the previous value,
/// the parameter is dropped), and `P` without `=` reads as `P=`.
#[test]
fn fuzz_findings_read_and_write_stably() {
    for file in
        fuzz_findings().iter().filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("parse-calendar"))
    {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let Ok(cal) = parse_calendar(&text, &ParseOptions::default()) else { continue };
        let written = cal.to_ics();
        let again = parse_calendar(&written, &ParseOptions::default()).unwrap();
        assert_eq!(again.to_ics(), written, "{}", file.display());
    }
}

/// Windows at the edges of the date range are refused, not a panic
/// (found by `expand_never_panics_and_keeps_its_limits`).
#[test]
fn windows_outside_the_icalendar_years_are_refused() {
    let ics = std::fs::read(repo("tests/fixtures/cli/all-day-series.ics")).unwrap();
    for (from, until) in [
        (Some("-262143-01-01"), None),
        (Some("+262142-12-31"), None),
        (None, Some("+262142-12-31T00:00:00Z")),
        (Some("-0001-12-31"), Some("2026-01-01")),
    ] {
        let request = ExpandRequest { from: from.map(Into::into), until: until.map(Into::into), ..Default::default() };
        let e = api::expand(&ics, &request).unwrap_err();
        assert_eq!(e.code, invitelink::ErrorCode::InvalidValue, "{from:?} {until:?}");
    }
    for (from, until) in [("0000-01-01", "0001-01-01"), ("9999-12-31", "9999-12-31T23:59:59Z")] {
        let request = ExpandRequest { from: Some(from.into()), until: Some(until.into()), ..Default::default() };
        assert_eq!(api::expand(&ics, &request).unwrap().occurrences, []);
    }
}

// ======================================================================
// (d) damaged input degrades gracefully (docs/decision.md, "Damaged input")
// ======================================================================

/// Valid recurring events as clients write them; `DTSTART`, `UID` and the
/// component lines are never damaged, every other line may be.
const SERIES: &[&str] = &[
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:weekly-1\r\nDTSTAMP:20260101T100000Z\r\n\
     DTSTART;TZID=Europe/Oslo:20260105T090000\r\nDTEND;TZID=Europe/Oslo:20260105T100000\r\n\
     RRULE:FREQ=WEEKLY;WKST=MO;COUNT=30;BYDAY=MO,WE\r\nEXDATE;TZID=Europe/Oslo:20260302T090000\r\n\
     SUMMARY:Standup\r\nORGANIZER:mailto:bob@acme.example\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:anna@crm.example\r\n\
     END:VEVENT\r\nEND:VCALENDAR\r\n",
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:monthly-1\r\nDTSTAMP:20260101T100000Z\r\n\
     DTSTART:20260115T140000Z\r\nDURATION:PT1H30M\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20271231T235959Z\r\n\
     RDATE:20260220T140000Z,20260320T140000Z\r\nEXDATE:20260615T140000Z\r\nSUMMARY:Review\r\n\
     END:VEVENT\r\nEND:VCALENDAR\r\n",
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:allday-1\r\nDTSTAMP:20260101T100000Z\r\n\
     DTSTART;VALUE=DATE:20260110\r\nDTEND;VALUE=DATE:20260111\r\nRRULE:FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=10\r\n\
     SUMMARY:Anniversary\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
];

#[derive(Debug, Clone)]
enum Damage {
    /// Drop the character at this position of the line.
    DropChar(Index),
    /// Repeat the property's name and colon inside its value (`RRULE:RRULE:...`).
    DuplicatePrefix,
    /// Cut the line at this position.
    Truncate(Index),
    /// Turn a date-time into a date, or a date into a date-time.
    SwapValueType,
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<Index>().prop_map(Damage::DropChar),
        Just(Damage::DuplicatePrefix),
        any::<Index>().prop_map(Damage::Truncate),
        Just(Damage::SwapValueType),
    ]
}

/// Whether a line may be damaged: not `DTSTART`, `UID`, `BEGIN` or `END`.
fn damageable(line: &str) -> bool {
    !["DTSTART", "UID", "BEGIN", "END", "VERSION", "METHOD"].iter().any(|n| line.starts_with(n))
}

fn apply_damage(line: &str, d: &Damage) -> String {
    let chars: Vec<char> = line.chars().collect();
    match d {
        Damage::DropChar(i) if !chars.is_empty() => {
            let at = i.index(chars.len());
            chars.iter().enumerate().filter(|(j, _)| *j != at).map(|(_, c)| *c).collect()
        }
        Damage::Truncate(i) if !chars.is_empty() => chars.iter().take(i.index(chars.len())).collect(),
        Damage::DuplicatePrefix => match line.split_once(':') {
            Some((name, value)) => {
                let bare = name.split(';').next().unwrap_or(name);
                format!("{name}:{bare}:{value}")
            }
            None => line.to_owned(),
        },
        Damage::SwapValueType => {
            if let Some(i) = line.find('T').filter(|i| line[..*i].ends_with(|c: char| c.is_ascii_digit())) {
                // Drop the time part of the first date-time.
                let end = line[i..].find([',', ';']).map_or(line.len(), |e| i + e);
                format!("{}{}", &line[..i], &line[end..])
            } else {
                format!("{line}T120000")
            }
        }
        _ => line.to_owned(),
    }
}

proptest! {
    #![proptest_config(cases(96))]

    /// Damaging one line other than `DTSTART` never panics, never loses the
    /// series' `DTSTART` occurrence, and `decide` answers with a decision or
    /// a clean error.
    #[test]
    fn a_damaged_series_keeps_its_dtstart(which in 0..SERIES.len(), line in any::<Index>(), harm in damage(), more in damage()) {
        let lines: Vec<&str> = SERIES[which].split("\r\n").filter(|l| !l.is_empty()).collect();
        let targets: Vec<usize> = (0..lines.len()).filter(|i| damageable(lines[*i])).collect();
        let target = targets[line.index(targets.len())];
        let damaged: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| if i == target { apply_damage(&apply_damage(l, &harm), &more) } else { (*l).to_owned() })
            .collect();
        let text = format!("{}\r\n", damaged.join("\r\n"));
        let expansion = api::expand(text.as_bytes(), &ExpandRequest::default());
        let expansion = match expansion {
            Ok(e) => e,
            Err(e) => {
                // Only a line that breaks the file's structure may stop the reader.
                assert_good_error(&e);
                return Ok(());
            }
        };
        prop_assert!(!expansion.occurrences.is_empty(), "no occurrence left from:\n{text}\nwarnings: {:?}", expansion.warnings);
        let ctx = Context::for_mailbox("anna@crm.example");
        if let Err(e) = api::decide(text.as_bytes(), &ctx) {
            assert_good_error(&e);
        }
    }
}
