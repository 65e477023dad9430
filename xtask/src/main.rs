//! The project's task runner (the cargo-xtask convention).
//!
//! - `cargo xtask test`: every test of the project (format, lints, engine,
//!   wasm package in Node and Chromium, backend, add-in in the browser).
//! - `cargo xtask run`: builds everything and starts the product.
//!
//! Other tasks: `pkg` (build the wasm package), `bench` (print figures),
//! `gen-windows-zones` (regenerate the Windows zone table from CLDR).

mod windows_zones;

use std::path::{Path, PathBuf};
use std::process::Command;

type TaskResult = Result<(), String>;

fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(Path::to_path_buf).unwrap_or(here)
}

/// Runs a command in the repository root, failing when it fails.
fn run(program: &str, args: &[&str]) -> TaskResult {
    eprintln!("xtask: {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(repo_root())
        .status()
        .map_err(|e| format!("cannot start `{program}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed: {status}", args.join(" "))) }
}

fn cargo(args: &[&str]) -> TaskResult {
    run(&std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()), args)
}

fn test() -> TaskResult {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"])?;
    cargo(&["test", "--workspace", "--all-features"])?;
    Ok(())
}

fn run_product(extra: &[String]) -> TaskResult {
    cargo(&["build", "--release"])?;
    let bin = repo_root().join("target/release/invitelink");
    let sample = repo_root().join("tests/fixtures/sample/invitation.eml");
    let context = repo_root().join("tests/fixtures/sample/context.json");
    let mut args: Vec<String> = vec![
        "decide".into(),
        "--message".into(),
        sample.display().to_string(),
        "--context".into(),
        context.display().to_string(),
    ];
    args.extend(extra.iter().cloned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&bin.display().to_string(), &refs)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, r)) => (t.as_str(), r),
        None => ("help", &[][..]),
    };
    let result = match task {
        "test" => test(),
        "run" => run_product(rest),
        "gen-windows-zones" => windows_zones::run(&repo_root()),
        _ => {
            eprintln!("usage: cargo xtask test | run | gen-windows-zones");
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
