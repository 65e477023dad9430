//! The outbox's rows: queued in the transaction of the change that caused
//! them, claimed by one instance at a time to be sent (a lease, so that
//! instances sending at once take different rows), marked sent or failed.

use super::{Backend, Store, StoreError, StoreResult, fmt_instant, fmt_naive_utc, int, new_id, now, opt_text, text};
use crate::mail::OutboxItem;
use crate::outbox::{NewMessage, OutboxMessage};
use crate::preferences;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use sqlx::AnyConnection;
use std::time::Duration;

/// Queues a message (inside the caller's transaction).
pub async fn queue(conn: &mut AnyConnection, m: NewMessage) -> StoreResult<OutboxMessage> {
    let message = OutboxMessage {
        id: new_id(),
        appointment_id: m.appointment_id,
        associate_id: m.associate_id,
        method: m.method,
        sender: m.sender,
        recipient: m.recipient,
        reply_to: m.reply_to,
        subject: m.subject,
        ics: m.ics,
        status: "queued".to_owned(),
        created_at: fmt_instant(now()),
        sent_at: None,
        attempts: 0,
        last_error: None,
        retry_at: None,
    };
    sqlx::query(
        "INSERT INTO outbox (id, appointment_id, associate_id, method, sender, recipient, reply_to, subject, ics, \
         status, created_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&message.id)
    .bind(&message.appointment_id)
    .bind(&message.associate_id)
    .bind(&message.method)
    .bind(&message.sender)
    .bind(&message.recipient)
    .bind(&message.reply_to)
    .bind(&message.subject)
    .bind(&message.ics)
    .bind(&message.status)
    .bind(&message.created_at)
    .bind(&message.sent_at)
    .execute(&mut *conn)
    .await?;
    Ok(message)
}

fn from_row(row: &sqlx::any::AnyRow) -> StoreResult<OutboxMessage> {
    Ok(OutboxMessage {
        id: text(row, "id")?,
        appointment_id: opt_text(row, "appointment_id")?,
        associate_id: opt_text(row, "associate_id")?,
        method: text(row, "method")?,
        sender: text(row, "sender")?,
        recipient: text(row, "recipient")?,
        reply_to: opt_text(row, "reply_to")?,
        subject: text(row, "subject")?,
        ics: text(row, "ics")?,
        status: text(row, "status")?,
        created_at: text(row, "created_at")?,
        sent_at: opt_text(row, "sent_at")?,
        attempts: int(row, "attempts")?,
        last_error: opt_text(row, "last_error")?,
        retry_at: opt_text(row, "retry_at")?,
    })
}

const COLUMNS: &str = "id, appointment_id, associate_id, method, sender, recipient, reply_to, subject, ics, status, \
     created_at, sent_at, attempts, last_error, retry_at";

/// The messages matching `filter` (an SQL condition and order without
/// parameters, written by the caller, never from input).
pub async fn select(conn: &mut AnyConnection, filter: &str) -> StoreResult<Vec<OutboxMessage>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE {filter}")).fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}

/// The message with `id`.
pub async fn by_id(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<OutboxMessage>> {
    let row =
        sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// The outbox by status.
pub async fn counts(conn: &mut AnyConnection) -> StoreResult<crate::admin::OutboxCounts> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status").fetch_all(&mut *conn).await?;
    let mut out = crate::admin::OutboxCounts { queued: 0, sent: 0, failed: 0 };
    for row in rows {
        let n = int(&row, "n")?;
        match text(&row, "status")?.as_str() {
            "queued" => out.queued += n,
            "sent" => out.sent += n,
            "failed" => out.failed += n,
            _ => {}
        }
    }
    Ok(out)
}

/// The newest 1,000 messages, oldest first: every message, or those sent
/// on behalf of the associate `of`.
pub async fn list(conn: &mut AnyConnection, of: Option<&str>) -> StoreResult<Vec<OutboxMessage>> {
    let rows = match of {
        None => {
            sqlx::query(&format!("SELECT {COLUMNS} FROM outbox ORDER BY created_at, id LIMIT 1000"))
                .fetch_all(&mut *conn)
                .await?
        }
        Some(associate) => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM outbox WHERE associate_id = $1 ORDER BY created_at, id LIMIT 1000"
            ))
            .bind(associate)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// Marks the message `id` as sent `at` by hand (the administrator's mail
/// client sent it); `None` when there is no such message.
pub async fn mark_sent(conn: &mut AnyConnection, id: &str, at: DateTime<Utc>) -> StoreResult<Option<OutboxMessage>> {
    let done = sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $2 WHERE id = $1")
        .bind(id)
        .bind(fmt_instant(at))
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    by_id(conn, id).await
}

/// Queues the failed message `id` again at once, its attempts counted
/// anew: the message, and whether it had failed (else nothing changed);
/// `None` when there is no such message.
pub async fn retry(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<(OutboxMessage, bool)>> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'queued', attempts = 0, retry_at = NULL, lease_holder = NULL, lease_until = NULL \
         WHERE id = $1 AND status = 'failed'",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(by_id(conn, id).await?.map(|m| (m, done.rows_affected() == 1)))
}

/// How long an instance may take to send an outbox row it claimed before
/// another instance takes it over (the SMTP time-out is far shorter).
pub const OUTBOX_LEASE: Duration = Duration::from_secs(300);

impl Store {
    /// Claims the oldest due row for this instance (one `UPDATE ...
    /// RETURNING`; on PostgreSQL the candidate is locked with `FOR UPDATE
    /// SKIP LOCKED`, so instances claiming at once take different rows) and
    /// reads it.
    pub(crate) async fn next_due_row(&self, now: NaiveDateTime) -> StoreResult<Option<OutboxItem>> {
        let skip_locked = if self.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let claim = format!(
            "UPDATE outbox SET lease_holder = $1, lease_until = $2 WHERE id = (SELECT id FROM outbox \
             WHERE (status = 'queued' OR (status = 'failed' AND retry_at IS NOT NULL AND retry_at <= $3)) \
             AND (lease_until IS NULL OR lease_until < $3) ORDER BY created_at, id LIMIT 1{skip_locked}) RETURNING id"
        );
        let until = now.checked_add_signed(TimeDelta::from_std(OUTBOX_LEASE).unwrap_or(TimeDelta::MAX)).unwrap_or(now);
        let mut tx = self.write_rows().await?;
        let claimed = sqlx::query(&claim)
            .bind(self.instance())
            .bind(fmt_naive_utc(until))
            .bind(fmt_naive_utc(now))
            .fetch_optional(tx.conn())
            .await?;
        tx.commit().await?;
        let Some(claimed) = claimed else { return Ok(None) };
        let mut conn = self.read().await?;
        let row = sqlx::query(
            "SELECT o.id, o.attempts, o.sender, o.recipient, o.reply_to, o.subject, o.method, o.ics, a.name AS sender_name, \
             owner.email AS owner_email \
             FROM outbox o LEFT JOIN associates a ON a.id = o.associate_id AND a.email = o.sender \
             LEFT JOIN associates owner ON owner.id = o.associate_id WHERE o.id = $1",
        )
        .bind(text(&claimed, "id")?)
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

    /// Marks a row this instance claimed as sent; refused when the claim
    /// was taken over.
    pub(crate) async fn mark_sent_row(&self, id: &str, at: NaiveDateTime) -> StoreResult<()> {
        let mut tx = self.write_rows().await?;
        let done = sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $2, retry_at = NULL, lease_holder = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_holder = $3",
        )
        .bind(id)
        .bind(fmt_naive_utc(at))
        .bind(self.instance())
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        claimed(id, done.rows_affected())
    }

    pub(crate) async fn mark_failed_row(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<NaiveDateTime>,
    ) -> StoreResult<()> {
        let mut tx = self.write_rows().await?;
        let done = sqlx::query(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $2, retry_at = $3, \
             lease_holder = NULL, lease_until = NULL WHERE id = $1 AND lease_holder = $4",
        )
        .bind(id)
        .bind(error)
        .bind(retry_at.map(fmt_naive_utc))
        .bind(self.instance())
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        claimed(id, done.rows_affected())
    }
}

fn claimed(id: &str, rows: u64) -> StoreResult<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Refused {
            code: "conflict",
            message: format!("the outbox message `{id}` is no longer this instance's to mark"),
        })
    }
}
