//! Administration (administrators only, docs/administration.md): the
//! associates (create with a password or a one-time set-password link,
//! rename, role, disable, re-enable, reset), the resources (create,
//! rename, retire), the mail status of every configured inbox, and a
//! failed outbox message sent again. The one-time links themselves are
//! used without a token (`/api/password-links/{secret}`).
//!
//! A disabled associate cannot sign in; their tokens, feed and pending
//! links stop working at once ([`super::auth::SignedIn`] refuses a
//! disabled associate's token on the next call); their diary, follow-ups
//! and history stay.

use super::AppState;
use super::accounts::check_new_password;
use super::auth::{CurrentUser, Role, token_hash};
use super::error::{ApiError, ApiResult, Json};
use super::input;
use super::outbox::OutboxMessage;
use super::store::{self, fmt_instant, hex};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// How long a one-time set-password link works.
pub const LINK_HOURS: i64 = 72;

/// The longest name of an associate or a resource, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// An inbox the server polls, as configured (no credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredInbox {
    /// The inbox's name in the mail settings.
    pub name: String,
    /// The address its messages are for.
    pub address: String,
    /// The IMAP server, `host:port`.
    pub server: String,
    /// The folder polled.
    pub folder: String,
}

/// What the mail settings hold, for the mail status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailSetup {
    /// The inboxes polled.
    pub inboxes: Vec<ConfiguredInbox>,
    /// The SMTP server the outbox is sent through (`host:port`), if any.
    pub smtp: Option<String>,
}

impl MailSetup {
    /// The setup of `config` (none: no mail in or out).
    pub fn of(config: Option<&crate::mail::MailConfig>) -> MailSetup {
        let Some(config) = config else { return MailSetup::default() };
        MailSetup {
            inboxes: config
                .inboxes
                .iter()
                .map(|i| ConfiguredInbox {
                    name: i.name.clone(),
                    address: i.address.clone(),
                    server: format!("{}:{}", i.host, i.port),
                    folder: i.folder.clone(),
                })
                .collect(),
            smtp: config.smtp.as_ref().map(|s| format!("{}:{}", s.host, s.port)),
        }
    }
}

/// An associate as administrators see them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssociateAccount {
    /// Id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// E-mail address (the sign-in and the mailbox), lower-case.
    pub email: String,
    /// Role.
    pub role: Role,
    /// False once disabled: no sign-in, no token, no feed.
    pub active: bool,
    /// When the associate was disabled.
    pub disabled_at: Option<String>,
    /// Created at.
    pub created_at: String,
    /// Whether a one-time set-password link is waiting to be used.
    pub link_pending: bool,
}

/// A new associate. Without `password`, the answer carries a one-time
/// link with which the associate sets their own.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAssociate {
    /// Full name.
    pub name: String,
    /// E-mail address: their sign-in and their mailbox.
    pub email: String,
    /// `user` (default) or `admin`.
    pub role: Option<Role>,
    /// The initial password (10 to 256 characters, not a common one).
    pub password: Option<String>,
}

/// A change to an associate: fields left out keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AssociateChange {
    /// Full name.
    pub name: Option<String>,
    /// Role.
    pub role: Option<Role>,
    /// False disables the associate, true enables them again.
    pub active: Option<bool>,
}

/// A one-time link to set a password, shown once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasswordLink {
    /// The web client's page for it, relative to the server's origin
    /// (`/#/set-password/SECRET`); the secret is not stored, only its hash.
    pub path: String,
    /// The secret alone, for `/api/password-links/{secret}`.
    pub secret: String,
    /// Until when it works (used once).
    pub expires_at: String,
}

/// A created associate, with the one-time link when no password was given.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAssociate {
    /// The associate.
    pub associate: AssociateAccount,
    /// The set-password link (shown once), when no password was given.
    pub password_link: Option<PasswordLink>,
}

/// Who a set-password link is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordLinkInfo {
    /// Full name.
    pub name: String,
    /// E-mail address (the sign-in).
    pub email: String,
    /// Until when the link works.
    pub expires_at: String,
}

/// The password set through a link.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkPassword {
    /// The new password (10 to 256 characters, not a common one).
    pub new_password: String,
}

