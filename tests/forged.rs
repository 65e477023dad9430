//! The attacker's table (SPEC 3.3 rule 5, section 7): forged, spoofed and
//! unauthenticated messages of every kind, each of which must change
//! nothing, beside positive controls that must still apply. The same table
//! (`tests/fixtures/forged/table.json`) runs in the wasm package
//! (`tests/wasm/node.test.mjs`).
//!
//! A row: `message` (a file under `messages/`), `existing` (the stored
//! appointment, optional), `context` (merged over the table's base context),
//! `expect`: `error` (an error code), or `ignored` and `effects` (the list of
//! effect types, exactly), with optional `contact` (the person id the created
//! appointment is linked to) and `warning` (a substring of a warning).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use invitelink::api;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/forged")
}

fn read(name: &str) -> Vec<u8> {
    let path = dir().join("messages").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The context of a row: the base, the row's fields over it, the stored copy.
fn context_of(base: &Value, row: &Value) -> Value {
    let mut ctx = base.clone();
    for (k, v) in row["context"].as_object().into_iter().flatten() {
        ctx[k] = v.clone();
    }
    if let Some(existing) = row["existing"].as_str() {
        ctx["existing"] = Value::String(String::from_utf8(read(existing)).unwrap());
    }
    ctx
}

/// What is wrong with the answer to one row (empty: as expected).
fn check(row: &Value, answer: &Value) -> Vec<String> {
    let expect = &row["expect"];
    if let Some(code) = expect.get("error") {
        return match answer["type"].as_str() {
            Some("failure") if answer["errors"][0]["code"] == *code => vec![],
            _ => vec![format!("expected error {code}, got {answer}")],
        };
    }
    if answer["type"] != "success" {
        return vec![format!("unexpected failure {answer}")];
    }
    let d = &answer["decision"];
    let mut problems = Vec::new();
    if d["ignored"] != expect["ignored"] {
        problems.push(format!("ignored: got {}, expected {}", d["ignored"], expect["ignored"]));
    }
    let types: Vec<Value> = d["effects"].as_array().unwrap().iter().map(|e| e["type"].clone()).collect();
    if Value::Array(types.clone()) != expect["effects"] {
        problems.push(format!("effects: got {types:?}, expected {}", expect["effects"]));
    }
    if let Some(person) = expect.get("contact") {
        let created = d["effects"].as_array().unwrap().iter().find(|e| e["type"] == "create_appointment");
        if created.map(|e| &e["contact"]["person_id"]) != Some(person) {
            problems.push(format!("the appointment is not linked to person {person}"));
        }
    }
    if let Some(w) = expect.get("warning").and_then(Value::as_str) {
        let warnings = d["warnings"].as_array().unwrap();
        if !warnings.iter().any(|s| s.as_str().unwrap().contains(w)) {
            problems.push(format!("no warning contains `{w}`: {warnings:?}"));
        }
    }
    problems
}

#[test]
fn forged_messages_change_nothing_and_controls_apply() {
    let table: Value = serde_json::from_slice(&std::fs::read(dir().join("table.json")).unwrap()).unwrap();
    let rows = table["cases"].as_array().unwrap();
    assert!(rows.len() >= 40, "{} rows", rows.len());
    let mut failures = Vec::new();
    let (mut attacks, mut controls) = (0, 0);
    for row in rows {
        let ctx = context_of(&table["context"], row);
        let message = read(row["message"].as_str().unwrap());
        // The answer in the wasm package's shape, so one `check` reads both.
        let answer = match api::decide_json(&message, &ctx.to_string()) {
            Ok(d) => json!({"type": "success", "decision": d}),
            Err(e) => json!({"type": "failure", "errors": [e]}),
        };
        if row["expect"]["effects"].as_array().is_some_and(|e| !e.is_empty()) {
            controls += 1;
        } else {
            attacks += 1;
        }
        let problems = check(row, &answer);
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", row["name"].as_str().unwrap(), problems.join("\n  ")));
        }
    }
    assert!(attacks >= 30 && controls >= 10, "{attacks} attacks, {controls} controls");
    assert!(failures.is_empty(), "{} of {} rows fail:\n{}", failures.len(), rows.len(), failures.join("\n"));
}
