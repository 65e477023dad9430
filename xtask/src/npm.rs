//! npm for the tasks: fetching one pinned npm package's files for the data
//! generators (`gen-windows-zones`, `gen-zone-display-names`,
//! `gen-trust-data`), and installing a folder's packages.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Packs `name@version` from the npm registry into `work` and unpacks the
/// given `members` (paths inside the tarball, such as
/// `package/domains.json`); returns `work`, where they now are.
pub fn unpack(work: &Path, name: &str, version: &str, members: &[&str]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(work).map_err(|e| format!("cannot create `{}`: {e}", work.display()))?;
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let spec = format!("{name}@{version}");
    let status = Command::new(npm)
        .args(["pack", "--silent", &spec])
        .current_dir(work)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run `npm pack {spec}`: {e}"))?;
    if !status.success() {
        return Err(format!("`npm pack {spec}` failed ({status})"));
    }
    // npm names the tarball after the package, a scope's `@` and `/` folded.
    let tarball = format!("{}-{version}.tgz", name.trim_start_matches('@').replace('/', "-"));
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .args(members)
        .current_dir(work)
        .status()
        .map_err(|e| format!("cannot run `tar`: {e}"))?;
    if !status.success() {
        return Err(format!("cannot unpack `{tarball}` ({status})"));
    }
    Ok(work.to_path_buf())
}

/// Reads one unpacked member as text.
pub fn read(work: &Path, member: &str) -> Result<String, String> {
    let path = work.join(member);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// `npm ci` in `dir` when its lock file is there (as in CI), else `npm install`.
pub fn install(dir: &Path) -> Result<(), String> {
    let verb = if dir.join("package-lock.json").is_file() { "ci" } else { "install" };
    crate::pkg::run_command(Command::new("npm").args([verb, "--no-audit", "--no-fund"]).current_dir(dir))
}
