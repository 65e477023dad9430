#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Several instances on one PostgreSQL (issue: mail at scale): three
//! `invitelink serve` processes share one database and ten inboxes on the
//! loopback Dovecot, with Postfix delivering (`tests/mail/start-servers.sh`).
//! Bob, a known contact, sends invitations to all ten associates; the
//! associates' follow-ups invite Carol, an external person, whose client
//! answers each one to its organizer's inbox. In the middle one instance is
//! killed with SIGKILL, and later another is stopped and started again.
//!
//! Afterwards every incoming message is applied exactly once, every outgoing
//! invitation arrived exactly once in Carol's mailbox, every answer is
//! recorded, and the inboxes the killed instance held were polled again
//! within their lease.
//!
//! Runs on PostgreSQL only (`INVITELINK_TEST_DATABASE`, a server-level URL;
//! `cargo xtask test` runs it with 300 messages). Sizes:
//! `INVITELINK_CLUSTER_MESSAGES` (incoming invitations, default 300),
//! `INVITELINK_CLUSTER_FOLLOWUPS` (outgoing invitations, default 20). The
//! longer run: `INVITELINK_CLUSTER_MESSAGES=10000 cargo test --test
//! mail_cluster -- --ignored --nocapture` (docs/postgres.md).

mod mail_support;
use mail_support::{
    BOB, IMAP_PORT, SMTP_PORT, ServeProcess, bob_invitation, ca_file, env_number, folder_counts, imap_session, servers,
};
#[path = "server_support/mod.rs"]
mod support;

use chrono::NaiveDate;
use futures_util::TryStreamExt;
use invitelink::api::{ReplyRequest, itip_reply};
use invitelink::imip::{self, OutgoingMail};
use invitelink::itip::PartStat;
use invitelink_server::mail::{Secret, SmtpConfig, SmtpSender, Tls};
use invitelink_server::{CrmStore, demo};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{Client, TestDb, postgres_server};

/// The inboxes: associate `cNN@crm.example`, mailbox `cNN` of the test Dovecot.
const INBOXES: usize = 10;
/// The instances.
const INSTANCES: usize = 3;
/// The inbox lease (`lease_secs`): an inbox of a dead instance is taken
/// over after this long.
const LEASE_SECS: u64 = 5;
/// The associates' password.
const PASSWORD: &str = "cluster-test-password";

fn associate(i: usize) -> String {
    format!("c{:02}@crm.example", i + 1)
}

/// Mail for associate `i` in this run: delivered to the folder `tag` of
/// their mailbox.
fn envelope_to(i: usize, tag: &str) -> String {
    format!("c{:02}+{tag}@crm.example", i + 1)
}

fn carol(tag: &str) -> String {
    format!("carol+{tag}@customer.example")
}

fn smtp() -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: SMTP_PORT,
        tls: Tls::None,
        user: None,
        password: None::<Secret>,
        ca_file: Some(ca_file()),
        hello_name: Some("test.acme.example".to_owned()),
        timeout: Duration::from_secs(30),
    }
}

fn compose(from: &str, to: &str, subject: &str, method: &str, ics: String) -> String {
    imip::compose(&OutgoingMail {
        from: from.to_owned(),
        from_name: None,
        to: to.to_owned(),
        to_name: None,
        reply_to: None,
        text_body: imip::default_text_body(method, subject),
        subject: subject.to_owned(),
        method: method.to_owned(),
        ics,
        message_id_domain: "acme.example".to_owned(),
        date: NaiveDate::from_ymd_opt(2029, 12, 1).unwrap().and_hms_opt(8, 0, 0).unwrap(),
    })
    .unwrap()
}

/// An IMAP session of a test mailbox (its password is `NAME-secret`).
async fn imap(user: &str) -> async_imap::Session<tokio::net::TcpStream> {
    imap_session(user, &format!("{}-secret", user.split('@').next().unwrap())).await
}

/// The number of messages in `folder` of `user`'s mailbox (0 when missing).
async fn count(user: &str, folder: &str) -> u32 {
    let password = format!("{}-secret", user.split('@').next().unwrap());
    folder_counts(user, &password, &[folder]).await.first().copied().unwrap_or(0)
}

