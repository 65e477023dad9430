//! Receiving: an IMAP mailbox polled for meeting messages (RFC 3501, with
//! `MOVE` RFC 6851 and `UIDPLUS` RFC 4315 where the server has them).
//!
//! Each poll signs in, selects the folder, and hands every message, oldest
//! first, to an [`InboxSink`] (the backend: engine and database). Only after
//! the sink answered is the message marked: `\Seen` and
//! [`PROCESSED_KEYWORD`] when applied, [`REJECTED_KEYWORD`] when rejected,
//! then (with [`Mark::Move`], the default) moved to the processed or rejected
//! folder. What the folder still holds unmarked is what is left to do, so a
//! restarted poller resumes where the last one stopped; a message marked but
//! not yet moved when the poller died is moved on the next poll, not
//! delivered again. A message whose delivery failed (the sink's
//! [`SinkError`], say the database is down) stays as it was and is delivered
//! again on the next poll; the sink must therefore take the same message twice
//! without harm, as the backend's inbox does (it records each message's key).
//!
//! Architecture Invariant: the poller decides nothing about a message; it
//! moves bytes between the mailbox and the sink and marks what the sink said.

use super::auth::{Authenticator, Judgement};
use super::config::{Credential, InboxConfig, Mark, Tls};
use async_imap::types::{Fetch, Flag};
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

/// How long a poller that is told to stop may take to finish the batch in
/// hand.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The keyword of a message the sink applied.
pub const PROCESSED_KEYWORD: &str = "$InvitelinkProcessed";

/// The keyword of a message the sink rejected.
pub const REJECTED_KEYWORD: &str = "$InvitelinkRejected";

/// The prefix of the keywords that count deliveries of a message:
/// `$InvitelinkAttempt3` is set before the third.
pub const ATTEMPT_KEYWORD: &str = "$InvitelinkAttempt";

/// Time allowed to connect, secure the connection and sign in.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Time allowed for one whole poll.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(600);

/// The longest wait between polls after failures.
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(900);

/// What the sink did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Applied (or found applied before): mark it processed.
    Applied,
    /// Refused for good (not a meeting message, malformed, too large, not
    /// entitled): mark it rejected and never offer it again. The sink
    /// records the error.
    Rejected {
        /// Stable error code (the engine's `ErrorCode` or the backend's).
        code: String,
        /// What was wrong.
        message: String,
    },
}

/// The sink could not take the message now (database unavailable, ...): it
/// stays unmarked and is offered again on the next poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkError {
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SinkError {}

/// Where an inbox's reading stands: the folder's UIDVALIDITY (RFC 3501
/// 2.3.1.1) and the next UID to read. UIDs below `next_uid` were delivered
/// (or are being retried: a message that failed stays in the folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    /// The folder's UIDVALIDITY when the cursor was written.
    pub uid_validity: u32,
    /// The next UID to read.
    pub next_uid: u32,
}

/// The right to poll one inbox, held by one instance at a time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lease {
    /// The inbox's key ([`Poller::key`]: `user@host:port/folder`).
    pub inbox: String,
    /// The holder (an instance id).
    pub holder: String,
    /// Raised at every take-over; a cursor written under an older one is
    /// refused.
    pub generation: i64,
    /// The cursor stored with the lease, if the sink keeps one.
    pub cursor: Option<Cursor>,
}

/// One message of a batch, as read from the folder.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The whole e-mail.
    pub raw: Vec<u8>,
    /// The verdict on its authenticity.
    pub judgement: Judgement,
}

/// What the sink did with a batch.
#[derive(Debug, Clone, Default)]
pub struct BatchDelivery {
    /// One outcome per message, in order, for the messages it took; a
    /// message's own error ([`SinkError`]) means it failed while the sink
    /// worked.
    pub outcomes: Vec<Result<Delivered, SinkError>>,
    /// Set when the sink stopped (down, or the lease is another instance's
    /// now): the messages without an outcome were not applied, and the
    /// cursor was not written.
    pub stopped: Option<SinkError>,
}

/// Where polled messages go: the backend's inbox (engine and database).
pub trait InboxSink: Send + Sync {
    /// Takes the raw e-mail `raw` that arrived for `mailbox` (the inbox's
    /// configured address), judged as `judgement` says, applies it, and
    /// returns only after the outcome is committed.
    fn deliver(
        &self,
        mailbox: &str,
        raw: &[u8],
        judgement: &Judgement,
    ) -> impl Future<Output = Result<Delivered, SinkError>> + Send;

