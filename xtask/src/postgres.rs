//! A throwaway PostgreSQL server for the backend's tests: started by
//! `tests/pg/start.sh` in a fresh directory on a free loopback port, given to
//! the caller as a server-level URL, then stopped and deleted.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Stops and deletes the server when dropped, even when the caller fails.
struct Running {
    root: PathBuf,
    dir: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(self.root.join("tests/pg/stop.sh"))
            .arg("--clean")
            .env("INVITELINK_PG_DIR", &self.dir)
            .current_dir(&self.root)
            .status();
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; taken by the server right after).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| format!("no free port: {e}"))
}

/// Starts a throwaway PostgreSQL server (installing Debian's `postgresql`
/// when missing and running as root), runs `f` with its server-level URL
/// (`postgres://postgres@127.0.0.1:PORT/postgres`, for
/// `INVITELINK_TEST_DATABASE`), then stops the server and deletes its data.
pub fn with_postgres(root: &Path, f: impl FnOnce(&str) -> Result<(), String>) -> Result<(), String> {
    let port = free_port()?;
    let dir = std::env::temp_dir().join(format!("invitelink-pg-{}-{port}", std::process::id()));
    eprintln!("xtask: starting PostgreSQL in {} on port {port}", dir.display());
    let running = Running { root: root.to_path_buf(), dir: dir.clone() };
    let output = Command::new("bash")
        .arg(root.join("tests/pg/start.sh"))
        .env("INVITELINK_PG_DIR", &dir)
        .env("INVITELINK_PG_PORT", port.to_string())
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run tests/pg/start.sh: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "tests/pg/start.sh failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let url = stdout.lines().rev().find(|l| l.starts_with("postgres://")).map(str::trim).map(str::to_owned);
    let url = url.ok_or_else(|| format!("tests/pg/start.sh printed no URL: {stdout}"))?;
    let result = f(&url);
    drop(running);
    result
}
