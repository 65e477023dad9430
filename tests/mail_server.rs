#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The backend with mail on: the server's own pollers and sender loop
//! against Postfix and Dovecot on loopback (`tests/mail/start-servers.sh`, as
//! in `tests/mail_roundtrip.rs`). Outside CI the tests are skipped with a
//! message when the servers cannot start; with `CI=true` that is a failure.
//!
//! Mail for `user+TAG@domain` is filed by Dovecot into the folder `TAG` of
//! the user's mailbox, so each run has folders of its own.

mod mail_support;
use mail_support::{IMAP_PORT, SMTP_PORT, ca_file, servers, tag};
#[path = "server_support/mod.rs"]
mod support;

use futures_util::TryStreamExt;
use invitelink::api::{ReplyRequest, itip_reply};
use invitelink::imip::{self, OutgoingMail};
use invitelink::itip::PartStat;
use invitelink_server::mail::{
    AuthSettings, Credential, InboxConfig, MailConfig, Mark, Secret, SmtpConfig, SmtpSender, Tls,
};
use invitelink_server::{CrmStore, ServeOptions, bind, demo};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Client, TestDb, at, repo_root};

fn inbox(name: &str, user: &str, password: &str, folder: &str) -> InboxConfig {
    InboxConfig {
        name: name.to_owned(),
        address: user.to_owned(),
        host: "127.0.0.1".to_owned(),
        port: IMAP_PORT,
        tls: Tls::StartTls,
        user: user.to_owned(),
        credential: Credential::Password(Secret::new(password)),
        ca_file: Some(ca_file()),
        folder: folder.to_owned(),
        processed_folder: format!("{folder}-done/processed"),
        rejected_folder: format!("{folder}-done/rejected"),
        mark: Mark::Move,
        batch: 50,
        max_message_bytes: 10 * 1024 * 1024,
        max_attempts: 5,
        authentication: AuthSettings::default(),
    }
}

fn smtp(auth: Option<(&str, &str)>, tls: Tls) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: SMTP_PORT,
        tls,
        user: auth.map(|a| a.0.to_owned()),
        password: auth.map(|a| Secret::new(a.1)),
        ca_file: Some(ca_file()),
        hello_name: Some("test.crm.example".to_owned()),
        timeout: Duration::from_secs(20),
    }
}

/// The CRM's settings: the CRM inbox and Ann's mailbox polled (folder `tag`
/// of each), the outbox sent as the CRM through Postfix with STARTTLS and AUTH.
fn mail_config(tag: &str) -> MailConfig {
    MailConfig {
        poll_interval: Duration::from_millis(500),
        message_id_domain: Some("crm.example".to_owned()),
        smtp: Some(smtp(Some(("crm@crm.example", "crm-secret")), Tls::StartTls)),
        inboxes: vec![
            inbox("crm", "crm@crm.example", "crm-secret", tag),
            inbox("ann", "ann@crm.example", "ann-secret", tag),
        ],
        ..MailConfig::default()
    }
}

/// The demo data, with Ada's address Ann's test mailbox and the CRM inbox the
/// test CRM mailbox.
async fn prepare(db: &TestDb) {
    let store = CrmStore::open(db.url()).await.unwrap();
    demo::seed(&store).await.unwrap();
    let mut tx = store.write().await.unwrap();
    sqlx::query("UPDATE associates SET email = 'ann@crm.example' WHERE email = 'ada@ourcompany.example'")
        .execute(tx.conn())
        .await
        .unwrap();
    sqlx::query("UPDATE system_preferences SET pref_value = 'crm@crm.example' WHERE name = 'crm_inbox'")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    store.close().await;
}

/// A running server with mail on.
struct MailServer {
    client: Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MailServer {
    fn start(db: &TestDb, mail: MailConfig) -> MailServer {
        let opts = ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            database: db.url().to_owned(),
            // Demo data (seeded by `prepare`): the demo passwords stay usable.
            demo: true,
            static_root: repo_root(),
            mail: Some(mail),
        };
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let server = bind(&opts).await.unwrap();
                addr_tx.send(server.local_addr().unwrap()).unwrap();
                server
                    .run(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(60)).unwrap();
        MailServer { client: Client { addr, token: None }, stop: Some(stop), thread: Some(thread) }
    }