/// A room or piece of equipment as administrators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceAccount {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `room` or `equipment`.
    pub kind: String,
    /// False once retired (no longer offered for new follow-ups).
    pub active: bool,
    /// When it was retired.
    pub retired_at: Option<String>,
}

/// A new resource.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewResource {
    /// Name.
    pub name: String,
    /// `room` or `equipment`.
    pub kind: String,
}

/// A change to a resource: fields left out keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ResourceChange {
    /// Name.
    pub name: Option<String>,
    /// False retires it, true brings it back.
    pub active: Option<bool>,
}

/// One configured inbox and what its poller last did.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxStatus {
    /// The inbox's name in the mail settings.
    pub name: String,
    /// The address its messages are for.
    pub address: String,
    /// The IMAP server, `host:port`.
    pub server: String,
    /// The folder polled.
    pub folder: String,
    /// The last poll, successful or not (none yet: null).
    pub last_poll_at: Option<String>,
    /// The last successful poll.
    pub last_success_at: Option<String>,
    /// The last poll's error, while the inbox fails (null once a poll works).
    pub last_error: Option<String>,
    /// When that error happened.
    pub last_error_at: Option<String>,
    /// Messages taken in (applied) by the poller.
    pub applied: i64,
    /// Messages rejected by the poller (the reasons: `rejected`).
    pub rejected: i64,
    /// Deliveries that failed and were offered again.
    pub failed: i64,
}

/// A message an inbox refused, with the reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedMessage {
    /// The mailbox (address) it arrived for.
    pub mailbox: String,
    /// The stable error code.
    pub code: String,
    /// Why.
    pub message: String,
    /// When.
    pub created_at: String,
}

/// The outbox by status.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxCounts {
    /// Waiting to be sent.
    pub queued: i64,
    /// Sent.
    pub sent: i64,
    /// Failed (for good, or waiting for a retry).
    pub failed: i64,
}

/// The mail status.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailStatus {
    /// Each configured inbox.
    pub inboxes: Vec<InboxStatus>,
    /// The SMTP server messages are sent through (null: none configured,
    /// nothing leaves the outbox by itself).
    pub smtp: Option<String>,
    /// The 100 most recent rejected messages, newest first.
    pub rejected: Vec<RejectedMessage>,
    /// The outbox by status.
    pub outbox: OutboxCounts,
    /// The 100 most recent failed outbox messages, newest first, with the error.
    pub failed: Vec<OutboxMessage>,
    /// The 100 most recent messages waiting to be sent, oldest first.
    pub waiting: Vec<OutboxMessage>,
}

fn bad(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// A trimmed name of 1 to [`MAX_NAME_CHARS`] characters without control characters.
fn checked_name(field: &str, value: &str) -> ApiResult<String> {
    input::text(field, value)?;
    let name = value.trim();
    if name.is_empty() {
        return Err(bad("invalid_input", format!("`{field}` must not be empty")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(bad("invalid_input", format!("`{field}` has at most {MAX_NAME_CHARS} characters")));
    }
    Ok(name.to_owned())
}

/// A lower-case e-mail address `local@domain`, or 422 `invalid_email`.
fn checked_email(value: &str) -> ApiResult<String> {
    input::address("email", value)?;
    let email = value.trim().to_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
                && !domain.contains('@')
                && email.len() <= 254
        }
        None => false,
    };
    if !valid {
        return Err(bad("invalid_email", format!("`{}` is not an e-mail address", value.trim())));
    }
    Ok(email)
}

fn account_of(a: store::accounts::AdminAccount) -> AssociateAccount {
    AssociateAccount {
        id: a.associate.id,
        name: a.associate.name,
        email: a.associate.email,
        role: Role::parse(&a.associate.role),
        active: a.disabled_at.is_none(),
        disabled_at: a.disabled_at,
        created_at: a.created_at,
        link_pending: a.link_pending,
    }
}

async fn account(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<AssociateAccount>> {
    Ok(store::accounts::admin_account(conn, id, store::now()).await?.map(account_of))
}

/// Every associate, active or not, by name.
#[utoipa::path(get, path = "/api/admin/associates", tag = "administration", security(("bearer" = [])),
    responses((status = 200, body = [AssociateAccount]), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody)))]
