//! Mail in and out against real servers on loopback: Postfix (SMTP
//! 127.0.0.1:2525) delivering over LMTP into Dovecot (IMAP 127.0.0.1:1143,
//! IMAPS 1993), started by `tests/mail/start-servers.sh`.
//!
//! Outside CI, the tests are skipped with a message when the servers cannot
//! start (no root, no packages); with `CI=true` that is a failure.
//!
//! Each test uses its own folders: mail for `crm+TAG@crm.example` is filed
//! by Dovecot into the folder `TAG` of crm's mailbox.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod mail_support;
use chrono::{NaiveDate, NaiveDateTime};
use futures_util::TryStreamExt;
use invitelink::api::{ReplyRequest, itip_reply};
use invitelink::imip::{self, OutgoingMail};
use invitelink::itip::PartStat;
use invitelink::message::{InputLimits, read_message};
use invitelink::policy::{self, Kind};
use invitelink_server::mail::{
    AuthSettings, Credential, Delivered, ImapError, InboxConfig, InboxSink, Judgement, Mark, Outbox, OutboxError,
    OutboxItem, PollReport, Poller, Secret, SendSettings, SinkError, SmtpConfig, SmtpError, SmtpSender, Tls, send_due,
};
use mail_support::{IMAP_PORT, IMAPS_PORT, SMTP_PORT, ca_file, servers, tag};
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(8, 0, 0).unwrap()
}

