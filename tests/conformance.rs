//! The iTIP conformance suite (`../shared/conformance`, derived from
//! sabre/vobject's broker tests), run against our engine.
//!
//! Rule set: "semantic", the recommended rules 1-12 of the suite's README
//! (order of properties, parameters and components free; `DTSTAMP`, `PRODID`
//! and `CALSCALE:GREGORIAN` ignored; cal-addresses case-insensitive; `RRULE`
//! as a set of parts; `EXDATE`/`RDATE` as sets; messages matched by recipient
//! and method).
//!
//! A case either passes, or is listed in `tests/conformance-deviations.json`
//! (and `docs/deviations.md`): then the test asserts our documented behaviour
//! instead, so a deviation is still a test that can fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use chrono::{NaiveDate, NaiveDateTime};
use invitelink::ErrorCode;
use invitelink::ical::{Component, ParseOptions, Property, parse_calendar};
use invitelink::itip::vocab::status_code;
use invitelink::itip::{OutgoingMessage, ProcessOutcome, ScheduleOptions, SchedulingObject, process, schedule};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/conformance");
const DEVIATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance-deviations.json");

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 15).unwrap().and_hms_opt(9, 30, 0).unwrap()
}

fn read_text(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn parse(text: &str) -> Component<'static> {
    parse_calendar(text, &ParseOptions::default()).unwrap().into_owned()
}

// ------------------------------------------------------------ comparison

/// Parameters whose values are enumerations (compared case-insensitively).
const ENUM_PARAMS: [&str; 7] = ["PARTSTAT", "ROLE", "CUTYPE", "RSVP", "VALUE", "SCHEDULE-AGENT", "SCHEDULE-FORCE-SEND"];
/// Parameters holding cal-addresses (compared case-insensitively).
const ADDRESS_PARAMS: [&str; 4] = ["SENT-BY", "DELEGATED-TO", "DELEGATED-FROM", "MEMBER"];
/// Properties holding cal-addresses.
const ADDRESS_PROPS: [&str; 2] = ["ATTENDEE", "ORGANIZER"];
/// Properties compared as sets of values, whatever their grouping.
const SET_PROPS: [&str; 2] = ["EXDATE", "RDATE"];

fn params_of(p: &Property<'_>) -> BTreeSet<(String, Vec<String>)> {
    p.params
        .iter()
        .map(|x| {
            let name = x.name.to_ascii_uppercase();
            let values = x
                .values
                .iter()
                .map(|v| {
                    if ENUM_PARAMS.contains(&name.as_str()) {
                        v.to_ascii_uppercase()
                    } else if ADDRESS_PARAMS.contains(&name.as_str()) {
                        v.to_lowercase()
                    } else {
                        v.to_string()
                    }
                })
                .collect();
            (name, values)
        })
        .collect()
}

fn rrule_parts(v: &str) -> BTreeSet<String> {
    v.split(';').filter(|s| !s.is_empty()).map(|s| s.trim().to_ascii_uppercase()).collect()
}

fn same_property(e: &Property<'_>, a: &Property<'_>) -> bool {
    if e.name != a.name {
        return false;
    }
    if e.value == "**ANY**" {
        return true;
    }
    let values_equal = if ADDRESS_PROPS.contains(&e.name.as_ref()) {
        e.value.trim().eq_ignore_ascii_case(a.value.trim())
    } else if e.name == "RRULE" {
        rrule_parts(&e.value) == rrule_parts(&a.value)
    } else {
        e.value == a.value
    };
    values_equal && params_of(e) == params_of(a)
}

/// `EXDATE`/`RDATE` values of a component as a set of (zone or form, value).
fn date_set(c: &Component<'_>, name: &str) -> BTreeSet<String> {
    c.props(name)
        .flat_map(|p| {
            let form = p.param("TZID").map(str::to_owned).or_else(|| p.param("VALUE").map(str::to_ascii_uppercase));
            let form = form.unwrap_or_default();
            p.value.split(',').map(move |v| format!("{form}|{}", v.trim())).collect::<Vec<_>>()
        })
        .collect()
}

