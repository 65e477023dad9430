//! What the mail tests share: the loopback Postfix and Dovecot started by
//! `tests/mail/start-servers.sh`, their ports and their state folder.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Dovecot's IMAP port (STARTTLS).
pub const IMAP_PORT: u16 = 1143;
/// Dovecot's IMAPS port.
pub const IMAPS_PORT: u16 = 1993;
/// Postfix's SMTP port (STARTTLS + AUTH).
pub const SMTP_PORT: u16 = 2525;

/// Where the script keeps the servers' state (`INVITELINK_MAIL_STATE`).
pub fn state_dir() -> PathBuf {
    match std::env::var("INVITELINK_MAIL_STATE") {
        Ok(d) if !d.is_empty() => PathBuf::from(d),
        _ => std::env::temp_dir().join("invitelink-mail"),
    }
}

/// The test CA that signed the servers' certificates.
pub fn ca_file() -> PathBuf {
    state_dir().join("tls/ca.pem")
}

/// Starts the servers once per test binary; false (after saying why) when
/// they cannot start outside CI. Under `CI=true` they must start.
pub fn servers() -> bool {
    static UP: OnceLock<bool> = OnceLock::new();
    *UP.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mail/start-servers.sh");
        // The script's output goes to a file, not a pipe: the daemons it
        // starts outlive it, and a pipe they inherited would never close.
        let log_path = std::env::temp_dir().join(format!("invitelink-mail-start-{}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).unwrap();
        let status =
            Command::new("bash").arg(script).stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log).status();
        let output = std::fs::read_to_string(&log_path).unwrap_or_default();
        let _ = std::fs::remove_file(&log_path);
        let why = match status {
            Ok(s) if s.success() => return true,
            Ok(s) => format!("{script} exited with {s}: {output}"),
            Err(e) => format!("{script} cannot run: {e}"),
        };
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("the mail servers must run in CI but could not start: {why}");
        }
        eprintln!("SKIPPED: the mail servers could not start here (set CI=true to make this a failure): {why}");
        false
    })
}

/// A tag unique to this run and test, for folder and UID names.
pub fn tag(prefix: &str, test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}{}x{nanos}{test}", std::process::id())
}
