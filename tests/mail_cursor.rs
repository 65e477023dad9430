#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Reading an inbox by UID against the loopback Dovecot
//! (`tests/mail/start-servers.sh`): a batch goes to the sink at once with
//! the cursor it moves to, an oversized message is refused without being
//! downloaded, a new UIDVALIDITY reads the folder again, a poller without
//! the inbox's lease leaves it alone, a lease taken over in the middle of a
//! batch marks nothing, and `IDLE` brings a new message in at once.

mod mail_support;
use futures_util::TryStreamExt;
use invitelink_server::mail::{
    AuthSettings, BatchDelivery, Credential, Cursor, Delivered, InboxConfig, InboxSink, Incoming, Judgement, Lease,
    Mark, PollReport, Poller, Secret, SinkError, Tls,
};
use mail_support::{IMAP_PORT, ca_file, servers, tag};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CRM: (&str, &str) = ("crm@crm.example", "crm-secret");

fn inbox(folder: &str, batch: usize) -> InboxConfig {
    InboxConfig {
        name: "crm".to_owned(),
        address: CRM.0.to_owned(),
        host: "127.0.0.1".to_owned(),
        port: IMAP_PORT,
        tls: Tls::StartTls,
        user: CRM.0.to_owned(),
        credential: Credential::Password(Secret::new(CRM.1)),
        ca_file: Some(ca_file()),
        folder: folder.to_owned(),
        processed_folder: format!("{folder}-done/processed"),
        rejected_folder: format!("{folder}-done/rejected"),
        mark: Mark::Move,
        batch,
        max_message_bytes: 4_000,
        max_attempts: 5,
        authentication: AuthSettings::default(),
    }
}

fn message(tag: &str, n: usize, padding: usize) -> String {
    format!(
        "From: bob@customer.example\r\nTo: crm@crm.example\r\nMessage-ID: <{tag}-{n}@customer.example>\r\n\
Subject: Call {n}\r\n\r\n{}\r\n",
        "x".repeat(padding)
    )
}

async fn session() -> async_imap::Session<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", IMAP_PORT)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    client.login(CRM.0, CRM.1).await.map_err(|(e, _)| e).unwrap()
}

/// Appends `messages` to `folder` (made when missing); its UIDVALIDITY and UIDNEXT after.
async fn append(folder: &str, messages: &[String]) -> (u32, u32) {
    let mut s = session().await;
    let _ = s.create(folder).await;
    for m in messages {
        s.append(folder, None, None, m).await.unwrap();
    }
    let status = s.select(folder).await.unwrap();
    s.logout().await.ok();
    (status.uid_validity.unwrap(), status.uid_next.unwrap())
}

async fn count(folder: &str) -> u32 {
    let mut s = session().await;
    let n = s.examine(folder).await.map(|m| m.exists).unwrap_or(0);
    s.logout().await.ok();
    n
}

/// The Message-IDs of `folder`.
async fn ids(folder: &str) -> Vec<String> {
    let mut s = session().await;
    let mut out = Vec::new();
    if s.examine(folder).await.is_ok_and(|m| m.exists > 0) {
        let fetched: Vec<_> =
            s.fetch("1:*", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]").await.unwrap().try_collect().await.unwrap();
        for f in fetched {
            out.push(String::from_utf8_lossy(f.header().unwrap_or_default()).trim().to_owned());
        }
    }
    s.logout().await.ok();
    out
}

/// A sink that keeps a lease and a cursor as the backend does, and records
/// every batch.
#[derive(Default)]
struct LeasedSink {
    /// (holder, generation, cursor)
    lease: Mutex<Option<(String, i64, Option<Cursor>)>>,
    /// Another instance holds the lease.
    held_elsewhere: Mutex<bool>,
    /// The lease is taken over while the next batch is applied.
    taken_during_next_batch: Mutex<bool>,
    /// Message-IDs of every batch applied, with the cursor written.
    batches: Mutex<Vec<(Vec<String>, Cursor)>>,
    singles: Mutex<usize>,
}

fn message_id(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.lines().find_map(|l| l.strip_prefix("Message-ID: ")).unwrap_or_default().to_owned()
}

impl InboxSink for LeasedSink {
    async fn deliver(&self, _mailbox: &str, _raw: &[u8], _judgement: &Judgement) -> Result<Delivered, SinkError> {
        *self.singles.lock().unwrap() += 1;
        Ok(Delivered::Applied)
    }