pub async fn associates(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Vec<AssociateAccount>>> {
    user.require_admin()?;
    let mut conn = state.store.read().await?;
    let all = store::accounts::admin_accounts(&mut conn, store::now()).await?;
    Ok(Json(all.into_iter().map(account_of).collect()))
}

/// A new one-time link for `associate_id` (inside the caller's transaction);
/// the earlier links of that associate stop working.
async fn new_link(conn: &mut AnyConnection, associate_id: &str) -> ApiResult<PasswordLink> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    let secret = hex(&bytes);
    let now = store::now();
    let expires_at = fmt_instant(now + chrono::Duration::hours(LINK_HOURS));
    store::accounts::replace_link(conn, associate_id, &token_hash(&secret), now, &expires_at).await?;
    Ok(PasswordLink { path: format!("/#/set-password/{secret}"), secret, expires_at })
}

/// A password hash no password matches (the account waits for its link).
fn unusable_hash() -> ApiResult<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(format!("!unset-{}", hex(&bytes)))
}

/// Creates an associate (administrators): with `password`, they can sign
/// in at once; without, the answer carries a one-time link (shown once)
/// with which they set their own password.
#[utoipa::path(post, path = "/api/associates", tag = "administration", request_body = NewAssociate,
    security(("bearer" = [])),
    responses((status = 201, body = CreatedAssociate), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn create_associate(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<NewAssociate>,
) -> ApiResult<(StatusCode, Json<CreatedAssociate>)> {
    user.require_admin()?;
    let name = checked_name("name", &req.name)?;
    let email = checked_email(&req.email)?;
    let hash = match req.password {
        Some(password) => {
            check_new_password(&password, &email)?;
            Some(state.sessions.hash(password).await?)
        }
        None => None,
    };
    let id = store::new_id();
    let mut tx = state.store.write().await?;
    if store::directory::associate_by_email(tx.conn(), &email).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "email_taken",
            format!("an associate with the address `{email}` exists already"),
        ));
    }
    let stored_hash = match &hash {
        Some(h) => h.clone(),
        None => unusable_hash()?,
    };
    let role = req.role.unwrap_or(Role::User);
    store::accounts::insert_associate(tx.conn(), &id, &name, &email, role.as_str(), &stored_hash, store::now()).await?;
    let password_link = if hash.is_none() { Some(new_link(tx.conn(), &id).await?) } else { None };
    let associate = account(tx.conn(), &id).await?.ok_or_else(|| ApiError::not_found("associate", &id))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedAssociate { associate, password_link })))
}

/// Renames an associate, changes their role, disables or enables them
/// (administrators). Disabling ends every session, the feed and any
/// pending link; the diary stays. An administrator cannot disable or
/// demote themselves (409 `own_account`), so one always remains.
#[utoipa::path(patch, path = "/api/associates/{id}", tag = "administration", params(("id" = String, Path)),
    request_body = AssociateChange, security(("bearer" = [])),
    responses((status = 200, body = AssociateAccount), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn change_associate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(change): Json<AssociateChange>,
) -> ApiResult<Json<AssociateAccount>> {
    user.require_admin()?;
    let name = change.name.as_deref().map(|n| checked_name("name", n)).transpose()?;
    let own = id == user.id;
    if own && (change.active == Some(false) || change.role == Some(Role::User)) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "own_account",
            "administrators cannot disable or demote themselves; another administrator can",
        ));
    }
    let mut tx = state.store.write().await?;
    let Some(before) = account(tx.conn(), &id).await? else {
        return Err(ApiError::not_found("associate", &id));
    };
    let role = change.role.map(Role::as_str);
    store::accounts::change_associate(tx.conn(), &id, name.as_deref(), role).await?;
    match change.active {
        Some(false) if before.active => store::accounts::disable(tx.conn(), &id, Some(store::now())).await?,
        Some(true) if !before.active => store::accounts::disable(tx.conn(), &id, None).await?,
        _ => {}
    }
    let after = account(tx.conn(), &id).await?.ok_or_else(|| ApiError::not_found("associate", &id))?;
    tx.commit().await?;
    Ok(Json(after))
}