fn ignored_property(p: &Property<'_>, top_level: bool, expected: &Component<'_>) -> bool {
    match p.name.as_ref() {
        "DTSTAMP" => true,
        "PRODID" => top_level,
        "CALSCALE" => top_level && p.value.eq_ignore_ascii_case("GREGORIAN"),
        "VERSION" => top_level && expected.prop("VERSION").is_none(),
        name => SET_PROPS.contains(&name),
    }
}

fn show(p: &Property<'_>) -> String {
    let mut out = String::new();
    invitelink::ical::fold_line_into(&line_of(p), &mut out);
    out.trim_end().to_owned()
}

fn line_of(p: &Property<'_>) -> String {
    let mut s = p.name.to_string();
    for x in &p.params {
        s.push(';');
        s.push_str(&x.name);
        s.push('=');
        s.push_str(&x.values.join(","));
    }
    s.push(':');
    s.push_str(&p.value);
    s
}

/// Compares two components by the semantic rules; `Err` says where they differ.
fn compare(expected: &Component<'_>, actual: &Component<'_>, path: &str, top_level: bool) -> Result<(), String> {
    let here = format!("{path}/{}", expected.name);
    if expected.name != actual.name {
        return Err(format!("{here}: component {} instead", actual.name));
    }
    for name in SET_PROPS {
        let (e, a) = (date_set(expected, name), date_set(actual, name));
        if e != a {
            return Err(format!("{here}: {name} {e:?} expected, {a:?} found"));
        }
    }
    let exp: Vec<&Property<'_>> =
        expected.properties.iter().filter(|p| !ignored_property(p, top_level, expected)).collect();
    let act: Vec<&Property<'_>> =
        actual.properties.iter().filter(|p| !ignored_property(p, top_level, expected)).collect();
    let mut used = vec![false; act.len()];
    let mut missing = Vec::new();
    for e in &exp {
        match (0..act.len()).find(|&i| !used[i] && same_property(e, act[i])) {
            Some(i) => used[i] = true,
            None => missing.push(show(e)),
        }
    }
    let extra: Vec<String> = act.iter().zip(&used).filter(|(_, u)| !**u).map(|(p, _)| show(p)).collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(format!("{here}: missing {missing:?}, unexpected {extra:?}"));
    }
    if expected.components.len() != actual.components.len() {
        return Err(format!(
            "{here}: {} sub-components expected, {} found",
            expected.components.len(),
            actual.components.len()
        ));
    }
    let mut used = vec![false; actual.components.len()];
    for e in &expected.components {
        let mut first_error = None;
        let mut found = false;
        for (i, a) in actual.components.iter().enumerate() {
            if used[i] || a.name != e.name {
                continue;
            }
            match compare(e, a, &here, false) {
                Ok(()) => {
                    used[i] = true;
                    found = true;
                    break;
                }
                Err(err) => {
                    if same_key(e, a) || first_error.is_none() {
                        first_error = Some(err);
                    }
                }
            }
        }
        if !found {
            return Err(first_error.unwrap_or_else(|| format!("{here}: no {} found", e.name)));
        }
    }
    Ok(())
}

/// VTIMEZONEs match by TZID, VEVENTs by (UID, RECURRENCE-ID).
fn same_key(e: &Component<'_>, a: &Component<'_>) -> bool {
    let key = |c: &Component<'_>| {
        let rid = c.prop("RECURRENCE-ID").map(line_of);
        (c.value("TZID").map(str::to_owned), c.value("UID").map(str::to_owned), rid)
    };
    key(e) == key(a)
}

fn compare_calendars(expected_text: &str, actual: &Component<'_>) -> Result<(), String> {
    let expected = parse(expected_text);
    compare(&expected, actual, "", true)
}

