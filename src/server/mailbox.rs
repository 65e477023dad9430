//! The backend's side of the mail layer ([`crate::mail`]): the inbox as the
//! pollers' [`InboxSink`], the outbox table as the sender loop's [`Outbox`],
//! and [`spawn`], which starts a poller per configured inbox and the sender
//! loop when SMTP is configured.
//!
//! A polled message goes through the same inbox as `POST /api/inbox`, on the
//! system's behalf ([`inbox::deliver_to_mailbox`]): applied (or applied
//! before) is [`Delivered::Applied`]; refused by the engine or the API (a
//! 4xx) is [`Delivered::Rejected`], recorded in `rejected_messages`; a
//! database failure (a 5xx) is a [`SinkError`], and the poller offers the
//! message again on its next poll.
//!
//! Outbox rows are `queued`, `sent` or `failed`; a failed row with a
//! `retry_at` is due again from then, one without has failed for good.

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::inbox;
use super::preferences;
use super::store::{self, Store, fmt_instant, fmt_naive_utc, hex, int, opt_text, text};
use crate::mail::{
    Authenticator, Delivered, InboxSink, Judgement, MailConfig, Outbox, OutboxError, OutboxItem, Poller, SendSettings,
    SinkError, SmtpSender,
};
use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The longest wait of the sender loop between two looks at the outbox.
pub const MAX_SEND_INTERVAL: Duration = Duration::from_secs(10);

impl InboxSink for AppState {
    async fn deliver(&self, mailbox: &str, raw: &[u8], judgement: &Judgement) -> Result<Delivered, SinkError> {
        match inbox::deliver_to_mailbox(self, mailbox, raw, judgement).await {
            Ok(_) => Ok(Delivered::Applied),
            Err(e) if e.status.is_client_error() => {
                record_rejection(&self.store, mailbox, raw, &e.code, &e.message, judgement)
                    .await
                    .map_err(sink_error)?;
                Ok(Delivered::Rejected { code: e.code, message: e.message })
            }
            Err(e) => Err(sink_error(e)),
        }
    }

    async fn set_aside(&self, mailbox: &str, raw: &[u8], code: &str, message: &str) -> Result<(), SinkError> {
        record_rejection(&self.store, mailbox, raw, code, message, &Judgement::unchecked()).await.map_err(sink_error)
    }

    async fn available(&self) -> bool {
        match self.store.write().await {
            Ok(mut tx) => sqlx::query("SELECT 1").execute(tx.conn()).await.is_ok(),
            Err(_) => false,
        }
    }
}

fn sink_error(e: ApiError) -> SinkError {
    SinkError { message: e.to_string() }
}

/// Records why the message `raw` of `mailbox` was refused or set aside, with
/// the verdict on its authenticity (once per message).
async fn record_rejection(
    store: &Store,
    mailbox: &str,
    raw: &[u8],
    code: &str,
    message: &str,
    judgement: &Judgement,
) -> ApiResult<()> {
    let mut tx = store.write().await?;
    sqlx::query(
        "INSERT INTO rejected_messages (mailbox, message_key, code, message, created_at, authenticated, authentication) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (mailbox, message_key) DO NOTHING",
    )
    .bind(email_key(mailbox))
    .bind(format!("sha256:{}", hex(&Sha256::digest(raw))))
    .bind(code)
    .bind(message)
    .bind(fmt_instant(store::now()))
    .bind(judgement.authenticated.map(i64::from))
    .bind(&judgement.detail)
    .execute(tx.conn())
    .await?;
    tx.commit().await
}

fn email_key(mailbox: &str) -> String {
    crate::ical::value::email_of(mailbox)
}

fn outbox_error(e: ApiError) -> OutboxError {
    OutboxError { message: e.to_string() }
}

