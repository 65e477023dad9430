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
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

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

    /// Whether the sink works at all (its database answers): after a failed
    /// delivery, tells a message that fails from a sink that is down.
    fn available(&self) -> impl Future<Output = bool> + Send {
        async { true }
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

/// Polls one inbox.
#[derive(Debug, Clone)]
pub struct Poller {
    inbox: InboxConfig,
    tls: Option<Arc<ClientConfig>>,
    authenticator: Authenticator,
    /// Deliveries counted here where the folder keeps no keywords.
    attempts: Arc<std::sync::Mutex<HashMap<u32, u32>>>,
}

/// What became of one message.
enum Outcome {
    Applied,
    Rejected,
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
        Ok(Poller { inbox, tls, authenticator, attempts: Arc::default() })
    }

    /// The same poller judging messages with `authenticator` (which shares
    /// its DNS with the other inboxes).
    pub fn with_authenticator(mut self, authenticator: Authenticator) -> Poller {
        self.authenticator = authenticator;
        self
    }

    /// The inbox polled.
    pub fn inbox(&self) -> &InboxConfig {
        &self.inbox
    }

    /// Polls until `shutdown` completes: every `interval`, at once again
    /// after a full batch, and after failures with a doubling wait (at most
    /// 15 minutes). Failures and what each poll did are written to stderr
    /// (no secrets).
    pub async fn run<S: InboxSink>(&self, sink: &S, interval: Duration, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut failures: u32 = 0;
        loop {
            let result = tokio::select! {
                r = tokio::time::timeout(POLL_TIMEOUT, self.poll_once(sink)) => r,
                () = &mut shutdown => return,
            };
            let name = &self.inbox.name;
            let wait = match result {
                Ok(Ok(report)) => {
                    failures = 0;
                    if !report.applied.is_empty() || !report.rejected.is_empty() || !report.failed.is_empty() {
                        eprintln!(
                            "mail: inbox `{name}`: {} applied, {} rejected, {} failed (tried again later)",
                            report.applied.len(),
                            report.rejected.len(),
                            report.failed.len()
                        );
                    }
                    if let Some(e) = &report.deferred {
                        eprintln!("mail: inbox `{name}`: delivery deferred: {e}");
                        error_backoff(interval, 1)
                    } else if !report.failed.is_empty() {
                        error_backoff(interval, 1)
                    } else if report.more {
                        Duration::ZERO
                    } else {
                        interval
                    }
                }
                Ok(Err(e)) => {
                    failures = failures.saturating_add(1);
                    eprintln!("mail: inbox `{name}`: {e}");
                    error_backoff(interval, failures)
                }
                Err(_) => {
                    failures = failures.saturating_add(1);
                    eprintln!("mail: inbox `{name}`: the poll took longer than {} s", POLL_TIMEOUT.as_secs());
                    error_backoff(interval, failures)
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = &mut shutdown => return,
            }
        }
    }

    /// One poll: at most `batch` messages delivered and marked.
    pub async fn poll_once<S: InboxSink>(&self, sink: &S) -> Result<PollReport, ImapError> {
        let mut session = self.connect().await?;
        let result = self.process(&mut session, sink).await;
        // The outcome is marked already; a failed LOGOUT changes nothing.
        let _ = session.logout().await;
        result
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

    async fn process<S: InboxSink>(&self, session: &mut Session<Stream>, sink: &S) -> Result<PollReport, ImapError> {
        let inbox = &self.inbox;
        let capabilities = session.capabilities().await?;
        let can_move = capabilities.has_str("MOVE");
        let uidplus = capabilities.has_str("UIDPLUS");
        let delimiter = hierarchy_delimiter(session).await?;
        let processed = server_folder(&inbox.processed_folder, delimiter.as_deref());
        let rejected = server_folder(&inbox.rejected_folder, delimiter.as_deref());
        if inbox.mark == Mark::Move {
            ensure_folder(session, &processed).await?;
            ensure_folder(session, &rejected).await?;
        }
        let mailbox = session.select(&inbox.folder).await?;
        let keywords = mailbox.permanent_flags.iter().any(|f| matches!(f, Flag::MayCreate))
            || [PROCESSED_KEYWORD, REJECTED_KEYWORD]
                .iter()
                .all(|k| mailbox.permanent_flags.iter().any(|f| matches!(f, Flag::Custom(c) if c == k)));
        if inbox.mark == Mark::Keyword && !keywords {
            return Err(ImapError::Config(format!(
                "the folder `{}` does not keep keywords; use mark = \"move\"",
                inbox.folder
            )));
        }
        let query = match inbox.mark {
            Mark::Move => "ALL".to_owned(),
            Mark::Keyword => format!("UNKEYWORD {PROCESSED_KEYWORD} UNKEYWORD {REJECTED_KEYWORD}"),
        };
        let mut uids: Vec<u32> = session.uid_search(&query).await?.into_iter().collect();
        uids.sort_unstable();
        let mut report = PollReport { more: uids.len() > inbox.batch, ..PollReport::default() };
        uids.truncate(inbox.batch);
        if uids.is_empty() {
            return Ok(report);
        }
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let meta: Vec<Fetch> = session.uid_fetch(&set, "(UID FLAGS RFC822.SIZE)").await?.try_collect().await?;
        let meta: HashMap<u32, (usize, bool, bool, u32)> = meta
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
                f.uid.map(|u| (u, (size, has(PROCESSED_KEYWORD), has(REJECTED_KEYWORD), tries)))
            })
            .collect();
        let marker = Marker { mark: inbox.mark, can_move, uidplus, keywords, processed, rejected };
        for uid in uids {
            let Some(&(size, done, refused, tries)) = meta.get(&uid) else { continue };
            if done || refused {
                marker.mark(session, uid, if done { Outcome::Applied } else { Outcome::Rejected }).await?;
                report.resumed.push(uid);
                continue;
            }
            if size > inbox.max_message_bytes {
                marker.mark(session, uid, Outcome::Rejected).await?;
                report.rejected.push(Rejection {
                    uid,
                    code: "too_large".to_owned(),
                    message: format!("the e-mail is {size} bytes, more than the limit of {}", inbox.max_message_bytes),
                });
                continue;
            }
            let fetched: Vec<Fetch> =
                session.uid_fetch(uid.to_string(), "(UID BODY.PEEK[])").await?.try_collect().await?;
            let Some(raw) = fetched.iter().find(|f| f.uid == Some(uid)).and_then(|f| f.body()) else {
                continue; // expunged meanwhile
            };
            // Deliveries are counted before they start, so that one that
            // never ends (the process died) counts too.
            let tries = if keywords {
                tries
            } else {
                self.attempts.lock().map(|m| m.get(&uid).copied().unwrap_or(0)).unwrap_or(0)
            };
            if tries >= inbox.max_attempts {
                let why = format!("delivery was tried {tries} times without an outcome");
                match sink.set_aside(&inbox.address, raw, TOO_MANY_ATTEMPTS, &why).await {
                    Ok(()) => {
                        marker.mark(session, uid, Outcome::Rejected).await?;
                        self.forget(uid);
                        report.rejected.push(Rejection { uid, code: TOO_MANY_ATTEMPTS.to_owned(), message: why });
                        continue;
                    }
                    Err(e) => {
                        report.deferred = Some(e.message);
                        break;
                    }
                }
            }
            let this_try = tries.saturating_add(1);
            self.count_attempt(session, uid, this_try, keywords).await?;
            let judgement = self.authenticator.judge(raw).await;
            match sink.deliver(&inbox.address, raw, &judgement).await {
                Ok(Delivered::Applied) => {
                    marker.mark(session, uid, Outcome::Applied).await?;
                    self.forget(uid);
                    report.applied.push(uid);
                }
                Ok(Delivered::Rejected { code, message }) => {
                    marker.mark(session, uid, Outcome::Rejected).await?;
                    self.forget(uid);
                    report.rejected.push(Rejection { uid, code, message });
                }
                Err(e) if !sink.available().await => {
                    // The sink is down: this try does not count against the
                    // message, and the rest waits for the next poll.
                    self.uncount_attempt(session, uid, this_try, keywords).await?;
                    report.deferred = Some(e.message);
                    break;
                }
                Err(e) if this_try >= inbox.max_attempts => {
                    let why = format!("delivery failed {this_try} times; the last error: {}", e.message);
                    match sink.set_aside(&inbox.address, raw, TOO_MANY_ATTEMPTS, &why).await {
                        Ok(()) => {
                            marker.mark(session, uid, Outcome::Rejected).await?;
                            self.forget(uid);
                            report.rejected.push(Rejection { uid, code: TOO_MANY_ATTEMPTS.to_owned(), message: why });
                        }
                        Err(e) => {
                            report.deferred = Some(e.message);
                            break;
                        }
                    }
                }
                Err(e) => {
                    // This message fails, the sink works: the others go on.
                    report.failed.push((uid, e.message));
                }
            }
        }
        // Untagged answers nobody asked for are dropped, not kept.
        while session.unsolicited_responses.try_recv().is_ok() {}
        Ok(report)
    }
}

