//! The engine against the shared corpus of real `.ics` files
//! (`../shared/corpus`, see its README): every file is read and expanded over
//! its window, and
//! (a) every occurrence both references agree on is produced, with the same
//!     start and end;
//! (b) every occurrence produced is agreed, or a disputed item decided our
//!     way, or listed among the file's `extra` occurrences (only where a
//!     reference failed to read or expand the file);
//! (c) every disputed item comes out as `tests/corpus/decisions.json` says.
//!
//! The decisions and their RFC reasons are explained in docs/corpus-decisions.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use chrono::{NaiveDate, NaiveDateTime};
use invitelink::expand::{ExpandOptions, Occurrence, expand};
use invitelink::ical::{Component, ParseOptions, parse_calendar};
use invitelink::message::{InputLimits, read_message};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");
const DECISIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/decisions.json");

/// A start or end as the corpus compares them: dates as dates, UTC as
/// instants, floating as wall times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Time {
    Date(NaiveDate),
    Utc(NaiveDateTime),
    Floating(NaiveDateTime),
}

fn time(s: &str) -> Time {
    if let Some(t) = s.strip_suffix('Z') {
        Time::Utc(NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").unwrap_or_else(|e| panic!("{s}: {e}")))
    } else if s.len() == 10 {
        Time::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s}: {e}")))
    } else {
        Time::Floating(NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap_or_else(|e| panic!("{s}: {e}")))
    }
}

/// One occurrence reduced to what is compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Item {
    key: String,
    start: Time,
    end: Time,
}

fn key_of(uid: &str, rid: Option<&str>) -> String {
    let uid = if uid.is_empty() { "(no UID)" } else { uid };
    format!("{uid}|{}", rid.unwrap_or(""))
}

/// The key without the `#n` a reference adds to a key it yields twice.
fn base_key(key: &str) -> String {
    match key.rfind('#') {
        Some(i) if key[i + 1..].chars().all(|c| c.is_ascii_digit()) && i > key.rfind('|').unwrap_or(0) => {
            key[..i].to_owned()
        }
        _ => key.to_owned(),
    }
}

fn item_of_json(v: &Value, key: &str) -> Item {
    Item { key: base_key(key), start: time(v["start"].as_str().unwrap()), end: time(v["end"].as_str().unwrap()) }
}

fn item_of(o: &Occurrence) -> Item {
    Item { key: key_of(&o.uid, o.recurrence_id.as_deref()), start: time(&o.start), end: time(&o.end) }
}

fn corpus_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(CORPUS).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() || dir.file_name().unwrap() == "expected" {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "ics") {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

fn rel(path: &Path) -> String {
    let parent = path.parent().unwrap().file_name().unwrap().to_string_lossy();
    format!("{parent}/{}", path.file_name().unwrap().to_string_lossy())
}

/// The metadata of the README: VEVENT count, METHOD, ORGANIZER and ATTENDEE counts.
fn meta(cal: &Component<'_>) -> BTreeMap<String, Value> {
    let events: Vec<&Component<'_>> = cal.children("VEVENT").collect();
    let mut m = BTreeMap::new();
    m.insert("vevent_count".to_owned(), Value::from(events.len()));
    m.insert("method".to_owned(), cal.value("METHOD").map_or(Value::Null, |v| Value::from(v.trim())));
    m.insert(
        "organizer_count".to_owned(),
        Value::from(events.iter().map(|e| e.props("ORGANIZER").count()).sum::<usize>()),
    );
    m.insert(
        "attendee_count".to_owned(),
        Value::from(events.iter().map(|e| e.props("ATTENDEE").count()).sum::<usize>()),
    );
    m
}

/// Which reading a decision takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Take {
    Python,
    Icaljs,
    Neither,
}

fn take_of(v: &Value) -> Take {
    match v.as_str() {
        Some("python") => Take::Python,
        Some("icaljs") => Take::Icaljs,
        Some("neither") => Take::Neither,
        other => panic!("a decision must be python, icaljs or neither, not {other:?}"),
    }
}

/// The decision for one disputed key: the key's own entry, else the file's.
fn decision<'d>(file: &'d Value, key: &str) -> Option<(Take, &'d str)> {
    let own = &file["keys"][key];
    let d = if own.is_object() { own } else { file };
    let take = d.get("take")?;
    let why = d["why"].as_str().filter(|w| !w.trim().is_empty())?;
    Some((take_of(take), why))
}

#[derive(Default)]
struct Tally {
    files: usize,
    parse_failures: Vec<String>,
    agreed: usize,
    disputed: BTreeMap<&'static str, usize>,
    extra: usize,
    deviations: usize,
    problems: Vec<String>,
}

