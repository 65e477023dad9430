//! Sign-in and bearer tokens. Passwords are kept as Argon2id PHC strings;
//! tokens are 256 random bits given once to the client and kept as their
//! SHA-256, so a copy of the database holds no usable token. Tokens expire
//! when idle and at an absolute age ([`Sessions`]); sign-in is throttled per
//! account and client address, and password hashing runs a bounded number
//! at a time.

use super::AppState;
use super::error::{ApiError, ApiResult, Json};
use super::store::{self, hex};
use super::throttle::{Attempt, Throttle};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
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

/// How sessions and passwords are guarded: the sign-in throttle, the bound
/// on concurrent password hashing, and the lifetimes of tokens.
#[derive(Debug)]
pub struct Sessions {
    /// Failed sign-ins by account and client address.
    pub throttle: Throttle,
    hashing: Arc<Semaphore>,
    /// A token unused this long is refused.
    pub idle: Duration,
    /// A token older than this is refused, used or not.
    pub lifetime: Duration,
}

/// How long a request waits for a password-hashing slot before the answer
/// is 503 `busy`.
const HASHING_WAIT: Duration = Duration::from_secs(10);

/// The longest password accepted, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The shortest password accepted for a new password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;

impl Sessions {
    /// Sessions under `limits`.
    pub fn new(limits: &super::Limits) -> Sessions {
        Sessions {
            throttle: Throttle::new(limits.signin),
            hashing: Arc::new(Semaphore::new(limits.password_hashing.max(1))),
            idle: limits.token_idle,
            lifetime: limits.token_lifetime,
        }
    }

    async fn slot(&self) -> ApiResult<tokio::sync::OwnedSemaphorePermit> {
        match tokio::time::timeout(HASHING_WAIT, self.hashing.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::busy("the server is busy checking passwords; try again shortly", 5)),
        }
    }

    /// Whether `password` matches the PHC string `hash`; with no hash (an
    /// unknown account) or one that is no PHC string (an account without a
    /// usable password), the same work against a dummy hash, and `false`.
    /// At most `password_hashing` checks run at once.
    pub async fn verify(&self, password: String, hash: Option<String>) -> ApiResult<bool> {
        let permit = self.slot().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // A hash that is no PHC string (an account waiting for its
            // one-time link) is checked like an unknown account: the same work.
            match hash.filter(|h| PasswordHash::new(h).is_ok()) {
                Some(hash) => verify_password(&password, &hash),
                None => {
                    let _ = verify_password(&password, dummy_hash());
                    false
                }
            }
        })
        .await
        .map_err(ApiError::internal)
    }

    /// An Argon2id PHC string for `password`, under the same bound.
    pub async fn hash(&self, password: String) -> ApiResult<String> {
        let permit = self.slot().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash_password(&password)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Starts a password attempt for `account` from `address`: 429 with
    /// `Retry-After` when either has had too many attempts lately.
    pub fn begin_attempt(&self, account: &str, address: Option<IpAddr>) -> ApiResult<Attempt> {
        self.throttle
            .begin(account, address, Instant::now())
            .map_err(|wait| ApiError::too_many_attempts("too many sign-in attempts; wait before trying again", wait))
    }
}

/// A hash of a random password, with the parameters of real ones: checked
/// against when the account is unknown, so that answering takes as long.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut bytes = [0u8; 16];
        let _ = getrandom::fill(&mut bytes);
        hash_password(&hex(&bytes)).unwrap_or_default()
    })
}

/// The client's address, when the server recorded it.
pub fn client_address(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// The signed-in associate and the stored hash of the token they used.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who.
    pub user: CurrentUser,
    /// The SHA-256 of the bearer token of this request.
    pub token_hash: String,
}

impl FromRequestParts<AppState> for SignedIn {
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
        let hash = token_hash(token);
        let session = {
            let mut conn = state.store.read().await?;
            store::accounts::session(&mut conn, &hash)
                .await?
                .ok_or_else(|| ApiError::unauthorized("the bearer token is not valid"))?
        };
        let now = store::now();
        let created = store::stored_instant(&session.created_at);
        let last_used = session.last_used_at.as_deref().map(store::stored_instant).unwrap_or(created);
        let age = (now - created).to_std().unwrap_or_default();
        let idle = (now - last_used).to_std().unwrap_or_default();
        let sessions = &state.sessions;
        if age >= sessions.lifetime || idle >= sessions.idle {
            let mut tx = state.store.write().await?;
            store::accounts::end_session(tx.conn(), &hash, None).await?;
            tx.commit().await?;
            return Err(ApiError::unauthorized("the session has expired: sign in again"));
        }
        // Refreshed at most every minute (sooner for short idle limits), so
        // that reading does not write on every request.
        if idle >= (sessions.idle / 4).min(Duration::from_secs(60)) {
            let mut tx = state.store.write().await?;
            store::accounts::touch_session(tx.conn(), &hash, now).await?;
            tx.commit().await?;
        }
        let user = CurrentUser {
            id: session.associate.id,
            name: session.associate.name,
            email: session.associate.email,
            role: Role::parse(&session.associate.role),
        };
        Ok(SignedIn { user, token_hash: hash })
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        SignedIn::from_request_parts(parts, state).await.map(|s| s.user)
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
    store::accounts::start_session(conn, &token_hash(&token), associate_id, store::now()).await?;
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

/// Signs in with e-mail and password and returns a new token. Attempts are
/// throttled per account and per client address (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/signin", tag = "auth", request_body = SignIn,
    responses((status = 200, body = Session), (status = 401, body = super::error::ErrorBody),
        (status = 413, body = super::error::ErrorBody), (status = 429, body = super::error::ErrorBody),
        (status = 503, body = super::error::ErrorBody)))]
pub async fn signin(State(state): State<AppState>, request: axum::extract::Request) -> ApiResult<Json<Session>> {
    let address = client_address(request.extensions());
    let Json(req) = Json::<SignIn>::from_request(request, &state).await?;
    let email = req.email.trim().to_lowercase();
    let attempt = state.sessions.begin_attempt(&email, address)?;
    let wrong = || ApiError::unauthorized("wrong e-mail address or password");
    let account = {
        let mut conn = state.store.read().await?;
        store::accounts::by_email(&mut conn, &email).await?
    };
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let mut password = req.password;
    if password.chars().count() > MAX_PASSWORD_CHARS {
        // Never a valid password; checked as a short one, for the same work.
        password.clear();
    }
    let ok = state.sessions.verify(password, hash).await?;
    let Some(account) = account.filter(|_| ok) else {
        return Err(wrong());
    };
    state.sessions.throttle.succeeded(&attempt);
    if account.disabled {
        // Told only to who knows the password.
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "account_disabled",
            "this account is disabled; ask your administrator",
        ));
    }
    let a = account.associate;
    let associate = CurrentUser { id: a.id, name: a.name, email: a.email, role: Role::parse(&a.role) };
    let mut tx = state.store.write().await?;
    let token = issue_token(tx.conn(), &associate.id).await?;
    tx.commit().await?;
    Ok(Json(Session { token, associate }))
}

/// Forgets the token of this request.
#[utoipa::path(post, path = "/api/signout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::ErrorBody)))]
pub async fn signout(State(state): State<AppState>, session: SignedIn) -> ApiResult<axum::http::StatusCode> {
    let mut tx = state.store.write().await?;
    store::accounts::end_session(tx.conn(), &session.token_hash, Some(&session.user.id)).await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The signed-in associate.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = CurrentUser), (status = 401, body = super::error::ErrorBody)))]
pub async fn me(user: CurrentUser) -> Json<CurrentUser> {
    Json(user)
}
