#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Concurrent writers: the same message delivered at once by many clients,
//! or (PostgreSQL) by two servers sharing one database, is applied once; and
//! the inbox's throughput (`cargo test --test server_concurrency -- --ignored
//! --nocapture`, on SQLite or with `INVITELINK_TEST_DATABASE` on PostgreSQL).

#[path = "server_support/mod.rs"]
mod support;

use serde_json::Value;
use std::time::Instant;
use support::*;

fn invite(n: usize) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
         UID:race-{n}@acme.example\r\nDTSTAMP:20291201T120000Z\r\nDTSTART:20300111T100000Z\r\n\
         DTEND:20300111T110000Z\r\nSUMMARY:Race {n}\r\nORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:cara@ourcompany.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn email(n: usize) -> String {
    format!(
        "From: Bob Berg <bob@acme.example>\r\nTo: cara@ourcompany.example\r\nSubject: Race {n}\r\n\
         Message-ID: <race-{n}@acme.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n{}",
        invite(n)
    )
}

/// Delivers message `n` from `clients` threads at once, spread over the
/// clients round-robin; returns every answer.
fn race(clients: &[Client], n: usize, threads: usize) -> Vec<Value> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let client = clients[t % clients.len()].clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let r = client.post_raw("/api/inbox", "message/rfc822", email(n).as_bytes());
                assert_eq!(r.status, 200, "{}", r.text());
                r.json
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn assert_applied_once(answers: &[Value], cara: &Client, n: usize) {
    let fresh = answers.iter().filter(|a| a["duplicate"] == false).count();
    assert_eq!(fresh, 1, "message {n} applied {fresh} times: {answers:?}");
    let appointment = &answers[0]["appointment_id"];
    assert!(appointment.is_string());
    assert!(answers.iter().all(|a| &a["appointment_id"] == appointment), "{answers:?}");
    let diary = cara.get("/api/diary?from=2030-01-11T00:00:00Z&until=2030-01-12T00:00:00Z").json;
    let title = format!("Race {n}");
    let same = diary.as_array().unwrap().iter().filter(|e| e["title"] == title.as_str()).count();
    assert_eq!(same, 1, "{diary}");
}

#[test]
fn the_same_message_delivered_at_once_is_applied_once() {
    let (server, _db) = TestServer::demo("race");
    let (cara, _) = server.sign_in(CARA.0, CARA.1);
    for n in 0..3 {
        let answers = race(std::slice::from_ref(&cara), n, 8);
        assert_applied_once(&answers, &cara, n);
    }
}

/// PostgreSQL only: two servers (two pools, as two processes would have) on
/// one database. SQLite serves one file from one process.
#[test]
fn two_servers_on_one_database_apply_a_message_once() {
    if postgres_server().is_none() {
        return;
    }
    let db = TestDb::new("two-servers");
    // Both start at once on the empty database: migrated and seeded once.
    let starting: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || TestServer::start_on(&db, true))
        })
        .collect();
    let mut servers: Vec<TestServer> = starting.into_iter().map(|h| h.join().unwrap()).collect();
    let second = servers.pop().unwrap();
    let first = servers.pop().unwrap();
    let (cara1, _) = first.sign_in(CARA.0, CARA.1);
    let (cara2, _) = second.sign_in(CARA.0, CARA.1);
    assert_eq!(cara1.get("/api/associates").json.as_array().unwrap().len(), 4);
    for n in 10..13 {
        let answers = race(&[cara1.clone(), cara2.clone()], n, 8);
        assert_applied_once(&answers, &cara2, n);
    }
}

/// Inbox throughput: `INVITELINK_BENCH_MESSAGES` (default 300) distinct
/// invitations, first from one client, then from four at once.
#[test]
#[ignore = "a measurement, not a check"]
fn inbox_throughput() {
    let total: usize = std::env::var("INVITELINK_BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let backend = if postgres_server().is_some() { "PostgreSQL" } else { "SQLite" };
    let (server, _db) = TestServer::demo("throughput");
    let (cara, _) = server.sign_in(CARA.0, CARA.1);
    let started = Instant::now();
    for n in 0..total {
        let r = cara.post_raw("/api/inbox", "message/rfc822", email(100_000 + n).as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let one = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let cara = cara.clone();
            std::thread::spawn(move || {
                for n in (w..total).step_by(4) {
                    let r = cara.post_raw("/api/inbox", "message/rfc822", email(200_000 + n).as_bytes());
                    assert_eq!(r.status, 200, "{}", r.text());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let four = started.elapsed().as_secs_f64();
    println!(
        "inbox on {backend}: {total} e-mails, 1 client {:.0}/s ({one:.2} s), 4 clients {:.0}/s ({four:.2} s)",
        total as f64 / one,
        total as f64 / four
    );
}
