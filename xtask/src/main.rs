//! The project's task runner (the cargo-xtask convention).
//!
//! - `cargo xtask test`: every test of the project: format and lints, the
//!   engine (unit, conformance, corpus, decision table, CLI, properties), the
//!   backend on SQLite and again on PostgreSQL, the mail round trip against
//!   real servers, the wasm package in Node and Chromium with its TypeScript
//!   types, the add-in and the web client in Chromium, and a short fuzzing run.
//! - `cargo xtask run`: builds everything (`pkg/` included) and starts the
//!   product on its embedded SQLite database with demo data.
//!
//! Other tasks: `pkg` (build the wasm package), `fuzz [SECONDS]`, `bench`, `bench-mail`,
//! `engine-tree` (the engine's dependencies hold no I/O crate; part of `test`),
//! `gen-windows-zones` (regenerate the Windows zone table from CLDR),
//! `gen-trust-data` (the public suffix and public mailbox provider lists),
//! `gen-zone-display-names` (Windows' zone display names, as Exchange writes them),
//! `gen-tz-data` (the compact IANA time-zone table of the WebAssembly build),
//! `gen-charset-data` (the single-byte encodings' tables of `src/message/`).

mod addin_tests;
mod bench;
mod bench_mail;
mod browser;
mod charset_data;
mod engine_tree;
mod fuzz;
mod npm;
mod pkg;
mod postgres;
mod run;
mod trust_data;
mod tz_data;
mod wasm_tests;
mod web_tests;
mod windows_zones;
mod zone_display_names;

use std::path::{Path, PathBuf};

type TaskResult = Result<(), String>;

fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(Path::to_path_buf).unwrap_or(here)
}

/// Runs `cargo` with `args` in the repository root, with extra environment.
fn cargo_env(args: &[&str], env: &[(&str, &str)]) -> TaskResult {
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = pkg::cargo()
        .args(args)
        .envs(env.iter().copied())
        .current_dir(repo_root())
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed: {status}", args.join(" "))) }
}

fn cargo(args: &[&str]) -> TaskResult {
    cargo_env(args, &[])
}

/// The backend's test files (`tests/server_*.rs`), as `--test NAME` pairs.
fn server_tests(root: &Path) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("tests"))
        .map_err(|e| format!("cannot list tests/: {e}"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.starts_with("server_") && n.ends_with(".rs"))
        .map(|n| n.trim_end_matches(".rs").to_owned())
        .collect();
    names.sort();
    Ok(names.into_iter().flat_map(|n| ["--test".to_owned(), n]).collect())
}

fn test() -> TaskResult {
    let root = repo_root();
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    // The wasm crate is empty natively: its exports are linted on their target.
    pkg::ensure_target()?;
    cargo(&["clippy", "-p", "invitelink-wasm", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])?;
    // The engine stays free of I/O crates, natively and in wasm.
    engine_tree::check(&root)?;
    // Engine, CLI, properties, backend on SQLite, mail against real servers.
    let tested = |rest: &[&'static str]| [&["test"][..], &pkg::TESTED, rest].concat();
    cargo(&tested(&[]))?;
    // Durability: the real server killed with SIGKILL while it polls IMAP;
    // every message applied exactly once (the full 10,000 is documented in
    // docs/mail.md; CI runs 1,000).
    cargo_env(
        &tested(&["--test", "mail_durability", "--", "--ignored", "--nocapture"]),
        &[("INVITELINK_DURABILITY_MESSAGES", "1000")],
    )?;
    // The backend's tests once more, on a real PostgreSQL server.
    let server = server_tests(&root)?;
    postgres::with_postgres(&root, |url| {
        let mut args = tested(&[]);
        args.extend(server.iter().map(String::as_str));
        cargo_env(&args, &[("INVITELINK_TEST_DATABASE", url)])?;
        // Three instances on this PostgreSQL, ten inboxes, one killed
        // (docs/postgres.md has the longer run).
        cargo_env(
            &tested(&["--test", "mail_cluster", "--", "--ignored", "--nocapture"]),
            &[("INVITELINK_TEST_DATABASE", url), ("INVITELINK_CLUSTER_MESSAGES", "300")],
        )
    })?;
    // The wasm package in Node and Chromium, and its TypeScript types.
    wasm_tests::run(&root)?;
    // The add-in in Chromium against the real backend.
    addin_tests::run(&root)?;
    // The web client in Chromium against the real backend, with axe-core;
    // then once more on a real PostgreSQL server.
    web_tests::run(&root)?;
    postgres::with_postgres(&root, |url| web_tests::run_browser_tests(&root, Some(url)))?;
    // A short fuzzing run of every input boundary.
    fuzz::run(&root, 15)?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, r)) => (t.as_str(), r),
        None => ("help", &[][..]),
    };
    let root = repo_root();
    let result = match task {
        "test" => test(),
        "run" => run::run(&root, rest),
        "bench" => bench::run(&root, rest.iter().any(|a| a == "--quick")),
        "bench-mail" => bench_mail::run(&root),
        "engine-tree" => engine_tree::check(&root),
        "pkg" => pkg::build(&root),
        "fuzz" => {
            let seconds = rest.first().and_then(|s| s.parse().ok()).unwrap_or(60);
            fuzz::run(&root, seconds)
        }
        "gen-windows-zones" => windows_zones::run(&root),
        "gen-trust-data" => trust_data::run(&root, rest.iter().any(|a| a == "--from-text")),
        "gen-tz-data" => tz_data::run(&root),
        "gen-charset-data" => charset_data::run(&root),
        "gen-zone-display-names" => zone_display_names::run(&root),
        _ => {
            eprintln!(
                "usage: cargo xtask test | run | pkg | bench [--quick] | bench-mail | engine-tree | fuzz [SECONDS] | gen-windows-zones | gen-trust-data [--from-text] | gen-tz-data | gen-charset-data"
            );
            Err(String::new())
        }
    };
    if let Err(e) = result {
        if !e.is_empty() {
            eprintln!("xtask: {e}");
        }
        std::process::exit(1);
    }
}