#[test]
fn corpus() {
    let decisions: Value = serde_json::from_str(&std::fs::read_to_string(DECISIONS).unwrap()).unwrap();
    let mut tally = Tally::default();
    let files = corpus_files();
    assert_eq!(files.len(), 77, "the corpus README counts 77 files");
    for path in &files {
        tally.files += 1;
        let began = std::time::Instant::now();
        check_file(path, &decisions, &mut tally);
        let spent = began.elapsed();
        if spent.as_millis() > 500 {
            println!("{}: {:.1} s", rel(path), spent.as_secs_f64());
        }
    }
    let decided: BTreeSet<&str> = decisions["files"].as_object().unwrap().keys().map(String::as_str).collect();
    let known: BTreeSet<String> = files.iter().map(|p| rel(p)).collect();
    for d in decided {
        if !known.contains(d) {
            tally.problems.push(format!("{d}: decisions for a file the corpus does not have"));
        }
    }
    println!(
        "corpus: {} files read, {} refused {:?}, {} agreed occurrences matched, {} agreed items read otherwise \
         (documented), disputed items decided {:?}, {} extra occurrences (documented)",
        tally.files,
        tally.parse_failures.len(),
        tally.parse_failures,
        tally.agreed,
        tally.deviations,
        tally.disputed,
        tally.extra
    );
    if !tally.problems.is_empty() {
        let mut msg = String::new();
        for p in &tally.problems {
            writeln!(msg, "{p}").unwrap();
        }
        panic!("{} corpus problems:\n{msg}", tally.problems.len());
    }
}

