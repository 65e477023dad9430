//! The e-mails a mailbox received (through `POST /api/inbox` or the IMAP
//! poller), kept as they arrived for the web client's Inbox page, with the
//! decision made on arrival; and the engine's context for a message, so
//! that the browser decides with the same inputs as the backend.
//!
//! Keeping a copy is a second, small write after the inbox's own
//! transaction: a message is kept only once it was applied, and a failure to
//! keep it is logged, never turned into a failed delivery.

use super::AppState;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, Json, Query};
use super::inbox::{self, InboxQuery, InboxResult};
use super::store::{self, fmt_instant, hex, new_id};
use axum::extract::State;
use invitelink::ical::value::email_of;
use invitelink::message::{InputLimits, read_message};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The most messages one listing answers.
pub const MAX_LISTED: i64 = 200;

/// Keeps `raw`, just applied in `mailbox` with `result`, for the Inbox page.
/// A message kept before (same bytes, same mailbox) is not kept twice.
pub async fn keep(state: &AppState, mailbox: &str, raw: &[u8], result: &InboxResult) {
    if let Err(e) = try_keep(state, mailbox, raw, result).await {
        tracing::warn!(target: "invitelink::inbox", mailbox, error = %e.message, "a received message was not kept for the inbox page");
    }
}

async fn try_keep(state: &AppState, mailbox: &str, raw: &[u8], result: &InboxResult) -> ApiResult<()> {
    let mailbox = email_of(mailbox);
    let digest = hex(&Sha256::digest(raw));
    let envelope = read_message(raw, &InputLimits::default()).ok();
    let subject = envelope.as_ref().and_then(|e| e.subject.clone()).unwrap_or_default();
    let from_email = envelope.as_ref().and_then(|e| e.from.as_deref().map(email_of));
    let from_name = envelope.as_ref().and_then(|e| e.from_name.clone());
    let (raw_text, encoding) = match std::str::from_utf8(raw) {
        Ok(t) => (t.to_owned(), "text"),
        Err(_) => (invitelink::base64::encode(raw), "base64"),
    };
    let message = ReceivedMessage {
        id: new_id(),
        mailbox,
        subject: subject.chars().take(998).collect(),
        from_email,
        from_name,
        received_at: fmt_instant(store::now()),
        raw: raw_text,
        raw_encoding: encoding.to_owned(),
        decision: result.decision.clone(),
    };
    let mut tx = state.store.write().await?;
    store::ledger::keep_received(tx.conn(), &message, &digest).await?;
    Ok(tx.commit().await?)
}

/// One e-mail received in a mailbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedMessage {
    /// Id.
    pub id: String,
    /// The mailbox it arrived in.
    pub mailbox: String,
    /// `Subject`.
    pub subject: String,
    /// The `From` address.
    pub from_email: Option<String>,
    /// The `From` display name.
    pub from_name: Option<String>,
    /// When the CRM took it in (RFC 3339 UTC).
    pub received_at: String,
    /// The raw message as text, or base64 (see `raw_encoding`).
    pub raw: String,
    /// `text` or `base64`.
    pub raw_encoding: String,
    /// The engine's decision on arrival, as applied then.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
}

/// The e-mails received in a mailbox (default: the signed-in user's; only
/// administrators may name another associate's mailbox or the CRM inbox),
/// newest first, at most 200.
#[utoipa::path(get, path = "/api/inbox/messages", tag = "inbox", params(InboxQuery), security(("bearer" = [])),
    responses((status = 200, body = [ReceivedMessage]), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<InboxQuery>,
) -> ApiResult<Json<Vec<ReceivedMessage>>> {
    let mailbox = q.mailbox.as_deref().map(email_of).filter(|m| !m.is_empty()).unwrap_or_else(|| user.email.clone());
    if mailbox != user.email && !user.is_admin() {
        return Err(ApiError::forbidden("only administrators may read another mailbox"));
    }
    let mut conn = state.store.read().await?;
    let out = store::ledger::received(&mut conn, &mailbox, MAX_LISTED).await?;
    Ok(Json(out))
}

/// A message to build the engine's context for.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ContextRequest {
    /// The raw message: e-mail or iCalendar text.
    pub message: Option<String>,
    /// The raw message, base64 (for 8-bit e-mails).
    pub message_base64: Option<String>,
    /// The receiving mailbox (as for `POST /api/inbox`).
    pub mailbox: Option<String>,
}

/// The engine's context for a message, built from the store exactly as the
/// inbox builds it (contacts and associates named in the message, the stored
/// appointment with its `UID`, preferences, the user's settings), so that
/// the wasm engine in the browser decides as the backend would. Nothing is
/// applied.
#[utoipa::path(post, path = "/api/inbox/context", tag = "inbox", request_body = ContextRequest,
    security(("bearer" = [])),
    responses((status = 200, description = "the context JSON of the engine's contract", body = Object),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 413, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn context(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<ContextRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let raw = inbox::raw_of(&req.message, &req.message_base64)?;
    Ok(Json(inbox::engine_context(&state, &user, req.mailbox.as_deref(), &raw).await?))
}
