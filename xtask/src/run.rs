//! `cargo xtask run`: builds everything and starts the product.
//!
//! Steps: build the wasm package (`pkg/`, served at `/pkg/`); place the web
//! client's npm packages (`web/vendor/`); build the
//! release program; start `invitelink serve --tls --demo` in the foreground
//! with a demo database in the target directory and the repository as static
//! root, so that the web client is at `https://localhost:3443/` and the
//! add-in at `https://localhost:3443/addin/`, metrics at
//! `http://127.0.0.1:9464/metrics` and the log on stderr. Extra
//! arguments go to `serve` (`--listen 127.0.0.1:8443`, `--database ...`);
//! one that names a flag replaces the default of that flag.

use crate::pkg::{cargo, run_command, target_dir};
use std::path::Path;
use std::process::Command;

/// The demo database's file name, in the target directory.
const DEMO_DATABASE: &str = "invitelink-demo.sqlite";

/// Where the demo serves its Prometheus metrics (loopback only).
const DEMO_METRICS: &str = "127.0.0.1:9464";

/// Builds `pkg/` and the release program under `root`, then serves the
/// product over HTTPS with demo data until Ctrl-C; `extra` goes to `serve`.
pub fn run(root: &Path, extra: &[String]) -> Result<(), String> {
    crate::pkg::build(root)?;
    crate::web_tests::place_packages(root)?;
    run_command(cargo().args(["build", "--release", "-p", "invitelink-cli", "--bin", "invitelink"]).current_dir(root))?;
    let target = target_dir(root)?;
    let program = target.join("release").join(if cfg!(windows) { "invitelink.exe" } else { "invitelink" });
    let args = serve_args(root, &target, extra);
    eprintln!("xtask: the CRM's web client: {}", web_client_url(&args));
    eprintln!("xtask: {} {}", program.display(), args.join(" "));
    let mut command = Command::new(&program);
    command.args(&args).current_dir(root);
    foreground(command, &program)
}

/// The arguments of `serve`: the defaults, less those `extra` names, then `extra`.
fn serve_args(root: &Path, target: &Path, extra: &[String]) -> Vec<String> {
    let names = |flag: &str| extra.iter().any(|a| a == flag || a.starts_with(&format!("{flag}=")));
    let database = format!("sqlite:{}", target.join(DEMO_DATABASE).display());
    let mut args: Vec<String> = vec!["serve".into(), "--tls".into(), "--demo".into()];
    for (flag, value) in [
        ("--database", database),
        ("--static-root", root.display().to_string()),
        ("--metrics-listen", DEMO_METRICS.to_owned()),
    ] {
        if !names(flag) {
            args.push(flag.to_owned());
            args.push(value);
        }
    }
    args.extend(extra.iter().filter(|a| !matches!(a.as_str(), "--tls" | "--demo")).cloned());
    args
}

/// The address of the web client for the `serve` arguments: HTTPS on
/// localhost unless `--listen` names another address.
fn web_client_url(args: &[String]) -> String {
    let listen = args
        .iter()
        .position(|a| a == "--listen")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| args.iter().find_map(|a| a.strip_prefix("--listen=").map(str::to_owned)))
        .unwrap_or_else(|| "127.0.0.1:3443".to_owned());
    let port = listen.rsplit(':').next().unwrap_or("3443");
    let host = listen.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
    let host = if matches!(host, "127.0.0.1" | "0.0.0.0" | "[::1]" | "[::]") { "localhost" } else { host };
    format!("https://{host}:{port}/")
}

/// Runs the server in place of this process (Unix), so that Ctrl-C and the
/// exit status are the server's own; elsewhere, waits for it.
#[cfg(unix)]
fn foreground(mut command: Command, program: &Path) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let e = command.exec();
    Err(format!("cannot start `{}`: {e}", program.display()))
}

#[cfg(not(unix))]
fn foreground(mut command: Command, program: &Path) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("cannot start `{}`: {e}", program.display()))?;
    if status.success() { Ok(()) } else { Err(format!("the server stopped: {status}")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_web_client_s_address() {
        let root = Path::new("/repo");
        let target = Path::new("/repo/target");
        assert_eq!(web_client_url(&serve_args(root, target, &[])), "https://localhost:3443/");
        let extra = ["--listen".to_owned(), "127.0.0.1:8443".to_owned()];
        assert_eq!(web_client_url(&serve_args(root, target, &extra)), "https://localhost:8443/");
    }

    #[test]
    fn extra_flags_replace_the_defaults() {
        let root = Path::new("/repo");
        let target = Path::new("/repo/target");
        let plain = serve_args(root, target, &[]);
        assert_eq!(
            plain,
            [
                "serve",
                "--tls",
                "--demo",
                "--database",
                "sqlite:/repo/target/invitelink-demo.sqlite",
                "--static-root",
                "/repo",
                "--metrics-listen",
                "127.0.0.1:9464"
            ]
        );
        let extra: Vec<String> = ["--listen", "127.0.0.1:8443", "--database=sqlite:/tmp/x.sqlite", "--tls"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let args = serve_args(root, target, &extra);
        assert_eq!(
            args,
            [
                "serve",
                "--tls",
                "--demo",
                "--static-root",
                "/repo",
                "--metrics-listen",
                "127.0.0.1:9464",
                "--listen",
                "127.0.0.1:8443",
                "--database=sqlite:/tmp/x.sqlite"
            ]
        );
    }
}
