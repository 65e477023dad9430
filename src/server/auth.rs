//! Sign-in and bearer tokens. Passwords are kept as Argon2id PHC strings;
//! tokens are 256 random bits given once to the client and kept as their
//! SHA-256, so a copy of the database holds no usable token.

use super::AppState;
use super::error::{ApiError, ApiResult, Json};
use super::store::{self, hex, text};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// The role of an associate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A user of the CRM.
    User,
    /// A user who may also change system preferences and act for any mailbox.
    Admin,
}

impl Role {
    /// The role as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    /// Reads a stored role; anything unknown is a plain user.
    pub fn parse(s: &str) -> Role {
        if s == "admin" { Role::Admin } else { Role::User }
    }
}

/// The signed-in associate, taken from the bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CurrentUser {
    /// Associate id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// E-mail address (the user's mailbox), lower-case.
    pub email: String,
    /// Role.
    pub role: Role,
}

impl CurrentUser {
    /// Whether the user is an administrator.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// 403 unless the user is an administrator.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.is_admin() { Ok(()) } else { Err(ApiError::forbidden("this needs the administrator role")) }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("sign in first: the `Authorization: Bearer` header is missing"))?;
        let value = value.to_str().map_err(|_| ApiError::unauthorized("the bearer token is not valid"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the `Authorization` header must be `Bearer <token>`"))?;
        let mut conn = state.store.read().await?;
        let row = sqlx::query(
            "SELECT a.id, a.name, a.email, a.role FROM tokens t JOIN associates a ON a.id = t.associate_id \
             WHERE t.token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the bearer token is not valid"))?;
        Ok(CurrentUser {
            id: text(&row, "id")?,
            name: text(&row, "name")?,
            email: text(&row, "email")?,
            role: Role::parse(&text(&row, "role")?),
        })
    }
}

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// An Argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> ApiResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(ApiError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Stores a new token for `associate_id` and returns it.
pub async fn issue_token(conn: &mut AnyConnection, associate_id: &str) -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    let token = hex(&bytes);
    sqlx::query("INSERT INTO tokens (token_hash, associate_id, created_at) VALUES ($1, $2, $3)")
        .bind(token_hash(&token))
        .bind(associate_id)
        .bind(store::fmt_instant(store::now()))
        .execute(&mut *conn)
        .await?;
    Ok(token)
}

/// Sign-in request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignIn {
    /// The associate's e-mail address.
    pub email: String,
    /// The password.
    pub password: String,
}

/// A bearer token and the signed-in associate.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Who signed in.
    pub associate: CurrentUser,
}

/// Signs in with e-mail and password and returns a new token.
#[utoipa::path(post, path = "/api/signin", tag = "auth", request_body = SignIn,
    responses((status = 200, body = Session), (status = 401, body = super::error::ErrorBody)))]
pub async fn signin(State(state): State<AppState>, Json(req): Json<SignIn>) -> ApiResult<Json<Session>> {
    let email = req.email.trim().to_lowercase();
    let row = {
        let mut conn = state.store.read().await?;
        sqlx::query("SELECT id, name, email, role, password_hash FROM associates WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *conn)
            .await?
    };
    let wrong = || ApiError::unauthorized("wrong e-mail address or password");
    let Some(row) = row else {
        return Err(wrong());
    };
    let hash = text(&row, "password_hash")?;
    let password = req.password;
    let ok =
        tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.map_err(ApiError::internal)?;
    if !ok {
        return Err(wrong());
    }
    let associate = CurrentUser {
        id: text(&row, "id")?,
        name: text(&row, "name")?,
        email: text(&row, "email")?,
        role: Role::parse(&text(&row, "role")?),
    };
    let mut tx = state.store.write().await?;
    let token = issue_token(tx.conn(), &associate.id).await?;
    tx.commit().await?;
    Ok(Json(Session { token, associate }))
}

/// Forgets the token of this request.
#[utoipa::path(post, path = "/api/signout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::ErrorBody)))]
pub async fn signout(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::http::StatusCode> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(7..))
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    let mut tx = state.store.write().await?;
    sqlx::query("DELETE FROM tokens WHERE token_hash = $1 AND associate_id = $2")
        .bind(token_hash(&token))
        .bind(&user.id)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The signed-in associate.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = CurrentUser), (status = 401, body = super::error::ErrorBody)))]
pub async fn me(user: CurrentUser) -> Json<CurrentUser> {
    Json(user)
}
