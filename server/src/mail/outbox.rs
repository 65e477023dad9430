//! The sender loop: messages waiting in the outbox are composed
//! ([`invitelink::imip::compose`]) and sent ([`Transport`]); each is marked sent,
//! or failed with the time of the next try (exponential backoff), or failed
//! for good.
//!
//! The outbox itself is a trait, so the backend keeps it in its database
//! (rows written in the same transaction as the change that caused them).
//! Time is passed in: [`send_due`] takes "now", [`run`] a clock.

use super::smtp::{SmtpError, Transport};
use chrono::{NaiveDateTime, TimeDelta};
use invitelink::imip::{self, OutgoingMail};
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// A message waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutboxItem {
    /// The outbox row's id.
    pub id: String,
    /// How many times sending it failed before.
    pub attempts: u32,
    /// `From` address (also the SMTP envelope sender).
    pub from: String,
    /// Display name of the sender.
    pub from_name: Option<String>,
    /// `To` address (also the SMTP envelope recipient).
    pub to: String,
    /// Display name of the recipient.
    pub to_name: Option<String>,
    /// `Reply-To` address (the CRM inbox when replies are requested).
    pub reply_to: Option<String>,
    /// Subject line.
    pub subject: String,
    /// iTIP method: `REQUEST`, `CANCEL`, `REPLY`, ...
    pub method: String,
    /// The calendar.
    pub ics: String,
    /// The text people read (none: [`imip::default_text_body`]).
    pub text_body: Option<String>,
    /// The addresses this message may be sent from: the owning associate's
    /// own address and the CRM inbox. Any other `from` is refused for good
    /// and never sent; with none given, every `from` is.
    pub allowed_senders: Vec<String>,
}

/// Whether `item` may be sent from its `from` address.
pub fn sender_allowed(item: &OutboxItem) -> bool {
    let from = item.from.trim();
    !from.is_empty() && item.allowed_senders.iter().any(|a| a.trim().eq_ignore_ascii_case(from))
}

/// The outbox could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxError {
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for OutboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "outbox: {}", self.message)
    }
}

impl std::error::Error for OutboxError {}

/// The messages waiting to be sent, kept by the backend.
pub trait Outbox: Send + Sync {
    /// The oldest message due at `now`: queued, or failed with a retry time
    /// not after `now`; none when nothing is due.
    fn next_due(&self, now: NaiveDateTime) -> impl Future<Output = Result<Option<OutboxItem>, OutboxError>> + Send;

    /// Records that the message `id` was sent at `at`.
    fn mark_sent(&self, id: &str, at: NaiveDateTime) -> impl Future<Output = Result<(), OutboxError>> + Send;

    /// Records that sending `id` failed with `error`; it is due again at
    /// `retry_at`, or never (`None`: failed for good). The implementation
    /// counts the attempt.
    fn mark_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<NaiveDateTime>,
    ) -> impl Future<Output = Result<(), OutboxError>> + Send;
}

/// When a failed message is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure; it doubles after each next one.
    pub first: TimeDelta,
    /// The longest wait.
    pub max: TimeDelta,
    /// After this many failures, the message fails for good.
    pub max_attempts: u32,
}

impl Default for Backoff {
    /// 1 minute, doubling up to 6 hours, 12 attempts: about 28 hours in all.
    fn default() -> Self {
        Backoff { first: TimeDelta::minutes(1), max: TimeDelta::hours(6), max_attempts: 12 }
    }
}

impl Backoff {
    /// When to try again after the failure that makes `attempts` failures in
    /// all (1 for the first), or `None` when that was the last attempt.
    pub fn retry_at(&self, attempts: u32, now: NaiveDateTime) -> Option<NaiveDateTime> {
        if attempts >= self.max_attempts {
            return None;
        }
        let factor = 1i32.checked_shl(attempts.saturating_sub(1).min(30)).unwrap_or(i32::MAX);
        let wait = self.first.checked_mul(factor).unwrap_or(self.max).min(self.max);
        now.checked_add_signed(wait)
    }
}