/// The messages in `folder` of `user`'s mailbox, by UID.
async fn messages(user: &str, folder: &str) -> Vec<(u32, Vec<u8>)> {
    let mut session = imap(user).await;
    if session.select(folder).await.is_err() {
        session.logout().await.ok();
        return Vec::new();
    }
    let fetched: Vec<_> = session.uid_fetch("1:*", "(UID BODY.PEEK[])").await.unwrap().try_collect().await.unwrap();
    let out = fetched.iter().filter_map(|f| Some((f.uid?, f.body()?.to_vec()))).collect();
    session.logout().await.ok();
    out
}

/// The calendar of the e-mail `raw`, unfolded.
fn calendar_of(raw: &[u8]) -> String {
    let envelope = invitelink::message::read_message(raw, &invitelink::message::InputLimits::default()).unwrap();
    envelope.calendar.replace("\r\n ", "")
}

/// The value of the first `name:` line of the calendar of the e-mail `raw`.
fn ical_value(raw: &[u8], name: &str) -> Option<String> {
    let text = calendar_of(raw);
    text.lines().find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_owned()))
}

/// The address of the `ORGANIZER` line of an iCalendar text in `raw`.
fn organizer_of(raw: &[u8]) -> Option<String> {
    let text = calendar_of(raw);
    let line = text.lines().find(|l| l.starts_with("ORGANIZER:") || l.starts_with("ORGANIZER;"))?;
    let (_, value) = line.rsplit_once(':')?;
    Some(value.trim().to_ascii_lowercase())
}

/// One instance, and a client of its HTTP API.
struct Instance {
    server: ServeProcess,
    client: Client,
}

impl Instance {
    fn start(url: &str, config: &Path, log: &Path) -> Instance {
        let server = ServeProcess::start(Path::new(env!("CARGO_BIN_EXE_invitelink")), url, config, log);
        let client = Client { addr: server.addr, token: None };
        Instance { server, client }
    }
}

