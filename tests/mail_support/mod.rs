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
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/mail/start-servers.sh");
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

/// The number in the environment variable `name`, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Bob Berg, a contact of the demo data.
pub const BOB: &str = "bob@acme.example";

/// Bob's invitation `uid` (the `n`th of a run) to `to`, as the e-mail his
/// client would send.
pub fn bob_invitation(uid: &str, to: &str, n: usize) -> String {
    use invitelink::imip::{self, OutgoingMail};
    let (day, hour) = (1 + n % 28, 8 + n % 9);
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//acme//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
UID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20291201T080000Z\r\nDTSTART:203002{day:02}T{hour:02}0000Z\r\n\
DTEND:203002{day:02}T{hour:02}3000Z\r\nSUMMARY:Visit {n}\r\nORGANIZER;CN=Bob Berg:mailto:{BOB}\r\n\
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{to}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let subject = format!("Visit {n}");
    imip::compose(&OutgoingMail {
        from: BOB.to_owned(),
        from_name: Some("Bob Berg".to_owned()),
        to: to.to_owned(),
        to_name: None,
        reply_to: None,
        text_body: imip::default_text_body("REQUEST", &subject),
        subject,
        method: "REQUEST".to_owned(),
        ics,
        message_id_domain: "acme.example".to_owned(),
        date: chrono::NaiveDate::from_ymd_opt(2029, 12, 1).unwrap().and_hms_opt(8, 0, 0).unwrap(),
    })
    .unwrap()
}

/// An IMAP session of `user` on the test Dovecot (STARTTLS not used: loopback).
pub async fn imap_session(user: &str, password: &str) -> async_imap::Session<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", IMAP_PORT)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    client.login(user, password).await.map_err(|(e, _)| e).unwrap()
}

/// The number of messages in each of `folders` of `user`'s mailbox (0 for
/// one that does not exist).
pub async fn folder_counts(user: &str, password: &str, folders: &[&str]) -> Vec<u32> {
    let mut session = imap_session(user, password).await;
    let mut out = Vec::new();
    for f in folders {
        out.push(session.status(f, "(MESSAGES)").await.map(|m| m.exists).unwrap_or(0));
    }
    session.logout().await.ok();
    out
}

/// Creates `folder` in `user`'s mailbox and appends `messages` to it over a
/// few connections at once.
pub async fn append_all(user: &str, password: &str, folder: &str, messages: Vec<String>) {
    const APPENDERS: usize = 4;
    let mut session = imap_session(user, password).await;
    session.create(folder).await.unwrap();
    session.logout().await.ok();
    let messages = std::sync::Arc::new(messages);
    let mut tasks = Vec::new();
    for a in 0..APPENDERS {
        let (user, password, folder, messages) =
            (user.to_owned(), password.to_owned(), folder.to_owned(), messages.clone());
        tasks.push(tokio::spawn(async move {
            let mut session = imap_session(&user, &password).await;
            for m in messages.iter().skip(a).step_by(APPENDERS) {
                session.append(&folder, None, None, m).await.unwrap();
            }
            session.logout().await.ok();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// An `invitelink serve` process of the built binary, with mail on;
/// killed when dropped.
pub struct ServeProcess {
    child: std::process::Child,
    /// Where it serves HTTP.
    pub addr: std::net::SocketAddr,
}

impl ServeProcess {
    /// Starts `invitelink serve --demo` on `url` with the mail settings
    /// `config`, its output appended to `log`, and waits until it listens.
    /// (`--demo`: the databases of the mail tests hold the demo data, whose
    /// published passwords a server started without it refuses to serve.)
    pub fn start(bin: &std::path::Path, url: &str, config: &std::path::Path, log: &std::path::Path) -> ServeProcess {
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(bin)
            .args(["serve", "--demo", "--listen", &addr.to_string(), "--database", url, "--mail-config"])
            .arg(config)
            .env_remove("INVITELINK_SMTP_HOST")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut server = ServeProcess { child, addr };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("the server exited before it listened ({status})");
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(60), "the server did not listen on {addr}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        server
    }

    /// Fails, with the log, when the server has exited by itself (it must
    /// run until it is stopped).
    pub fn assert_running(&mut self, log: &std::path::Path) {
        if let Some(status) = self.child.try_wait().unwrap() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            panic!("the server exited by itself ({status}); its log:\n{text}");
        }
    }

    /// SIGKILL.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGINT: the server stops as on Ctrl-C, giving its leases up.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        let started = std::time::Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(30) {
                self.child.kill().unwrap();
                panic!("the server did not stop within 30 s of SIGINT");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