    /// Records that the message `raw` is moved aside without being applied
    /// (`code`, `message`: why), before the poller moves it to the rejected
    /// folder.
    fn set_aside(
        &self,
        mailbox: &str,
        raw: &[u8],
        code: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Records what one poll of the inbox named `inbox` did (`report`), or
    /// why it failed (`error`), for the administrator's mail status. Polls
    /// left to another instance (it holds the lease) are not recorded. By
    /// default nothing is kept.
    fn record_poll(
        &self,
        inbox: &str,
        report: Option<&PollReport>,
        error: Option<&str>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (inbox, report, error);
        async {}
    }

    /// Whether the sink works at all (its database answers): after a failed
    /// delivery, tells a message that fails from a sink that is down.
    fn available(&self) -> impl Future<Output = bool> + Send {
        async { true }
    }

    /// Applies `batch` and writes `cursor` for `lease`, all in one
    /// transaction when the sink has them: either every outcome and the
    /// cursor are committed, or nothing is ([`BatchDelivery::stopped`]).
    /// The cursor write must be refused when `lease` is no longer the
    /// current one. By default: [`InboxSink::deliver`] for each message in
    /// turn, stopping when the sink is down; the poller then keeps the
    /// cursor in memory.
    fn deliver_batch(
        &self,
        mailbox: &str,
        batch: Vec<Incoming>,
        lease: &Lease,
        cursor: Cursor,
    ) -> impl Future<Output = BatchDelivery> + Send {
        let _ = (lease, cursor);
        async move {
            let mut done = BatchDelivery::default();
            for m in &batch {
                match self.deliver(mailbox, &m.raw, &m.judgement).await {
                    Err(e) if !self.available().await => {
                        done.stopped = Some(e);
                        break;
                    }
                    outcome => done.outcomes.push(outcome),
                }
            }
            done
        }
    }

    /// Takes (or renews, for the same `holder`) the lease of the inbox
    /// `inbox` for `ttl`: `None` while another instance holds it. By
    /// default every poller holds its inbox.
    fn acquire(
        &self,
        inbox: &str,
        holder: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Option<Lease>, SinkError>> + Send {
        let lease = Lease { inbox: inbox.to_owned(), holder: holder.to_owned(), generation: 0, cursor: None };
        let _ = ttl;
        async move { Ok(Some(lease)) }
    }

    /// Extends `lease` by `ttl`; false when it is no longer held (taken
    /// over after it ran out).
    fn renew(&self, lease: &Lease, ttl: Duration) -> impl Future<Output = Result<bool, SinkError>> + Send {
        let _ = (lease, ttl);
        async { Ok(true) }
    }

    /// Gives `lease` up (on shutdown), so another instance takes the inbox
    /// at once.
    fn release(&self, lease: &Lease) -> impl Future<Output = ()> + Send {
        let _ = lease;
        async {}
    }
}

/// Why a poll failed. Messages never quote a password or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapError {
    /// The settings cannot be used (CA file, host name, keywords refused).
    Config(String),
    /// The server could not be reached, or the connection broke or timed out.
    Connection(String),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
    /// The server refused the user name and password or token.
    Auth(String),
    /// The server answered a command with `NO` or `BAD`, or something the
    /// client could not read.
    Protocol(String),
}

impl fmt::Display for ImapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImapError::Config(m) => write!(f, "imap settings: {m}"),
            ImapError::Connection(m) => write!(f, "imap connection: {m}"),
            ImapError::Tls(m) => write!(f, "imap tls: {m}"),
            ImapError::Auth(m) => write!(f, "imap sign-in refused: {m}"),
            ImapError::Protocol(m) => write!(f, "imap: {m}"),
        }
    }
}

impl std::error::Error for ImapError {}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        match e {
            async_imap::error::Error::Io(e) => ImapError::Connection(e.to_string()),
            async_imap::error::Error::ConnectionLost => ImapError::Connection("the connection was lost".to_owned()),
            other => ImapError::Protocol(other.to_string()),
        }
    }
}

/// A message the poll rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Its UID in the polled folder.
    pub uid: u32,
    /// The error code.
    pub code: String,
    /// What was wrong.
    pub message: String,
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// UIDs delivered and applied.
    pub applied: Vec<u32>,
    /// Messages rejected (by the sink, or too large to download).
    pub rejected: Vec<Rejection>,
    /// UIDs found marked by an earlier poll but not yet moved: moved now,
    /// not delivered again.
    pub resumed: Vec<u32>,
    /// The sink's error that stopped this poll early (the message stays).
    pub deferred: Option<String>,
    /// Messages whose delivery failed while the sink worked, with the
    /// error: offered again until [`InboxConfig::max_attempts`], then moved
    /// aside as `too_many_attempts`.
    pub failed: Vec<(u32, String)>,
    /// Whether the folder held a whole batch or more: poll again soon.
    pub more: bool,
    /// Another instance holds the inbox's lease: nothing was polled.
    pub elsewhere: bool,
}

impl PollReport {
    /// Adds what `other` did to this report (its `deferred` and `more` win).
    fn add(&mut self, other: &PollReport) {
        self.applied.extend_from_slice(&other.applied);
        self.rejected.extend(other.rejected.iter().cloned());
        self.resumed.extend_from_slice(&other.resumed);
        self.failed.extend(other.failed.iter().cloned());
        self.deferred.clone_from(&other.deferred);
        self.more = other.more;
        self.elsewhere = other.elsewhere;
    }
}

/// How often the polls of an inbox that is being drained are recorded.
const RECORD_EVERY: Duration = Duration::from_secs(1);

/// The message bytes one batch downloads at most (at least one message goes
/// whatever its size): a batch is held in memory whole, so a folder of big
/// messages reads in smaller batches.
pub const BATCH_BYTES: usize = 32 * 1024 * 1024;

/// Cuts `metas` (in UID order) after the batch's byte budget; true when it
/// cut. A message that is not downloaded (done, refused, too large) costs
/// nothing.
fn within_budget(metas: &mut Vec<Meta>, max_message_bytes: usize) -> bool {
    let mut total = 0usize;
    let keep = metas
        .iter()
        .position(|m| {
            let cost = if m.done || m.refused || m.size > max_message_bytes { 0 } else { m.size };
            total = total.saturating_add(cost);
            total > BATCH_BYTES && cost > 0
        })
        .map_or(metas.len(), |i| i.max(1));
    let cut = keep < metas.len();
    metas.truncate(keep);
    cut
}

/// The connection: plain or TLS.
#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// `AUTHENTICATE XOAUTH2` (Google's and Microsoft's OAuth 2.0 SASL mechanism).
struct XOAuth2<'a> {
    user: &'a str,
    token: &'a str,
}

impl async_imap::Authenticator for XOAuth2<'_> {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token)
    }
}

/// The default lease of an inbox: an instance that dies is replaced after
/// at most this long.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The longest `IDLE` (RFC 2177 asks for a new one within 29 minutes; the
/// lease is renewed more often than this anyway).
pub const MAX_IDLE: Duration = Duration::from_secs(240);

/// How many windows a scan for new UIDs widens at most in one poll.
const MAX_SCAN_STEPS: usize = 16;

/// The IMAP connections the pollers of one process may hold at once, and
/// whether they keep them open to wait with `IDLE`.
#[derive(Debug, Clone)]
pub struct Connections {
    permits: Arc<tokio::sync::Semaphore>,
    idle: bool,
}

impl Connections {
    /// At most `max` connections at once (taken in turn, first come first
    /// served); `idle`: a poller keeps its connection between polls and
    /// waits with `IDLE` where the server has it.
    pub fn new(max: usize, idle: bool) -> Connections {
        Connections { permits: Arc::new(tokio::sync::Semaphore::new(max.max(1))), idle }
    }
}

impl Default for Connections {
    fn default() -> Self {
        Connections::new(tokio::sync::Semaphore::MAX_PERMITS, true)
    }
}