fn check_file(path: &Path, decisions: &Value, tally: &mut Tally) {
    let name = rel(path);
    let expected_path = Path::new(CORPUS).join("expected").join(format!("{name}.json"));
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
    let file_decisions = &decisions["files"][name.as_str()];
    let problems = &mut tally.problems;

    let bytes = std::fs::read(path).unwrap();
    let parsed = read_message(&bytes, &InputLimits::default())
        .and_then(|env| parse_calendar(&env.calendar, &ParseOptions::default()).map(|c| (c.into_owned(), ())));
    let expected_failure = file_decisions["parse_error"].as_str();
    let cal = match (parsed, expected_failure) {
        (Ok((cal, ())), None) => cal,
        (Ok(_), Some(why)) => {
            problems.push(format!("{name}: parsed, but the decisions say it cannot be ({why})"));
            return;
        }
        (Err(e), Some(_)) => {
            tally.parse_failures.push(format!("{name}: {e}"));
            return;
        }
        (Err(e), None) => {
            problems.push(format!("{name}: cannot be parsed: {e}"));
            return;
        }
    };

    // Metadata: agreed fields must match, disputed ones follow the decision.
    let ours = meta(&cal);
    for (field, value) in expected["meta"].as_object().unwrap() {
        if ours.get(field) != Some(value) {
            problems.push(format!("{name}: meta.{field} is {:?}, both references say {value}", ours.get(field)));
        }
    }

    let window = expected["window"].as_array().unwrap();
    let at = |i: usize| match time(window[i].as_str().unwrap()) {
        Time::Utc(t) => t,
        other => panic!("{name}: window {other:?}"),
    };
    let opts = ExpandOptions { from: Some(at(0)), until: Some(at(1)), ..ExpandOptions::default() };
    let expansion = match expand(&cal, &opts) {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!("{name}: expand failed: {e}"));
            return;
        }
    };
    if let Ok(dir) = std::env::var("CORPUS_DUMP") {
        // A look at our own output, for deciding disputes: CORPUS_DUMP=/tmp/x cargo test --test corpus
        let path = Path::new(&dir).join(format!("{}.json", name.replace('/', "__")));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(path, serde_json::to_string_pretty(&expansion.occurrences).unwrap()).unwrap();
    }
    let ours: Vec<Item> = expansion.occurrences.iter().map(item_of).collect();
    let mut remaining: Vec<Item> = ours.clone();
    let take_out = |item: &Item, remaining: &mut Vec<Item>| -> bool {
        match remaining.iter().position(|o| o == item) {
            Some(i) => {
                remaining.remove(i);
                true
            }
            None => false,
        }
    };

    // (a) agreed occurrences, but for documented deviations.
    for o in expected["occurrences"].as_array().unwrap() {
        let key = key_of(o["uid"].as_str().unwrap_or(""), o["recurrence_id"].as_str());
        let item = item_of_json(o, &key);
        let deviation = &file_decisions["deviations"][key.as_str()];
        if deviation.is_object() && deviation["why"].as_str().is_some_and(|w| !w.trim().is_empty()) {
            tally.deviations += 1;
            if deviation["field"].as_str() == Some("summary") {
                let x = ours.iter().position(|x| *x == item).map(|i| &expansion.occurrences[i]);
                if x.and_then(|x| x.summary.as_deref()) != deviation["ours"].as_str()
                    || !take_out(&item, &mut remaining)
                {
                    problems.push(format!("{name}: {key}: the summary is not the documented one"));
                }
            } else if deviation["ours"].is_null() {
                if remaining.iter().any(|r| r.key == item.key) {
                    problems.push(format!("{name}: {key}: produced, but a deviation says we do not produce it"));
                }
            } else {
                let ours = item_of_json(&deviation["ours"], &key);
                if !take_out(&ours, &mut remaining) {
                    problems.push(format!("{name}: {key}: the documented deviation {ours:?} is not produced"));
                }
            }
            continue;
        }
        if take_out(&item, &mut remaining) {
            tally.agreed += 1;
            let differs = |x: &&Occurrence| {
                o.get("field_differences").is_none()
                    && (x.summary.as_deref() != o["summary"].as_str() || x.status.as_deref() != o["status"].as_str())
            };
            if let Some(x) = ours.iter().position(|x| *x == item).map(|i| &expansion.occurrences[i]).filter(differs) {
                problems.push(format!(
                    "{name}: {key}: summary/status {:?}/{:?}, expected {}/{}",
                    x.summary, x.status, o["summary"], o["status"]
                ));
            }
        } else {
            let near: Vec<&Item> = ours.iter().filter(|x| x.key == item.key).collect();
            problems.push(format!("{name}: agreed {item:?} is missing (ours with that key: {near:?})"));
        }
    }

    // (c) disputed items.
    for d in expected["disputed"].as_array().unwrap() {
        let key = d["key"].as_str().unwrap();
        let Some((take, _why)) = decision(file_decisions, key) else {
            problems.push(format!("{name}: disputed `{key}` has no decision"));
            continue;
        };
        *tally
            .disputed
            .entry(match take {
                Take::Python => "python",
                Take::Icaljs => "icaljs",
                Take::Neither => "neither",
            })
            .or_default() += 1;
        if let Some(field) = key.strip_prefix("meta.") {
            let chosen = match take {
                Take::Python => &d["python"],
                Take::Icaljs => &d["icaljs"],
                Take::Neither => &Value::Null,
            };
            let mine = meta(&cal).get(field).cloned().unwrap_or(Value::Null);
            if take != Take::Neither && &mine != chosen {
                problems.push(format!("{name}: {key} is {mine}, the decision ({take:?}) says {chosen}"));
            }
            continue;
        }
        let py_key = key.to_owned();
        let js_key = d.get("key_icaljs").and_then(Value::as_str).unwrap_or(key).to_owned();
        let py = (!d["python"].is_null()).then(|| item_of_json(&d["python"], &py_key));
        let js = (!d["icaljs"].is_null()).then(|| item_of_json(&d["icaljs"], &js_key));
        let (chosen, rejected) = match take {
            Take::Python => (py.clone(), js.clone()),
            Take::Icaljs => (js.clone(), py.clone()),
            Take::Neither => (None, None),
        };
        if let Some(c) = chosen.as_ref().filter(|c| !take_out(c, &mut remaining)) {
            let near: Vec<&Item> = ours.iter().filter(|x| x.key == c.key).collect();
            problems.push(format!("{name}: decided {take:?} for `{key}` but {c:?} is not produced (ours: {near:?})"));
        }
        let others: Vec<Item> = match take {
            Take::Neither => py.into_iter().chain(js).collect(),
            _ => rejected.into_iter().filter(|r| Some(r) != chosen.as_ref()).collect(),
        };
        for r in others {
            if remaining.contains(&r) {
                problems.push(format!("{name}: `{key}`: the rejected reading {r:?} is produced"));
            }
        }
    }

    // (b) everything else must be a documented extra.
    let extra = &file_decisions["extra"];
    let listed: Vec<Item> = extra["occurrences"]
        .as_array()
        .map(|a| a.iter().map(|o| item_of_json(o, o["key"].as_str().unwrap())).collect())
        .unwrap_or_default();
    if !listed.is_empty() {
        let failed = ["parse", "expand"]
            .iter()
            .any(|stage| ["python", "icaljs"].iter().any(|r| expected[stage][r].as_str().is_some_and(|s| s != "ok")));
        if !failed || extra["why"].as_str().is_none_or(|w| w.trim().is_empty()) {
            problems.push(format!("{name}: extra occurrences need a reference that failed and a reason"));
        }
    }
    for l in &listed {
        if take_out(l, &mut remaining) {
            tally.extra += 1;
        } else {
            problems.push(format!("{name}: listed extra {l:?} is not produced"));
        }
    }
    for r in remaining {
        problems.push(format!("{name}: produced but neither agreed nor decided: {r:?}"));
    }
}

/// A new invitation's stored text, written straight from the message
/// (`itip::stored_ics`), is byte for byte the text of the stored tree iTIP
/// processing builds (`itip::stored_copy`), on every calendar of the corpus.
#[test]
fn the_stored_text_of_a_new_invitation_equals_the_stored_tree() {
    let mut compared = 0;
    for path in corpus_files() {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let Ok(cal) = invitelink::ical::parse_calendar(&text, &invitelink::ical::ParseOptions::default()) else {
            continue;
        };
        assert_eq!(invitelink::itip::stored_ics(&cal), invitelink::itip::stored_copy(&cal).to_ics(), "{}", rel(&path));
        compared += 1;
    }
    assert!(compared > 50, "only {compared} calendars read");
}
