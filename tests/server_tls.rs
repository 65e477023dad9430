#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `invitelink serve --tls`: the program makes a self-signed certificate for
//! localhost next to the database on the first start, serves HTTPS with it,
//! and reuses it on the next start; `--cert`/`--key` serve a named one.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("invitelink-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The program serving on a port, and what it printed at start.
struct Running {
    child: Child,
    port: u16,
    banner: Vec<String>,
    _lines: Receiver<String>,
}

impl Running {
    /// Starts `invitelink serve` with `args` on a port the system chooses
    /// (read from the announcement, so no other program can take it
    /// between choosing and binding) and waits for the end of its
    /// announcement (the certificate lines).
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_invitelink"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--static-root", concat!(env!("CARGO_MANIFEST_DIR"), "/..")])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => {
                    // The self-signed announcement ends with the curl check,
                    // the one of a named certificate with its path.
                    let trimmed = line.trim_start();
                    let last = trimmed.starts_with("curl:") || trimmed.starts_with("certificate: ");
                    banner.push(line);
                    if last {
                        break;
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    panic!("the server did not start ({e}); it printed {banner:#?}");
                }
            }
        }
        let port = banner
            .iter()
            .find_map(|l| l.strip_prefix("invitelink CRM listening on https://localhost:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no listening address in {banner:#?}"));
        Running { child, port, banner, _lines: rx }
    }

    fn printed(&self, needle: &str) -> bool {
        self.banner.iter().any(|l| l.contains(needle))
    }

    /// Stops the server with Ctrl-C, as a person would.
    fn stop(mut self) {
        let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        for _ in 0..200 {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        panic!("the server did not stop on Ctrl-C");
    }
}

/// A client trusting only the certificates in `pem`.
fn client_trusting(pem: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// `GET path` over HTTPS to 127.0.0.1:`port`, checking the certificate for
/// `name`: the status line and body, or the TLS error.
fn get(config: &Arc<rustls::ClientConfig>, name: &str, port: u16, path: &str) -> Result<(String, String), String> {
    let server_name = ServerName::try_from(name.to_owned()).unwrap();
    let mut conn = rustls::ClientConnection::new(config.clone(), server_name).unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    let request = format!("GET {path} HTTP/1.1\r\nHost: {name}:{port}\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // A server may close without close_notify once the response is sent.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Ok((head.lines().next().unwrap_or_default().to_owned(), body.to_owned()))
}

#[test]
fn serve_tls_makes_a_certificate_once_and_serves_https_with_it() {
    let dir = temp_dir("tls");
    let database = format!("sqlite:{}", dir.join("crm.sqlite").display());
    let cert = dir.join("invitelink-cert.pem");
    let key = dir.join("invitelink-key.pem");

    let first = Running::start(&["--tls", "--database", &database]);
    assert!(cert.is_file() && key.is_file(), "the certificate is made next to the database");
    assert!(first.printed(&format!("https://localhost:{}/addin/taskpane.html", first.port)), "{:#?}", first.banner);
    assert!(first.printed(&Path::new("addin").join("manifest.xml").display().to_string()), "{:#?}", first.banner);
    assert!(first.printed("(made, self-signed"), "{:#?}", first.banner);
    assert!(first.printed("update-ca-certificates") && first.printed("add-trusted-cert"), "{:#?}", first.banner);
    assert!(first.printed("certutil -user -addstore Root"), "{:#?}", first.banner);

    let trusting = client_trusting(&cert);
    for name in ["localhost", "127.0.0.1"] {
        let (status, body) = get(&trusting, name, first.port, "/health").unwrap();
        assert_eq!(status, "HTTP/1.1 200 OK", "{name}");
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(health["status"], "ok");
    }
    let (status, body) = get(&trusting, "localhost", first.port, "/addin/taskpane.html").unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("<html") || body.contains("<!doctype") || body.contains("<!DOCTYPE"), "{body}");

    // A client that does not trust the certificate is refused by TLS, and
    // the certificate is not valid for another name.
    let other_dir = temp_dir("tls-other");
    let other = invitelink_server::tls::ensure_self_signed(&other_dir).unwrap();
    let err = get(&client_trusting(&other.cert), "localhost", first.port, "/health").unwrap_err();
    assert!(err.contains("certificate"), "{err}");
    let err = get(&trusting, "crm.example", first.port, "/health").unwrap_err();
    assert!(err.contains("certificate"), "{err}");
    let pem = std::fs::read(&cert).unwrap();
    first.stop();

    // The second start reuses the certificate: browsers told to trust it
    // keep trusting it.
    let second = Running::start(&["--tls", "--database", &database]);
    assert!(second.printed("(reused, self-signed"), "{:#?}", second.banner);
    assert_eq!(std::fs::read(&cert).unwrap(), pem);
    let (status, _) = get(&trusting, "localhost", second.port, "/health").unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    second.stop();

    // A certificate and key named on the command line are served as they are.
    let third_dir = temp_dir("tls-files");
    let third_db = format!("sqlite:{}", third_dir.join("crm.sqlite").display());
    let third = Running::start(&[
        "--database",
        &third_db,
        "--cert",
        &other.cert.display().to_string(),
        "--key",
        &other.key.display().to_string(),
    ]);
    assert!(!third_dir.join("invitelink-cert.pem").exists());
    let (status, _) = get(&client_trusting(&other.cert), "localhost", third.port, "/health").unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    third.stop();

    for d in [dir, other_dir, third_dir] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn cert_without_key_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_invitelink"))
        .args(["serve", "--cert", "some.pem", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`--cert` and `--key` go together"));
}