    async fn set_aside(&self, _mailbox: &str, _raw: &[u8], _code: &str, _message: &str) -> Result<(), SinkError> {
        Ok(())
    }

    async fn deliver_batch(
        &self,
        _mailbox: &str,
        batch: Vec<Incoming>,
        lease: &Lease,
        cursor: Cursor,
    ) -> BatchDelivery {
        let mut held = self.lease.lock().unwrap();
        if std::mem::take(&mut *self.taken_during_next_batch.lock().unwrap()) {
            *held = Some(("other".to_owned(), lease.generation + 1, None));
        }
        match held.as_mut() {
            Some((holder, generation, stored)) if *holder == lease.holder && *generation == lease.generation => {
                *stored = Some(cursor);
            }
            _ => {
                return BatchDelivery {
                    outcomes: Vec::new(),
                    stopped: Some(SinkError { message: "the lease was taken over".to_owned() }),
                };
            }
        }
        self.batches.lock().unwrap().push((batch.iter().map(|m| message_id(&m.raw)).collect(), cursor));
        BatchDelivery { outcomes: batch.iter().map(|_| Ok(Delivered::Applied)).collect(), stopped: None }
    }

    async fn acquire(&self, inbox: &str, holder: &str, _ttl: Duration) -> Result<Option<Lease>, SinkError> {
        if *self.held_elsewhere.lock().unwrap() {
            return Ok(None);
        }
        let mut held = self.lease.lock().unwrap();
        let (generation, cursor) = match held.as_ref() {
            Some((h, g, c)) if h == holder => (*g, *c),
            Some((_, g, c)) => (g + 1, *c),
            None => (1, None),
        };
        *held = Some((holder.to_owned(), generation, cursor));
        Ok(Some(Lease { inbox: inbox.to_owned(), holder: holder.to_owned(), generation, cursor }))
    }

    async fn renew(&self, lease: &Lease, _ttl: Duration) -> Result<bool, SinkError> {
        let held = self.lease.lock().unwrap();
        Ok(held.as_ref().is_some_and(|(h, g, _)| *h == lease.holder && *g == lease.generation))
    }
}

#[tokio::test]
async fn a_batch_goes_at_once_with_its_cursor_and_an_oversized_message_is_never_downloaded() {
    if !servers() {
        return;
    }
    let folder = tag("c", "batch");
    let mut messages: Vec<String> = (0..12).map(|n| message(&folder, n, 100)).collect();
    messages[6] = message(&folder, 6, 10_000); // over max_message_bytes
    let (_, uid_next) = append(&folder, &messages).await;
    let sink = LeasedSink::default();
    let poller = Poller::new(inbox(&folder, 5)).unwrap().with_lease("me", Duration::from_secs(30));

    let first = poller.poll_once(&sink).await.unwrap();
    assert_eq!(first.applied, [1, 2, 3, 4, 5]);
    assert!(first.more);
    let second = poller.poll_once(&sink).await.unwrap();
    assert_eq!(second.applied, [6, 8, 9, 10]);
    assert_eq!(second.rejected.len(), 1);
    assert_eq!((second.rejected[0].uid, second.rejected[0].code.as_str()), (7, "too_large"));
    let third = poller.poll_once(&sink).await.unwrap();
    assert_eq!(third.applied, [11, 12]);
    assert!(!third.more);
    // Nothing new, the folder empty: nothing is fetched or delivered.
    assert_eq!(poller.poll_once(&sink).await.unwrap(), PollReport::default());

    let batches = sink.batches.lock().unwrap().clone();
    assert_eq!(batches.len(), 3, "one delivery per batch: {batches:?}");
    assert_eq!(batches.iter().map(|b| b.0.len()).collect::<Vec<_>>(), [5, 4, 2]);
    assert_eq!(batches.iter().map(|b| b.1.next_uid).collect::<Vec<_>>(), [6, 11, uid_next]);
    assert_eq!(*sink.singles.lock().unwrap(), 0, "no message delivered one at a time");
    let delivered: Vec<String> = batches.iter().flat_map(|b| b.0.clone()).collect();
    assert!(!delivered.iter().any(|d| d.contains(&format!("{folder}-6@"))), "the oversized one was delivered");
    assert_eq!(delivered.len(), 11);
    assert_eq!(count(&folder).await, 0);
    assert_eq!(count(&format!("{folder}-done.processed")).await, 11);
    let rejected = ids(&format!("{folder}-done.rejected")).await;
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].contains(&format!("{folder}-6@")), "{rejected:?}");
}

