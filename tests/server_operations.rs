#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Running invitelink as a service: the real `invitelink serve` on a
//! loopback port with a real SQLite file, a configuration file, the JSON log
//! on stderr, request ids, the metrics listener, `/ready`, and a graceful
//! stop on SIGTERM.

#[path = "server_support/mod.rs"]
mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// `invitelink serve` in a child process; its stderr (the log) collected.
struct Service {
    child: Child,
    client: Client,
    log: Arc<Mutex<String>>,
    banner: Vec<String>,
}

impl Service {
    /// Starts `invitelink serve --config CONFIG` with `env`, and waits until
    /// `/ready` answers 200.
    fn start(config: &Path, env: &[(&str, &str)]) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_invitelink"));
        command.args(["serve", "--config"]).arg(config).stdin(Stdio::null()).stdout(Stdio::piped());
        command.stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let mut banner = Vec::new();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut listen = None;
        while let Some(Ok(line)) = lines.next() {
            if let Some(rest) = line.strip_prefix("invitelink CRM listening on http://") {
                listen = rest.split_whitespace().next().map(str::to_owned);
            }
            let last = line.trim_start().starts_with("logs:");
            banner.push(line);
            if last {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines.by_ref() {});
        let complete = banner.last().is_some_and(|l| l.trim_start().starts_with("logs:"));
        let (Some(addr), true) = (listen, complete) else {
            let _ = child.kill();
            panic!("the server did not start: {banner:#?}\n{}", log.lock().unwrap());
        };
        let client = Client { addr: addr.parse().unwrap(), token: None };
        let started = Instant::now();
        while client.get("/ready").status != 200 {
            assert!(started.elapsed() < Duration::from_secs(60), "never ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        Service { child, client, log, banner }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log's records (JSON lines); other lines fail the test.
    fn records(&self) -> Vec<Value> {
        self.log()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
            .collect()
    }

    fn sign_in(&self, email: &str, password: &str) -> (Client, String) {
        let r = self.client.post("/api/signin", &serde_json::json!({"email": email, "password": password}));
        assert_eq!(r.status, 200, "{}", r.text());
        let token = r.json["token"].as_str().unwrap().to_owned();
        (self.client.with_token(Some(&token)), token)
    }

    /// SIGTERM, and the exit status within `bound`.
    fn terminate(&mut self, bound: Duration) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < bound, "did not stop within {bound:?} of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A configuration file in `dir` for the database `db` (a fresh SQLite
/// file, or PostgreSQL with `INVITELINK_TEST_DATABASE`) and `extra` lines.
fn config(dir: &Path, db: &TestDb, extra: &str) -> PathBuf {
    let path = dir.join("invitelink.toml");
    let text = format!(
        "listen = \"127.0.0.1:0\"\ndatabase = \"{}\"\ndemo = true\nstatic_root = \"{}\"\n{extra}",
        db.url(),
        repo_root().display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// An invitation e-mail from Bob Berg (a demo contact) to Cara, with `body`
/// as its text part and description.
fn invitation(message_id: &str, uid: &str, body: &str) -> String {
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Acme//Mail//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20291201T120000Z\r\nDTSTART:20300110T090000Z\r\nDTEND:20300110T100000Z\r\n\
         SUMMARY:Quarterly review\r\nDESCRIPTION:{body}\r\nORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
         ATTENDEE;CN=Cara Dahl;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:cara@ourcompany.example\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    format!(
        "From: Bob Berg <bob@acme.example>\r\nTo: cara@ourcompany.example\r\nSubject: Meeting\r\n\
         Message-ID: <{message_id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b1\r\n\
         Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n{ics}\r\n--b1--\r\n"
    )
}

/// The same invitation from Sam Stranger, whom the CRM does not know.
fn from_a_stranger(message_id: &str, uid: &str) -> String {
    invitation(message_id, uid, "hello")
        .replace("Bob Berg <bob@acme.example>", "Sam Stranger <sam@stranger.example>")
        .replace(
            "ORGANIZER;CN=Bob Berg:mailto:bob@acme.example",
            "ORGANIZER;CN=Sam Stranger:mailto:sam@stranger.example",
        )
}

#[test]
fn the_json_log_has_one_record_per_request_and_per_decision_and_no_secrets() {
    let dir = temp_dir("ops-log");
    let db = TestDb::new("ops-log");
    let extra = "log_format = \"json\"\n\n[mail]\npoll_interval_secs = 1\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = 9\ntls = \"none\"\nuser = \"crm\"\npassword = \"SMTP-SECRET-4711\"\n[[mail.inbox]]\nname = \"crm\"\naddress = \"crm@ourcompany.example\"\nhost = \"127.0.0.1\"\nport = 9\ntls = \"none\"\nuser = \"crm\"\npassword = \"IMAP-SECRET-4711\"\n";
    let config = config(&dir, &db, extra);
    let mut service = Service::start(&config, &[("RUST_LOG", "info,invitelink=trace")]);
    let (cara, token) = service.sign_in(CARA.0, CARA.1);

    // An error body carries the request id of the response header.
    let r = cara.get("/api/persons/no-such-person");
    assert_eq!(r.status, 404);
    let id = r.header("x-request-id").expect("a request id").to_owned();
    assert_eq!(r.json["error"]["request_id"], id.as_str(), "{}", r.text());
    // A request id a proxy sent is kept; a strange one is replaced.
    let mut stream = TcpStream::connect(service.client.addr).unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: proxy-42\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    assert!(raw.to_ascii_lowercase().contains("x-request-id: proxy-42\r\n"), "{raw}");

    let marker = "BODY-MARKER-93c1 secret agenda";
    let msg = invitation("ops-log-1@acme.example", "ops-log-1@acme.example", marker);
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(r.json["duplicate"], true);
    let r = cara.post_raw("/api/inbox", "message/rfc822", b"not a meeting at all");
    assert_eq!(r.status, 422, "{}", r.text());
    let stranger = from_a_stranger("ops-log-2@stranger.example", "ops-log-2@stranger.example");
    assert_eq!(cara.post_raw("/api/inbox", "message/rfc822", stranger.as_bytes()).status, 200);
    // Let the poller fail once against the closed port.
    std::thread::sleep(Duration::from_millis(1500));
    let status = service.terminate(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");

    let log = service.log();
    for secret in ["SMTP-SECRET-4711", "IMAP-SECRET-4711", CARA.1, &token, "BODY-MARKER-93c1", "secret agenda"] {
        assert!(!log.contains(secret), "`{secret}` reached the log:\n{log}");
    }
    let records = service.records();
    // One record per request, with its id.
    let answered: Vec<&Value> =
        records.iter().filter(|r| r["target"] == "invitelink::http" && r["message"] == "answered").collect();
    let of_id: Vec<&&Value> = answered.iter().filter(|r| r["span"]["request_id"] == id.as_str()).collect();
    assert_eq!(of_id.len(), 1, "{log}");
    assert_eq!(of_id[0]["status"], 404);
    assert_eq!(of_id[0]["span"]["route"], "/api/persons/{id}");
    assert!(answered.iter().any(|r| r["span"]["request_id"] == "proxy-42"), "{log}");
    // One record per message taken in: applied, duplicate, rejected, ignored.
    let inbox: Vec<&Value> = records.iter().filter(|r| r["target"] == "invitelink::inbox").collect();
    assert_eq!(inbox.len(), 4, "{log}");
    let applied = inbox[0];
    assert_eq!(applied["level"], "INFO");
    assert_eq!(applied["outcome"], "applied");
    assert_eq!(applied["mailbox"], CARA.0);
    assert_eq!(applied["kind"], "invitation");
    assert_eq!(applied["effects"], "create_appointment");
    assert_eq!(applied["ignored"], "");
    assert_eq!(applied["message_key"].as_str().unwrap().len(), 64, "{applied}");
    assert_eq!(inbox[1]["outcome"], "duplicate");
    assert_eq!(inbox[1]["message_key"], applied["message_key"]);
    assert_eq!(inbox[2]["outcome"], "rejected");
    assert_eq!(inbox[2]["code"], "no_calendar_part", "{}", inbox[2]);
    assert_eq!(inbox[3]["outcome"], "ignored");
    assert_eq!(inbox[3]["ignored"], "unknown_sender");
    assert_eq!(inbox[3]["kind"], "invitation");
    assert!(inbox[3]["effects"].as_str().unwrap().contains("suggest_contact"), "{}", inbox[3]);
    // The mail layer logs under its own target: the poll that failed.
    assert!(
        records.iter().any(|r| r["target"] == "invitelink::mail" && r["inbox"] == "crm" && r["level"] == "WARN"),
        "{log}"
    );
    assert!(records.iter().any(|r| r["message"] == "SIGTERM: stopping"), "{log}");
    assert_eq!(records.last().unwrap()["message"], "stopped", "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rust_log_chooses_the_targets_and_text_is_the_default_format() {
    let dir = temp_dir("ops-filter");
    let db = TestDb::new("ops-filter");
    let config = config(&dir, &db, "");
    let mut service = Service::start(&config, &[("RUST_LOG", "invitelink::inbox=info")]);
    assert!(
        service.banner.iter().any(|l| l.contains("logs: stderr, text format, filter RUST_LOG=invitelink::inbox=info"))
    );
    assert!(service.banner.iter().any(|l| l.contains("metrics: off")), "{:#?}", service.banner);
    let (cara, _) = service.sign_in(CARA.0, CARA.1);
    let msg = invitation("ops-filter-1@acme.example", "ops-filter-1@acme.example", "hello");
    assert_eq!(cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes()).status, 200);
    service.terminate(Duration::from_secs(20));
    let log = service.log();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "only the inbox's record:\n{log}");
    assert!(lines[0].contains("invitelink::inbox") && lines[0].contains("message taken in"), "{log}");
    assert!(lines[0].contains("kind=\"invitation\"") || lines[0].contains("kind=invitation"), "{log}");
    assert!(!lines[0].starts_with('{'), "text, not JSON: {log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metrics_are_served_on_their_own_address_and_move_with_traffic() {
    let dir = temp_dir("ops-metrics");
    let db = TestDb::new("ops-metrics");
    let config = config(&dir, &db, "");
    // The system chooses the port; a port chosen by the test and freed
    // again could be the one the API's own `:0` gets.
    let service = Service::start(&config, &[("INVITELINK_METRICS_LISTEN", "127.0.0.1:0")]);
    let listen = service
        .banner
        .iter()
        .find_map(|l| {
            l.trim_start().strip_prefix("metrics: http://")?.strip_suffix("/metrics (Prometheus text format)")
        })
        .unwrap_or_else(|| panic!("no metrics address in {:#?}", service.banner))
        .to_owned();
    assert!(listen.starts_with("127.0.0.1:") && !listen.ends_with(":0"), "{listen}");
    let metrics = Client { addr: listen.parse().unwrap(), token: None };
    let before = metrics.get("/metrics");
    assert_eq!(before.status, 200);
    assert!(before.header("content-type").unwrap().starts_with("text/plain"));
    // Never on the API's address.
    assert_eq!(service.client.get("/metrics").status, 404);

    let (cara, _) = service.sign_in(CARA.0, CARA.1);
    let msg = invitation("ops-metrics-1@acme.example", "ops-metrics-1@acme.example", "hello");
    assert_eq!(cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes()).status, 200);
    assert_eq!(cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes()).status, 200);
    assert_eq!(cara.post_raw("/api/inbox", "message/rfc822", b"not a meeting").status, 422);
    let stranger = from_a_stranger("ops-metrics-2@stranger.example", "ops-metrics-2@stranger.example");
    let r = cara.post_raw("/api/inbox", "message/rfc822", stranger.as_bytes());
    assert_eq!(r.json["decision"]["ignored"], "unknown_sender", "{}", r.text());
    let text = metrics.get("/metrics").text();

    let inbox = |outcome: &str| {
        sample(&text, "invitelink_inbox_messages_total", &[("via", "http"), ("mailbox", CARA.0), ("outcome", outcome)])
    };
    assert_eq!(inbox("applied"), 1.0, "{text}");
    assert_eq!(inbox("duplicate"), 1.0, "{text}");
    assert_eq!(inbox("rejected"), 1.0, "{text}");
    assert_eq!(inbox("ignored"), 1.0, "{text}");
    let by = |outcome: &str, reason: &str| {
        sample(&text, "invitelink_inbox_messages_total", &[("outcome", outcome), ("reason", reason)])
    };
    assert_eq!(by("ignored", "unknown_sender"), 1.0, "ignored by reason: {text}");
    assert_eq!(by("rejected", "no_calendar_part"), 1.0, "rejected by error code: {text}");
    assert_eq!(sample(&text, "invitelink_decision_seconds_count", &[]), 2.0, "{text}");
    let signins = [("route", "/api/signin"), ("method", "POST"), ("status", "200")];
    assert_eq!(sample(&text, "invitelink_http_requests_total", &signins), 1.0, "{text}");
    assert_eq!(sample(&text, "invitelink_http_requests_total", &[("route", "/api/inbox"), ("status", "200")]), 3.0);
    assert_eq!(
        sample(&text, "invitelink_http_request_duration_seconds_count", &[("route", "/api/inbox"), ("method", "POST")]),
        4.0,
        "{text}"
    );
    assert!(sample(&text, "invitelink_db_pool_connections", &[("state", "idle")]) >= 1.0, "{text}");
    assert_eq!(sample(&text, "invitelink_outbox_messages", &[("status", "queued")]), 0.0, "{text}");
    assert!(text.contains("invitelink_outbox_messages{status=\"queued\"}"), "{text}");
    assert_eq!(sample(&text, "invitelink_ready", &[]), 1.0, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reads one HTTP response's status from `stream`.
fn status_of(stream: &mut TcpStream) -> (u16, String) {
    let mut raw = String::new();
    let _ = stream.read_to_string(&mut raw);
    let status = raw.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, raw)
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_stops() {
    let dir = temp_dir("ops-sigterm");
    let db = TestDb::new("ops-sigterm");
    let config = config(&dir, &db, "shutdown_timeout = \"10s\"\n");
    let mut service = Service::start(&config, &[]);
    let (_, token) = service.sign_in(CARA.0, CARA.1);
    let msg = invitation("ops-term-1@acme.example", "ops-term-1@acme.example", "hello");
    let (first, second) = msg.as_bytes().split_at(msg.len() / 2);
    // A request whose body is still on its way when SIGTERM comes.
    let mut stream = TcpStream::connect(service.client.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /api/inbox HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: message/rfc822\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        msg.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill").args(["-TERM", &service.child.id().to_string()]).status();
    std::thread::sleep(Duration::from_millis(500));
    assert!(service.child.try_wait().unwrap().is_none(), "it waits for the request in flight");
    // No new connection is taken any more.
    assert!(TcpStream::connect(service.client.addr).is_err(), "the listener is closed");
    stream.write_all(second).unwrap();
    let (status, raw) = status_of(&mut stream);
    assert_eq!(status, 200, "{raw}");
    assert!(raw.contains("\"kind\":\"invitation\""), "{raw}");
    let status = service.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    // What the request wrote is in the database: a new server finds the
    // message a duplicate.
    let service = Service::start(&config, &[]);
    let (cara, _) = service.sign_in(CARA.0, CARA.1);
    assert_eq!(cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes()).json["duplicate"], true);
    drop(service);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ready_answers_503_while_the_server_is_not_taking_work() {
    let db = TestDb::new("ops-ready");
    let opts = invitelink_server::ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db.url().to_owned(),
        demo: false,
        static_root: repo_root(),
        mail: None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = rt.block_on(invitelink_server::bind(&opts)).unwrap();
    let readiness = server.readiness();
    assert!(!readiness.is_ready(), "not before serving");
    let client = Client { addr: server.local_addr().unwrap(), token: None };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = rt.spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let started = Instant::now();
    while client.get("/ready").status != 200 {
        assert!(started.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(client.get("/ready").json["status"], "ready");
    // What a stopping server says (the flag the shutdown clears).
    readiness.set(false);
    let r = client.get("/ready");
    assert_eq!(r.status, 503);
    assert_eq!(r.code(), "not_ready");
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(client.get("/health").status, 200, "alive all the same");
    readiness.set(true);
    stop.send(()).unwrap();
    rt.block_on(running).unwrap().unwrap();
    assert!(!readiness.is_ready(), "cleared by the shutdown");
}
