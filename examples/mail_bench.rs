#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The mail path's figures (docs/benchmarks.md), printed, never asserted:
//! `cargo xtask bench-mail` builds this and the server in release mode,
//! starts the loopback mail servers and a throwaway PostgreSQL, and runs it.
//!
//! - `imap:` messages applied per second from a full folder, from the start
//!   of `invitelink serve` until the folder is empty: one inbox on SQLite,
//!   and ten inboxes on PostgreSQL with one and with three instances;
//! - `imap idle:` how long after a message is delivered (appended to the
//!   folder) it is applied and moved out, with the server waiting in IDLE;
//! - `outbox:` messages sent per second through Postfix from a full outbox.
//!
//! Sizes: `INVITELINK_BENCH_MAIL_MESSAGES` (default 10,000),
//! `INVITELINK_BENCH_MAIL_SENDS` (default 1,000); `INVITELINK_BENCH_MAIL_BATCH`
//! sets the inboxes' `batch` (default: the configuration's). Needs `INVITELINK_BIN`
//! (the server binary) and, for the PostgreSQL lines,
//! `INVITELINK_TEST_DATABASE` (a server-level URL).

#[path = "../tests/mail_support/mod.rs"]
mod mail_support;
#[path = "../tests/server_support/mod.rs"]
mod support;

