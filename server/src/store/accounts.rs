//! Accounts and sessions as stored: the associates' password hashes and
//! whether they are disabled, and the sessions' tokens (hashed).

use super::directory::associate_from_row;
use super::{StoreResult, fmt_instant, opt_text, set_column, text};
use crate::directory::Associate;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

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

/// An associate as the administration lists them.
pub struct AdminAccount {
    /// The associate.
    pub associate: Associate,
    /// Disabled at, as stored.
    pub disabled_at: Option<String>,
    /// Made at, as stored.
    pub created_at: String,
    /// A set-password link is waiting to be used.
    pub link_pending: bool,
}

const ADMIN_COLUMNS: &str = "a.id, a.name, a.email, a.role, a.disabled_at, a.created_at, \
     (SELECT COUNT(*) FROM password_links l WHERE l.associate_id = a.id AND l.expires_at > $1) AS links";

fn admin_account_of(row: &AnyRow) -> StoreResult<AdminAccount> {
    Ok(AdminAccount {
        associate: associate_from_row(row)?,
        disabled_at: opt_text(row, "disabled_at")?,
        created_at: text(row, "created_at")?,
        link_pending: super::int(row, "links")? > 0,
    })
}

/// The associate `id` as the administration shows it `now`.
pub async fn admin_account(
    conn: &mut AnyConnection,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<AdminAccount>> {
    let row = sqlx::query(&format!("SELECT {ADMIN_COLUMNS} FROM associates a WHERE a.id = $2"))
        .bind(fmt_instant(now))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(admin_account_of).transpose()
}

/// Every associate, active or not, by name, as the administration shows
/// them `now`.
pub async fn admin_accounts(conn: &mut AnyConnection, now: DateTime<Utc>) -> StoreResult<Vec<AdminAccount>> {
    let rows = sqlx::query(&format!("SELECT {ADMIN_COLUMNS} FROM associates a ORDER BY a.name, a.email"))
        .bind(fmt_instant(now))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(admin_account_of).collect()
}

/// Stores a new associate.
pub async fn insert_associate(
    conn: &mut AnyConnection,
    id: &str,
    name: &str,
    email: &str,
    role: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO associates (id, name, email, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(name)
    .bind(email)
    .bind(role)
    .bind(password_hash)
    .bind(fmt_instant(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Renames the associate `id` and sets their role, where given.
pub async fn change_associate(
    conn: &mut AnyConnection,
    id: &str,
    name: Option<&str>,
    role: Option<&str>,
) -> StoreResult<()> {
    if let Some(name) = name {
        set_column(conn, "associates", "name", id, Some(name)).await?;
    }
    if let Some(role) = role {
        set_column(conn, "associates", "role", id, Some(role)).await?;
    }
    Ok(())
}

/// Disables the associate `id` at `at`, ending their sessions, links and
/// feed; `None` enables them again.
pub async fn disable(conn: &mut AnyConnection, id: &str, at: Option<DateTime<Utc>>) -> StoreResult<()> {
    set_column(conn, "associates", "disabled_at", id, at.map(fmt_instant).as_deref()).await?;
    if at.is_some() {
        for table in ["tokens", "password_links", "calendar_feeds"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE associate_id = $1")).bind(id).execute(&mut *conn).await?;
        }
    }
    Ok(())
}

/// Gives `associate_id` the one set-password link hashed as `token_hash`,
/// made `now`, working until `expires_at` (as stored); earlier links stop.
pub async fn replace_link(
    conn: &mut AnyConnection,
    associate_id: &str,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: &str,
) -> StoreResult<()> {
    use_links(conn, associate_id).await?;
    sqlx::query(
        "INSERT INTO password_links (token_hash, associate_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(associate_id)
    .bind(fmt_instant(now))
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends every set-password link of `associate_id`.
pub async fn use_links(conn: &mut AnyConnection, associate_id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM password_links WHERE associate_id = $1").bind(associate_id).execute(&mut *conn).await?;
    Ok(())
}

/// The associate of the link hashed as `token_hash` and its expiry (as
/// stored), while it works `now` and the associate is not disabled.
pub async fn link_owner(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<(Associate, String)>> {
    let row = sqlx::query(
        "SELECT a.id, a.name, a.email, a.role, l.expires_at FROM password_links l \
         JOIN associates a ON a.id = l.associate_id \
         WHERE l.token_hash = $1 AND l.expires_at > $2 AND a.disabled_at IS NULL",
    )
    .bind(token_hash)
    .bind(fmt_instant(now))
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok((associate_from_row(&r)?, text(&r, "expires_at")?))).transpose()
}
