//! The tests of the Outlook add-in (part of `cargo xtask test`).
//!
//! Builds `pkg/` and the `invitelink` program with the backend, installs the
//! test tools of `addin/tests/` with npm, lints the add-in's JavaScript with
//! ESLint (`addin/eslint.config.js`: eslint-plugin-office-addins' recommended
//! rules; a warning fails too), then runs Node's test runner there: the
//! manifest (and the unified manifest made from it) against the running
//! backend, and the task pane end to end in headless Chromium (Debian's
//! `chromium`) with the real Office.js from npm and a stand-in for the host.

use crate::pkg::run_command;
use std::path::Path;
use std::process::Command;

/// The test files of `addin/tests/`, run by `node --test` one after the other
/// (each starts its own backend and browser).
const TEST_FILES: &[&str] = &["manifest.test.mjs", "pane.test.mjs"];

/// Builds what the add-in needs and runs its tests; `root` is the workspace root.
pub fn run(root: &Path) -> Result<(), String> {
    crate::pkg::build(root)?;
    crate::pkg::build_program(root)?;
    let chromium = crate::browser::chromium()?;
    let dir = root.join("addin/tests");
    let verb = if dir.join("package-lock.json").is_file() { "ci" } else { "install" };
    run_command(Command::new("npm").args([verb, "--no-audit", "--no-fund"]).current_dir(&dir))?;
    run_command(
        Command::new("node")
            .arg(dir.join("node_modules/eslint/bin/eslint.js"))
            .args(["--max-warnings", "0", "."])
            .current_dir(root.join("addin")),
    )?;
    let bin = crate::pkg::target_dir(root)?.join("debug").join("invitelink");
    run_command(
        Command::new("node")
            .args(["--test", "--test-concurrency=1"])
            .args(TEST_FILES)
            .current_dir(&dir)
            .env("INVITELINK_BIN", &bin)
            .env("CHROMIUM", &chromium),
    )
}