/// How the sender loop sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSettings {
    /// The domain of the `Message-ID`s (empty: the sender's domain).
    pub message_id_domain: String,
    /// Retry policy.
    pub backoff: Backoff,
    /// Most messages sent by one [`send_due`].
    pub batch: usize,
}

impl Default for SendSettings {
    fn default() -> Self {
        SendSettings { message_id_domain: String::new(), backoff: Backoff::default(), batch: 100 }
    }
}

/// What one [`send_due`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Ids sent.
    pub sent: Vec<String>,
    /// Ids that failed and will be tried again, with when.
    pub retrying: Vec<(String, NaiveDateTime)>,
    /// Ids that failed for good, with the error.
    pub failed: Vec<(String, String)>,
}

/// The e-mail of an outbox item, dated `now`.
pub fn mail_of(item: &OutboxItem, now: NaiveDateTime, message_id_domain: &str) -> OutgoingMail {
    OutgoingMail {
        from: item.from.clone(),
        from_name: item.from_name.clone(),
        to: item.to.clone(),
        to_name: item.to_name.clone(),
        reply_to: item.reply_to.clone(),
        subject: item.subject.clone(),
        text_body: item.text_body.clone().unwrap_or_else(|| imip::default_text_body(&item.method, &item.subject)),
        method: item.method.clone(),
        ics: item.ics.clone(),
        message_id_domain: message_id_domain.to_owned(),
        date: now,
    }
}

/// Sends the messages due at `now`, at most `settings.batch`, each composed,
/// sent and marked in turn. A message that cannot be composed (a malformed
/// address) or that the server refuses for good (5xx) fails for good; a
/// message that met a connection error or a 4xx answer is tried again
/// later, as `settings.backoff` says.
///
/// Errors: the outbox's own errors (the messages already marked stay so).
pub async fn send_due<O: Outbox, T: Transport>(
    outbox: &O,
    transport: &T,
    settings: &SendSettings,
    now: NaiveDateTime,
) -> Result<SendReport, OutboxError> {
    let mut report = SendReport::default();
    for _ in 0..settings.batch {
        let Some(item) = outbox.next_due(now).await? else { break };
        let result = if !sender_allowed(&item) {
            Err(SmtpError::Address(format!(
                "the sender `{}` is neither the associate's own address nor the CRM inbox; not sent",
                item.from
            )))
        } else {
            match imip::compose(&mail_of(&item, now, &settings.message_id_domain)) {
                Ok(raw) => transport.send(&item.from, std::slice::from_ref(&item.to), raw.as_bytes()).await,
                Err(e) => Err(SmtpError::Address(e.message)),
            }
        };
        match result {
            Ok(()) => {
                outbox.mark_sent(&item.id, now).await?;
                report.sent.push(item.id);
            }
            Err(e) => {
                let attempts = item.attempts.saturating_add(1);
                let retry_at = if e.is_permanent() { None } else { settings.backoff.retry_at(attempts, now) };
                let error = e.to_string();
                outbox.mark_failed(&item.id, &error, retry_at).await?;
                match retry_at {
                    Some(at) => report.retrying.push((item.id, at)),
                    None => report.failed.push((item.id, error)),
                }
            }
        }
    }
    Ok(report)
}