impl Store {
    async fn next_due_row(&self, now: NaiveDateTime) -> ApiResult<Option<OutboxItem>> {
        let mut conn = self.read().await?;
        let row = sqlx::query(
            "SELECT o.id, o.attempts, o.sender, o.recipient, o.reply_to, o.subject, o.method, o.ics, a.name AS sender_name, \
             owner.email AS owner_email \
             FROM outbox o LEFT JOIN associates a ON a.id = o.associate_id AND a.email = o.sender \
             LEFT JOIN associates owner ON owner.id = o.associate_id \
             WHERE o.status = 'queued' OR (o.status = 'failed' AND o.retry_at IS NOT NULL AND o.retry_at <= $1) \
             ORDER BY o.created_at, o.id LIMIT 1",
        )
        .bind(fmt_naive_utc(now))
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        // A message may leave only as its associate or as the CRM inbox.
        let crm_inbox = preferences::load(&mut conn).await?.crm_inbox;
        let allowed_senders = [opt_text(&row, "owner_email")?, Some(crm_inbox)].into_iter().flatten().collect();
        Ok(Some(OutboxItem {
            id: text(&row, "id")?,
            attempts: u32::try_from(int(&row, "attempts")?).unwrap_or(u32::MAX),
            from: text(&row, "sender")?,
            from_name: opt_text(&row, "sender_name")?,
            to: text(&row, "recipient")?,
            to_name: None,
            reply_to: opt_text(&row, "reply_to")?,
            subject: text(&row, "subject")?,
            method: text(&row, "method")?,
            ics: text(&row, "ics")?,
            text_body: None,
            allowed_senders,
        }))
    }

    async fn mark_sent_row(&self, id: &str, at: NaiveDateTime) -> ApiResult<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $2, retry_at = NULL WHERE id = $1")
            .bind(id)
            .bind(fmt_naive_utc(at))
            .execute(tx.conn())
            .await?;
        tx.commit().await
    }

    async fn mark_failed_row(&self, id: &str, error: &str, retry_at: Option<NaiveDateTime>) -> ApiResult<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $2, retry_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .bind(retry_at.map(fmt_naive_utc))
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }
}

impl Outbox for Store {
    async fn next_due(&self, now: NaiveDateTime) -> Result<Option<OutboxItem>, OutboxError> {
        self.next_due_row(now).await.map_err(outbox_error)
    }

    async fn mark_sent(&self, id: &str, at: NaiveDateTime) -> Result<(), OutboxError> {
        self.mark_sent_row(id, at).await.map_err(outbox_error)
    }

    async fn mark_failed(&self, id: &str, error: &str, retry_at: Option<NaiveDateTime>) -> Result<(), OutboxError> {
        self.mark_failed_row(id, error, retry_at).await.map_err(outbox_error)
    }
}

/// Completes once `stop` says `true` (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Starts, on the current runtime, a poller for each inbox of `mail` and the
/// sender loop when `mail` has SMTP settings; all stop when `stop` turns
/// `true`. An inbox or SMTP server whose settings cannot be used (a CA file
/// that cannot be read) is reported on stderr and left out.
pub fn spawn(state: &AppState, mail: &MailConfig, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for inbox in &mail.inboxes {
        let name = inbox.name.clone();
        match Poller::new(inbox.clone()) {
            Ok(poller) => {
                let poller =
                    poller.with_authenticator(Authenticator::new(inbox.authentication.clone(), state.dns.clone()));
                let state = state.clone();
                let stop = stop.clone();
                let interval = mail.poll_interval;
                tasks.push(tokio::spawn(async move { poller.run(&state, interval, stopped(stop)).await }));
            }
            Err(e) => eprintln!("mail: inbox `{name}` is not polled: {e}"),
        }
    }
    if let Some(smtp) = &mail.smtp {
        match SmtpSender::new(smtp) {
            Ok(sender) => {
                let store = state.store.clone();
                let stop = stop.clone();
                let settings = SendSettings {
                    message_id_domain: mail.message_id_domain.clone().unwrap_or_default(),
                    ..SendSettings::default()
                };
                let interval = mail.poll_interval.min(MAX_SEND_INTERVAL);
                tasks.push(tokio::spawn(async move {
                    crate::mail::outbox::run(
                        &store,
                        &sender,
                        &settings,
                        interval,
                        || store::now().naive_utc(),
                        stopped(stop),
                    )
                    .await
                }));
            }
            Err(e) => eprintln!("mail: nothing is sent: {e}"),
        }
    }
    tasks
}