/// Polls one inbox.
#[derive(Debug, Clone)]
pub struct Poller {
    inbox: InboxConfig,
    tls: Option<Arc<ClientConfig>>,
    authenticator: Authenticator,
    /// Deliveries counted here where the folder keeps no keywords.
    attempts: Arc<std::sync::Mutex<HashMap<u32, u32>>>,
    /// The cursor, where the sink keeps none.
    cursor: Arc<std::sync::Mutex<Option<Cursor>>>,
    /// The lease held, if any, and when it was last taken or renewed.
    lease: Arc<std::sync::Mutex<Option<(Lease, Instant)>>>,
    holder: String,
    lease_ttl: Duration,
    connections: Connections,
}

/// What became of one message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Applied,
    Rejected,
}

/// An open session and what the poller learnt of the server.
struct Connected {
    session: Session<Stream>,
    idle: bool,
    marker: Marker,
    /// The folder stays selected with this UIDVALIDITY and UIDNEXT, and
    /// the last batch left more below that UIDNEXT: the next batch goes on
    /// without a new SELECT.
    draining: Option<(u32, u32)>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// What the poller knows of a message before downloading it.
#[derive(Debug, Clone, Copy)]
struct Meta {
    uid: u32,
    size: usize,
    done: bool,
    refused: bool,
    tries: u32,
}

impl Poller {
    /// A poller for `inbox`. Reads the CA file now; connects only when polling.
    pub fn new(inbox: InboxConfig) -> Result<Poller, ImapError> {
        let tls = match inbox.tls {
            Tls::None if super::config::is_loopback(&inbox.host) => None,
            Tls::None => {
                return Err(ImapError::Config(format!(
                    "plain text (tls = \"none\") is allowed only towards a loopback host, not `{}`",
                    inbox.host
                )));
            }
            Tls::Implicit | Tls::StartTls => {
                Some(super::tls::client_config(inbox.ca_file.as_deref()).map_err(ImapError::Config)?)
            }
        };
        let authenticator = Authenticator::new(inbox.authentication.clone(), None);
        Ok(Poller {
            inbox,
            tls,
            authenticator,
            attempts: Arc::default(),
            cursor: Arc::default(),
            lease: Arc::default(),
            holder: format!("poller-{}", std::process::id()),
            lease_ttl: DEFAULT_LEASE,
            connections: Connections::default(),
        })
    }

    /// The same poller judging messages with `authenticator` (which shares
    /// its DNS with the other inboxes).
    pub fn with_authenticator(mut self, authenticator: Authenticator) -> Poller {
        self.authenticator = authenticator;
        self
    }

    /// The same poller taking its inbox's lease as `holder` (this
    /// instance's id) for `ttl` at a time.
    pub fn with_lease(mut self, holder: &str, ttl: Duration) -> Poller {
        holder.clone_into(&mut self.holder);
        self.lease_ttl = ttl.max(Duration::from_secs(3));
        self
    }

    /// The same poller sharing `connections` with the other inboxes.
    pub fn with_connections(mut self, connections: Connections) -> Poller {
        self.connections = connections;
        self
    }

    /// The inbox polled.
    pub fn inbox(&self) -> &InboxConfig {
        &self.inbox
    }

    /// The key of the polled folder, under which its lease and cursor are
    /// kept: `user@host:port/folder`.
    pub fn key(&self) -> String {
        let i = &self.inbox;
        format!("{}@{}:{}/{}", i.user, i.host, i.port, i.folder)
    }