/// Sends what is due every `interval` (at once again after a full batch)
/// until `shutdown` completes, reading the time from `clock`; a batch being
/// sent when it completes is finished first (within the poller's shutdown
/// grace). What was sent and what failed is logged (target
/// `invitelink::mail`) and counted.
pub async fn run<O: Outbox, T: Transport>(
    outbox: &O,
    transport: &T,
    settings: &SendSettings,
    interval: Duration,
    clock: impl Fn() -> NaiveDateTime,
    shutdown: impl Future<Output = ()>,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let sending = send_due(outbox, transport, settings, clock());
        let mut sending = std::pin::pin!(sending);
        let r = tokio::select! {
            r = &mut sending => r,
            () = &mut shutdown => {
                // Stopping: the messages claimed are sent and marked, within
                // a bound, so that no claim is left to run out.
                let _ = tokio::time::timeout(super::imap::SHUTDOWN_GRACE, &mut sending).await;
                return;
            }
        };
        let wait = {
            match r {
                Ok(report) => {
                    for (id, error) in &report.failed {
                        crate::metrics::outbox_failed(true);
                        tracing::warn!(target: "invitelink::mail", outbox_id = %id, error = %error, "an outbox message failed for good");
                    }
                    for (id, at) in &report.retrying {
                        crate::metrics::outbox_failed(false);
                        tracing::info!(target: "invitelink::mail", outbox_id = %id, retry_at = %at, "an outbox message is tried again later");
                    }
                    for id in &report.sent {
                        tracing::info!(target: "invitelink::mail", outbox_id = %id, "an outbox message was sent");
                    }
                    let done = report.sent.len() + report.retrying.len() + report.failed.len();
                    if done >= settings.batch { Duration::ZERO } else { interval }
                }
                Err(e) => {
                    tracing::warn!(target: "invitelink::mail", error = %e, "the outbox could not be read");
                    interval
                }
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut shutdown => return,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct MemoryOutbox {
        rows: Mutex<Vec<(OutboxItem, Option<NaiveDateTime>, &'static str)>>,
    }

    impl Outbox for MemoryOutbox {
        async fn next_due(&self, now: NaiveDateTime) -> Result<Option<OutboxItem>, OutboxError> {
            let rows = self.rows.lock().unwrap();
            Ok(rows
                .iter()
                .find(|(_, due, status)| *status == "queued" && due.is_none_or(|d| d <= now))
                .map(|(i, _, _)| i.clone()))
        }
        async fn mark_sent(&self, id: &str, _at: NaiveDateTime) -> Result<(), OutboxError> {
            let mut rows = self.rows.lock().unwrap();
            let row = rows.iter_mut().find(|(i, _, _)| i.id == id).unwrap();
            row.2 = "sent";
            Ok(())
        }
        async fn mark_failed(&self, id: &str, _e: &str, retry_at: Option<NaiveDateTime>) -> Result<(), OutboxError> {
            let mut rows = self.rows.lock().unwrap();
            let row = rows.iter_mut().find(|(i, _, _)| i.id == id).unwrap();
            row.0.attempts += 1;
            row.1 = retry_at;
            if retry_at.is_none() {
                row.2 = "failed";
            }
            Ok(())
        }
    }

    /// Fails with the queued answers, then succeeds; records what was sent.
    #[derive(Default)]
    struct ScriptedTransport {
        answers: Mutex<Vec<SmtpError>>,
        sent: Mutex<Vec<String>>,
    }

    impl Transport for ScriptedTransport {
        async fn send(&self, _from: &str, to: &[String], raw: &[u8]) -> Result<(), SmtpError> {
            let mut answers = self.answers.lock().unwrap();
            if !answers.is_empty() {
                return Err(answers.remove(0));
            }
            assert!(std::str::from_utf8(raw).unwrap().contains("Content-Type: text/calendar; method=REQUEST"));
            self.sent.lock().unwrap().push(to.join(","));
            Ok(())
        }
    }

    fn at(minutes: i64) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(8, 0, 0).unwrap()
            + TimeDelta::minutes(minutes)
    }

    fn item(id: &str, to: &str) -> OutboxItem {
        OutboxItem {
            id: id.into(),
            from: "ann@crm.example".into(),
            to: to.into(),
            subject: "Review".into(),
            method: "REQUEST".into(),
            ics: "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n".into(),
            allowed_senders: vec!["ann@crm.example".into(), "crm@crm.example".into()],
            ..OutboxItem::default()
        }
    }

    #[test]
    fn backoff_doubles_and_gives_up() {
        let b = Backoff::default();
        assert_eq!(b.retry_at(1, at(0)), Some(at(1)));
        assert_eq!(b.retry_at(2, at(0)), Some(at(2)));
        assert_eq!(b.retry_at(5, at(0)), Some(at(16)));
        assert_eq!(b.retry_at(11, at(0)), Some(at(360)));
        assert_eq!(b.retry_at(12, at(0)), None);
        let total: i64 = (1..12).map(|n| (b.retry_at(n, at(0)).unwrap() - at(0)).num_minutes()).sum();
        assert_eq!(total, 1 + 2 + 4 + 8 + 16 + 32 + 64 + 128 + 256 + 360 + 360);
    }

    #[tokio::test]
    async fn transient_failures_wait_and_permanent_ones_stop() {
        let outbox = MemoryOutbox::default();
        outbox.rows.lock().unwrap().extend([
            (item("a", "bob@customer.example"), None, "queued"),
            (item("b", "not an address"), None, "queued"),
        ]);
        let transport = ScriptedTransport::default();
        transport.answers.lock().unwrap().push(SmtpError::Connection("refused".into()));
        let settings = SendSettings::default();

        let r = send_due(&outbox, &transport, &settings, at(0)).await.unwrap();
        assert_eq!(r.retrying, vec![("a".to_owned(), at(1))]);
        assert_eq!(r.failed.len(), 1);
        assert_eq!(r.failed[0].0, "b");
        // Not due yet: nothing happens.
        let r = send_due(&outbox, &transport, &settings, at(0)).await.unwrap();
        assert_eq!(r, SendReport::default());
        // Due: sent.
        let r = send_due(&outbox, &transport, &settings, at(1)).await.unwrap();
        assert_eq!(r.sent, vec!["a".to_owned()]);
        assert_eq!(*transport.sent.lock().unwrap(), vec!["bob@customer.example".to_owned()]);
        let rows = outbox.rows.lock().unwrap();
        assert_eq!(rows.iter().map(|r| r.2).collect::<Vec<_>>(), vec!["sent", "failed"]);
    }

    #[tokio::test]
    async fn a_forged_sender_is_failed_for_good_and_never_sent() {
        let outbox = MemoryOutbox::default();
        let mut forged = item("forged", "bob@customer.example");
        forged.from = "ceo@crm.example".into();
        let mut unlisted = item("unlisted", "bob@customer.example");
        unlisted.allowed_senders.clear();
        let mut inbox = item("crm", "bob@customer.example");
        inbox.from = "CRM@crm.example".into();
        outbox.rows.lock().unwrap().extend([
            (forged, None, "queued"),
            (unlisted, None, "queued"),
            (inbox, None, "queued"),
        ]);
        let transport = ScriptedTransport::default();
        let r = send_due(&outbox, &transport, &SendSettings::default(), at(0)).await.unwrap();
        assert_eq!(r.failed.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(), ["forged", "unlisted"]);
        assert!(r.failed[0].1.contains("`ceo@crm.example` is neither the associate's own address nor the CRM inbox"));
        assert_eq!(r.sent, ["crm"]);
        assert_eq!(transport.sent.lock().unwrap().len(), 1);
        assert!(send_due(&outbox, &transport, &SendSettings::default(), at(9999)).await.unwrap().sent.is_empty());
    }

    #[tokio::test]
    async fn a_refusal_is_final() {
        let outbox = MemoryOutbox::default();
        outbox.rows.lock().unwrap().push((item("a", "bob@customer.example"), None, "queued"));
        let transport = ScriptedTransport::default();
        transport
            .answers
            .lock()
            .unwrap()
            .push(SmtpError::Permanent { code: Some(550), message: "no such user".into() });
        let r = send_due(&outbox, &transport, &SendSettings::default(), at(0)).await.unwrap();
        assert_eq!(r.failed, vec![("a".to_owned(), "smtp server refused (550): no such user".to_owned())]);
        assert!(send_due(&outbox, &transport, &SendSettings::default(), at(999)).await.unwrap().failed.is_empty());
    }
}