/// The code of a message moved aside after too many failed deliveries.
pub const TOO_MANY_ATTEMPTS: &str = "too_many_attempts";

impl Poller {
    async fn count_attempt(
        &self,
        session: &mut Session<Stream>,
        uid: u32,
        attempt: u32,
        keywords: bool,
    ) -> Result<(), ImapError> {
        if keywords {
            let flag = format!("+FLAGS.SILENT ({ATTEMPT_KEYWORD}{attempt})");
            drain(session.uid_store(uid.to_string(), flag).await?).await?;
        } else if let Ok(mut m) = self.attempts.lock() {
            m.insert(uid, attempt);
        }
        Ok(())
    }

    async fn uncount_attempt(
        &self,
        session: &mut Session<Stream>,
        uid: u32,
        attempt: u32,
        keywords: bool,
    ) -> Result<(), ImapError> {
        if keywords {
            let flag = format!("-FLAGS.SILENT ({ATTEMPT_KEYWORD}{attempt})");
            drain(session.uid_store(uid.to_string(), flag).await?).await?;
        } else if let Ok(mut m) = self.attempts.lock() {
            m.insert(uid, attempt.saturating_sub(1));
        }
        Ok(())
    }

    fn forget(&self, uid: u32) {
        if let Ok(mut m) = self.attempts.lock() {
            m.remove(&uid);
        }
    }
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
    async fn mark(&self, session: &mut Session<Stream>, uid: u32, outcome: Outcome) -> Result<(), ImapError> {
        let uid_text = uid.to_string();
        let (flags, folder) = match (outcome, self.keywords) {
            (Outcome::Applied, true) => (format!("\\Seen {PROCESSED_KEYWORD}"), &self.processed),
            (Outcome::Applied, false) => ("\\Seen".to_owned(), &self.processed),
            (Outcome::Rejected, true) => (REJECTED_KEYWORD.to_owned(), &self.rejected),
            (Outcome::Rejected, false) => (String::new(), &self.rejected),
        };
        if !flags.is_empty() {
            drain(session.uid_store(&uid_text, format!("+FLAGS.SILENT ({flags})")).await?).await?;
        }
        if self.mark == Mark::Keyword {
            return Ok(());
        }
        if self.can_move {
            session.uid_mv(&uid_text, folder).await?;
            return Ok(());
        }
        session.uid_copy(&uid_text, folder).await?;
        drain(session.uid_store(&uid_text, "+FLAGS.SILENT (\\Deleted)").await?).await?;
        if self.uidplus {
            let expunged: Vec<_> = session.uid_expunge(&uid_text).await?.try_collect().await?;
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

    #[test]
    fn folders_take_the_server_delimiter() {
        assert_eq!(server_folder("invitelink/processed", Some(".")), "invitelink.processed");
        assert_eq!(server_folder("invitelink/processed", Some("/")), "invitelink/processed");
        assert_eq!(server_folder("invitelink/processed", None), "invitelink-processed");
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