    /// Polls until `shutdown` completes. With a connection of its own and a
    /// server that has `IDLE`, the poller waits in `IDLE` and polls when
    /// the folder changes (and every few minutes, renewing its lease);
    /// otherwise every `interval`. It polls again at once after a full
    /// batch, and after failures with a doubling wait (at most 15 minutes).
    /// While another instance holds the inbox's lease, it only checks, now
    /// and then, whether the lease ran out. Failures and what each poll did
    /// are logged (target `invitelink::mail`, no secrets). When `shutdown`
    /// completes during a poll, the batch in hand is finished first (within
    /// [`SHUTDOWN_GRACE`]), then the lease is given up.
    pub async fn run<S: InboxSink>(&self, sink: &S, interval: Duration, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut failures: u32 = 0;
        let mut conn: Option<Connected> = None;
        // Polls recorded together while a full folder is drained (one write
        // a second instead of one per batch), each one once the folder is
        // drained, on an error and on stopping.
        let mut unrecorded: Option<(PollReport, Instant)> = None;
        loop {
            let result = {
                let cycle = tokio::time::timeout(POLL_TIMEOUT, self.cycle(&mut conn, sink));
                let mut cycle = std::pin::pin!(cycle);
                tokio::select! {
                    r = &mut cycle => Some(r),
                    () = &mut shutdown => {
                        // Stopping: the batch in hand is finished (its
                        // messages marked and its cursor written), within a bound.
                        if tokio::time::timeout(SHUTDOWN_GRACE, &mut cycle).await.is_err() {
                            tracing::warn!(target: "invitelink::mail", inbox = %self.inbox.name,
                                "the batch in hand was not finished in time; its messages are offered again");
                        }
                        None
                    }
                }
            };
            let Some(result) = result else { break };
            let name = &self.inbox.name;
            match &result {
                Ok(Ok(report)) if !report.elsewhere => {
                    let (pending, since) = unrecorded.get_or_insert_with(|| (PollReport::default(), Instant::now()));
                    pending.add(report);
                    let due = !report.more || report.deferred.is_some() || since.elapsed() >= RECORD_EVERY;
                    if due && let Some((pending, _)) = unrecorded.take() {
                        sink.record_poll(name, Some(&pending), pending.deferred.as_deref()).await;
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => sink.record_poll(name, None, Some(&e.to_string())).await,
                Err(_) => {
                    let e = format!("the poll took longer than {} s", POLL_TIMEOUT.as_secs());
                    sink.record_poll(name, None, Some(&e)).await;
                }
            }
            let (wait, keep) = match result {
                Ok(Ok(report)) => {
                    failures = 0;
                    crate::metrics::polled(name);
                    if !report.applied.is_empty() || !report.rejected.is_empty() || !report.failed.is_empty() {
                        tracing::info!(
                            target: "invitelink::mail",
                            inbox = %name,
                            applied = report.applied.len(),
                            rejected = report.rejected.len(),
                            failed = report.failed.len(),
                            "polled (failed messages are tried again later)"
                        );
                    } else {
                        tracing::debug!(target: "invitelink::mail", inbox = %name, elsewhere = report.elsewhere, "polled");
                    }
                    if let Some(e) = &report.deferred {
                        tracing::warn!(target: "invitelink::mail", inbox = %name, error = %e, "delivery deferred");
                        (error_backoff(interval, 1), false)
                    } else if report.elsewhere {
                        (interval.min(self.lease_ttl / 2), false)
                    } else if !report.failed.is_empty() {
                        (error_backoff(interval, 1), true)
                    } else if report.more {
                        (Duration::ZERO, true)
                    } else {
                        (interval, true)
                    }
                }
                Ok(Err(e)) => {
                    failures = failures.saturating_add(1);
                    crate::metrics::poll_failed(name);
                    tracing::warn!(target: "invitelink::mail", inbox = %name, error = %e, failures, "poll failed");
                    (error_backoff(interval, failures), false)
                }
                Err(_) => {
                    failures = failures.saturating_add(1);
                    crate::metrics::poll_failed(name);
                    tracing::warn!(target: "invitelink::mail", inbox = %name, seconds = POLL_TIMEOUT.as_secs(),
                        "the poll took too long");
                    (error_backoff(interval, failures), false)
                }
            };
            if wait.is_zero() {
                continue;
            }
            let idle = keep && self.connections.idle && conn.as_ref().is_some_and(|c| c.idle);
            match conn.take() {
                Some(c) if idle => {
                    let limit = MAX_IDLE.min(self.lease_ttl / 3).max(Duration::from_secs(1));
                    tokio::select! {
                        r = idle_wait(c, limit) => conn = r.ok(),
                        () = &mut shutdown => break,
                    }
                    continue;
                }
                Some(mut c) => {
                    // The outcome is marked already; a failed LOGOUT changes nothing.
                    let _ = tokio::time::timeout(CONNECT_TIMEOUT, c.session.logout()).await;
                }
                None => {}
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = &mut shutdown => break,
            }
        }
        if let Some((pending, _)) = unrecorded {
            sink.record_poll(&self.inbox.name, Some(&pending), pending.deferred.as_deref()).await;
        }
        self.give_up_lease(sink).await;
        tracing::info!(target: "invitelink::mail", inbox = %self.inbox.name, "poller stopped");
    }

    /// One poll: at most `batch` messages delivered and marked.
    pub async fn poll_once<S: InboxSink>(&self, sink: &S) -> Result<PollReport, ImapError> {
        let mut conn = None;
        let result = self.cycle(&mut conn, sink).await;
        if let Some(mut c) = conn {
            // The outcome is marked already; a failed LOGOUT changes nothing.
            let _ = c.session.logout().await;
        }
        result
    }

    /// Gives the lease up, if held.
    async fn give_up_lease<S: InboxSink>(&self, sink: &S) {
        let held = self.lease.lock().ok().and_then(|mut l| l.take());
        if let Some((lease, _)) = held {
            sink.release(&lease).await;
        }
    }

    /// Renews the lease at the next cycle, whenever it was renewed last
    /// (a batch refused for a lease taken over finds that out at once).
    fn renew_next_time(&self) {
        if let Ok(mut l) = self.lease.lock()
            && let Some((_, renewed)) = l.as_mut()
        {
            *renewed = Instant::now().checked_sub(self.lease_ttl).unwrap_or(*renewed);
        }
    }

    /// The lease of the inbox: the one held (renewed once a quarter of its
    /// time has passed, not at every batch: a renewal is a write of its own,
    /// and the batch's transaction checks the lease anyway), or a new one.
    async fn lease<S: InboxSink>(&self, sink: &S) -> Result<Option<Lease>, ImapError> {
        let held = self.lease.lock().ok().and_then(|l| l.clone());
        let sink_error = |e: SinkError| ImapError::Protocol(format!("the inbox's lease: {e}"));
        if let Some((lease, renewed)) = held {
            if renewed.elapsed() < self.lease_ttl / 4 {
                return Ok(Some(lease));
            }
            let now = Instant::now();
            if sink.renew(&lease, self.lease_ttl).await.map_err(sink_error)? {
                if let Ok(mut l) = self.lease.lock() {
                    *l = Some((lease.clone(), now));
                }
                return Ok(Some(lease));
            }
            tracing::warn!(target: "invitelink::mail", inbox = %self.inbox.name, "the inbox's lease was taken over by another instance");
        }
        let now = Instant::now();
        let lease = sink.acquire(&self.key(), &self.holder, self.lease_ttl).await.map_err(sink_error)?;
        if let Ok(mut l) = self.lease.lock() {
            *l = lease.clone().map(|lease| (lease, now));
        }
        if let Some(c) = lease.as_ref().and_then(|l| l.cursor)
            && let Ok(mut mine) = self.cursor.lock()
        {
            *mine = Some(c);
        }
        Ok(lease)
    }

    async fn connect(&self) -> Result<Session<Stream>, ImapError> {
        let timed_out = || ImapError::Connection(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()));
        tokio::time::timeout(CONNECT_TIMEOUT, self.connect_and_sign_in()).await.map_err(|_| timed_out())?
    }

    async fn connect_and_sign_in(&self) -> Result<Session<Stream>, ImapError> {
        let inbox = &self.inbox;
        let tcp = TcpStream::connect((inbox.host.as_str(), inbox.port))
            .await
            .map_err(|e| ImapError::Connection(format!("{}:{}: {e}", inbox.host, inbox.port)))?;
        // Commands are small and each waits for its answer: without this,
        // Nagle's algorithm holds a command's last segment back until the
        // server's delayed ACK (tens of milliseconds per batch).
        let _ = tcp.set_nodelay(true);
        let client = match inbox.tls {
            Tls::None => {
                let mut client = Client::new(Stream::Plain(tcp));
                greeting(&mut client).await?;
                client
            }
            Tls::Implicit => {
                let mut client = Client::new(Stream::Tls(Box::new(self.handshake(tcp).await?)));
                greeting(&mut client).await?;
                client
            }
            Tls::StartTls => {
                let mut client = Client::new(Stream::Plain(tcp));
                greeting(&mut client).await?;
                client
                    .run_command_and_check_ok("STARTTLS", None)
                    .await
                    .map_err(|e| ImapError::Tls(format!("STARTTLS was refused: {e}")))?;
                let Stream::Plain(tcp) = client.into_inner() else {
                    return Err(ImapError::Tls("the connection is already secured".to_owned()));
                };
                Client::new(Stream::Tls(Box::new(self.handshake(tcp).await?)))
            }
        };
        let session = match &inbox.credential {
            Credential::Password(p) => client.login(&inbox.user, p.expose()).await,
            Credential::Token(t) => {
                client.authenticate("XOAUTH2", XOAuth2 { user: &inbox.user, token: t.expose() }).await
            }
        };
        session.map_err(|(e, _)| ImapError::Auth(e.to_string()))
    }

    async fn handshake(&self, tcp: TcpStream) -> Result<TlsStream<TcpStream>, ImapError> {
        let Some(config) = &self.tls else {
            return Err(ImapError::Config("TLS is not set up for this inbox".to_owned()));
        };
        let name = ServerName::try_from(self.inbox.host.clone())
            .map_err(|e| ImapError::Config(format!("`{}` is not a host name: {e}", self.inbox.host)))?;
        TlsConnector::from(config.clone()).connect(name, tcp).await.map_err(|e| ImapError::Tls(e.to_string()))
    }

    /// Connects, signs in, and learns what the server can do; makes the
    /// processed and rejected folders when missing.
    async fn open(&self) -> Result<Connected, ImapError> {
        let permit = self
            .connections
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ImapError::Connection("the pollers are stopping".to_owned()))?;
        let mut session = self.connect().await?;
        let inbox = &self.inbox;
        let capabilities = session.capabilities().await?;
        let can_move = capabilities.has_str("MOVE");
        let uidplus = capabilities.has_str("UIDPLUS");
        let idle = capabilities.has_str("IDLE");
        let delimiter = hierarchy_delimiter(&mut session).await?;
        let processed = server_folder(&inbox.processed_folder, delimiter.as_deref());
        let rejected = server_folder(&inbox.rejected_folder, delimiter.as_deref());
        if inbox.mark == Mark::Move {
            ensure_folder(&mut session, &processed).await?;
            ensure_folder(&mut session, &rejected).await?;
        }
        let marker = Marker { mark: inbox.mark, can_move, uidplus, keywords: true, processed, rejected };
        Ok(Connected { session, idle, marker, draining: None, _permit: permit })
    }