// ------------------------------------------------------------ deviations

#[derive(Debug)]
struct Deviation {
    case: String,
    expect: Value,
}

fn load_deviations() -> Vec<Deviation> {
    let text = std::fs::read_to_string(DEVIATIONS).unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            for key in ["case", "topic", "we_do", "sabre_does", "rfc", "expect"] {
                assert!(d.get(key).is_some(), "deviation {d} lacks `{key}`");
            }
            Deviation { case: d["case"].as_str().unwrap().to_owned(), expect: d["expect"].clone() }
        })
        .collect()
}

/// Applies the documented edits to an expected message body: `SEQUENCE`
/// and friends set on every `VEVENT` of message `message` (1-based).
fn edited(text: &str, index: usize, deviation: Option<&Deviation>) -> String {
    let Some(d) = deviation else { return text.to_owned() };
    let Some(edits) = d.expect.get("edits").and_then(Value::as_array) else { return text.to_owned() };
    let mut cal = parse(text);
    for e in edits {
        if e["message"].as_u64().unwrap() as usize != index {
            continue;
        }
        let (name, value) = (e["property"].as_str().unwrap(), e["value"].as_str().unwrap());
        for c in cal.components.iter_mut().filter(|c| c.is("VEVENT")) {
            c.set_value(name, value);
        }
    }
    cal.to_ics()
}

// ------------------------------------------------------------ the cases

enum Verdict {
    Passed,
    Deviation,
    Unit,
}

fn opt_str(v: &Value) -> Option<&str> {
    v.as_str()
}

fn run_process(dir: &Path, case: &Value, deviation: Option<&Deviation>) -> Result<Verdict, String> {
    let inputs = &case["inputs"];
    let message_text = read_text(dir, inputs["message"].as_str().unwrap());
    let message = parse(&message_text);
    let existing = opt_str(&inputs["existing"]).map(|f| parse(&read_text(dir, f)));
    let sender = opt_str(&inputs["sender"]);
    let outcome = process(&message, existing.as_ref(), sender).map_err(|e| format!("error {e}"))?;
    if let Some(d) = deviation {
        let want = d.expect["ignored"].as_str().ok_or("a process deviation must give `ignored`")?;
        return match outcome {
            ProcessOutcome::Ignored(i) if i.as_str() == want => Ok(Verdict::Deviation),
            other => Err(format!("documented `ignored: {want}`, got {other:?}")),
        };
    }
    match (opt_str(&case["expect"]["result"]), outcome) {
        (None, ProcessOutcome::Ignored(_)) => Ok(Verdict::Passed),
        (None, other) => Err(format!("expected the message to be ignored, got {other:?}")),
        (Some(file), ProcessOutcome::Stored(cal)) => {
            compare_calendars(&read_text(dir, file), &cal).map(|()| Verdict::Passed)
        }
        (Some(_), other) => Err(format!("expected a stored object, got {other:?}")),
    }
}

fn same_name(expected: &Value, actual: &Option<String>) -> bool {
    let e = expected.as_str().unwrap_or("");
    e == actual.as_deref().unwrap_or("")
}

fn check_message(
    dir: &Path,
    exp: &Value,
    act: &OutgoingMessage,
    index: usize,
    d: Option<&Deviation>,
) -> Result<(), String> {
    let ctx = format!("message {index} to {}", act.recipient);
    let obj = exp.as_object().unwrap();
    for (key, value) in obj {
        let ok = match key.as_str() {
            "uid" => value.as_str() == Some(act.uid.as_str()),
            "component" => value.as_str() == Some("VEVENT"),
            "method" => value.as_str() == Some(act.method.as_str()),
            "sender" => value.as_str().is_some_and(|v| v.eq_ignore_ascii_case(&act.sender)),
            "recipient" => value.as_str().is_some_and(|v| v.eq_ignore_ascii_case(&act.recipient)),
            "senderName" => same_name(value, &act.sender_name),
            "recipientName" => same_name(value, &act.recipient_name),
            "significantChange" => value.as_bool() == Some(act.significant_change),
            "ics" => {
                let text = edited(&read_text(dir, value.as_str().unwrap()), index, d);
                let actual = parse(&act.ics);
                compare_calendars(&text, &actual).map_err(|e| format!("{ctx}: {e}\n--- ours:\n{}", act.ics))?;
                true
            }
            other => return Err(format!("unknown key `{other}`")),
        };
        if !ok {
            return Err(format!("{ctx}: `{key}` is {value}, ours {act:?}"));
        }
    }
    Ok(())
}

