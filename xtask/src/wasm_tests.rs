//! The tests of the WebAssembly package (part of `cargo xtask test`).
//!
//! Builds `pkg/` and the native CLI, lints the wasm-only code, installs the
//! test tools of `tests/wasm/` with npm, then runs Node's test runner there:
//! the package in Node against the CLI over the corpus and the conformance
//! suite, the same in headless Chromium, and the `.d.ts` with `tsc`.

use crate::pkg::{cargo, run_command};
use std::path::Path;
use std::process::Command;

/// The test files of `tests/wasm/`, run by `node --test`.
const TEST_FILES: &[&str] = &["node.test.mjs", "browser.test.mjs", "typescript.test.mjs"];

/// Builds the package and runs its tests; `root` is the workspace root.
pub fn run(root: &Path) -> Result<(), String> {
    crate::pkg::build(root)?;
    crate::pkg::build_program(root)?;
    run_command(
        cargo()
            .args(["clippy", "-p", "invitelink", "--lib", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])
            .current_dir(root),
    )?;
    let dir = root.join("tests/wasm");
    crate::npm::install(&dir)?;
    let bin = crate::pkg::target_dir(root)?.join("debug").join("invitelink");
    let chromium = crate::browser::chromium()?;
    run_command(
        Command::new("node")
            .arg("--test")
            .args(TEST_FILES)
            .current_dir(&dir)
            .env("CHROMIUM", &chromium)
            .env("INVITELINK_BIN", &bin)
            .env("INVITELINK_PKG", root.join("pkg")),
    )
}
