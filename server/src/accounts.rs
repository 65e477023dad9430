//! Accounts: a user changes their own password, an administrator sets
//! another user's; a user signs out everywhere, an administrator signs a
//! given user out everywhere. Changing a password ends that user's other
//! sessions.

use super::AppState;
use super::auth::{CurrentUser, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, SignedIn, client_address};
use super::directory;
use super::error::{ApiError, ApiResult, Json};
use super::store;
use axum::extract::{FromRequest, FromRequestParts, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

/// Passwords refused whatever their length, besides the bundled list
/// ([`COMMON_PASSWORDS_LIST`]): the product's own name and words an
/// administrator is tempted to hand out.
pub const COMMON_PASSWORDS: [&str; 6] =
    ["administrator", "changeme123", "invitelink", "invitelink1", "welcome123", "password12"];

/// The bundled list of common passwords of 10 characters or more (one per
/// line, lower-case, `#` lines are its header with source and licence).
pub const COMMON_PASSWORDS_LIST: &str = include_str!("common-passwords.txt");

/// Whether `lower` (a lower-cased password) is a common password.
pub fn is_common(lower: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    let set =
        SET.get_or_init(|| COMMON_PASSWORDS_LIST.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect());
    set.contains(lower) || COMMON_PASSWORDS.contains(&lower)
}

/// 422 `weak_password` unless `password` is acceptable as a new password
/// for the account `email` (NIST SP 800-63B: a length, a list of common
/// passwords, no composition rules): 10 to 256 characters, not one
/// character repeated, not the e-mail address or its local part, not a
/// common password ([`is_common`]) nor a demo password.
pub fn check_new_password(password: &str, email: &str) -> ApiResult<()> {
    let weak = |m: &str| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "weak_password", m);
    let count = password.chars().count();
    if count < MIN_PASSWORD_CHARS {
        return Err(weak(&format!("a password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    if count > MAX_PASSWORD_CHARS {
        return Err(weak(&format!("a password has at most {MAX_PASSWORD_CHARS} characters")));
    }
    let lower = password.to_lowercase();
    let mut chars = lower.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(weak("a password must not be one character repeated"));
    }
    let email = email.to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if lower == email || lower == local {
        return Err(weak("a password must not be the e-mail address"));
    }
    let demo = super::demo::USERS.iter().any(|u| u.password == lower);
    if demo || is_common(&lower) {
        return Err(weak("this password is too common"));
    }
    Ok(())
}

/// A user's new password, with the current one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new password (10 to 256 characters, not a common one).
    pub new_password: String,
}

/// The password an administrator sets for a user.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordReset {
    /// The new password (10 to 256 characters, not a common one).
    pub new_password: String,
}

/// Changes the signed-in user's password. The current password is checked
/// (and throttled as a sign-in); the user's other sessions end, this one
/// stays.
#[utoipa::path(put, path = "/api/me/password", tag = "auth", request_body = PasswordChange,
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody),
        (status = 429, body = super::error::ErrorBody)))]
pub async fn change_password(State(state): State<AppState>, request: axum::extract::Request) -> ApiResult<StatusCode> {
    let address = client_address(request.extensions());
    let (mut parts, body) = request.into_parts();
    let session = SignedIn::from_request_parts(&mut parts, &state).await?;
    let request = axum::extract::Request::from_parts(parts, body);
    let Json(req) = Json::<PasswordChange>::from_request(request, &state).await?;
    let user = &session.user;
    let attempt = state.sessions.begin_attempt(&user.email, address)?;
    let hash = {
        let mut conn = state.store.read().await?;
        store::accounts::password_hash(&mut conn, &user.id)
            .await?
            .ok_or_else(|| ApiError::not_found("associate", &user.id))?
    };
    let mut current = req.current_password;
    if current.chars().count() > MAX_PASSWORD_CHARS {
        current.clear();
    }
    if !state.sessions.verify(current, Some(hash)).await? {
        return Err(ApiError::forbidden("the current password is wrong"));
    }
    state.sessions.throttle.succeeded(&attempt);
    check_new_password(&req.new_password, &user.email)?;
    let hash = state.sessions.hash(req.new_password).await?;
    let mut tx = state.store.write().await?;
    store::accounts::set_password(tx.conn(), &user.id, &hash).await?;
    store::accounts::end_sessions(tx.conn(), &user.id, Some(&session.token_hash)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets another user's password (administrators). Every session of that
/// user ends.
#[utoipa::path(put, path = "/api/associates/{id}/password", tag = "auth", params(("id" = String, Path)),
    request_body = PasswordReset, security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<PasswordReset>,
) -> ApiResult<StatusCode> {
    user.require_admin()?;
    let target = {
        let mut conn = state.store.read().await?;
        directory::associate_by_id(&mut conn, &id).await?.ok_or_else(|| ApiError::not_found("associate", &id))?
    };
    check_new_password(&req.new_password, &target.email)?;
    let hash = state.sessions.hash(req.new_password).await?;
    let mut tx = state.store.write().await?;
    store::accounts::set_password(tx.conn(), &target.id, &hash).await?;
    store::accounts::end_sessions(tx.conn(), &target.id, None).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs the user out everywhere: every token of theirs, this one included,
/// stops working.
#[utoipa::path(post, path = "/api/signout/all", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::ErrorBody)))]
pub async fn signout_all(State(state): State<AppState>, user: CurrentUser) -> ApiResult<StatusCode> {
    let mut tx = state.store.write().await?;
    store::accounts::end_sessions(tx.conn(), &user.id, None).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs a user out everywhere (administrators): every token of theirs
/// stops working.
#[utoipa::path(post, path = "/api/associates/{id}/signout", tag = "auth", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn signout_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require_admin()?;
    let mut tx = state.store.write().await?;
    if !directory::exists(tx.conn(), "associates", &id).await? {
        return Err(ApiError::not_found("associate", &id));
    }
    store::accounts::end_sessions(tx.conn(), &id, None).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::check_new_password;

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_new_password("correct horse battery", "ben@x.example").is_ok());
        for weak in
            ["short", "aaaaaaaaaaaa", "Password123", "demo-ada", "ben@x.example", "BEN", "x".repeat(257).as_str()]
        {
            assert_eq!(check_new_password(weak, "ben@x.example").unwrap_err().code, "weak_password", "{weak}");
        }
        assert!(check_new_password("benbenbenben", "ben@x.example").is_ok());
        // From the bundled list, in any case.
        for common in ["qwertyuiop", "1q2w3e4r5t", "Basketball", "MANCHESTER", "1qaz2wsx3edc", "invitelink1"] {
            assert_eq!(check_new_password(common, "ben@x.example").unwrap_err().code, "weak_password", "{common}");
        }
        assert!(super::COMMON_PASSWORDS_LIST.lines().filter(|l| !l.starts_with('#')).count() > 1500);
    }
}