/// Resets a user's password by a one-time link (administrators): the old
/// password stops working and every session of the user ends at once; the
/// answer carries the link (shown once) with which they set a new one.
#[utoipa::path(post, path = "/api/associates/{id}/password-link", tag = "administration",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = PasswordLink), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody)))]
pub async fn password_link(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<PasswordLink>)> {
    user.require_admin()?;
    let mut tx = state.store.write().await?;
    let Some(target) = account(tx.conn(), &id).await? else {
        return Err(ApiError::not_found("associate", &id));
    };
    if !target.active {
        return Err(ApiError::new(StatusCode::CONFLICT, "account_disabled", "enable the associate first"));
    }
    store::accounts::set_password(tx.conn(), &id, &unusable_hash()?).await?;
    store::accounts::end_sessions(tx.conn(), &id, None).await?;
    let link = new_link(tx.conn(), &id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(link)))
}

fn link_gone() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "link_not_found",
        "this link is not valid: it was used, it expired, or a newer one replaced it; ask your administrator for a new one",
    )
}

/// The associate, e-mail and expiry of a valid link.
async fn link_owner(conn: &mut AnyConnection, secret: &str) -> ApiResult<(String, PasswordLinkInfo)> {
    let (a, expires_at) =
        store::accounts::link_owner(conn, &token_hash(secret), store::now()).await?.ok_or_else(link_gone)?;
    Ok((a.id, PasswordLinkInfo { name: a.name, email: a.email, expires_at }))
}

/// Who a one-time set-password link is for (no token needed: the link is
/// the credential). 404 `link_not_found` once used, expired or replaced.
#[utoipa::path(get, path = "/api/password-links/{secret}", tag = "administration", params(("secret" = String, Path)),
    responses((status = 200, body = PasswordLinkInfo), (status = 404, body = super::error::ErrorBody)))]
pub async fn link_info(State(state): State<AppState>, Path(secret): Path<String>) -> ApiResult<Json<PasswordLinkInfo>> {
    let mut conn = state.store.read().await?;
    Ok(Json(link_owner(&mut conn, &secret).await?.1))
}

/// Sets the password through a one-time link (no token needed), which is
/// then used up; every session of the associate ends.
#[utoipa::path(post, path = "/api/password-links/{secret}", tag = "administration", params(("secret" = String, Path)),
    request_body = LinkPassword,
    responses((status = 204), (status = 404, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn use_link(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    Json(req): Json<LinkPassword>,
) -> ApiResult<StatusCode> {
    let (_, info) = {
        let mut conn = state.store.read().await?;
        link_owner(&mut conn, &secret).await?
    };
    check_new_password(&req.new_password, &info.email)?;
    let hash = state.sessions.hash(req.new_password).await?;
    let mut tx = state.store.write().await?;
    // Checked again inside the transaction: a link is used once.
    let (id, _) = link_owner(tx.conn(), &secret).await?;
    store::accounts::use_links(tx.conn(), &id).await?;
    store::accounts::set_password(tx.conn(), &id, &hash).await?;
    store::accounts::end_sessions(tx.conn(), &id, None).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every resource, retired ones too, by name.
#[utoipa::path(get, path = "/api/admin/resources", tag = "administration", security(("bearer" = [])),
    responses((status = 200, body = [ResourceAccount]), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody)))]