    /// One poll on `conn` (opened when `None`; left `None` after an error).
    async fn cycle<S: InboxSink>(&self, conn: &mut Option<Connected>, sink: &S) -> Result<PollReport, ImapError> {
        let Some(lease) = self.lease(sink).await? else {
            return Ok(PollReport { elsewhere: true, ..PollReport::default() });
        };
        let mut c = match conn.take() {
            Some(c) => c,
            None => self.open().await?,
        };
        let report = match self.process(&mut c, sink, &lease).await {
            Ok(report) => report,
            Err(e) => {
                self.renew_next_time();
                return Err(e);
            }
        };
        if report.deferred.is_some() {
            self.renew_next_time();
        }
        *conn = Some(c);
        Ok(report)
    }

    /// Selects the folder and handles what is new since the cursor (a
    /// bounded UID range), else what stays below it (messages to retry, or
    /// marked but not yet moved).
    async fn process<S: InboxSink>(&self, c: &mut Connected, sink: &S, lease: &Lease) -> Result<PollReport, ImapError> {
        let report = self.process_selected(c, sink, lease).await;
        c.draining = match &report {
            Ok(r) if r.more && r.deferred.is_none() && r.failed.is_empty() => c.draining,
            _ => None,
        };
        report
    }

    async fn process_selected<S: InboxSink>(
        &self,
        c: &mut Connected,
        sink: &S,
        lease: &Lease,
    ) -> Result<PollReport, ImapError> {
        let inbox = &self.inbox;
        let stored = self.cursor.lock().ok().and_then(|c| *c);
        // Draining a full folder: the next batch from the cursor, in the
        // folder still selected (a SELECT of a big folder costs more than
        // the batch's fetch); a new message arrived meanwhile is in the
        // server's view as well.
        if let (Some((validity, uid_next)), Some(cursor)) = (c.draining, stored)
            && cursor.uid_validity == validity
            && cursor.next_uid < uid_next
        {
            while c.session.unsolicited_responses.try_recv().is_ok() {}
            let (metas, next, _) = self.scan(&mut c.session, cursor.next_uid, Some(uid_next)).await?;
            let after = Cursor { uid_validity: validity, next_uid: next };
            let mut report = self.handle(c, sink, lease, metas, after).await?;
            // Past the UIDNEXT of the last SELECT, the next cycle selects
            // again: it sees what arrived meanwhile and what stays below
            // the cursor.
            report.more |= report.deferred.is_none();
            return Ok(report);
        }
        c.draining = None;
        let mailbox = c.session.select(&inbox.folder).await?;
        c.marker.keywords = mailbox.permanent_flags.iter().any(|f| matches!(f, Flag::MayCreate))
            || [PROCESSED_KEYWORD, REJECTED_KEYWORD]
                .iter()
                .all(|k| mailbox.permanent_flags.iter().any(|f| matches!(f, Flag::Custom(c) if c == k)));
        if inbox.mark == Mark::Keyword && !c.marker.keywords {
            return Err(ImapError::Config(format!(
                "the folder `{}` does not keep keywords; use mark = \"move\"",
                inbox.folder
            )));
        }
        let validity = mailbox.uid_validity.unwrap_or(0);
        // A new UIDVALIDITY: the folder is read again from its first UID;
        // the sink's record of applied messages keeps that from applying
        // anything twice.
        let cursor = match stored {
            Some(s) if s.uid_validity == validity => s,
            _ => Cursor { uid_validity: validity, next_uid: 1 },
        };
        let uid_next = mailbox.uid_next;
        // Untagged answers nobody asked for are dropped, not kept.
        while c.session.unsolicited_responses.try_recv().is_ok() {}
        if uid_next.is_none_or(|n| n > cursor.next_uid) {
            let (metas, next, more) = self.scan(&mut c.session, cursor.next_uid, uid_next).await?;
            let after = Cursor { uid_validity: validity, next_uid: next };
            let mut report = self.handle(c, sink, lease, metas, after).await?;
            report.more |= more && report.deferred.is_none();
            c.draining = uid_next.filter(|_| report.more).map(|n| (validity, n));
            return Ok(report);
        }
        if mailbox.exists == 0 || cursor.next_uid <= 1 {
            return Ok(PollReport::default());
        }
        // Nothing new, yet the folder holds messages: those below the cursor.
        let below = cursor.next_uid.saturating_sub(1);
        let query = match inbox.mark {
            Mark::Move => format!("UID 1:{below}"),
            Mark::Keyword => format!("UID 1:{below} UNKEYWORD {PROCESSED_KEYWORD} UNKEYWORD {REJECTED_KEYWORD}"),
        };
        let mut uids: Vec<u32> = c.session.uid_search(&query).await?.into_iter().filter(|u| *u <= below).collect();
        uids.sort_unstable();
        let more = uids.len() > inbox.batch;
        uids.truncate(inbox.batch);
        if uids.is_empty() {
            return Ok(PollReport::default());
        }
        let mut metas = fetch_meta(&mut c.session, &uid_set(&uids)).await?;
        metas.sort_unstable_by_key(|m| m.uid);
        let more = within_budget(&mut metas, inbox.max_message_bytes) || more;
        let mut report = self.handle(c, sink, lease, metas, cursor).await?;
        report.more |= more && report.deferred.is_none();
        Ok(report)
    }

