//! The outbox: iTIP messages (`REQUEST`, `CANCEL`, `REPLY`) waiting to be
//! sent by e-mail. Rows are written in the same transaction as the change
//! that caused them, so a crash never sends a message for a change that was
//! not stored, nor loses one for a change that was.

use super::AppState;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, Json};
use super::store;
use axum::extract::{Path, State};
use serde::Serialize;
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

/// The outbox: an administrator sees every message, a user those sent on
/// their behalf. Newest last.
#[utoipa::path(get, path = "/api/outbox", tag = "outbox", security(("bearer" = [])),
    responses((status = 200, body = [OutboxMessage]), (status = 401, body = super::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Vec<OutboxMessage>>> {
    let mut conn = state.store.read().await?;
    let of = if user.is_admin() { None } else { Some(user.id.as_str()) };
    Ok(Json(store::outbox::list(&mut conn, of).await?))
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
    let message = store::outbox::mark_sent(tx.conn(), &id, store::now()).await?;
    tx.commit().await?;
    Ok(Json(message.ok_or_else(|| ApiError::not_found("outbox message", &id))?))
}