pub async fn resources(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Vec<ResourceAccount>>> {
    user.require_admin()?;
    let mut conn = state.store.read().await?;
    Ok(Json(store::directory::all_resources(&mut conn).await?))
}

/// Adds a room or a piece of equipment (administrators).
#[utoipa::path(post, path = "/api/resources", tag = "administration", request_body = NewResource,
    security(("bearer" = [])),
    responses((status = 201, body = ResourceAccount), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn create_resource(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<NewResource>,
) -> ApiResult<(StatusCode, Json<ResourceAccount>)> {
    user.require_admin()?;
    let name = checked_name("name", &req.name)?;
    if !matches!(req.kind.as_str(), "room" | "equipment") {
        return Err(bad("invalid_kind", format!("`kind` must be `room` or `equipment`, not `{}`", req.kind)));
    }
    let id = store::new_id();
    let mut tx = state.store.write().await?;
    store::directory::insert_resource(tx.conn(), &id, &name, &req.kind).await?;
    let created =
        store::directory::resource(tx.conn(), &id).await?.ok_or_else(|| ApiError::not_found("resource", &id))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Renames, retires or brings back a resource (administrators). A retired
/// resource is no longer listed by `GET /api/resources` nor bookable; the
/// follow-ups that booked it keep it.
#[utoipa::path(patch, path = "/api/resources/{id}", tag = "administration", params(("id" = String, Path)),
    request_body = ResourceChange, security(("bearer" = [])),
    responses((status = 200, body = ResourceAccount), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn change_resource(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(change): Json<ResourceChange>,
) -> ApiResult<Json<ResourceAccount>> {
    user.require_admin()?;
    let name = change.name.as_deref().map(|n| checked_name("name", n)).transpose()?;
    let mut tx = state.store.write().await?;
    let Some(before) = store::directory::resource(tx.conn(), &id).await? else {
        return Err(ApiError::not_found("resource", &id));
    };
    if let Some(name) = name {
        store::directory::rename_resource(tx.conn(), &id, &name).await?;
    }
    match change.active {
        Some(false) if before.active => store::directory::retire_resource(tx.conn(), &id, Some(store::now())).await?,
        Some(true) if !before.active => store::directory::retire_resource(tx.conn(), &id, None).await?,
        _ => {}
    }
    let after =
        store::directory::resource(tx.conn(), &id).await?.ok_or_else(|| ApiError::not_found("resource", &id))?;
    tx.commit().await?;
    Ok(Json(after))
}

/// What one poll of an inbox did, for [`record_poll`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollSummary {
    /// Messages applied.
    pub applied: usize,
    /// Messages rejected.
    pub rejected: usize,
    /// Deliveries that failed (offered again later).
    pub failed: usize,
    /// Why the poll failed, if it did.
    pub error: Option<String>,
}

/// The mail status (administrators): each configured inbox with its last
/// poll, the messages it took in and rejected, and its last error; the
/// recent rejections with their reasons; the outbox by status, with the
/// failed messages and their errors.
#[utoipa::path(get, path = "/api/admin/mail", tag = "administration", security(("bearer" = [])),
    responses((status = 200, body = MailStatus), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody)))]
pub async fn mail_status(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<MailStatus>> {
    user.require_admin()?;
    let mut conn = state.store.read().await?;
    let mut inboxes = Vec::with_capacity(state.mail.inboxes.len());
    for inbox in &state.mail.inboxes {
        let poll = store::leases::last_poll(&mut conn, &inbox.name).await?.unwrap_or_default();
        inboxes.push(InboxStatus {
            name: inbox.name.clone(),
            address: inbox.address.clone(),
            server: inbox.server.clone(),
            folder: inbox.folder.clone(),
            last_poll_at: poll.last_poll_at,
            last_success_at: poll.last_success_at,
            last_error: poll.last_error,
            last_error_at: poll.last_error_at,
            applied: poll.applied,
            rejected: poll.rejected,
            failed: poll.failed,
        });
    }
    let rejected = store::ledger::rejected(&mut conn, 100).await?;
    let failed = store::outbox::select(&mut conn, "status = 'failed' ORDER BY created_at DESC, id LIMIT 100").await?;
    let waiting = store::outbox::select(&mut conn, "status = 'queued' ORDER BY created_at, id LIMIT 100").await?;
    // Counted after the lists: a message the sender fails meanwhile is then
    // in the count whenever it is in the list (a failed message stays
    // failed until it is sent or retried by hand), never listed but
    // uncounted.
    let outbox = store::outbox::counts(&mut conn).await?;
    Ok(Json(MailStatus { inboxes, smtp: state.mail.smtp.clone(), rejected, outbox, failed, waiting }))
}

/// Sends a failed outbox message again (administrators): it is queued
/// again at once, its attempts counted anew. 409 `not_failed` unless it failed.
#[utoipa::path(post, path = "/api/outbox/{id}/retry", tag = "outbox", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = OutboxMessage), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody)))]
pub async fn retry_outbox(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<OutboxMessage>> {
    user.require_admin()?;
    let mut tx = state.store.write().await?;
    let (row, failed) =
        store::outbox::retry(tx.conn(), &id).await?.ok_or_else(|| ApiError::not_found("outbox message", &id))?;
    if !failed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_failed",
            format!("the outbox message `{id}` is `{}`, not `failed`", row.status),
        ));
    }
    tx.commit().await?;
    Ok(Json(row))
}