    /// The messages from UID `from` on, at most a batch, read in UID
    /// windows that widen while they come back empty (UIDs left by moved
    /// messages); with the next UID to read after them and whether more are
    /// left.
    async fn scan(
        &self,
        session: &mut Session<Stream>,
        from: u32,
        uid_next: Option<u32>,
    ) -> Result<(Vec<Meta>, u32, bool), ImapError> {
        let batch = u32::try_from(self.inbox.batch).unwrap_or(u32::MAX).max(1);
        let last = uid_next.map(|n| n.saturating_sub(1));
        let mut window = batch;
        let mut start = from;
        let mut found: Vec<Meta> = Vec::new();
        for _ in 0..MAX_SCAN_STEPS {
            let end = start.saturating_add(window.saturating_sub(1));
            let (range, reached_end) = match last {
                Some(l) if end >= l => (format!("{start}:{l}"), true),
                Some(_) => (format!("{start}:{end}"), false),
                None => (format!("{start}:*"), true),
            };
            // `N:*` names the last message even when its UID is below N.
            let mut metas: Vec<Meta> =
                fetch_meta(session, &range).await?.into_iter().filter(|m| m.uid >= start).collect();
            found.append(&mut metas);
            found.sort_unstable_by_key(|m| m.uid);
            let cut = within_budget(&mut found, self.inbox.max_message_bytes);
            if cut || found.len() >= self.inbox.batch {
                found.truncate(self.inbox.batch);
                let next = found.last().map_or(start, |m| m.uid.saturating_add(1));
                let more = last.is_none_or(|l| next <= l);
                return Ok((found, next, more));
            }
            if reached_end {
                let next = match uid_next {
                    Some(n) => n,
                    None => found.last().map_or(start, |m| m.uid.saturating_add(1)),
                };
                return Ok((found, next, false));
            }
            start = end.saturating_add(1);
            window = window.saturating_mul(4);
        }
        let next = found.last().map_or(start, |m| m.uid.saturating_add(1)).max(start);
        Ok((found, next, true))
    }