#[tokio::test]
async fn a_new_uidvalidity_reads_the_folder_again() {
    if !servers() {
        return;
    }
    let folder = tag("c", "validity");
    let (validity, uid_next) = append(&folder, &[message(&folder, 0, 10), message(&folder, 1, 10)]).await;
    let sink = LeasedSink::default();
    // A cursor far ahead, written under another UIDVALIDITY (the folder was
    // made again since).
    *sink.lease.lock().unwrap() =
        Some(("me".to_owned(), 3, Some(Cursor { uid_validity: validity.wrapping_add(1), next_uid: 1000 })));
    let poller = Poller::new(inbox(&folder, 50)).unwrap().with_lease("me", Duration::from_secs(30));
    let report = poller.poll_once(&sink).await.unwrap();
    assert_eq!(report.applied, [1, 2]);
    let batches = sink.batches.lock().unwrap().clone();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].1, Cursor { uid_validity: validity, next_uid: uid_next });
}

#[tokio::test]
async fn without_the_lease_nothing_is_polled_and_a_lease_lost_mid_batch_marks_nothing() {
    if !servers() {
        return;
    }
    let folder = tag("c", "lease");
    append(&folder, &[message(&folder, 0, 10), message(&folder, 1, 10)]).await;
    let sink = LeasedSink::default();
    let poller = Poller::new(inbox(&folder, 50)).unwrap().with_lease("me", Duration::from_secs(30));

    *sink.held_elsewhere.lock().unwrap() = true;
    let report = poller.poll_once(&sink).await.unwrap();
    assert!(report.elsewhere && report.applied.is_empty(), "{report:?}");
    assert!(sink.batches.lock().unwrap().is_empty());

    // Taken over while the batch is applied: nothing committed, nothing
    // marked, the tries not counted.
    *sink.held_elsewhere.lock().unwrap() = false;
    *sink.taken_during_next_batch.lock().unwrap() = true;
    let report = poller.poll_once(&sink).await.unwrap();
    assert!(report.applied.is_empty() && report.deferred.is_some(), "{report:?}");
    assert_eq!(count(&folder).await, 2, "nothing moved");
    let mut s = session().await;
    s.select(&folder).await.unwrap();
    let flags: Vec<_> = s.fetch("1:*", "FLAGS").await.unwrap().try_collect().await.unwrap();
    for f in &flags {
        assert!(f.flags().all(|fl| !format!("{fl:?}").contains("Invitelink")), "{:?}", f.flags().collect::<Vec<_>>());
    }
    s.logout().await.ok();

    // The lease taken anew (a new generation): both applied once.
    let report = poller.poll_once(&sink).await.unwrap();
    assert_eq!(report.applied, [1, 2]);
    assert_eq!(sink.batches.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn with_idle_a_new_message_is_applied_at_once() {
    if !servers() {
        return;
    }
    let folder = tag("c", "idle");
    append(&folder, &[]).await;
    let sink = LeasedSink::default();
    let poller = Poller::new(inbox(&folder, 50)).unwrap().with_lease("me", Duration::from_secs(30));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let driver = async {
        // The poller has polled the empty folder and waits (its interval is
        // a minute: only IDLE can bring the message in sooner).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let started = Instant::now();
        append(&folder, &[message(&folder, 0, 10)]).await;
        while sink.batches.lock().unwrap().is_empty() {
            assert!(started.elapsed() < Duration::from_secs(5), "not applied within 5 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let took = started.elapsed();
        stop.send(true).unwrap();
        took
    };
    let mut rx = stopped.clone();
    let (_, took) = tokio::join!(
        poller.run(&sink, Duration::from_secs(60), async move {
            let _ = rx.wait_for(|v| *v).await;
        }),
        driver
    );
    eprintln!("measured: first message applied {} ms after it was appended (IDLE)", took.as_millis());
    assert!(took < Duration::from_secs(1), "took {} ms", took.as_millis());
}
