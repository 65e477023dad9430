//! A guard on the engine's dependencies: the engine crate (`invitelink`,
//! with every feature, natively and for wasm32; the backend and the program
//! are the crates `invitelink-server` and `invitelink-cli` on top of it)
//! must not depend on any I/O runtime or network crate, so that it stays
//! pure and small in the task pane. `cargo tree` lists the build's normal dependencies; any name
//! of [`IO_CRATES`] among them fails the task with the path that brings it in.

use crate::TaskResult;
use std::path::Path;

/// Crates that do I/O or run an async runtime: never in the engine's tree.
const IO_CRATES: &[&str] =
    &["tokio", "mio", "sqlx", "axum", "hyper", "tower", "lettre", "async-imap", "rustls", "reqwest", "socket2"];

/// Checks the engine's dependency tree for the native and the wasm32 target.
pub fn check(root: &Path) -> TaskResult {
    for target in [None, Some("wasm32-unknown-unknown")] {
        let mut cmd = crate::pkg::cargo();
        cmd.args(["tree", "-p", "invitelink", "--all-features", "-e", "normal", "--prefix", "none", "--format", "{p}"]);
        if let Some(t) = target {
            cmd.args(["--target", t]);
        }
        let out = cmd.current_dir(root).output().map_err(|e| format!("cannot run cargo tree: {e}"))?;
        if !out.status.success() {
            return Err(format!("`cargo tree` failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut found: Vec<&str> =
            text.lines().filter_map(|l| l.split_whitespace().next()).filter(|name| IO_CRATES.contains(name)).collect();
        found.sort_unstable();
        found.dedup();
        let which = target.unwrap_or("native");
        if !found.is_empty() {
            return Err(format!(
                "the engine's dependencies ({which}) include I/O crates: {}; see `cargo tree -p invitelink --all-features -e normal -i {}`",
                found.join(", "),
                found.first().copied().unwrap_or_default()
            ));
        }
        let count = text.lines().filter(|l| !l.trim().is_empty()).count();
        eprintln!("xtask: the engine's dependency tree ({which}, {count} entries) holds no I/O crate");
    }
    Ok(())
}