fn invitation(uid: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//invitelink//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
UID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20261201T080000Z\r\nDTSTART:20261203T090000Z\r\nDTEND:20261203T100000Z\r\n\
SUMMARY:Quarterly review\r\nORGANIZER;CN=Ann Andersen:mailto:ann@crm.example\r\n\
ATTENDEE;CN=Bob Berg;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@customer.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn inbox(user: &str, password: &str, folder: &str, tls: Tls) -> InboxConfig {
    InboxConfig {
        name: user.split('@').next().unwrap().to_owned(),
        address: user.to_owned(),
        host: "127.0.0.1".to_owned(),
        port: if tls == Tls::Implicit { IMAPS_PORT } else { IMAP_PORT },
        tls,
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

/// Records what it is given; rejects what the engine cannot read; fails
/// (as a database outage would) for the Message-IDs in `fail_once`, and
/// (as a message the backend cannot take would, the database up) every
/// time for those in `always_fail`.
#[derive(Default)]
struct RecordingSink {
    applied: Mutex<Vec<(String, Vec<u8>)>>,
    rejected: Mutex<Vec<String>>,
    fail_once: Mutex<Vec<String>>,
    always_fail: Mutex<Vec<String>>,
    /// `(Message-ID, code, message)` of the messages set aside.
    set_aside: Mutex<Vec<(String, String, String)>>,
    deliveries: Mutex<Vec<String>>,
    down: std::sync::atomic::AtomicBool,
}

impl RecordingSink {
    fn applied(&self) -> Vec<(String, Vec<u8>)> {
        self.applied.lock().unwrap().clone()
    }
    fn calls(&self) -> usize {
        self.applied.lock().unwrap().len() + self.rejected.lock().unwrap().len()
    }
}

impl InboxSink for RecordingSink {
    async fn set_aside(&self, _mailbox: &str, raw: &[u8], code: &str, message: &str) -> Result<(), SinkError> {
        let id = read_message(raw, &InputLimits::default()).ok().and_then(|e| e.message_id).unwrap_or_default();
        self.set_aside.lock().unwrap().push((id, code.to_owned(), message.to_owned()));
        Ok(())
    }

    async fn available(&self) -> bool {
        !self.down.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn deliver(&self, mailbox: &str, raw: &[u8], _judgement: &Judgement) -> Result<Delivered, SinkError> {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
        let envelope = match read_message(raw, &InputLimits::default()) {
            Ok(e) => e,
            Err(e) => {
                self.rejected.lock().unwrap().push(e.code.as_str().to_owned());
                return Ok(Delivered::Rejected { code: e.code.as_str().to_owned(), message: e.message });
            }
        };
        let id = envelope.message_id.unwrap_or_default();
        self.deliveries.lock().unwrap().push(id.clone());
        {
            let mut fail = self.fail_once.lock().unwrap();
            if let Some(i) = fail.iter().position(|f| *f == id) {
                fail.remove(i);
                self.down.store(true, std::sync::atomic::Ordering::SeqCst);
                return Err(SinkError { message: "the database is not available".to_owned() });
            }
        }
        if self.always_fail.lock().unwrap().contains(&id) {
            return Err(SinkError { message: "value too long for the index".to_owned() });
        }
        self.applied.lock().unwrap().push((mailbox.to_owned(), raw.to_vec()));
        Ok(Delivered::Applied)
    }
}

/// The number of messages in `folder` of `user`'s mailbox (0 when it does
/// not exist), read with a plain IMAP session of its own.
async fn count(user: &str, password: &str, folder: &str) -> u32 {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", IMAP_PORT)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut session = client.login(user, password).await.map_err(|(e, _)| e).unwrap();
    let n = match session.examine(folder).await {
        Ok(m) => m.exists,
        Err(_) => 0,
    };
    session.logout().await.ok();
    n
}

/// Sets `flag` on the messages `set` (sequence numbers) of `folder`, as an
/// earlier poller would have.
async fn flag(user: &str, password: &str, folder: &str, set: &str, flag: &str) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", IMAP_PORT)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut session = client.login(user, password).await.map_err(|(e, _)| e).unwrap();
    session.select(folder).await.unwrap();
    let _: Vec<_> = session.store(set, format!("+FLAGS.SILENT ({flag})")).await.unwrap().try_collect().await.unwrap();
    session.logout().await.ok();
}

async fn wait_for(user: &str, password: &str, folder: &str, n: u32) -> Duration {
    let start = Instant::now();
    while count(user, password, folder).await < n {
        assert!(start.elapsed() < Duration::from_secs(30), "{n} messages did not arrive in `{folder}` of {user}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

async fn poll_until(poller: &Poller, sink: &RecordingSink, calls: usize) -> Vec<PollReport> {
    let start = Instant::now();
    let mut reports = Vec::new();
    while sink.calls() < calls {
        assert!(start.elapsed() < Duration::from_secs(30), "the sink got {} of {calls} messages", sink.calls());
        reports.push(poller.poll_once(sink).await.unwrap());
        if sink.calls() < calls {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    reports
}

fn mail(from: &str, to: &str, subject: &str, method: &str, ics: &str) -> OutgoingMail {
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
        date: now(),
    }
}

/// An outbox in memory, as the backend's database would be.
#[derive(Default)]
struct MemoryOutbox {
    queued: Mutex<Vec<OutboxItem>>,
    sent: Mutex<Vec<String>>,
    failed: Mutex<Vec<(String, String, Option<NaiveDateTime>)>>,
}

impl Outbox for MemoryOutbox {
    async fn next_due(&self, _now: NaiveDateTime) -> Result<Option<OutboxItem>, OutboxError> {
        Ok(self.queued.lock().unwrap().first().cloned())
    }
    async fn mark_sent(&self, id: &str, _at: NaiveDateTime) -> Result<(), OutboxError> {
        self.queued.lock().unwrap().retain(|i| i.id != id);
        self.sent.lock().unwrap().push(id.to_owned());
        Ok(())
    }
    async fn mark_failed(&self, id: &str, error: &str, retry_at: Option<NaiveDateTime>) -> Result<(), OutboxError> {
        self.queued.lock().unwrap().retain(|i| i.id != id);
        self.failed.lock().unwrap().push((id.to_owned(), error.to_owned(), retry_at));
        Ok(())
    }
}

#[tokio::test]
async fn an_invitation_goes_out_and_the_reply_comes_back_once() {
    if !servers() {
        return;
    }
    let tag = tag("t", "round");
    let uid = format!("{tag}@crm.example");
    let ics = invitation(&uid);

    // Out: the outbox sends Ann's invitation over SMTP (STARTTLS, AUTH) to Bob.
    let outbox = MemoryOutbox::default();
    outbox.queued.lock().unwrap().push(OutboxItem {
        id: "row-1".to_owned(),
        from: "ann@crm.example".to_owned(),
        from_name: Some("Ann Andersen".to_owned()),
        to: format!("bob+{tag}@customer.example"),
        to_name: Some("Bob Berg".to_owned()),
        reply_to: Some(format!("crm+{tag}@crm.example")),
        subject: "Quarterly review".to_owned(),
        method: "REQUEST".to_owned(),
        ics: ics.clone(),
        allowed_senders: vec!["ann@crm.example".to_owned()],
        ..OutboxItem::default()
    });
    let ann = SmtpSender::new(&smtp(Some(("ann@crm.example", "ann-secret")), Tls::StartTls)).unwrap();
    let started = Instant::now();
    let report = send_due(&outbox, &ann, &SendSettings::default(), now()).await.unwrap();
    let sent_in = started.elapsed();
    assert_eq!(report.sent, vec!["row-1".to_owned()], "{report:?} {:?}", outbox.failed.lock().unwrap());

    // It arrives in Bob's IMAP mailbox (read over IMAPS), as it was sent.
    let arrived_in = wait_for("bob@customer.example", "bob-secret", &tag, 1).await;
    let bob_sink = RecordingSink::default();
    let bob = Poller::new(inbox("bob@customer.example", "bob-secret", &tag, Tls::Implicit)).unwrap();
    poll_until(&bob, &bob_sink, 1).await;
    let (mailbox, raw) = bob_sink.applied().remove(0);
    assert_eq!(mailbox, "bob@customer.example");
    let envelope = read_message(&raw, &InputLimits::default()).unwrap();
    assert_eq!(envelope.calendar, ics);
    assert_eq!(envelope.content_method.as_deref(), Some("REQUEST"));
    assert_eq!(envelope.from.as_deref(), Some("ann@crm.example"));
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains(&format!("Reply-To: <crm+{tag}@crm.example>")));
    assert!(text.contains("Content-Type: application/ics; name=\"invite.ics\""));

    // Back: Bob accepts with our own `itip reply`, sent plain on loopback
    // without AUTH (the MTA trusts loopback) to the CRM inbox.
    let reply_ics = itip_reply(
        &raw,
        &ReplyRequest {
            attendee: "bob@customer.example".to_owned(),
            partstat: PartStat::Accepted,
            now: Some("2026-12-01T09:00:00Z".to_owned()),
        },
    )
    .unwrap();
    let reply = imip::compose(&mail(
        "bob@customer.example",
        &format!("crm+{tag}@crm.example"),
        "Accepted: Quarterly review",
        "REPLY",
        &reply_ics,
    ))
    .unwrap();
    let bob_smtp = SmtpSender::new(&smtp(None, Tls::None)).unwrap();
    bob_smtp.send_raw("bob@customer.example", &[format!("crm+{tag}@crm.example")], reply.as_bytes()).await.unwrap();
    wait_for("crm@crm.example", "crm-secret", &tag, 1).await;

    // The CRM inbox's poller (IMAP with STARTTLS) hands it to the sink once.
    let sink = RecordingSink::default();
    let crm = Poller::new(inbox("crm@crm.example", "crm-secret", &tag, Tls::StartTls)).unwrap();
    let started = Instant::now();
    let reports = poll_until(&crm, &sink, 1).await;
    let polled_in = started.elapsed();
    assert_eq!(reports.last().unwrap().applied.len(), 1);
    for _ in 0..2 {
        let again = crm.poll_once(&sink).await.unwrap();
        assert_eq!(again, PollReport::default());
    }
    assert_eq!(sink.applied().len(), 1, "delivered exactly once");
    assert_eq!(count("crm@crm.example", "crm-secret", &tag).await, 0);
    assert_eq!(count("crm@crm.example", "crm-secret", &format!("{tag}-done.processed")).await, 1);

    // The organizer's engine applies it: Bob's answer is recorded.
    let (_, raw_reply) = sink.applied().remove(0);
    let ctx = policy::parse_context(
        &serde_json::json!({
            "mailbox": "ann@crm.example",
            "now": "2026-12-01T09:00:00Z",
            "existing": ics,
            "contacts": [{"email": "bob@customer.example", "person_id": 2, "name": "Bob Berg"}],
            "associates": [{"email": "ann@crm.example", "associate_id": 1, "name": "Ann Andersen"}],
        })
        .to_string(),
    )
    .unwrap();
    let decision = invitelink::api::decide(&raw_reply, &ctx).unwrap();
    assert_eq!(decision.kind, Kind::Reply);
    let effects = serde_json::to_string(&decision.effects).unwrap();
    assert!(effects.contains("ACCEPTED") && effects.contains("bob@customer.example"), "{effects}");
    eprintln!(
        "measured: outbox send (STARTTLS+AUTH) {} ms; SMTP to IMAP arrival {} ms; reply poll (STARTTLS) {} ms",
        sent_in.as_millis(),
        arrived_in.as_millis(),
        polled_in.as_millis()
    );
}

#[tokio::test]
async fn a_rejected_message_is_moved_aside_and_never_retried() {
    if !servers() {
        return;
    }
    let tag = tag("t", "reject");
    let to = format!("crm+{tag}@crm.example");
    let plain = format!(
        "From: <carol@customer.example>\r\nTo: <{to}>\r\nSubject: lunch?\r\nMessage-ID: <{tag}@customer.example>\r\n\
Date: Tue, 01 Dec 2026 08:00:00 +0000\r\n\r\nNo calendar here.\r\n"
    );
    let sender = SmtpSender::new(&smtp(Some(("carol@customer.example", "carol-secret")), Tls::StartTls)).unwrap();
    sender.send_raw("carol@customer.example", std::slice::from_ref(&to), plain.as_bytes()).await.unwrap();
    wait_for("crm@crm.example", "crm-secret", &tag, 1).await;

    let sink = RecordingSink::default();
    let crm = Poller::new(inbox("crm@crm.example", "crm-secret", &tag, Tls::Implicit)).unwrap();
    let reports = poll_until(&crm, &sink, 1).await;
    let rejected = &reports.last().unwrap().rejected;
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].code, "no_calendar_part");
    for _ in 0..2 {
        assert_eq!(crm.poll_once(&sink).await.unwrap(), PollReport::default());
    }
    assert_eq!(*sink.rejected.lock().unwrap(), vec!["no_calendar_part".to_owned()], "offered once");
    assert!(sink.applied().is_empty());
    assert_eq!(count("crm@crm.example", "crm-secret", &tag).await, 0);
    assert_eq!(count("crm@crm.example", "crm-secret", &format!("{tag}-done.rejected")).await, 1);
}

#[tokio::test]
async fn a_restarted_poller_resumes_without_delivering_again() {
    if !servers() {
        return;
    }
    let tag = tag("t", "restart");
    let to = format!("crm+{tag}@crm.example");
    let sender = SmtpSender::new(&smtp(None, Tls::None)).unwrap();
    let mut ids = Vec::new();
    for n in 0..3 {
        let m =
            mail("bob@customer.example", &to, &format!("Review {n}"), "REQUEST", &invitation(&format!("{tag}-{n}")));
        let raw = imip::compose(&m).unwrap();
        ids.push(read_message(raw.as_bytes(), &InputLimits::default()).unwrap().message_id.unwrap());
        sender.send_raw("bob@customer.example", std::slice::from_ref(&to), raw.as_bytes()).await.unwrap();
        // One at a time, so that the UIDs follow the sending order.
        wait_for("crm@crm.example", "crm-secret", &tag, n + 1).await;
    }

    // The first poller applies message 0, then the database fails on message 1.
    let first_sink = RecordingSink::default();
    first_sink.fail_once.lock().unwrap().push(ids[1].clone());
    let first = Poller::new(inbox("crm@crm.example", "crm-secret", &tag, Tls::StartTls)).unwrap();
    let report = first.poll_once(&first_sink).await.unwrap();
    assert_eq!(report.applied.len(), 1);
    assert!(report.deferred.is_some());
    drop(first);
    assert_eq!(count("crm@crm.example", "crm-secret", &tag).await, 2);

    // Message 2 (now the folder's second) as a poller leaves it that applied
    // and marked it but died before moving it.
    flag("crm@crm.example", "crm-secret", &tag, "2", "\\Seen $InvitelinkProcessed").await;

    // After the restart: message 1 is delivered, message 2 only moved.
    let second_sink = RecordingSink::default();
    let second = Poller::new(inbox("crm@crm.example", "crm-secret", &tag, Tls::StartTls)).unwrap();
    let report = second.poll_once(&second_sink).await.unwrap();
    assert_eq!((report.applied.len(), report.resumed.len()), (1, 1), "{report:?}");
    assert_eq!(second.poll_once(&second_sink).await.unwrap(), PollReport::default());

    let delivered: Vec<String> = first_sink
        .applied()
        .into_iter()
        .chain(second_sink.applied())
        .map(|(_, raw)| read_message(&raw, &InputLimits::default()).unwrap().message_id.unwrap())
        .collect();
    assert_eq!(delivered, vec![ids[0].clone(), ids[1].clone()], "each delivered once, in order");
    assert_eq!(count("crm@crm.example", "crm-secret", &tag).await, 0);
    assert_eq!(count("crm@crm.example", "crm-secret", &format!("{tag}-done.processed")).await, 3);
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_moved_aside_and_blocks_nothing() {
    if !servers() {
        return;
    }
    let tag = tag("t", "poison");
    let to = format!("crm+{tag}@crm.example");
    let sender = SmtpSender::new(&smtp(None, Tls::None)).unwrap();
    let mut ids = Vec::new();
    for n in 0..4 {
        let m =
            mail("bob@customer.example", &to, &format!("Review {n}"), "REQUEST", &invitation(&format!("{tag}-{n}")));
        let raw = imip::compose(&m).unwrap();
        ids.push(read_message(raw.as_bytes(), &InputLimits::default()).unwrap().message_id.unwrap());
        sender.send_raw("bob@customer.example", std::slice::from_ref(&to), raw.as_bytes()).await.unwrap();
        wait_for("crm@crm.example", "crm-secret", &tag, n + 1).await;
    }
    // Message 3 (UID 4) was tried 3 times by pollers that died during the
    // delivery (the tries are counted before each delivery starts).
    flag("crm@crm.example", "crm-secret", &tag, "4", "$InvitelinkAttempt1 $InvitelinkAttempt2 $InvitelinkAttempt3")
        .await;

    // Message 0 fails every time while the backend works.
    let sink = RecordingSink::default();
    sink.always_fail.lock().unwrap().push(ids[0].clone());
    let mut config = inbox("crm@crm.example", "crm-secret", &tag, Tls::StartTls);
    config.max_attempts = 3;
    let crm = Poller::new(config).unwrap();

    // The first poll applies the messages behind the failing one and moves
    // the one tried too often aside without delivering it again.
    let report = crm.poll_once(&sink).await.unwrap();
    assert_eq!(report.applied.len(), 2, "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].code, "too_many_attempts");
    assert!(report.deferred.is_none());
    let applied: Vec<String> = sink
        .applied()
        .into_iter()
        .map(|(_, raw)| read_message(&raw, &InputLimits::default()).unwrap().message_id.unwrap())
        .collect();
    assert_eq!(applied, [ids[1].clone(), ids[2].clone()]);
    assert!(!sink.deliveries.lock().unwrap().contains(&ids[3]), "not delivered again");

    // Two more failed tries, then it is moved aside with its reason.
    let report = crm.poll_once(&sink).await.unwrap();
    assert_eq!((report.failed.len(), report.rejected.len()), (1, 0), "{report:?}");
    let report = crm.poll_once(&sink).await.unwrap();
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].code, "too_many_attempts");
    assert!(report.rejected[0].message.contains("failed 3 times") && report.rejected[0].message.contains("too long"));
    assert_eq!(crm.poll_once(&sink).await.unwrap(), PollReport::default());

    let aside = sink.set_aside.lock().unwrap().clone();
    assert_eq!(aside.iter().map(|a| a.0.clone()).collect::<Vec<_>>(), [ids[3].clone(), ids[0].clone()]);
    assert!(aside.iter().all(|a| a.1 == "too_many_attempts"));
    assert_eq!(sink.deliveries.lock().unwrap().iter().filter(|d| **d == ids[0]).count(), 3);
    assert_eq!(count("crm@crm.example", "crm-secret", &tag).await, 0);
    assert_eq!(count("crm@crm.example", "crm-secret", &format!("{tag}-done.rejected")).await, 2);
    assert_eq!(count("crm@crm.example", "crm-secret", &format!("{tag}-done.processed")).await, 2);
}

#[tokio::test]
async fn keyword_marking_leaves_messages_in_place() {
    if !servers() {
        return;
    }
    let tag = tag("t", "keyword");
    let to = format!("crm+{tag}@crm.example");
    let raw = imip::compose(&mail("bob@customer.example", &to, "Kickoff", "REQUEST", &invitation(&tag))).unwrap();
    SmtpSender::new(&smtp(None, Tls::None))
        .unwrap()
        .send_raw("bob@customer.example", std::slice::from_ref(&to), raw.as_bytes())
        .await
        .unwrap();
    wait_for("crm@crm.example", "crm-secret", &tag, 1).await;
    let mut config = inbox("crm@crm.example", "crm-secret", &tag, Tls::Implicit);
    config.mark = Mark::Keyword;
    let poller = Poller::new(config).unwrap();
    let sink = RecordingSink::default();
    assert_eq!(poller.poll_once(&sink).await.unwrap().applied.len(), 1);
    assert_eq!(poller.poll_once(&sink).await.unwrap(), PollReport::default());
    assert_eq!(sink.applied().len(), 1);
    assert_eq!(count("crm@crm.example", "crm-secret", &tag).await, 1, "the message stays");
}

#[tokio::test]
async fn failures_are_typed() {
    if !servers() {
        return;
    }
    // IMAP: a wrong password, and a certificate nobody vouches for.
    let sink = RecordingSink::default();
    let wrong = Poller::new(inbox("crm@crm.example", "wrong", "INBOX", Tls::Implicit)).unwrap();
    assert!(matches!(wrong.poll_once(&sink).await, Err(ImapError::Auth(_))));
    let mut untrusted = inbox("crm@crm.example", "crm-secret", "INBOX", Tls::Implicit);
    untrusted.ca_file = None;
    let untrusted = Poller::new(untrusted).unwrap();
    let err = untrusted.poll_once(&sink).await.unwrap_err();
    assert!(matches!(err, ImapError::Tls(_)), "{err}");
    let mut closed = inbox("crm@crm.example", "crm-secret", "INBOX", Tls::None);
    closed.port = 1;
    assert!(matches!(Poller::new(closed).unwrap().poll_once(&sink).await, Err(ImapError::Connection(_))));

    // SMTP: a wrong password (535), an unknown recipient (550), a closed port.
    let raw = imip::compose(&mail("ann@crm.example", "bob@customer.example", "x", "REQUEST", &invitation("e1")))
        .unwrap()
        .into_bytes();
    let to = vec!["bob@customer.example".to_owned()];
    let bad_auth = SmtpSender::new(&smtp(Some(("ann@crm.example", "wrong")), Tls::StartTls)).unwrap();
    let err = bad_auth.send_raw("ann@crm.example", &to, &raw).await.unwrap_err();
    assert!(matches!(err, SmtpError::Permanent { code: Some(535), .. }), "{err}");
    let sender = SmtpSender::new(&smtp(None, Tls::None)).unwrap();
    let err = sender.send_raw("ann@crm.example", &["nobody@customer.example".to_owned()], &raw).await.unwrap_err();
    assert!(matches!(err, SmtpError::Permanent { code: Some(550), .. }), "{err}");
    assert!(err.is_permanent());
    let mut closed = smtp(None, Tls::None);
    closed.port = 1;
    let err = SmtpSender::new(&closed).unwrap().send_raw("ann@crm.example", &to, &raw).await.unwrap_err();
    assert!(matches!(err, SmtpError::Connection(_)) && !err.is_permanent(), "{err}");
}

#[tokio::test]
async fn fifty_messages_in_one_batch() {
    if !servers() {
        return;
    }
    let tag = tag("t", "batch");
    let to = format!("crm+{tag}@crm.example");
    let sender = SmtpSender::new(&smtp(Some(("bob@customer.example", "bob-secret")), Tls::StartTls)).unwrap();
    let started = Instant::now();
    for n in 0..50 {
        let m = mail("bob@customer.example", &to, &format!("Call {n}"), "REQUEST", &invitation(&format!("{tag}-{n}")));
        sender
            .send_raw("bob@customer.example", std::slice::from_ref(&to), imip::compose(&m).unwrap().as_bytes())
            .await
            .unwrap();
    }
    let sent_in = started.elapsed();
    wait_for("crm@crm.example", "crm-secret", &tag, 50).await;
    let all_in = started.elapsed();
    let sink = RecordingSink::default();
    let poller = Poller::new(inbox("crm@crm.example", "crm-secret", &tag, Tls::Implicit)).unwrap();
    let started = Instant::now();
    let report = poller.poll_once(&sink).await.unwrap();
    let polled_in = started.elapsed();
    assert_eq!(report.applied.len(), 50);
    assert!(!report.more);
    assert_eq!(count("crm@crm.example", "crm-secret", &tag).await, 0);
    eprintln!(
        "measured: 50 messages sent over SMTP (STARTTLS+AUTH, one connection each) in {} ms, all in IMAP after {} ms; \
         one poll (IMAPS) delivered and moved them in {} ms",
        sent_in.as_millis(),
        all_in.as_millis(),
        polled_in.as_millis()
    );
}

#[tokio::test]
async fn the_sender_and_poller_loops_run_until_shutdown() {
    if !servers() {
        return;
    }
    let tag = tag("t", "loops");
    let outbox = MemoryOutbox::default();
    outbox.queued.lock().unwrap().push(OutboxItem {
        id: "row-loop".to_owned(),
        from: "ann@crm.example".to_owned(),
        to: format!("crm+{tag}@crm.example"),
        subject: "Loop".to_owned(),
        method: "REQUEST".to_owned(),
        ics: invitation(&tag),
        allowed_senders: vec!["ann@crm.example".to_owned()],
        ..OutboxItem::default()
    });
    let transport = SmtpSender::new(&smtp(Some(("ann@crm.example", "ann-secret")), Tls::StartTls)).unwrap();
    let settings = SendSettings::default();
    let sink = RecordingSink::default();
    let poller = Poller::new(inbox("crm@crm.example", "crm-secret", &tag, Tls::Implicit)).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    let interval = Duration::from_millis(100);
    let driver = async {
        let start = Instant::now();
        while sink.applied().is_empty() {
            assert!(start.elapsed() < Duration::from_secs(30), "the loops did not carry the message");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop_tx.send(true).unwrap();
        start.elapsed()
    };
    let (_, _, took) = tokio::join!(
        invitelink_server::mail::outbox::run(&outbox, &transport, &settings, interval, now, stopped(stop_rx.clone())),
        poller.run(&sink, interval, stopped(stop_rx.clone())),
        driver,
    );
    assert_eq!(*outbox.sent.lock().unwrap(), vec!["row-loop".to_owned()]);
    assert_eq!(sink.applied().len(), 1);
    eprintln!("measured: outbox loop to poller loop (100 ms intervals) {} ms", took.as_millis());
}

/// The loops can run on `tokio::spawn` (their futures are `Send`).
#[test]
fn the_loops_can_be_spawned() {
    fn send<T: Send>(_: &T) {}
    // The SMTP sender's connection pool lives on a Tokio runtime, as in the server.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _entered = runtime.enter();
    let poller = Poller::new(inbox("crm@crm.example", "x", "INBOX", Tls::None)).unwrap();
    let sink = RecordingSink::default();
    send(&poller.run(&sink, Duration::from_secs(1), std::future::pending()));
    let outbox = MemoryOutbox::default();
    let transport = SmtpSender::new(&smtp(None, Tls::None)).unwrap();
    let settings = SendSettings::default();
    send(&invitelink_server::mail::outbox::run(
        &outbox,
        &transport,
        &settings,
        Duration::from_secs(1),
        now,
        std::future::pending(),
    ));
}

/// Outside a Tokio runtime the SMTP sender is refused with a clear error, not a panic.
#[test]
fn an_smtp_sender_outside_a_runtime_is_a_configuration_error() {
    let Err(err) = SmtpSender::new(&smtp(None, Tls::None)) else { panic!("accepted outside a runtime") };
    assert!(err.to_string().contains("Tokio runtime"), "{err}");
}
