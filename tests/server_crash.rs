#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! SPEC 7: a kill at any moment loses no committed appointment and no
//! message. The server runs in a child process (this test binary, started
//! again) and is killed while writes are under way; started again on the same
//! database, it has everything it acknowledged, and the same messages delivered
//! again are duplicates.

#[path = "server_support/mod.rs"]
mod support;

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::*;

/// The database URL of the child server.
const CHILD_DB: &str = "INVITELINK_TEST_CHILD_DB";

/// Not a test of its own: the server of the child process.
#[test]
fn child_server() {
    let Ok(db) = std::env::var(CHILD_DB) else { return };
    let server = TestServer::start_url(&db, true);
    println!("LISTENING {}", server.addr);
    // Killed by the parent; never outlives it by more than five minutes.
    std::thread::sleep(std::time::Duration::from_secs(300));
    std::process::exit(1);
}

/// Kills the child server if the test fails before it does.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn invite(n: usize) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
         UID:crash-{n}@acme.example\r\nDTSTAMP:20291201T120000Z\r\nDTSTART:20300110T100000Z\r\n\
         DTEND:20300110T110000Z\r\nSUMMARY:Crash {n}\r\nORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:cara@ourcompany.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[test]
fn a_killed_server_loses_nothing_it_acknowledged() {
    let db = TestDb::new("crash");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_server", "--nocapture", "--test-threads", "1"])
        .env(CHILD_DB, db.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut child = KillOnDrop(child);
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("the child server did not start").unwrap();
        // The harness may print "test child_server ... " on the same line.
        if let Some(at) = line.find("LISTENING ") {
            break line[at + "LISTENING ".len()..].trim().parse().unwrap();
        }
    };
    let anon = Client { addr, token: None };
    let r = anon.post("/api/signin", &json!({"email": CARA.0, "password": CARA.1}));
    let cara = anon.with_token(r.json["token"].as_str());

    // Writes from two threads; the server is killed while they run.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for w in 0..2 {
        let cara = cara.clone();
        let acknowledged = acknowledged.clone();
        workers.push(std::thread::spawn(move || {
            for i in 0..200 {
                let n = w * 1000 + i;
                let result =
                    std::panic::catch_unwind(|| cara.post_raw("/api/inbox", "text/calendar", invite(n).as_bytes()));
                match result {
                    Ok(r) if r.status == 200 => {
                        acknowledged.lock().unwrap().push((n, r.json["appointment_id"].clone()))
                    }
                    _ => break,
                }
            }
        }));
    }
    let started = std::time::Instant::now();
    while acknowledged.lock().unwrap().len() < 10 && started.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.0.kill().unwrap();
    let _ = child.0.wait();
    for w in workers {
        let _ = w.join();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 10);

    // Started again on the same file: every acknowledged appointment is there,
    // and each message again is a duplicate.
    let server = TestServer::start_on(&db, true);
    let (cara, _) = server.sign_in(CARA.0, CARA.1);
    let diary = cara.get("/api/diary?from=2030-01-10T00:00:00Z&until=2030-01-11T00:00:00Z").json;
    for (n, appointment) in &acknowledged {
        assert!(
            diary.as_array().unwrap().iter().any(|e| &e["appointment_id"] == appointment),
            "appointment of message {n} lost"
        );
        let r = cara.post_raw("/api/inbox", "text/calendar", invite(*n).as_bytes());
        assert_eq!(r.json["duplicate"], true, "message {n}");
        assert_eq!(&r.json["appointment_id"], appointment);
    }
    server.stop();
}
