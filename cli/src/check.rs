//! `invitelink check`: decide every `.ics` and `.eml` file under some paths,
//! one JSON line per file and a summary line. How an administrator dry-runs a
//! mailbox export, and how throughput is measured.

use crate::{Failure, context_not_text, read_text, usage};
use invitelink::api;
use invitelink::error::{EngineError, ErrorCode};
use invitelink::policy::{Context, parse_context};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Files under `path` ending in `.ics` or `.eml`, sorted; bounded depth.
fn collect(path: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        if depth > 32 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else { return };
        // One folder's entries differ only in their names: sorted by name
        // (the order of their paths, without comparing every component).
        let mut children: Vec<(std::ffi::OsString, PathBuf)> =
            entries.filter_map(|e| e.ok().map(|e| (e.file_name(), e.path()))).collect();
        children.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (_, c) in children {
            collect(&c, depth + 1, out);
        }
    } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ics") || e.eq_ignore_ascii_case("eml")) {
        out.push(path.to_path_buf());
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_insert(0) += 1;
}

/// One file's line: its kind, the effects' types and why nothing was done,
/// or its error (keys in the order of a sorted JSON object).
#[derive(Serialize)]
#[serde(untagged)]
enum Line<'a> {
    Decided {
        effects: Vec<&'static str>,
        file: &'a str,
        ignored: Option<&'static str>,
        kind: &'static str,
    },
    /// The error as a JSON object (its keys sorted, as they always were).
    Failed {
        error: serde_json::Value,
        file: &'a str,
    },
}

fn print(out: &mut impl Write, line: &impl Serialize) {
    // A closed standard output (`check ... | head`) is not an error here.
    let _ = serde_json::to_writer(&mut *out, line).map_err(std::io::Error::from).and_then(|()| out.write_all(b"\n"));
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
    // The lines go out through one buffer, written as it fills and at the end.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for file in &files {
        let name = file.display().to_string();
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                bump(&mut by_error, "io");
                let error = json!({"code": "io", "message": format!("cannot read: {e}")});
                print(&mut out, &Line::Failed { error, file: &name });
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
        match result {
            Ok(decision) => {
                // Read from the decision itself (not through a JSON tree of
                // it, which copied every stored calendar).
                let kind = decision.kind.as_str();
                bump(&mut by_kind, kind);
                let ignored = decision.ignored.map(|i| i.as_str());
                if let Some(i) = ignored {
                    bump(&mut by_ignored, i);
                }
                let effects = decision.effects.iter().map(|e| e.type_name()).collect();
                print(&mut out, &Line::Decided { effects, file: &name, ignored, kind });
            }
            Err(e) => {
                bump(&mut by_error, e.code.as_str());
                print(&mut out, &Line::Failed { error: json!(e), file: &name });
            }
        }
    }
    let _ = out.flush();
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