use invitelink_server::outbox::NewMessage;
use invitelink_server::store::outbox::queue;
use invitelink_server::{CrmStore, demo};
use mail_support::{
    IMAP_PORT, SMTP_PORT, ServeProcess, append_all, bob_invitation, ca_file, env_number, folder_counts, imap_session,
    servers,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{TestDb, postgres_server};

/// The longest wait for one measurement.
const LIMIT: Duration = Duration::from_secs(1800);

fn bin() -> PathBuf {
    PathBuf::from(std::env::var("INVITELINK_BIN").expect("INVITELINK_BIN: the server binary to measure"))
}

fn password(user: &str) -> String {
    format!("{}-secret", user.split('@').next().unwrap())
}

fn tag(what: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("b{}x{nanos}{what}", std::process::id())
}

/// The demo data, with the associates `users` added (or, for `ann`, Ada's
/// address moved to Ann's mailbox).
async fn prepare(url: &str, users: &[String]) {
    let store = CrmStore::open(url).await.unwrap();
    demo::seed(&store).await.unwrap();
    let mut tx = store.write().await.unwrap();
    for (i, user) in users.iter().enumerate() {
        if user == "ann@crm.example" {
            sqlx::query("UPDATE associates SET email = $1 WHERE email = 'ada@ourcompany.example'")
                .bind(user)
                .execute(tx.conn())
                .await
                .unwrap();
            continue;
        }
        sqlx::query(
            "INSERT INTO associates (id, name, email, role, password_hash, created_at) \
             VALUES ($1, $2, $3, 'user', 'not-a-hash', '2029-12-01T08:00:00Z')",
        )
        .bind(format!("bench-{i}"))
        .bind(format!("Bench Associate {i}"))
        .bind(user)
        .execute(tx.conn())
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    store.close().await;
}

/// Mail settings: the `users`' folders `folder` polled, the outbox sent
/// through Postfix.
fn write_config(path: &Path, users: &[String], folder: &str) {
    // The inboxes' batch size: the configuration's default unless set.
    let batch = std::env::var("INVITELINK_BENCH_MAIL_BATCH").ok();
    let ca = ca_file();
    let ca = ca.display();
    let mut text = format!(
        "poll_interval_secs = 1\nmessage_id_domain = \"crm.example\"\n\n\
[smtp]\nhost = \"127.0.0.1\"\nport = {SMTP_PORT}\ntls = \"starttls\"\nuser = \"crm@crm.example\"\n\
password = \"crm-secret\"\nca_file = \"{ca}\"\nhello_name = \"test.crm.example\"\n"
    );
    for (i, user) in users.iter().enumerate() {
        let pw = password(user);
        text.push_str(&format!(
            "\n[[inbox]]\nname = \"i{i}\"\naddress = \"{user}\"\nhost = \"127.0.0.1\"\nport = {IMAP_PORT}\n\
tls = \"starttls\"\nuser = \"{user}\"\npassword = \"{pw}\"\nca_file = \"{ca}\"\nfolder = \"{folder}\"\n\
processed_folder = \"{folder}-done/processed\"\nrejected_folder = \"{folder}-done/rejected\"\n"
        ));
        if let Some(batch) = &batch {
            text.push_str(&format!("batch = {batch}\n"));
        }
    }
    std::fs::write(path, text).unwrap();
}

/// Messages left in the folder `folder` of every user.
async fn left(users: &[String], folder: &str) -> u32 {
    let mut n = 0;
    for user in users {
        n += folder_counts(user, &password(user), &[folder]).await.first().copied().unwrap_or(0);
    }
    n
}

/// `n` invitations spread over the `users`' folders, then `instances`
/// servers started on `url`: messages applied per second until the
/// folders are empty.
fn imap_rate(rt: &tokio::runtime::Runtime, url: &str, users: &[String], n: usize, instances: usize) -> f64 {
    let folder = tag("imap");
    let dir = support::temp_dir("mail-bench");
    let (config, log) = (dir.join("mail.toml"), dir.join("server.log"));
    rt.block_on(prepare(url, users));
    write_config(&config, users, &folder);
    rt.block_on(async {
        for (u, user) in users.iter().enumerate() {
            let mine = (u..n).step_by(users.len());
            let messages = mine.map(|k| bob_invitation(&format!("{folder}-{k}@acme.example"), user, k)).collect();
            append_all(user, &password(user), &folder, messages).await;
        }
    });
    let started = Instant::now();
    let mut servers: Vec<ServeProcess> =
        (0..instances).map(|_| ServeProcess::start(&bin(), url, &config, &log)).collect();
    loop {
        if rt.block_on(left(users, &folder)) == 0 {
            break;
        }
        for s in &mut servers {
            s.assert_running(&log);
        }
        assert!(started.elapsed() < LIMIT, "not drained; log: {}", log.display());
        std::thread::sleep(Duration::from_millis(20));
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let rejected = rt.block_on(left(users, &format!("{folder}-done.rejected")));
    assert_eq!(rejected, 0, "messages were rejected; log: {}", log.display());
    drop(servers);
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

/// With the server waiting in IDLE on an empty folder: how long from the
/// append of one invitation until it is applied and moved out, `rounds` times.
fn idle_latency(rt: &tokio::runtime::Runtime, url: &str, rounds: usize) -> Vec<Duration> {
    let user = "ann@crm.example".to_owned();
    let users = [user.clone()];
    let folder = tag("idle");
    let dir = support::temp_dir("mail-bench-idle");
    let (config, log) = (dir.join("mail.toml"), dir.join("server.log"));
    rt.block_on(prepare(url, &users));
    write_config(&config, &users, &folder);
    rt.block_on(append_all(&user, &password(&user), &folder, Vec::new()));
    let mut server = ServeProcess::start(&bin(), url, &config, &log);
    // Time to connect, select and enter IDLE.
    std::thread::sleep(Duration::from_secs(3));
    let mut out = Vec::new();
    rt.block_on(async {
        let mut session = imap_session(&user, &password(&user)).await;
        for k in 0..rounds {
            let raw = bob_invitation(&format!("{folder}-{k}@acme.example"), &user, k);
            let started = Instant::now();
            session.append(&folder, None, None, raw).await.unwrap();
            loop {
                let n = session.status(&folder, "(MESSAGES)").await.unwrap().exists;
                if n == 0 {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(120), "not applied; log: {}", log.display());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            out.push(started.elapsed());
            // The poller back in IDLE.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        session.logout().await.ok();
    });
    server.assert_running(&log);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// `n` messages queued in the outbox, then the server started: messages
/// sent per second until none is left.
fn outbox_rate(rt: &tokio::runtime::Runtime, url: &str, n: usize) -> f64 {
    let to = format!("carol+{}@customer.example", tag("out"));
    let dir = support::temp_dir("mail-bench-outbox");
    let (config, log) = (dir.join("mail.toml"), dir.join("server.log"));
    rt.block_on(prepare(url, &[]));
    write_config(&config, &[], "unused");
    rt.block_on(async {
        let store = CrmStore::open(url).await.unwrap();
        let (ada,): (String,) = sqlx::query_as("SELECT id FROM associates WHERE email = 'ada@ourcompany.example'")
            .fetch_one(store.pool())
            .await
            .unwrap();
        let mut tx = store.write().await.unwrap();
        for k in 0..n {
            let ics = format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
UID:out-{k}@ourcompany.example\r\nDTSTAMP:20291201T080000Z\r\nDTSTART:20300301T090000Z\r\n\
DTEND:20300301T100000Z\r\nSUMMARY:Bench {k}\r\nORGANIZER:mailto:ada@ourcompany.example\r\n\
ATTENDEE;RSVP=TRUE:mailto:{to}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            );
            queue(
                tx.conn(),
                NewMessage {
                    appointment_id: None,
                    associate_id: Some(ada.clone()),
                    method: "REQUEST".to_owned(),
                    sender: "ada@ourcompany.example".to_owned(),
                    recipient: to.clone(),
                    reply_to: None,
                    subject: format!("Bench {k}"),
                    ics,
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        store.close().await;
    });
    let started = Instant::now();
    let mut server = ServeProcess::start(&bin(), url, &config, &log);
    let store = rt.block_on(CrmStore::open(url)).unwrap();
    loop {
        let (waiting,): (i64,) = rt
            .block_on(sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'").fetch_one(store.pool()))
            .unwrap();
        if waiting == 0 {
            break;
        }
        server.assert_running(&log);
        assert!(started.elapsed() < LIMIT, "not sent; log: {}", log.display());
        std::thread::sleep(Duration::from_millis(20));
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    rt.block_on(store.close());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("crm.sqlite").display())
}

fn main() {
    assert!(servers(), "the mail servers of tests/mail/start-servers.sh are needed");
    let n = env_number("INVITELINK_BENCH_MAIL_MESSAGES", 10_000) as usize;
    let sends = env_number("INVITELINK_BENCH_MAIL_SENDS", 1_000) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let ann = vec!["ann@crm.example".to_owned()];
    let ten: Vec<String> = (1..=10).map(|i| format!("c{i:02}@crm.example")).collect();

    let dir = support::temp_dir("mail-bench-sqlite");
    let rate = imap_rate(&rt, &sqlite_url(&dir), &ann, n, 1);
    println!("imap: {rate:.0} messages/s ({n} queued, 1 instances, sqlite)");
    let _ = std::fs::remove_dir_all(&dir);

    if postgres_server().is_some() {
        for instances in [1, 3] {
            let db = TestDb::new("mailbench");
            let rate = imap_rate(&rt, db.url(), &ten, n, instances);
            println!("imap: {rate:.0} messages/s ({n} queued in 10 inboxes, {instances} instances, postgresql)");
        }
    } else {
        println!("imap: postgresql not measured (INVITELINK_TEST_DATABASE is not set)");
    }

    let dir = support::temp_dir("mail-bench-idle");
    let latencies = idle_latency(&rt, &sqlite_url(&dir), 5);
    let max = latencies.iter().max().copied().unwrap_or_default();
    println!(
        "imap idle: first message applied {} ms after delivery (median of {}, max {} ms; sqlite)",
        median(latencies.clone()).as_millis(),
        latencies.len(),
        max.as_millis()
    );
    let _ = std::fs::remove_dir_all(&dir);

    let dir = support::temp_dir("mail-bench-outbox");
    let rate = outbox_rate(&rt, &sqlite_url(&dir), sends);
    println!("outbox: {rate:.0} sends/s ({sends} messages, 1 instance, sqlite, STARTTLS and AUTH to Postfix)");
    let _ = std::fs::remove_dir_all(&dir);
}