fn run_schedule(dir: &Path, case: &Value, deviation: Option<&Deviation>) -> Result<Verdict, String> {
    let inputs = &case["inputs"];
    let old = opt_str(&inputs["old"]).map(|f| parse(&read_text(dir, f)));
    let new = opt_str(&inputs["new"]).map(|f| parse(&read_text(dir, f)));
    let user: Vec<String> = inputs["user"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_owned()).collect();
    let opts = ScheduleOptions { now: now(), rsvp: None };
    let result = schedule(old.as_ref(), new.as_ref(), &user, &opts);
    if let Some(code) = deviation.and_then(|d| d.expect.get("error")).and_then(Value::as_str) {
        // A documented refusal: the object cannot be scheduled.
        return match result {
            Err(e) if e.code.as_str() == code => Ok(Verdict::Deviation),
            other => Err(format!("documented error `{code}`, got {other:?}")),
        };
    }
    let expect = &case["expect"];
    if let Some(kind) = expect.get("error").and_then(Value::as_str) {
        return match result {
            Err(e) if e.code == ErrorCode::InvalidSchedulingObject => {
                if kind == "SameOrganizerForAllComponentsException" && !e.message.contains("organizer") {
                    return Err(format!("expected the organizer sub-case, got `{}`", e.message));
                }
                Ok(Verdict::Passed)
            }
            other => Err(format!("expected invalid_scheduling_object, got {other:?}")),
        };
    }
    let messages = result.map_err(|e| format!("error {e}"))?;
    let expected = expect["messages"].as_array().unwrap();
    if expected.len() != messages.len() {
        let ours: Vec<String> = messages.iter().map(|m| format!("{} to {}", m.method, m.recipient)).collect();
        return Err(format!("{} messages expected, ours: {ours:?}", expected.len()));
    }
    // Rule 10: by (recipient, method) when every entry names its recipient.
    let by_recipient = expected.iter().all(|e| e.get("recipient").is_some());
    let mut used = vec![false; messages.len()];
    for (i, exp) in expected.iter().enumerate() {
        let at = if by_recipient {
            let r = exp["recipient"].as_str().unwrap();
            let m = exp.get("method").and_then(Value::as_str);
            (0..messages.len())
                .find(|&j| {
                    !used[j]
                        && messages[j].recipient.eq_ignore_ascii_case(r)
                        && m.is_none_or(|m| m == messages[j].method)
                })
                .ok_or_else(|| format!("no message to {r}"))?
        } else {
            i
        };
        used[at] = true;
        check_message(dir, exp, &messages[at], i + 1, deviation)?;
    }
    Ok(if deviation.is_some() { Verdict::Deviation } else { Verdict::Passed })
}