/// The demo data, ten associates `cNN@crm.example` (one inbox each).
async fn prepare(url: &str) {
    let store = CrmStore::open(url).await.unwrap();
    demo::seed(&store).await.unwrap();
    let hash = invitelink_server::auth::hash_password(PASSWORD).unwrap();
    let mut tx = store.write().await.unwrap();
    for i in 0..INBOXES {
        sqlx::query(
            "INSERT INTO associates (id, name, email, role, password_hash, created_at) \
             VALUES ($1, $2, $3, 'user', $4, '2029-12-01T08:00:00Z')",
        )
        .bind(format!("cluster-{i}"))
        .bind(format!("Cluster Associate {}", i + 1))
        .bind(associate(i))
        .bind(&hash)
        .execute(tx.conn())
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    store.close().await;
}

/// Ten inboxes (folder `tag` of each `cNN` mailbox), the outbox through Postfix.
fn write_mail_config(path: &Path, tag: &str) {
    let ca = ca_file();
    let ca = ca.display();
    let mut text = format!(
        "poll_interval_secs = 1\nlease_secs = {LEASE_SECS}\nmessage_id_domain = \"crm.example\"\n\n\
[smtp]\nhost = \"127.0.0.1\"\nport = {SMTP_PORT}\ntls = \"starttls\"\nuser = \"crm@crm.example\"\n\
password = \"crm-secret\"\nca_file = \"{ca}\"\nhello_name = \"test.crm.example\"\n"
    );
    for i in 0..INBOXES {
        let user = associate(i);
        let password = format!("c{:02}-secret", i + 1);
        text.push_str(&format!(
            "\n[[inbox]]\nname = \"c{n:02}\"\naddress = \"{user}\"\nhost = \"127.0.0.1\"\nport = {IMAP_PORT}\n\
tls = \"starttls\"\nuser = \"{user}\"\npassword = \"{password}\"\nca_file = \"{ca}\"\nfolder = \"{tag}\"\n\
processed_folder = \"{tag}-done/processed\"\nrejected_folder = \"{tag}-done/rejected\"\nbatch = 50\n",
            n = i + 1
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// Sends Bob's invitations `range` (associate `n % 10`) through Postfix.
async fn send_invitations(tag: String, range: std::ops::Range<usize>) {
    let sender = SmtpSender::new(&smtp()).unwrap();
    for n in range {
        let i = n % INBOXES;
        let raw = bob_invitation(&format!("{tag}-in-{n}@acme.example"), &associate(i), n);
        sender.send_raw(BOB, &[envelope_to(i, &tag)], raw.as_bytes()).await.unwrap();
    }
}

/// Carol's client: answers every invitation that arrives in her folder
/// `tag` (accepts it, to its organizer) until `stop`; returns the UIDs it
/// answered.
async fn carol_answers(tag: String, stop: Arc<AtomicBool>) -> HashSet<String> {
    let me = carol(&tag);
    let sender = SmtpSender::new(&smtp()).unwrap();
    let mut answered_imap: HashSet<u32> = HashSet::new();
    let mut answered: HashSet<String> = HashSet::new();
    loop {
        let done = stop.load(Ordering::SeqCst);
        for (imap_uid, raw) in messages("carol@customer.example", &tag).await {
            if !answered_imap.insert(imap_uid) {
                continue;
            }
            let uid = ical_value(&raw, "UID").unwrap();
            let organizer = organizer_of(&raw).unwrap();
            if !answered.insert(uid) {
                // The same invitation a second time: answered once already.
                continue;
            }
            let ics = itip_reply(
                &raw,
                &ReplyRequest {
                    attendee: me.clone(),
                    partstat: PartStat::Accepted,
                    now: Some("2029-12-01T09:00:00Z".to_owned()),
                },
            )
            .unwrap();
            let i: usize = organizer.trim_start_matches('c')[..2].parse::<usize>().unwrap() - 1;
            let reply = compose(&me, &organizer, "Accepted", "REPLY", ics);
            sender.send_raw(&me, &[envelope_to(i, &tag)], reply.as_bytes()).await.unwrap();
        }
        if done {
            return answered;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Counts of the database: processed messages per mailbox, and the
/// appointments of each incoming UID.
async fn database_state(url: &str, tag: &str) -> (HashMap<String, i64>, HashMap<(String, String), i64>) {
    let store = CrmStore::open(url).await.unwrap();
    let processed: Vec<(String, i64)> =
        sqlx::query_as("SELECT mailbox, COUNT(*) FROM processed_messages GROUP BY mailbox")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let appointments: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT a.uid, s.email, COUNT(*) FROM appointments a JOIN associates s ON s.id = a.owner_id \
         WHERE a.uid LIKE $1 GROUP BY a.uid, s.email",
    )
    .bind(format!("{tag}-%"))
    .fetch_all(store.pool())
    .await
    .unwrap();
    store.close().await;
    (processed.into_iter().collect(), appointments.into_iter().map(|(u, e, n)| ((u, e), n)).collect())
}

#[test]
#[ignore = "several instances on PostgreSQL: cargo xtask test runs it, or see the module's documentation"]
fn three_instances_on_one_postgresql_apply_and_send_everything_exactly_once() {
    assert!(
        postgres_server().is_some(),
        "the cluster test runs on PostgreSQL: set INVITELINK_TEST_DATABASE to a server-level URL (tests/pg/start.sh)"
    );
    assert!(servers(), "the cluster test needs the mail servers of tests/mail/start-servers.sh");
    let incoming = env_number("INVITELINK_CLUSTER_MESSAGES", 300) as usize;
    let followups = env_number("INVITELINK_CLUSTER_FOLLOWUPS", 20) as usize;
    let bound = Duration::from_secs(env_number("INVITELINK_CLUSTER_TIMEOUT_SECS", 120 + incoming as u64 / 10));
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let tag = format!("k{}x{nanos}", std::process::id());

    let db = TestDb::new("cluster");
    let url = db.url().to_owned();
    let dir = support::temp_dir("mail-cluster");
    let (config, log) = (dir.join("mail.toml"), dir.join("instances.log"));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    rt.block_on(prepare(&url));
    write_mail_config(&config, &tag);

    let started = Instant::now();
    let mut instances: Vec<Option<Instance>> =
        (0..INSTANCES).map(|_| Some(Instance::start(&url, &config, &log))).collect();

    // Incoming: Bob's invitations, in two halves around the kill.
    let first_half = rt.spawn(send_invitations(tag.clone(), 0..incoming / 2));
    // Carol's client answers from the start.
    let stop_carol = Arc::new(AtomicBool::new(false));
    let carol_task = rt.spawn(carol_answers(tag.clone(), stop_carol.clone()));

    // Outgoing: each associate's follow-ups invite Carol, through any instance.
    let mut followup_ids: HashMap<String, String> = HashMap::new();
    let mut signed_in: Vec<Option<String>> = vec![None; INBOXES];
    let send_followups = |range: std::ops::Range<usize>,
                          instances: &[Option<Instance>],
                          signed_in: &mut Vec<Option<String>>,
                          uids: &mut HashMap<String, String>| {
        let alive: Vec<&Client> = instances.iter().flatten().map(|i| &i.client).collect();
        for n in range {
            let i = n % INBOXES;
            let client = alive[n % alive.len()];
            let token = signed_in[i].get_or_insert_with(|| {
                let r = client.post("/api/signin", &json!({"email": associate(i), "password": PASSWORD}));
                assert_eq!(r.status, 200, "sign-in: {}", r.text());
                r.json["token"].as_str().unwrap().to_owned()
            });
            let r = client.with_token(Some(token)).post(
                "/api/followups",
                &json!({"title": format!("Follow-up {n}"), "start": format!("2030-04-{:02}T10:00:00Z", 1 + n % 28),
                        "end": format!("2030-04-{:02}T11:00:00Z", 1 + n % 28), "emails": [carol(&tag)]}),
            );
            assert_eq!(r.status, 201, "follow-up {n}: {}", r.text());
            let id = r.json["id"].as_str().unwrap().to_owned();
            uids.insert(id, associate(i));
        }
    };
    send_followups(0..followups / 2, &instances, &mut signed_in, &mut followup_ids);
    rt.block_on(first_half).unwrap();

    // Wait until about a third is applied, then SIGKILL instance 0.
    loop {
        let (processed, _) = rt.block_on(database_state(&url, &tag));
        let applied: i64 = processed.values().sum();
        if applied as usize >= incoming / 3 {
            break;
        }
        for instance in instances.iter_mut().flatten() {
            instance.server.assert_running(&log);
        }
        assert!(started.elapsed() < bound, "only {applied} messages applied after {} s", bound.as_secs());
        std::thread::sleep(Duration::from_millis(200));
    }
    instances[0].take().unwrap().server.kill();
    let killed_at = Instant::now();
    eprintln!("instance 0 killed at {:.1} s", started.elapsed().as_secs_f64());

    // One marker invitation to every inbox right after the kill: each must
    // be applied within the lease (the killed instance's inboxes are taken
    // over when it runs out), plus a poll and the delivery.
    rt.block_on(async {
        let sender = SmtpSender::new(&smtp()).unwrap();
        for i in 0..INBOXES {
            let raw = bob_invitation(&format!("{tag}-marker-{i}@acme.example"), &associate(i), 1000 + i);
            sender.send_raw(BOB, &[envelope_to(i, &tag)], raw.as_bytes()).await.unwrap();
        }
    });
    let marker_bound = Duration::from_secs(LEASE_SECS * 2 + 15);
    let marker_latency = loop {
        let (_, appointments) = rt.block_on(database_state(&url, &tag));
        let done = (0..INBOXES)
            .filter(|i| appointments.contains_key(&(format!("{tag}-marker-{i}@acme.example"), associate(*i))))
            .count();
        if done == INBOXES {
            break killed_at.elapsed();
        }
        assert!(
            killed_at.elapsed() < marker_bound,
            "{} of {INBOXES} inboxes not polled {} s after an instance died (lease {LEASE_SECS} s); log: {}",
            INBOXES - done,
            marker_bound.as_secs(),
            log.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    };

    // The rest, and later instance 1 stopped and started again.
    let second_half = rt.spawn(send_invitations(tag.clone(), incoming / 2..incoming));
    send_followups(followups / 2..followups, &instances, &mut signed_in, &mut followup_ids);
    std::thread::sleep(Duration::from_secs(1));
    instances[1].take().unwrap().server.stop();
    instances[1] = Some(Instance::start(&url, &config, &log));
    rt.block_on(second_half).unwrap();

    // Drained: every inbox folder empty, every follow-up answered.
    let expected_in = incoming + INBOXES + followups;
    loop {
        let (processed, _) = rt.block_on(database_state(&url, &tag));
        let applied: i64 = processed.values().sum();
        let left: u32 = rt.block_on(async {
            let mut left = 0;
            for i in 0..INBOXES {
                left += count(&associate(i), &tag).await;
            }
            left
        });
        if left == 0 && applied as usize >= expected_in {
            break;
        }
        for instance in instances.iter_mut().flatten() {
            instance.server.assert_running(&log);
        }
        assert!(
            started.elapsed() < bound,
            "after {} s: {applied} of {expected_in} messages applied, {left} still in the inboxes; log: {}",
            bound.as_secs(),
            log.display()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let drained_in = started.elapsed();
    stop_carol.store(true, Ordering::SeqCst);
    let answered = rt.block_on(carol_task).unwrap();

    // Incoming: each invitation one appointment of its associate; nothing rejected.
    let (processed, appointments) = rt.block_on(database_state(&url, &tag));
    let mut missing = Vec::new();
    for n in 0..incoming {
        let key = (format!("{tag}-in-{n}@acme.example"), associate(n % INBOXES));
        match appointments.get(&key) {
            Some(1) => {}
            Some(k) => panic!("invitation {n} applied {k} times"),
            None => missing.push(n),
        }
    }
    assert!(missing.is_empty(), "{} invitations lost, first {:?}", missing.len(), &missing[..missing.len().min(10)]);
    let applied: i64 = (0..INBOXES).map(|i| processed.get(&associate(i)).copied().unwrap_or(0)).sum();
    assert_eq!(applied as usize, expected_in, "processed messages per mailbox: {processed:?}");
    let (rejected, done): (u32, u32) = rt.block_on(async {
        let (mut rejected, mut done) = (0, 0);
        for i in 0..INBOXES {
            rejected += count(&associate(i), &format!("{tag}-done.rejected")).await;
            done += count(&associate(i), &format!("{tag}-done.processed")).await;
        }
        (rejected, done)
    });
    assert_eq!(rejected, 0, "messages were rejected; log: {}", log.display());
    assert_eq!(done as usize, expected_in, "the processed folders hold {done} messages");

    // Outgoing: Carol got each invitation exactly once, and her answers are recorded.
    let carol_mail = rt.block_on(messages("carol@customer.example", &tag));
    let mut per_uid: HashMap<String, usize> = HashMap::new();
    for (_, raw) in &carol_mail {
        *per_uid.entry(ical_value(raw, "UID").unwrap()).or_default() += 1;
    }
    let twice: Vec<_> = per_uid.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "invitations delivered more than once: {twice:?}");
    assert_eq!(per_uid.len(), followups, "Carol received {} of {followups} invitations", per_uid.len());
    assert_eq!(answered.len(), followups);
    let (statuses, unsent) = rt.block_on(async {
        let store = CrmStore::open(&url).await.unwrap();
        let statuses: Vec<(String, String)> = sqlx::query_as(
            "SELECT p.appointment_id, p.status FROM participants p WHERE p.email = $1 ORDER BY p.appointment_id",
        )
        .bind(carol(&tag))
        .fetch_all(store.pool())
        .await
        .unwrap();
        let (unsent,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'").fetch_one(store.pool()).await.unwrap();
        store.close().await;
        (statuses, unsent)
    });
    assert_eq!(statuses.len(), followups, "{statuses:?}");
    assert!(statuses.iter().all(|(id, s)| s == "accepted" && followup_ids.contains_key(id)), "{statuses:?}");
    assert_eq!(unsent, 0, "outbox rows not sent");

    eprintln!(
        "cluster: {INSTANCES} instances, {INBOXES} inboxes, {incoming} invitations + {INBOXES} markers + {followups} \
         answers in, {followups} invitations out; drained in {:.1} s ({:.0} messages/s); the inboxes of the killed \
         instance polled again {:.1} s after it died (lease {LEASE_SECS} s)",
        drained_in.as_secs_f64(),
        expected_in as f64 / drained_in.as_secs_f64(),
        marker_latency.as_secs_f64(),
    );
    drop(instances);
    let _ = std::fs::remove_dir_all(&dir);
}
