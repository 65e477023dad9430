//! Accounts and sessions as stored: the associates' password hashes and
//! whether they are disabled, and the sessions' tokens (hashed).

use super::{StoreResult, fmt_instant, opt_text, text};
use crate::directory::Associate;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

fn associate_from_row(row: &AnyRow) -> StoreResult<Associate> {
    Ok(Associate {
        id: text(row, "id")?,
        name: text(row, "name")?,
        email: text(row, "email")?,
        role: text(row, "role")?,
    })
}

/// A session found by its token.
pub struct Session {
    /// Whose it is (an associate not disabled).
    pub associate: Associate,
    /// Started at, as stored.
    pub created_at: String,
    /// Last used at, as stored.
    pub last_used_at: Option<String>,
}

/// The session whose token hashes to `token_hash`, unless its associate is
/// disabled.
pub async fn session(conn: &mut AnyConnection, token_hash: &str) -> StoreResult<Option<Session>> {
    let row = sqlx::query(
        "SELECT a.id, a.name, a.email, a.role, t.created_at, t.last_used_at FROM tokens t \
         JOIN associates a ON a.id = t.associate_id WHERE t.token_hash = $1 AND a.disabled_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Session {
            associate: associate_from_row(&r)?,
            created_at: text(&r, "created_at")?,
            last_used_at: opt_text(&r, "last_used_at")?,
        })
    })
    .transpose()
}

/// Starts the session `token_hash` of `associate_id` `now`.
pub async fn start_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    associate_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO tokens (token_hash, associate_id, created_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(associate_id)
        .bind(fmt_instant(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records that the session `token_hash` was used `now`.
pub async fn touch_session(conn: &mut AnyConnection, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE token_hash = $2")
        .bind(fmt_instant(now))
        .bind(token_hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ends the session `token_hash` (only if it is `of`'s, when given).
pub async fn end_session(conn: &mut AnyConnection, token_hash: &str, of: Option<&str>) -> StoreResult<()> {
    match of {
        None => sqlx::query("DELETE FROM tokens WHERE token_hash = $1").bind(token_hash).execute(&mut *conn).await?,
        Some(associate_id) => {
            sqlx::query("DELETE FROM tokens WHERE token_hash = $1 AND associate_id = $2")
                .bind(token_hash)
                .bind(associate_id)
                .execute(&mut *conn)
                .await?
        }
    };
    Ok(())
}

/// Ends every session of `associate_id` but the one with `keep` (a token hash).
pub async fn end_sessions(conn: &mut AnyConnection, associate_id: &str, keep: Option<&str>) -> StoreResult<()> {
    sqlx::query("DELETE FROM tokens WHERE associate_id = $1 AND token_hash <> $2")
        .bind(associate_id)
        .bind(keep.unwrap_or_default())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An account as signing in reads it.
pub struct Account {
    /// The associate.
    pub associate: Associate,
    /// The Argon2id PHC string of the password.
    pub password_hash: String,
    /// The account is disabled.
    pub disabled: bool,
}

/// The account whose address is `email` (lower-case).
pub async fn by_email(conn: &mut AnyConnection, email: &str) -> StoreResult<Option<Account>> {
    let row = sqlx::query("SELECT id, name, email, role, password_hash, disabled_at FROM associates WHERE email = $1")
        .bind(email)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(Account {
            associate: associate_from_row(&r)?,
            password_hash: text(&r, "password_hash")?,
            disabled: opt_text(&r, "disabled_at")?.is_some(),
        })
    })
    .transpose()
}

/// The password hash of `associate_id`.
pub async fn password_hash(conn: &mut AnyConnection, associate_id: &str) -> StoreResult<Option<String>> {
    let row = sqlx::query("SELECT password_hash FROM associates WHERE id = $1")
        .bind(associate_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| text(&r, "password_hash")).transpose()
}

/// Sets the password hash of `associate_id`.
pub async fn set_password(conn: &mut AnyConnection, associate_id: &str, hash: &str) -> StoreResult<()> {
    sqlx::query("UPDATE associates SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(associate_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
