//! The inbox's ledger: the messages applied (`processed_messages`, by
//! mailbox and key, with the decision) and the messages refused or set aside
//! (`rejected_messages`), each with the verdict on its authenticity.

use super::{StoreResult, fmt_instant, hex, opt_text, text};
use crate::mail::Judgement;
use invitelink::message::Envelope;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

/// Every key a message may be recorded under: [`message_key`], then
/// [`legacy_message_key`].
pub fn keys(envelope: &Envelope) -> [String; 2] {
    [message_key(envelope), legacy_message_key(envelope)]
}

/// The key a message is recorded under in `processed_messages`: the
/// SHA-256 (hex) of its `Message-ID`, or of its calendar when it has none.
/// Hashed, so that a key of any length fits an index entry.
pub fn message_key(envelope: &Envelope) -> String {
    hex(&Sha256::digest(legacy_message_key(envelope).as_bytes()))
}

/// The key as recorded before version 3 of the store (the plain
/// `Message-ID`), still looked up so that a message applied before the
/// upgrade is not applied again.
pub fn legacy_message_key(envelope: &Envelope) -> String {
    match envelope.message_id.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(id) => format!("message-id:{id}"),
        None => format!("sha256:{}", hex(&Sha256::digest(envelope.calendar.as_bytes()))),
    }
}

/// The decision recorded for a message applied before to `mailbox_key`
/// under any of its `keys` (JSON; `Null` when it cannot be read).
pub async fn processed(
    conn: &mut AnyConnection,
    mailbox_key: &str,
    keys: &[String; 2],
) -> StoreResult<Option<serde_json::Value>> {
    let [key, legacy] = keys;
    let seen = sqlx::query(
        "SELECT decision FROM processed_messages WHERE mailbox = $1 AND (message_key = $2 OR message_key = $3)",
    )
    .bind(mailbox_key)
    .bind(key)
    .bind(legacy)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = seen else { return Ok(None) };
    Ok(Some(serde_json::from_str(&text(&row, "decision")?).unwrap_or(serde_json::Value::Null)))
}

/// Records the message `key` as applied to `mailbox_key` with its
/// `decision` (JSON) and the verdict on its authenticity.
pub async fn record_processed(
    conn: &mut AnyConnection,
    mailbox_key: &str,
    key: &str,
    decision: &serde_json::Value,
    judgement: &Judgement,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO processed_messages (mailbox, message_key, decision, created_at, authenticated, authentication) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(mailbox_key)
    .bind(key)
    .bind(decision.to_string())
    .bind(fmt_instant(super::now()))
    .bind(judgement.authenticated.map(i64::from))
    .bind(&judgement.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records why the message `raw` of `mailbox` was refused or set aside
/// (once per message: the same message again changes nothing).
pub async fn record_rejection(
    conn: &mut AnyConnection,
    mailbox: &str,
    raw: &[u8],
    code: &str,
    message: &str,
    judgement: &Judgement,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO rejected_messages (mailbox, message_key, code, message, created_at, authenticated, authentication) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (mailbox, message_key) DO NOTHING",
    )
    .bind(invitelink::ical::value::email_of(mailbox))
    .bind(format!("sha256:{}", hex(&Sha256::digest(raw))))
    .bind(code)
    .bind(message)
    .bind(fmt_instant(super::now()))
    .bind(judgement.authenticated.map(i64::from))
    .bind(&judgement.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Keeps `message` (its bytes' digest `digest`) for the Inbox page, once
/// per mailbox and digest.
pub async fn keep_received(
    conn: &mut AnyConnection,
    message: &crate::received::ReceivedMessage,
    digest: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO received_messages (id, mailbox, digest, subject, from_email, from_name, raw, raw_encoding, \
         decision, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (mailbox, digest) DO NOTHING",
    )
    .bind(&message.id)
    .bind(&message.mailbox)
    .bind(digest)
    .bind(&message.subject)
    .bind(&message.from_email)
    .bind(&message.from_name)
    .bind(&message.raw)
    .bind(&message.raw_encoding)
    .bind(message.decision.to_string())
    .bind(&message.received_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The messages `mailbox` received, newest first, at most `limit`.
pub async fn received(
    conn: &mut AnyConnection,
    mailbox: &str,
    limit: i64,
) -> StoreResult<Vec<crate::received::ReceivedMessage>> {
    let rows = sqlx::query(
        "SELECT id, mailbox, subject, from_email, from_name, raw, raw_encoding, decision, received_at \
         FROM received_messages WHERE mailbox = $1 ORDER BY received_at DESC, id DESC LIMIT $2",
    )
    .bind(mailbox)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(crate::received::ReceivedMessage {
                id: text(row, "id")?,
                mailbox: text(row, "mailbox")?,
                subject: text(row, "subject")?,
                from_email: opt_text(row, "from_email")?,
                from_name: opt_text(row, "from_name")?,
                received_at: text(row, "received_at")?,
                raw: text(row, "raw")?,
                raw_encoding: text(row, "raw_encoding")?,
                decision: serde_json::from_str(&text(row, "decision")?).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}

/// The `limit` most recent refused messages, newest first.
pub async fn rejected(conn: &mut AnyConnection, limit: i64) -> StoreResult<Vec<crate::admin::RejectedMessage>> {
    let rows = sqlx::query(
        "SELECT mailbox, code, message, created_at FROM rejected_messages ORDER BY created_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(crate::admin::RejectedMessage {
                mailbox: text(r, "mailbox")?,
                code: text(r, "code")?,
                message: text(r, "message")?,
                created_at: text(r, "created_at")?,
            })
        })
        .collect()
}
