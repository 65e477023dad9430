//! The headless browser the add-in and web-client tests drive: Debian's
//! `chromium`, installed with `apt-get` when it is missing and the task runs
//! as root (as the mail tests install Postfix and Dovecot), or named by the
//! environment variable `CHROMIUM`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Chromium to drive, installing Debian's package when it is missing.
pub fn chromium() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        let p = PathBuf::from(p);
        return if p.exists() { Ok(p) } else { Err(format!("`CHROMIUM` names {}, which does not exist", p.display())) };
    }
    let path = PathBuf::from("/usr/bin/chromium");
    if path.exists() {
        return Ok(path);
    }
    let root = Command::new("id").arg("-u").output().ok().is_some_and(|o| o.stdout.starts_with(b"0"));
    if !root {
        return Err(missing(&path));
    }
    eprintln!("xtask: installing Debian's chromium");
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))
    };
    apt(&["update", "-qq"])?;
    let status = apt(&["install", "-y", "-qq", "chromium"])?;
    if status.success() && path.exists() { Ok(path) } else { Err(missing(&path)) }
}

fn missing(path: &Path) -> String {
    format!(
        "no Chromium at {}: install Debian's package `chromium` (apt-get install chromium) or set CHROMIUM",
        path.display()
    )
}
