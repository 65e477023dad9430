//! `invitelink check`: decide every `.ics` and `.eml` file under some paths,
//! one JSON line per file and a summary line. How an administrator dry-runs a
//! mailbox export, and how throughput is measured.

use crate::{Failure, context_not_text, json_line, read_text, usage};
use invitelink::api;
use invitelink::error::{EngineError, ErrorCode};
use invitelink::policy::{Context, parse_context};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Files under `path` ending in `.ics` or `.eml`, sorted; bounded depth.
fn collect(path: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        if depth > 32 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else { return };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for c in children {
            collect(&c, depth + 1, out);
        }
    } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ics") || e.eq_ignore_ascii_case("eml")) {
        out.push(path.to_path_buf());
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_insert(0) += 1;
}

/// The context is read once, before any file: a malformed one stops the run.
fn read_context(path: &str) -> Result<Context, Failure> {
    let text = read_text(path).map_err(context_not_text)?;
    Ok(parse_context(&text)?)
}

pub fn run(context: Option<&str>, paths: &[PathBuf]) -> Result<String, Failure> {
    let context = context.map(read_context).transpose()?;
    if paths.is_empty() {
        return Err(usage("`check` needs at least one path"));
    }
    let mut files = Vec::new();
    for p in paths {
        if !p.exists() {
            return Err(Failure::from(EngineError::new(
                ErrorCode::Io,
                format!("cannot read `{}`: it does not exist", p.display()),
            )));
        }
        collect(p, 0, &mut files);
    }
    let mut by_kind = BTreeMap::new();
    let mut by_ignored = BTreeMap::new();
    let mut by_error = BTreeMap::new();
    let mut bytes_total: u64 = 0;
    let mut seconds = 0.0f64;
    for file in &files {
        let name = file.display().to_string();
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                bump(&mut by_error, "io");
                json_line(&json!({"file": name, "error": {"code": "io", "message": format!("cannot read: {e}")}}));
                continue;
            }
        };
        bytes_total += bytes.len() as u64;
        let started = Instant::now();
        let result = match &context {
            Some(c) => api::decide(&bytes, c),
            None => api::decide_with_default_context(&bytes),
        };
        seconds += started.elapsed().as_secs_f64();
        let mut line = Map::new();
        line.insert("file".into(), json!(name));
        match result {
            Ok(decision) => {
                // The line names the kind, the effects' types and why nothing
                // was done, read from the decision itself (not through a JSON
                // tree of it, which copied every stored calendar).
                let kind = decision.kind.as_str();
                bump(&mut by_kind, kind);
                let ignored = decision.ignored.map(|i| i.as_str());
                if let Some(i) = ignored {
                    bump(&mut by_ignored, i);
                }
                let effects: Vec<Value> = decision.effects.iter().map(|e| json!(e.type_name())).collect();
                line.insert("kind".into(), json!(kind));
                line.insert("effects".into(), Value::Array(effects));
                line.insert("ignored".into(), json!(ignored));
            }
            Err(e) => {
                bump(&mut by_error, e.code.as_str());
                line.insert("error".into(), json!(e));
            }
        }
        json_line(&Value::Object(line));
    }
    let mb_per_s = if seconds > 0.0 { bytes_total as f64 / 1e6 / seconds } else { 0.0 };
    Ok(json!({"summary": {
        "files": files.len(),
        "by_kind": by_kind,
        "by_ignored": by_ignored,
        "by_error": by_error,
        "bytes": bytes_total,
        "seconds": seconds,
        "mb_per_s": mb_per_s,
    }})
    .to_string())
}
