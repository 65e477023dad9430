//! The web client: placing the npm packages it loads (`cargo xtask run` and
//! `cargo xtask test`), and its tests (part of `cargo xtask test`): every
//! page end to end in headless Chromium (Debian's `chromium`) against the
//! real backend (on SQLite, then on PostgreSQL), with axe-core's
//! accessibility check on every page.

use crate::pkg::run_command;
use std::path::Path;
use std::process::Command;

/// The files of `web/node_modules/` the client loads, and where they go
/// under `web/vendor/` (served at `/web/vendor/`).
const VENDOR: &[(&str, &str)] = &[
    ("@fullcalendar/core/index.global.min.js", "fullcalendar/core.js"),
    ("@fullcalendar/daygrid/index.global.min.js", "fullcalendar/daygrid.js"),
    ("@fullcalendar/timegrid/index.global.min.js", "fullcalendar/timegrid.js"),
    ("@fullcalendar/interaction/index.global.min.js", "fullcalendar/interaction.js"),
    ("@fullcalendar/core/LICENSE.md", "fullcalendar/LICENSE.md"),
];

/// Installs the client's npm packages (`web/package.json`) and copies the
/// files it loads into `web/vendor/`.
pub fn place_packages(root: &Path) -> Result<(), String> {
    let web = root.join("web");
    crate::npm::install(&web)?;
    for (from, to) in VENDOR {
        let from = web.join("node_modules").join(from);
        let to = web.join("vendor").join(to);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot make `{}`: {e}", dir.display()))?;
        }
        std::fs::copy(&from, &to).map_err(|e| format!("cannot copy `{}`: {e}", from.display()))?;
    }
    Ok(())
}

/// Builds what the client needs and runs its tests; `root` is the workspace root.
pub fn run(root: &Path) -> Result<(), String> {
    crate::pkg::build(root)?;
    crate::pkg::build_program(root)?;
    place_packages(root)?;
    crate::npm::install(&root.join("web/tests"))?;
    run_browser_tests(root, None)
}

/// The browser tests on what [`run`] built and placed; with `postgres` (a
/// server-level URL), every backend they start gets a new database there.
pub fn run_browser_tests(root: &Path, postgres: Option<&str>) -> Result<(), String> {
    let chromium = crate::browser::chromium()?;
    let bin = crate::pkg::target_dir(root)?.join("debug").join("invitelink");
    let mut node = Command::new("node");
    node.args(["--test", "--test-concurrency=1", "client.test.mjs", "admin.test.mjs", "contacts.test.mjs"])
        .current_dir(root.join("web/tests"))
        .env("INVITELINK_BIN", &bin)
        .env("CHROMIUM", &chromium);
    if let Some(url) = postgres {
        node.env("INVITELINK_WEB_POSTGRES", url);
    }
    run_command(&mut node)
}