    fn sign_in(&self, email: &str, password: &str) -> Client {
        let r = self.client.post("/api/signin", &json!({"email": email, "password": password}));
        assert_eq!(r.status, 200, "sign-in {email}: {}", r.text());
        self.client.with_token(r.json["token"].as_str())
    }

    /// Stops the server; its pollers and sender loop must stop with it.
    fn stop(mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        self.thread.take().unwrap().join().unwrap();
        started.elapsed()
    }
}

/// The messages of `folder` in `user`'s mailbox, whole (none when it does not exist).
async fn messages(user: &str, password: &str, folder: &str) -> Vec<Vec<u8>> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", IMAP_PORT)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut session = client.login(user, password).await.map_err(|(e, _)| e).unwrap();
    let out = match session.examine(folder).await {
        Ok(m) if m.exists > 0 => {
            let fetched: Vec<_> = session.fetch("1:*", "BODY.PEEK[]").await.unwrap().try_collect().await.unwrap();
            fetched.iter().filter_map(|f| f.body().map(<[u8]>::to_vec)).collect()
        }
        _ => Vec::new(),
    };
    session.logout().await.ok();
    out
}

async fn wait_for_messages(user: &str, password: &str, folder: &str, n: usize) -> Vec<Vec<u8>> {
    let start = Instant::now();
    loop {
        let found = messages(user, password, folder).await;
        if found.len() >= n {
            return found;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{n} messages did not arrive in `{folder}` of {user}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `check` holds for what `get` answers.
fn wait_until(what: &str, mut get: impl FnMut() -> Value, check: impl Fn(&Value) -> bool) -> (Value, Duration) {
    let start = Instant::now();
    loop {
        let v = get();
        if check(&v) {
            return (v, start.elapsed());
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{what}: still {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn outgoing(from: &str, to: &str, subject: &str, method: &str, ics: &str) -> OutgoingMail {
    OutgoingMail {
        from: from.to_owned(),
        from_name: None,
        to: to.to_owned(),
        to_name: None,
        reply_to: None,
        subject: subject.to_owned(),
        text_body: imip::default_text_body(method, subject),
        method: method.to_owned(),
        ics: ics.to_owned(),
        message_id_domain: String::new(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(8, 0, 0).unwrap(),
    }
}

#[test]
fn a_followup_invitation_goes_out_and_the_answer_updates_the_crm() {
    if !servers() {
        return;
    }
    let tag = tag("s", "fu");
    let rt = runtime();
    // SMTP senders are made and dropped on this runtime (their pool lives there).
    let _entered = rt.enter();
    let db = TestDb::new("mail-followup");
    rt.block_on(prepare(&db));
    let server = MailServer::start(&db, mail_config(&tag));
    let ann = server.sign_in("ann@crm.example", "demo-ada");

    // Bob is a contact; his address files mail into this run's folder.
    let bob_address = format!("bob+{tag}@customer.example");
    let r = ann.post("/api/persons", &json!({"name": "Bob Berg", "emails": [bob_address]}));
    assert_eq!(r.status, 201, "{}", r.text());
    let bob_id = r.json["id"].as_str().unwrap().to_owned();

    // Ann's follow-up invites Bob: the outbox loop sends the REQUEST.
    let started = Instant::now();
    let r = ann.post(
        "/api/followups",
        &json!({"title": "Quarterly review", "start": at(7, 9, 0), "end": at(7, 10, 0), "persons": [bob_id]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let followup_id = r.json["id"].as_str().unwrap().to_owned();
    let (outbox, _) = wait_until(
        "the REQUEST is sent",
        || ann.get("/api/outbox").json,
        |v| v.as_array().unwrap().iter().any(|m| m["method"] == "REQUEST" && m["status"] == "sent"),
    );
    let request = outbox.as_array().unwrap().iter().find(|m| m["method"] == "REQUEST").unwrap().clone();
    assert_eq!(request["recipient"], bob_address.as_str());
    assert_eq!(request["reply_to"], "crm@crm.example");

    // It arrives in Bob's IMAP mailbox.
    let raw = rt.block_on(wait_for_messages("bob@customer.example", "bob-secret", &tag, 1)).remove(0);
    let sent_in = started.elapsed();
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(text.contains("Content-Type: text/calendar") && text.contains("method=REQUEST"), "{text}");
    assert!(text.contains("Reply-To: <crm@crm.example>"), "{text}");
    assert!(text.contains("From: \"Ada Larsen\" <ann@crm.example>"), "{text}");

    // Bob accepts with our own `itip reply` and sends it to the CRM inbox.
    let reply_ics =
        itip_reply(&raw, &ReplyRequest { attendee: bob_address.clone(), partstat: PartStat::Accepted, now: None })
            .unwrap();
    let crm_address = format!("crm+{tag}@crm.example");
    let reply = imip::compose(&outgoing(&bob_address, &crm_address, "Accepted: Quarterly review", "REPLY", &reply_ics))
        .unwrap();
    let bob_smtp = SmtpSender::new(&smtp(None, Tls::None)).unwrap();
    let started = Instant::now();
    rt.block_on(bob_smtp.send_raw(&bob_address, std::slice::from_ref(&crm_address), reply.as_bytes())).unwrap();

    // The CRM's poller applies it: Bob's status in the follow-up is accepted.
    let (followup, answered_in) = wait_until(
        "Bob's answer is applied",
        || ann.get(&format!("/api/followups/{followup_id}")).json,
        |f| {
            f["participants"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["email"] == bob_address.as_str() && p["status"] == "accepted")
        },
    );
    assert_eq!(followup["participants"].as_array().unwrap().iter().filter(|p| p["kind"] != "associate").count(), 1);
    // The answer was moved to the processed folder, and nothing was rejected.
    let processed =
        rt.block_on(wait_for_messages("crm@crm.example", "crm-secret", &format!("{tag}-done.processed"), 1));
    assert_eq!(processed.len(), 1);
    assert!(rt.block_on(messages("crm@crm.example", "crm-secret", &tag)).is_empty());
    assert!(rt.block_on(messages("crm@crm.example", "crm-secret", &format!("{tag}-done.rejected"))).is_empty());
    let stopped_in = server.stop();
    eprintln!(
        "follow-up to Bob's mailbox in {} ms; his answer applied {} ms after it was sent; stopped in {} ms",
        sent_in.as_millis(),
        started.elapsed().as_millis().max(answered_in.as_millis()),
        stopped_in.as_millis()
    );
    assert!(stopped_in < Duration::from_secs(10));
}

fn invitation(uid: &str, organizer: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//customer//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
UID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20291201T080000Z\r\nDTSTART:20300115T090000Z\r\nDTEND:20300115T100000Z\r\n\
SUMMARY:Supplier visit\r\nORGANIZER;CN=Carol Customer:mailto:{organizer}\r\n\
ATTENDEE;CN=Ann Andersen;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ann@crm.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[test]
fn an_invitation_from_a_contact_becomes_a_tentative_appointment_through_imap() {
    if !servers() {
        return;
    }
    let tag = tag("s", "inv");
    let rt = runtime();
    // SMTP senders are made and dropped on this runtime (their pool lives there).
    let _entered = rt.enter();
    let db = TestDb::new("mail-invitation");
    rt.block_on(prepare(&db));
    let server = MailServer::start(&db, mail_config(&tag));
    let ann = server.sign_in("ann@crm.example", "demo-ada");
    let carol = format!("carol+{tag}@customer.example");
    let r = ann.post("/api/persons", &json!({"name": "Carol Customer", "emails": [carol]}));
    assert_eq!(r.status, 201, "{}", r.text());

    // Carol invites Ann; the message reaches Ann's mailbox over SMTP.
    let uid = format!("{tag}@customer.example");
    let ann_address = format!("ann+{tag}@crm.example");
    let mail =
        imip::compose(&outgoing(&carol, &ann_address, "Supplier visit", "REQUEST", &invitation(&uid, &carol))).unwrap();
    let sender = SmtpSender::new(&smtp(None, Tls::None)).unwrap();
    rt.block_on(sender.send_raw(&carol, std::slice::from_ref(&ann_address), mail.as_bytes())).unwrap();
    // And a message that is no meeting message: rejected, and recorded.
    let note = format!(
        "From: <{carol}>\r\nTo: <{ann_address}>\r\nSubject: Lunch\r\nMessage-ID: <{tag}-note@customer.example>\r\n\r\nSee you.\r\n"
    );
    rt.block_on(sender.send_raw(&carol, std::slice::from_ref(&ann_address), note.as_bytes())).unwrap();

    // The poller of Ann's mailbox applies it: a tentative appointment in her diary.
    let diary = format!("/api/diary?from={}&until={}", at(7, 0, 0), at(10, 0, 0));
    let (entries, took) = wait_until(
        "the invitation is applied",
        || ann.get(&diary).json,
        |d| d.as_array().unwrap().iter().any(|e| e["title"] == "Supplier visit"),
    );
    let entry = entries.as_array().unwrap().iter().find(|e| e["title"] == "Supplier visit").unwrap();
    assert_eq!(entry["status"], "tentative", "{entry}");
    assert_eq!(entry["start"], "2030-01-15T09:00:00Z");
    assert_eq!(entries.as_array().unwrap().iter().filter(|e| e["title"] == "Supplier visit").count(), 1);
    rt.block_on(wait_for_messages("ann@crm.example", "ann-secret", &format!("{tag}-done.processed"), 1));
    rt.block_on(wait_for_messages("ann@crm.example", "ann-secret", &format!("{tag}-done.rejected"), 1));
    assert!(rt.block_on(messages("ann@crm.example", "ann-secret", &tag)).is_empty());
    server.stop();
    let rejected = rt.block_on(async {
        let store = CrmStore::open(db.url()).await.unwrap();
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT mailbox, code FROM rejected_messages").fetch_all(store.pool()).await.unwrap();
        store.close().await;
        rows
    });
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].0, "ann@crm.example");
    eprintln!("invitation applied {} ms after it was sent", took.as_millis());
}

/// Appends `raw` to `folder` of `user`'s mailbox (created when missing).
async fn append(user: &str, password: &str, folder: &str, raw: &[u8]) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", IMAP_PORT)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut session = client.login(user, password).await.map_err(|(e, _)| e).unwrap();
    let _ = session.create(folder).await;
    session.append(folder, None, None, raw).await.unwrap();
    session.logout().await.ok();
}

/// An invitation from `from` to Ann, as `from`'s mail system writes it.
fn invitation_mail(from: &str, title: &str, uid: &str) -> String {
    let ics = invitation(uid, from).replace("SUMMARY:Supplier visit", &format!("SUMMARY:{title}"));
    imip::compose(&outgoing(from, "ann@crm.example", title, "REQUEST", &ics)).unwrap()
}

#[test]
fn only_authenticated_mail_is_applied_automatically() {
    use mail_auth::common::crypto::Ed25519Key;
    use mail_auth::common::headers::HeaderWriter;
    use mail_auth::dkim::DkimSigner;
    use mail_auth::dkim::generate::DkimKeyPair;

    if !servers() {
        return;
    }
    let tag = tag("s", "auth");
    let rt = runtime();
    // SMTP senders are made and dropped on this runtime (their pool lives there).
    let _entered = rt.enter();
    let db = TestDb::new("mail-auth");
    rt.block_on(prepare(&db));

    // customer.example signs with DKIM (a key made here, published in the
    // server's fixed DNS records) under DMARC p=reject; partner.example is
    // judged by our MTA (`mx.crm.example`) in Authentication-Results.
    let key = DkimKeyPair::generate_ed25519().unwrap();
    let public = invitelink::base64::encode(key.public_key());
    let mut config = mail_config(&tag);
    config.inboxes.retain(|i| i.name == "ann");
    config.inboxes[0].authentication = AuthSettings {
        verify_dkim: true,
        trusted_authserv_ids: vec!["mx.crm.example".to_owned()],
        require_authentication: true,
    };
    config.dns_txt = vec![
        ("s1._domainkey.customer.example".to_owned(), format!("v=DKIM1; k=ed25519; p={public}")),
        ("_dmarc.customer.example".to_owned(), "v=DMARC1; p=reject".to_owned()),
    ];
    let server = MailServer::start(&db, config);
    let ann = server.sign_in("ann@crm.example", "demo-ada");
    for (name, email) in [("Carol Customer", "carol@customer.example"), ("Dave Partner", "dave@partner.example")] {
        let r = ann.post("/api/persons", &json!({"name": name, "emails": [email]}));
        assert_eq!(r.status, 201, "{}", r.text());
    }

    let sign = |raw: &str| {
        let signature = DkimSigner::from_key(Ed25519Key::from_pkcs8_der(key.private_key()).unwrap())
            .domain("customer.example")
            .selector("s1")
            .headers(["From", "To", "Subject", "Message-ID", "Date"])
            .sign(raw.as_bytes())
            .unwrap();
        format!("{}{raw}", signature.to_header())
    };
    let dave = "dave@partner.example";
    let carol = "carol@customer.example";
    let uid = |n: &str| format!("{tag}-{n}@test");
    let messages = [
        // Forged: an Authentication-Results of an authserv-id we do not trust.
        format!(
            "Authentication-Results: mx.evil.example; dkim=pass header.d=partner.example; dmarc=pass header.from=partner.example\r\n{}",
            invitation_mail(dave, "Spoofed pass", &uid("spoofed"))
        ),
        // Our MTA says DMARC failed.
        format!(
            "Authentication-Results: mx.crm.example; dmarc=fail header.from=partner.example\r\n{}",
            invitation_mail(dave, "Trusted fail", &uid("fail"))
        ),
        // Signed, then changed on the way.
        sign(&invitation_mail(carol, "Signed visit", &uid("tampered")))
            .replace("SUMMARY:Signed visit", "SUMMARY:Tampered visit"),
        // Claims to be Carol, unsigned (p=reject).
        invitation_mail(carol, "Unsigned visit", &uid("unsigned")),
        // Positive controls: our MTA says DMARC passed; a valid aligned signature.
        format!(
            "Authentication-Results: mx.crm.example; dkim=pass header.d=partner.example; dmarc=pass header.from=partner.example\r\n{}",
            invitation_mail(dave, "Trusted pass", &uid("pass"))
        ),
        sign(&invitation_mail(carol, "Signed visit", &uid("signed"))),
    ];
    for raw in &messages {
        rt.block_on(append("ann@crm.example", "ann-secret", &tag, raw.as_bytes()));
    }
    rt.block_on(wait_for_messages("ann@crm.example", "ann-secret", &format!("{tag}-done.processed"), messages.len()));

    // Only the two authenticated invitations became appointments.
    let diary = format!("/api/diary?from={}&until={}", at(7, 0, 0), at(10, 0, 0));
    let entries = ann.get(&diary).json;
    let mut titles: Vec<String> =
        entries.as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap().to_owned()).collect();
    titles.sort();
    assert_eq!(titles, ["Signed visit", "Trusted pass"], "{entries}");
    assert!(entries.as_array().unwrap().iter().all(|e| e["status"] == "tentative"), "{entries}");
    server.stop();

    // The verdicts are recorded with the messages, and the forged ones were
    // ignored as unauthenticated.
    let rows = rt.block_on(async {
        let store = CrmStore::open(db.url()).await.unwrap();
        let rows: Vec<(Option<i64>, Option<String>, String)> =
            sqlx::query_as("SELECT authenticated, authentication, decision FROM processed_messages")
                .fetch_all(store.pool())
                .await
                .unwrap();
        store.close().await;
        rows
    });
    assert_eq!(rows.len(), messages.len(), "{rows:?}");
    let passed: Vec<_> = rows.iter().filter(|r| r.0 == Some(1)).collect();
    let failed: Vec<_> = rows.iter().filter(|r| r.0 == Some(0)).collect();
    assert_eq!((passed.len(), failed.len()), (2, 4), "{rows:?}");
    for r in &failed {
        assert!(r.2.contains("unauthenticated_sender"), "{r:?}");
    }
    let details: Vec<&str> = rows.iter().filter_map(|r| r.1.as_deref()).collect();
    assert!(details.iter().any(|d| d.contains("mx.crm.example: dmarc=fail")), "{details:?}");
    assert!(details.iter().any(|d| d.contains("dkim=fail (customer.example")), "{details:?}");
    assert!(details.iter().any(|d| d.contains("dmarc=pass (customer.example)")), "{details:?}");
    assert!(!details.iter().any(|d| d.contains("evil")), "an untrusted header is not even reported: {details:?}");
}

#[test]
fn an_outbox_row_with_a_forged_sender_is_failed_and_never_sent() {
    if !servers() {
        return;
    }
    let tag = tag("s", "forged");
    let rt = runtime();
    // SMTP senders are made and dropped on this runtime (their pool lives there).
    let _entered = rt.enter();
    let db = TestDb::new("mail-forged-sender");
    rt.block_on(prepare(&db));
    let bob = format!("bob+{tag}@customer.example");
    rt.block_on(async {
        let store = CrmStore::open(db.url()).await.unwrap();
        let (ann_id,): (String,) = sqlx::query_as("SELECT id FROM associates WHERE email = 'ann@crm.example'")
            .fetch_one(store.pool())
            .await
            .unwrap();
        let mut tx = store.write().await.unwrap();
        for (id, sender) in [("forged", "ceo@crm.example"), ("own", "ann@crm.example")] {
            sqlx::query(
                "INSERT INTO outbox (id, appointment_id, associate_id, method, sender, recipient, reply_to, subject, ics, \
                 status, created_at, sent_at) VALUES ($1, NULL, $2, 'REQUEST', $3, $4, NULL, $5, $6, 'queued', $7, NULL)",
            )
            .bind(id)
            .bind(&ann_id)
            .bind(sender)
            .bind(&bob)
            .bind(format!("From {sender}"))
            .bind(invitation(&format!("{tag}-{id}@test"), sender))
            .bind(format!("2029-12-01T08:00:0{}Z", if id == "forged" { 0 } else { 1 }))
            .execute(tx.conn())
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        store.close().await;
    });
    let server = MailServer::start(&db, mail_config(&tag));
    let ann = server.sign_in("ann@crm.example", "demo-ada");
    wait_until(
        "the outbox is worked through",
        || ann.get("/api/outbox").json,
        |v| v.as_array().unwrap().iter().all(|m| m["status"] != "queued"),
    );
    // Ann's own message arrives; the forged one never does.
    let arrived = rt.block_on(wait_for_messages("bob@customer.example", "bob-secret", &tag, 1));
    std::thread::sleep(Duration::from_secs(1));
    let arrived_now = rt.block_on(messages("bob@customer.example", "bob-secret", &tag));
    assert_eq!(arrived_now.len(), 1);
    assert!(String::from_utf8_lossy(&arrived[0]).contains("From ann@crm.example"));
    server.stop();
    let rows = rt.block_on(async {
        let store = CrmStore::open(db.url()).await.unwrap();
        let rows: Vec<(String, String, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT id, status, last_error, retry_at FROM outbox ORDER BY id")
                .fetch_all(store.pool())
                .await
                .unwrap();
        store.close().await;
        rows
    });
    assert_eq!(rows[0].0, "forged");
    assert_eq!(rows[0].1, "failed");
    assert!(
        rows[0]
            .2
            .as_deref()
            .unwrap()
            .contains("`ceo@crm.example` is neither the associate's own address nor the CRM inbox"),
        "{rows:?}"
    );
    assert_eq!(rows[0].3, None, "failed for good");
    assert_eq!((rows[1].0.as_str(), rows[1].1.as_str()), ("own", "sent"));
}
