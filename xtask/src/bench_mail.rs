//! `cargo xtask bench-mail`: the mail path's figures in release mode
//! (`examples/mail_bench.rs` says what each line measures): the loopback
//! Postfix and Dovecot of the mail tests, and a throwaway PostgreSQL for the
//! lines with several instances. Sizes through `INVITELINK_BENCH_MAIL_*`.

use std::path::Path;
use std::process::Command;

pub fn run(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let build = |args: &[&str]| -> Result<(), String> {
        eprintln!("xtask: cargo {}", args.join(" "));
        let status =
            Command::new(&cargo).args(args).current_dir(root).status().map_err(|e| format!("cannot run cargo: {e}"))?;
        if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed: {status}", args.join(" "))) }
    };
    build(&["build", "--release", "-p", "invitelink-cli", "--bin", "invitelink"])?;
    build(&["build", "--release", "-p", "invitelink-server", "--example", "mail_bench"])?;
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), Into::into);
    let bin = target.join("release/invitelink");
    let bench = target.join("release/examples/mail_bench");
    crate::postgres::with_postgres(root, |url| {
        eprintln!("xtask: {}", bench.display());
        let status = Command::new(&bench)
            .env("INVITELINK_BIN", &bin)
            .env("INVITELINK_TEST_DATABASE", url)
            .current_dir(root)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", bench.display()))?;
        if status.success() { Ok(()) } else { Err(format!("the mail benchmark failed: {status}")) }
    })
}