/// The `unit` cases, mapped onto our API.
fn run_unit(dir: &Path, case: &Value) -> Result<Verdict, String> {
    let unit = &case["expect"]["unit"];
    if let Some(tz) = unit.get("parseEventInfo.timezone") {
        // The zone instances are named in, for an object without master:
        // from the first RECURRENCE-ID.
        let cal = parse(&read_text(dir, case["inputs"]["calendar"].as_str().unwrap()));
        let object = SchedulingObject::read(&cal).map_err(|e| e.to_string())?;
        return if object.recurrence_tzid() == tz.as_str() {
            Ok(Verdict::Unit)
        } else {
            Err(format!("recurrence zone {:?}, expected {tz}", object.recurrence_tzid()))
        };
    }
    if let Some(want) = unit.get("getScheduleStatus") {
        // Message::getScheduleStatus: the code of a status, as our REPLY
        // processing reads REQUEST-STATUS into SCHEDULE-STATUS.
        let got = status_code(case["inputs"]["scheduleStatus"].as_str());
        let want = want.as_str();
        return if got == want { Ok(Verdict::Unit) } else { Err(format!("status code {got:?}, expected {want:?}")) };
    }
    Err("unknown unit case".into())
}

fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(SUITE)
        .unwrap_or_else(|e| panic!("{SUITE}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn conformance_suite_semantic_rules() {
    let deviations = load_deviations();
    let mut used_deviations = BTreeSet::new();
    let (mut passed, mut deviated, mut unit) = (0, 0, 0);
    let mut failures = Vec::new();
    let dirs = case_dirs();
    for dir in &dirs {
        let case: Value = serde_json::from_str(&read_text(dir, "case.json")).unwrap();
        let name = case["name"].as_str().unwrap().to_owned();
        let deviation = deviations.iter().find(|d| d.case == name);
        if deviation.is_some() {
            used_deviations.insert(name.clone());
        }
        let verdict = match case["operation"].as_str().unwrap() {
            "process" => run_process(dir, &case, deviation),
            "schedule" => run_schedule(dir, &case, deviation),
            "unit" => run_unit(dir, &case),
            other => Err(format!("unknown operation `{other}`")),
        };
        match verdict {
            Ok(Verdict::Passed) => passed += 1,
            Ok(Verdict::Deviation) => deviated += 1,
            Ok(Verdict::Unit) => unit += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    for d in &deviations {
        assert!(used_deviations.contains(&d.case), "deviation for unknown case {}", d.case);
    }
    println!("conformance rule set: semantic (README recommended rules 1-12)");
    println!(
        "conformance: {} cases, {passed} passed, {deviated} documented deviations, {unit} unit cases mapped, {} failed",
        dirs.len(),
        failures.len()
    );
    assert_eq!(dirs.len(), 84, "the suite has 84 cases");
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn the_semantic_comparison_catches_real_differences() {
    let base = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:**ANY**\r\n\
        ATTENDEE;PARTSTAT=ACCEPTED;CN=One:mailto:one@example.org\r\nRRULE:FREQ=DAILY;COUNT=3\r\n\
        EXDATE:20260101T100000Z,20260102T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let same = "BEGIN:VCALENDAR\r\nPRODID:x\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nEXDATE:20260102T100000Z\r\n\
        EXDATE:20260101T100000Z\r\nRRULE:COUNT=3;FREQ=DAILY\r\nATTENDEE;CN=One;partstat=accepted:MAILTO:One@Example.org\r\n\
        UID:a\r\nDTSTAMP:20260101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    assert_eq!(compare_calendars(base, &parse(same)), Ok(()));
    let changes = [
        ("PARTSTAT=ACCEPTED", "PARTSTAT=DECLINED"),
        ("CN=One", "CN=Two"),
        ("UID:a", "UID:b"),
        ("COUNT=3", "COUNT=4"),
        (",20260102T100000Z", ""),
        ("UID:a\r\n", "UID:a\r\nSUMMARY:extra\r\n"),
        ("VERSION:2.0\r\n", "VERSION:3.0\r\n"),
        ("END:VEVENT\r\nEND:VCALENDAR", "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR"),
    ];
    for (from, to) in changes {
        let actual = base.replace("DTSTAMP:**ANY**", "DTSTAMP:20260101T000000Z").replace(from, to);
        assert!(compare_calendars(base, &parse(&actual)).is_err(), "`{from}` -> `{to}` went unnoticed");
    }
}
