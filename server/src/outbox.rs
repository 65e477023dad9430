//! The outbox: iTIP messages (`REQUEST`, `CANCEL`, `REPLY`) waiting to be
//! sent by e-mail. Rows are written in the same transaction as the change
//! that caused them, so a crash never sends a message for a change that was
//! not stored, nor loses one for a change that was.

use super::AppState;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, Json};
use super::store::{self, StoreResult, opt_text, text};
use axum::extract::{Path, State};
use serde::Serialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// A message to send.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxMessage {
    /// Id.
    pub id: String,
    /// The appointment it is about.
    pub appointment_id: Option<String>,
    /// The associate on whose behalf it is sent.
    pub associate_id: Option<String>,
    /// iTIP method: `REQUEST`, `CANCEL` or `REPLY`.
    pub method: String,
    /// `From` address.
    pub sender: String,
    /// `To` address.
    pub recipient: String,
    /// `Reply-To` address (the CRM inbox, when replies are requested).
    pub reply_to: Option<String>,
    /// Subject line.
    pub subject: String,
    /// The `text/calendar` part.
    pub ics: String,
    /// `queued`, `sent` or `failed`.
    pub status: String,
    /// Queued at.
    pub created_at: String,
    /// Sent at.
    pub sent_at: Option<String>,
    /// Attempts to send it that failed.
    pub attempts: i64,
    /// The last attempt's error (a failed message's reason).
    pub last_error: Option<String>,
    /// When a failed message is tried again (null: failed for good, until
    /// an administrator retries it).
    pub retry_at: Option<String>,
}

/// A message about to be queued.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    /// See [`OutboxMessage`].
    pub appointment_id: Option<String>,
    /// See [`OutboxMessage`].
    pub associate_id: Option<String>,
    /// See [`OutboxMessage`].
    pub method: String,
    /// See [`OutboxMessage`].
    pub sender: String,
    /// See [`OutboxMessage`].
    pub recipient: String,
    /// See [`OutboxMessage`].
    pub reply_to: Option<String>,
    /// See [`OutboxMessage`].
    pub subject: String,
    /// See [`OutboxMessage`].
    pub ics: String,
}

/// Queues a message (inside the caller's transaction).
pub async fn queue(conn: &mut AnyConnection, m: NewMessage) -> StoreResult<OutboxMessage> {
    let message = OutboxMessage {
        id: store::new_id(),
        appointment_id: m.appointment_id,
        associate_id: m.associate_id,
        method: m.method,
        sender: m.sender,
        recipient: m.recipient,
        reply_to: m.reply_to,
        subject: m.subject,
        ics: m.ics,
        status: "queued".to_owned(),
        created_at: store::fmt_instant(store::now()),
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
        attempts: store::int(row, "attempts")?,
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

/// The outbox: an administrator sees every message, a user those sent on
/// their behalf. Newest last.
#[utoipa::path(get, path = "/api/outbox", tag = "outbox", security(("bearer" = [])),
    responses((status = 200, body = [OutboxMessage]), (status = 401, body = super::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Vec<OutboxMessage>>> {
    let mut conn = state.store.read().await?;
    let rows = if user.is_admin() {
        sqlx::query(&format!("SELECT {COLUMNS} FROM outbox ORDER BY created_at, id LIMIT 1000"))
            .fetch_all(&mut *conn)
            .await?
    } else {
        sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE associate_id = $1 ORDER BY created_at, id LIMIT 1000"))
            .bind(&user.id)
            .fetch_all(&mut *conn)
            .await?
    };
    Ok(Json(rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?))
}

/// Marks a message as sent (administrators only: the mail sender's account).
#[utoipa::path(post, path = "/api/outbox/{id}/sent", tag = "outbox", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = OutboxMessage), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn mark_sent(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<OutboxMessage>> {
    user.require_admin()?;
    let mut tx = state.store.write().await?;
    let done = sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $2 WHERE id = $1")
        .bind(&id)
        .bind(store::fmt_instant(store::now()))
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("outbox message", &id));
    }
    let row =
        sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1")).bind(&id).fetch_one(tx.conn()).await?;
    let message = from_row(&row)?;
    tx.commit().await?;
    Ok(Json(message))
}
