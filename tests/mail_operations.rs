#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The mail poller as an operator watches it: `invitelink serve` with one
//! configuration file (the mail settings as its `[mail]` table) polls Ann's
//! folder on the loopback Dovecot (`tests/mail/start-servers.sh`); every
//! message taken in is one JSON log record and moves the metrics by inbox
//! and outcome, the last successful poll time is exported, and no password
//! reaches the log.

mod mail_support;
use mail_support::{IMAP_PORT, SMTP_PORT, servers, state_dir, tag};
#[path = "server_support/mod.rs"]
mod support;

use invitelink_server::{CrmStore, demo};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Client, sample, temp_dir};

const ANN: (&str, &str) = ("ann@crm.example", "ann-secret");

fn invitation(tag: &str, n: usize) -> String {
    format!(
        "From: Bob Berg <bob@acme.example>\r\nTo: {ann}\r\nSubject: Visit {n}\r\nMessage-ID: <{tag}-{n}@acme.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n\
         BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//acme//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
         UID:{tag}-{n}@acme.example\r\nSEQUENCE:0\r\nDTSTAMP:20291201T080000Z\r\nDTSTART:2030030{d}T090000Z\r\n\
         DTEND:2030030{d}T100000Z\r\nSUMMARY:Visit {n}\r\nORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
         ATTENDEE;CN=Ada Larsen;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ann}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        ann = ANN.0,
        d = n + 1,
    )
}

async fn fill(folder: &str, tag: &str) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", IMAP_PORT)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut session = client.login(ANN.0, ANN.1).await.map_err(|(e, _)| e).unwrap();
    session.create(folder).await.unwrap();
    for n in 0..3 {
        session.append(folder, None, None, invitation(tag, n)).await.unwrap();
    }
    let not_a_meeting = format!("From: x@acme.example\r\nTo: {}\r\nSubject: hi\r\n\r\nno calendar here\r\n", ANN.0);
    session.append(folder, None, None, not_a_meeting).await.unwrap();
    session.logout().await.ok();
}

/// The demo data with Ada's address Ann's test mailbox.
async fn prepare(url: &str) {
    let store = CrmStore::open(url).await.unwrap();
    demo::seed(&store).await.unwrap();
    let mut tx = store.write().await.unwrap();
    sqlx::query("UPDATE associates SET email = 'ann@crm.example' WHERE email = 'ada@ourcompany.example'")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    store.close().await;
}

#[test]
fn polled_messages_are_logged_once_and_counted_by_inbox_and_outcome() {
    if !servers() {
        return;
    }
    let tag = tag("ops", "poll");
    let folder = format!("ops-{tag}");
    let dir = temp_dir("mail-ops");
    let url = format!("sqlite:{}", dir.join("crm.sqlite").display());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(prepare(&url));
    rt.block_on(fill(&folder, &tag));

    let ca = state_dir().join("tls/ca.pem");
    let config = dir.join("invitelink.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndatabase = \"{url}\"\ndemo = true\nlog_format = \"json\"\n\
             metrics_listen = \"127.0.0.1:0\"\n\n[mail]\npoll_interval_secs = 1\n\n[mail.smtp]\n\
             host = \"127.0.0.1\"\nport = {SMTP_PORT}\ntls = \"starttls\"\nuser = \"crm@crm.example\"\n\
             password = \"crm-secret\"\nca_file = \"{ca}\"\n\n[[mail.inbox]]\nname = \"ann\"\naddress = \"{ann}\"\n\
             host = \"127.0.0.1\"\nport = {IMAP_PORT}\ntls = \"starttls\"\nuser = \"{ann}\"\npassword = \"{pw}\"\n\
             ca_file = \"{ca}\"\nfolder = \"{folder}\"\nprocessed_folder = \"{folder}-done/processed\"\n\
             rejected_folder = \"{folder}-done/rejected\"\n",
            ca = ca.display(),
            ann = ANN.0,
            pw = ANN.1,
        ),
    )
    .unwrap();
    let started_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let mut child = Command::new(env!("CARGO_BIN_EXE_invitelink"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info,invitelink=debug")
        .env_remove("INVITELINK_SMTP_HOST")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The metrics listener's port, chosen by the system, from the banner.
    let mut banner = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let metrics_addr = banner
        .by_ref()
        .find_map(|l| {
            l.trim_start()
                .strip_prefix("metrics: http://")?
                .strip_suffix("/metrics (Prometheus text format)")
                .map(str::to_owned)
        })
        .expect("the banner names the metrics address");
    std::thread::spawn(move || banner.for_each(drop));
    let log = Arc::new(Mutex::new(String::new()));
    let sink = log.clone();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    let metrics = Client { addr: metrics_addr.parse().unwrap(), token: None };
    let counted = |text: &str, outcome: &str| {
        sample(text, "invitelink_inbox_messages_total", &[("via", "imap"), ("mailbox", ANN.0), ("outcome", outcome)])
    };
    let began = Instant::now();
    let text = loop {
        if let Ok(stream) = std::net::TcpStream::connect(metrics.addr) {
            drop(stream);
            let text = metrics.get("/metrics").text();
            if counted(&text, "applied") + counted(&text, "rejected") >= 4.0 {
                break text;
            }
        }
        if began.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("the messages were not taken in:\n{}", log.lock().unwrap());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(counted(&text, "applied"), 3.0, "{text}");
    assert_eq!(counted(&text, "rejected"), 1.0, "{text}");
    let polled = sample(&text, "invitelink_inbox_last_poll_timestamp_seconds", &[("inbox", "ann")]);
    assert!(polled >= started_at.floor(), "last poll {polled} after the start {started_at}\n{text}");
    assert!(sample(&text, "invitelink_decision_seconds_count", &[]) >= 3.0, "{text}");

    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let stopping = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(stopping.elapsed() < Duration::from_secs(40), "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    std::thread::sleep(Duration::from_millis(200));
    let log = log.lock().unwrap().clone();
    for secret in [ANN.1, "crm-secret"] {
        assert!(!log.contains(secret), "`{secret}` reached the log:\n{log}");
    }
    let records: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let taken: Vec<&Value> =
        records.iter().filter(|r| r["target"] == "invitelink::inbox" && r["via"] == "imap").collect();
    assert_eq!(taken.len(), 4, "one record per message:\n{log}");
    let applied: Vec<&&Value> = taken.iter().filter(|r| r["outcome"] == "applied").collect();
    assert_eq!(applied.len(), 3, "{log}");
    for r in &applied {
        assert_eq!(r["kind"], "invitation");
        assert_eq!(r["mailbox"], ANN.0);
        assert_eq!(r["effects"], "create_appointment");
        assert_eq!(r["level"], "INFO");
    }
    let keys: std::collections::BTreeSet<&str> = applied.iter().map(|r| r["message_key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 3, "three messages, three keys");
    assert!(taken.iter().any(|r| r["outcome"] == "rejected" && r["code"].is_string()), "{log}");
    assert!(records.iter().any(|r| r["target"] == "invitelink::mail" && r["message"] == "poller stopped"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
