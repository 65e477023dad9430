//! The backend's side of the mail layer ([`crate::mail`]): the inbox as the
//! pollers' [`InboxSink`], the outbox table as the sender loop's [`Outbox`],
//! and [`spawn`], which starts a poller per configured inbox and the sender
//! loop when SMTP is configured.
//!
//! A polled message goes through the same inbox as `POST /api/inbox`, on the
//! system's behalf ([`inbox::deliver_to_mailbox`]): applied (or applied
//! before) is [`Delivered::Applied`]; refused ([`InboxError::Refused`]: the
//! message cannot be read, is for no known mailbox, or the store refuses
//! what it asks) is [`Delivered::Rejected`], recorded in
//! `rejected_messages`; a failure of the store ([`InboxError::Failed`]) is a
//! [`SinkError`], and the poller offers the message again on its next poll.
//!
//! Outbox rows are `queued`, `sent` or `failed`; a failed row with a
//! `retry_at` is due again from then, one without has failed for good.

use super::AppState;
use super::inbox::{self, InboxError};
use super::store::{self, Store, StoreError, StoreResult, ledger};
use crate::mail::{
    Authenticator, BatchDelivery, Connections, Cursor, Delivered, InboxSink, Incoming, Judgement, Lease, MailConfig,
    Outbox, OutboxError, OutboxItem, Poller, SendSettings, SinkError, SmtpSender,
};
use chrono::NaiveDateTime;
use sqlx::AnyConnection;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The longest wait of the sender loop between two looks at the outbox.
pub const MAX_SEND_INTERVAL: Duration = Duration::from_secs(10);

impl InboxSink for AppState {
    async fn deliver(&self, mailbox: &str, raw: &[u8], judgement: &Judgement) -> Result<Delivered, SinkError> {
        match inbox::deliver_to_mailbox(self, mailbox, raw, judgement).await {
            Ok(_) => Ok(Delivered::Applied),
            Err(InboxError::Refused(e)) => {
                record_rejection(&self.store, mailbox, raw, &e.code, &e.message, judgement)
                    .await
                    .map_err(sink_error)?;
                Ok(Delivered::Rejected { code: e.code, message: e.message })
            }
            Err(InboxError::Failed(e)) => Err(sink_error(e)),
        }
    }

    async fn set_aside(&self, mailbox: &str, raw: &[u8], code: &str, message: &str) -> Result<(), SinkError> {
        record_rejection(&self.store, mailbox, raw, code, message, &Judgement::unchecked())
            .await
            .map_err(sink_error)?;
        inbox::refused("imap", mailbox, code);
        Ok(())
    }

    async fn record_poll(&self, inbox: &str, report: Option<&crate::mail::PollReport>, error: Option<&str>) {
        let summary = super::admin::PollSummary {
            applied: report.map_or(0, |r| r.applied.len()),
            rejected: report.map_or(0, |r| r.rejected.len()),
            failed: report.map_or(0, |r| r.failed.len()),
            error: error.map(str::to_owned),
        };
        if let Err(e) = store::leases::record_poll(&self.store, inbox, &summary).await {
            tracing::warn!(target: "invitelink::mail", inbox, error = %e, "the poll could not be recorded");
        }
    }

    async fn available(&self) -> bool {
        self.store.writable().await
    }