    /// Delivers the messages of `metas` as one batch, writes `after` as the
    /// cursor in the same transaction, then marks and moves them by outcome.
    async fn handle<S: InboxSink>(
        &self,
        c: &mut Connected,
        sink: &S,
        lease: &Lease,
        metas: Vec<Meta>,
        after: Cursor,
    ) -> Result<PollReport, ImapError> {
        let inbox = &self.inbox;
        let keywords = c.marker.keywords;
        let mut report = PollReport::default();
        let mut marks: Vec<(u32, Outcome)> = Vec::new();
        let mut wanted: Vec<(Meta, u32)> = Vec::new();
        for m in metas {
            if m.done || m.refused {
                marks.push((m.uid, if m.done { Outcome::Applied } else { Outcome::Rejected }));
                report.resumed.push(m.uid);
            } else if m.size > inbox.max_message_bytes {
                marks.push((m.uid, Outcome::Rejected));
                report.rejected.push(Rejection {
                    uid: m.uid,
                    code: "too_large".to_owned(),
                    message: format!(
                        "the e-mail is {} bytes, more than the limit of {}",
                        m.size, inbox.max_message_bytes
                    ),
                });
            } else {
                let tries = if keywords { m.tries } else { self.remembered_tries(m.uid) };
                wanted.push((m, tries));
            }
        }
        let bodies = if wanted.is_empty() {
            HashMap::new()
        } else {
            let set = uid_set(&wanted.iter().map(|(m, _)| m.uid).collect::<Vec<_>>());
            let fetched: Vec<Fetch> = c.session.uid_fetch(&set, "(UID BODY.PEEK[])").await?.try_collect().await?;
            fetched.iter().filter_map(|f| Some((f.uid?, f.body()?.to_vec()))).collect::<HashMap<u32, Vec<u8>>>()
        };
        // Tried too often already (by pollers that died during delivery):
        // moved aside without another try.
        let mut batch: Vec<(u32, u32)> = Vec::new();
        let mut deferred = None;
        for (m, tries) in wanted {
            let Some(raw) = bodies.get(&m.uid) else { continue }; // expunged meanwhile
            if tries < inbox.max_attempts {
                batch.push((m.uid, tries.saturating_add(1)));
                continue;
            }
            let why = format!("delivery was tried {tries} times without an outcome");
            match sink.set_aside(&inbox.address, raw, TOO_MANY_ATTEMPTS, &why).await {
                Ok(()) => {
                    marks.push((m.uid, Outcome::Rejected));
                    self.forget(m.uid);
                    report.rejected.push(Rejection { uid: m.uid, code: TOO_MANY_ATTEMPTS.to_owned(), message: why });
                }
                Err(e) => {
                    deferred = Some(e.message);
                    break;
                }
            }
        }
        if deferred.is_some() {
            c.marker.mark(&mut c.session, &marks).await?;
            report.deferred = deferred;
            return Ok(report);
        }
        // Deliveries are counted before they start, so that one that never
        // ends (the process died) counts too.
        self.count_attempts(&mut c.session, &batch, keywords, true).await?;
        let mut incoming = Vec::with_capacity(batch.len());
        for (uid, _) in &batch {
            let raw = bodies.get(uid).cloned().unwrap_or_default();
            let judgement = self.authenticator.judge(&raw).await;
            incoming.push(Incoming { raw, judgement });
        }
        let delivered = sink.deliver_batch(&inbox.address, incoming, lease, after).await;
        for ((uid, this_try), outcome) in batch.iter().zip(&delivered.outcomes) {
            let uid = *uid;
            match outcome {
                Ok(Delivered::Applied) => {
                    marks.push((uid, Outcome::Applied));
                    self.forget(uid);
                    report.applied.push(uid);
                }
                Ok(Delivered::Rejected { code, message }) => {
                    marks.push((uid, Outcome::Rejected));
                    self.forget(uid);
                    report.rejected.push(Rejection { uid, code: code.clone(), message: message.clone() });
                }
                Err(e) if *this_try >= inbox.max_attempts => {
                    let why = format!("delivery failed {this_try} times; the last error: {}", e.message);
                    let raw = bodies.get(&uid).map(Vec::as_slice).unwrap_or_default();
                    match sink.set_aside(&inbox.address, raw, TOO_MANY_ATTEMPTS, &why).await {
                        Ok(()) => {
                            marks.push((uid, Outcome::Rejected));
                            self.forget(uid);
                            report.rejected.push(Rejection { uid, code: TOO_MANY_ATTEMPTS.to_owned(), message: why });
                        }
                        Err(e) => report.deferred = Some(e.message),
                    }
                }
                // This message fails, the sink works: the others go on, and
                // it is tried again (it stays below the cursor).
                Err(e) => report.failed.push((uid, e.message.clone())),
            }
        }
        match delivered.stopped {
            Some(e) => {
                // The sink is down (or the lease is another's): these tries
                // do not count against the messages, the cursor stays.
                let untried = batch.get(delivered.outcomes.len()..).unwrap_or_default();
                self.count_attempts(&mut c.session, untried, keywords, false).await?;
                report.deferred = Some(e.message);
            }
            None => {
                if let Ok(mut mine) = self.cursor.lock() {
                    *mine = Some(after);
                }
            }
        }
        c.marker.mark(&mut c.session, &marks).await?;
        Ok(report)
    }
}

/// The code of a message moved aside after too many failed deliveries.
pub const TOO_MANY_ATTEMPTS: &str = "too_many_attempts";

impl Poller {
    fn remembered_tries(&self, uid: u32) -> u32 {
        self.attempts.lock().map(|m| m.get(&uid).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// Counts (`add`) or uncounts the tries `(uid, try)`: one `STORE` per
    /// try number, or in memory where the folder keeps no keywords.
    async fn count_attempts(
        &self,
        session: &mut Session<Stream>,
        tries: &[(u32, u32)],
        keywords: bool,
        add: bool,
    ) -> Result<(), ImapError> {
        if !keywords {
            if let Ok(mut m) = self.attempts.lock() {
                for (uid, attempt) in tries {
                    m.insert(*uid, if add { *attempt } else { attempt.saturating_sub(1) });
                }
            }
            return Ok(());
        }
        let mut numbers: Vec<u32> = tries.iter().map(|t| t.1).collect();
        numbers.sort_unstable();
        numbers.dedup();
        for n in numbers {
            let uids: Vec<u32> = tries.iter().filter(|t| t.1 == n).map(|t| t.0).collect();
            let flag = format!("{}FLAGS.SILENT ({ATTEMPT_KEYWORD}{n})", if add { '+' } else { '-' });
            drain(session.uid_store(uid_set(&uids), flag).await?).await?;
        }
        Ok(())
    }

    fn forget(&self, uid: u32) {
        if let Ok(mut m) = self.attempts.lock() {
            m.remove(&uid);
        }
    }
}

/// Waits in `IDLE` until the folder changes or `limit` passes, and gives
/// the session back (an error: the connection is dropped).
async fn idle_wait(c: Connected, limit: Duration) -> Result<Connected, ImapError> {
    let Connected { session, idle, marker, _permit, .. } = c;
    let mut handle = session.idle();
    handle.init().await?;
    let (wait, _stop) = handle.wait_with_timeout(limit);
    let waited = wait.await;
    let session = handle.done().await?;
    waited?;
    Ok(Connected { session, idle, marker, draining: None, _permit })
}

/// The flags and size of the messages of the UID set `set`.
async fn fetch_meta(session: &mut Session<Stream>, set: &str) -> Result<Vec<Meta>, ImapError> {
    let fetched: Vec<Fetch> = session.uid_fetch(set, "(UID FLAGS RFC822.SIZE)").await?.try_collect().await?;
    let mut metas: Vec<Meta> = fetched
        .iter()
        .filter_map(|f| {
            let has = |k: &str| f.flags().any(|fl| matches!(fl, Flag::Custom(c) if c == k));
            let tries = f
                .flags()
                .filter_map(|fl| match fl {
                    Flag::Custom(c) => c.strip_prefix(ATTEMPT_KEYWORD).and_then(|n| n.parse::<u32>().ok()),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            let size = f.size.map(|s| s as usize).unwrap_or(0);
            Some(Meta { uid: f.uid?, size, done: has(PROCESSED_KEYWORD), refused: has(REJECTED_KEYWORD), tries })
        })
        .collect();
    metas.sort_unstable_by_key(|m| m.uid);
    metas.dedup_by_key(|m| m.uid);
    Ok(metas)
}

/// A UID set in its short form: `3:5,9`.
fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(first) = iter.next() {
        let mut last = first;
        while iter.peek() == Some(&last.saturating_add(1)) {
            last = iter.next().unwrap_or(last);
        }
        if !out.is_empty() {
            out.push(',');
        }
        if first == last {
            out.push_str(&first.to_string());
        } else {
            out.push_str(&format!("{first}:{last}"));
        }
    }
    out
}

/// How messages are marked in one poll.
struct Marker {
    mark: Mark,
    can_move: bool,
    uidplus: bool,
    keywords: bool,
    processed: String,
    rejected: String,
}

impl Marker {
    /// Flags and moves the messages by outcome: one `STORE` and one `UID
    /// MOVE` (or `COPY`, `\Deleted`, `UID EXPUNGE`) per outcome.
    async fn mark(&self, session: &mut Session<Stream>, marks: &[(u32, Outcome)]) -> Result<(), ImapError> {
        for outcome in [Outcome::Applied, Outcome::Rejected] {
            let uids: Vec<u32> = marks.iter().filter(|m| m.1 == outcome).map(|m| m.0).collect();
            if uids.is_empty() {
                continue;
            }
            self.mark_set(session, &uid_set(&uids), outcome).await?;
        }
        Ok(())
    }

    async fn mark_set(&self, session: &mut Session<Stream>, set: &str, outcome: Outcome) -> Result<(), ImapError> {
        let (flags, folder) = match (outcome, self.keywords) {
            (Outcome::Applied, true) => (format!("\\Seen {PROCESSED_KEYWORD}"), &self.processed),
            (Outcome::Applied, false) => ("\\Seen".to_owned(), &self.processed),
            (Outcome::Rejected, true) => (REJECTED_KEYWORD.to_owned(), &self.rejected),
            (Outcome::Rejected, false) => (String::new(), &self.rejected),
        };
        if !flags.is_empty() {
            drain(session.uid_store(set, format!("+FLAGS.SILENT ({flags})")).await?).await?;
        }
        if self.mark == Mark::Keyword {
            return Ok(());
        }
        if self.can_move {
            session.uid_mv(set, folder).await?;
            return Ok(());
        }
        session.uid_copy(set, folder).await?;
        drain(session.uid_store(set, "+FLAGS.SILENT (\\Deleted)").await?).await?;
        if self.uidplus {
            let expunged: Vec<_> = session.uid_expunge(set).await?.try_collect().await?;
            drop(expunged);
        } else {
            let expunged: Vec<_> = session.expunge().await?.try_collect().await?;
            drop(expunged);
        }
        Ok(())
    }
}

async fn drain<S>(stream: S) -> Result<(), ImapError>
where
    S: futures_util::Stream<Item = async_imap::error::Result<Fetch>>,
{
    let mut stream = std::pin::pin!(stream);
    while stream.try_next().await?.is_some() {}
    Ok(())
}

async fn greeting(client: &mut Client<Stream>) -> Result<(), ImapError> {
    match client.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ImapError::Connection("the server closed the connection before its greeting".to_owned())),
        Err(e) => Err(ImapError::Connection(e.to_string())),
    }
}

/// The server's hierarchy delimiter (`LIST "" ""`, RFC 3501 6.3.8).
async fn hierarchy_delimiter(session: &mut Session<Stream>) -> Result<Option<String>, ImapError> {
    let names: Vec<_> = session.list(Some(""), Some("\"\"")).await?.try_collect().await?;
    Ok(names.first().and_then(|n| n.delimiter().map(str::to_owned)))
}

/// A configured folder path (`/` between levels) in the server's spelling.
fn server_folder(path: &str, delimiter: Option<&str>) -> String {
    let levels: Vec<&str> = path.split('/').filter(|l| !l.is_empty()).collect();
    levels.join(delimiter.unwrap_or("-"))
}

async fn ensure_folder(session: &mut Session<Stream>, folder: &str) -> Result<(), ImapError> {
    let pattern = format!("\"{folder}\"");
    let found: Vec<_> = session.list(Some(""), Some(&pattern)).await?.try_collect().await?;
    if found.is_empty() {
        session.create(folder).await.map_err(|e| ImapError::Protocol(format!("`{folder}` cannot be created: {e}")))?;
    }
    Ok(())
}

fn error_backoff(interval: Duration, failures: u32) -> Duration {
    let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
    interval.saturating_mul(factor).min(MAX_ERROR_BACKOFF.max(interval))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn meta(uid: u32, size: usize) -> Meta {
        Meta { uid, size, done: false, refused: false, tries: 0 }
    }

    #[test]
    fn a_batch_stops_at_its_byte_budget_and_keeps_at_least_one_message() {
        let big = BATCH_BYTES / 2 + 1;
        let mut metas = vec![meta(1, 10), meta(2, big), meta(3, big), meta(4, 10)];
        assert!(within_budget(&mut metas, usize::MAX));
        assert_eq!(metas.iter().map(|m| m.uid).collect::<Vec<_>>(), [1, 2]);
        // One message above the budget still goes, alone.
        let mut metas = vec![meta(7, BATCH_BYTES * 2), meta(8, 10)];
        assert!(within_budget(&mut metas, usize::MAX));
        assert_eq!(metas.iter().map(|m| m.uid).collect::<Vec<_>>(), [7]);
        // Messages that are not downloaded cost nothing: too large, or
        // already applied.
        let mut metas = vec![meta(1, BATCH_BYTES * 2), meta(2, big), meta(3, 10)];
        metas[1].done = true;
        assert!(!within_budget(&mut metas, BATCH_BYTES));
        assert_eq!(metas.len(), 3);
        let mut metas = vec![meta(1, 10), meta(2, 10)];
        assert!(!within_budget(&mut metas, usize::MAX));
        assert_eq!(metas.len(), 2);
    }

    #[test]
    fn folders_take_the_server_delimiter() {
        assert_eq!(server_folder("invitelink/processed", Some(".")), "invitelink.processed");
        assert_eq!(server_folder("invitelink/processed", Some("/")), "invitelink/processed");
        assert_eq!(server_folder("invitelink/processed", None), "invitelink-processed");
    }

    #[test]
    fn uid_sets_are_short() {
        assert_eq!(uid_set(&[5, 3, 4, 9, 11, 10, 3]), "3:5,9:11");
        assert_eq!(uid_set(&[7]), "7");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn error_backoff_doubles_up_to_fifteen_minutes() {
        let i = Duration::from_secs(60);
        assert_eq!(error_backoff(i, 1), Duration::from_secs(120));
        assert_eq!(error_backoff(i, 3), Duration::from_secs(480));
        assert_eq!(error_backoff(i, 40), MAX_ERROR_BACKOFF);
        assert_eq!(error_backoff(Duration::from_secs(3600), 2), Duration::from_secs(3600));
    }
}