    /// Decides every message on a snapshot, then applies them all, records
    /// the rejected ones and writes the cursor in one transaction (shared
    /// with other writers by the group commit); each message in a savepoint
    /// of its own, so that one that fails is rolled back alone.
    async fn deliver_batch(&self, mailbox: &str, batch: Vec<Incoming>, lease: &Lease, cursor: Cursor) -> BatchDelivery {
        let mut prepared = Vec::with_capacity(batch.len());
        match self.store.read().await {
            Ok(mut conn) => {
                for m in &batch {
                    prepared.push(inbox::prepare_polled(&mut conn, mailbox, &m.raw, &m.judgement).await);
                }
            }
            Err(e) => return BatchDelivery { outcomes: Vec::new(), stopped: Some(sink_error(e)) },
        }
        let written = if self.store.backend() == store::Backend::Postgres {
            // Several instances: the batch locks its meetings only, so the
            // batches of other inboxes, here and in other instances, are
            // applied at the same time.
            let uids: Vec<&str> = prepared
                .iter()
                .filter_map(|p| match p {
                    Ok(inbox::Prepared::Decided { uid, .. }) if !uid.is_empty() => Some(uid.as_str()),
                    _ => None,
                })
                .collect();
            match self.store.write_keyed(&uids).await {
                Ok(mut tx) => match apply_batch(tx.conn(), mailbox, batch, prepared, lease, cursor).await {
                    Ok(outcomes) => tx.commit().await.map(|()| outcomes),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            }
        } else {
            // One writer: batches of every inbox share its transactions.
            let (mailbox, lease) = (mailbox.to_owned(), lease.clone());
            self.group_commit
                .write(move |conn| {
                    Box::pin(async move { apply_batch(conn, &mailbox, batch, prepared, &lease, cursor).await })
                })
                .await
        };
        match written {
            Ok((outcomes, taken)) => {
                // Committed: now each message is logged, once.
                for t in &taken {
                    match t {
                        Ok(result) => inbox::taken_in("imap", mailbox, result),
                        Err(code) => inbox::refused("imap", mailbox, code),
                    }
                }
                BatchDelivery { outcomes, stopped: None }
            }
            Err(e) => BatchDelivery { outcomes: Vec::new(), stopped: Some(sink_error(e)) },
        }
    }

    async fn acquire(&self, inbox: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>, SinkError> {
        store::leases::acquire(&self.store, inbox, holder, ttl).await.map_err(sink_error)
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, SinkError> {
        store::leases::renew(&self.store, lease, Some(ttl)).await.map_err(sink_error)
    }

    async fn release(&self, lease: &Lease) {
        let _ = store::leases::renew(&self.store, lease, None).await;
    }
}

/// Applies a polled `batch` (decided on a snapshot as `prepared`) in the
/// write transaction `conn`, each message in a savepoint of its own (one
/// that fails is rolled back alone, a rejected one recorded), and writes the
/// inbox's cursor for `lease`.
/// What a batch did: each message's outcome for the poller, and for the log
/// (written once the batch is committed) the result or the refusal's code.
type BatchWritten = (Vec<Result<Delivered, SinkError>>, Vec<Result<inbox::InboxResult, String>>);

async fn apply_batch(
    conn: &mut AnyConnection,
    mailbox: &str,
    batch: Vec<Incoming>,
    prepared: Vec<Result<inbox::Prepared, InboxError>>,
    lease: &Lease,
    cursor: Cursor,
) -> StoreResult<BatchWritten> {
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut taken = Vec::with_capacity(batch.len());
    for (m, pre) in batch.into_iter().zip(prepared) {
        store::savepoint(conn).await?;
        let outcome = match inbox::apply_polled(conn, mailbox, &m.raw, &m.judgement, pre).await {
            Ok(result) => {
                store::keep_savepoint(conn).await?;
                taken.push(Ok(result));
                Ok(Delivered::Applied)
            }
            Err(InboxError::Refused(e)) => {
                store::undo_savepoint(conn).await?;
                ledger::record_rejection(conn, mailbox, &m.raw, &e.code, &e.message, &m.judgement).await?;
                taken.push(Err(e.code.clone()));
                Ok(Delivered::Rejected { code: e.code, message: e.message })
            }
            Err(InboxError::Failed(e)) => {
                store::undo_savepoint(conn).await?;
                Err(sink_error(e))
            }
        };
        outcomes.push(outcome);
    }
    store::leases::write_cursor(conn, lease, cursor).await?;
    Ok((outcomes, taken))
}

fn sink_error(e: impl std::fmt::Display) -> SinkError {
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
) -> StoreResult<()> {
    let mut tx = store.write().await?;
    ledger::record_rejection(tx.conn(), mailbox, raw, code, message, judgement).await?;
    tx.commit().await
}

fn outbox_error(e: StoreError) -> OutboxError {
    OutboxError { message: e.to_string() }
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
/// that cannot be read) is logged as an error and left out.
pub fn spawn(state: &AppState, mail: &MailConfig, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    // Up to `max_connections` inboxes, each keeps its connection and waits
    // in IDLE; beyond, they take turns for the connections and poll.
    let connections = Connections::new(mail.max_connections, mail.inboxes.len() <= mail.max_connections);
    for inbox in &mail.inboxes {
        let name = inbox.name.clone();
        match Poller::new(inbox.clone()) {
            Ok(poller) => {
                let poller = poller
                    .with_authenticator(Authenticator::new(inbox.authentication.clone(), state.dns.clone()))
                    .with_lease(state.store.instance(), mail.lease)
                    .with_connections(connections.clone());
                let state = state.clone();
                let stop = stop.clone();
                let interval = mail.poll_interval;
                tasks.push(tokio::spawn(async move { poller.run(&state, interval, stopped(stop)).await }));
            }
            Err(e) => tracing::error!(target: "invitelink::mail", inbox = %name, error = %e, "the inbox is not polled"),
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
            Err(e) => tracing::error!(target: "invitelink::mail", error = %e, "nothing is sent"),
        }
    }
    tasks
}
