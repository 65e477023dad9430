//! The store: a pool over SQLite (the default) or PostgreSQL through sqlx's
//! `Any` driver, versioned migrations from `migrations/`, and the small
//! helpers every repository function shares (ids, instants, flags).
//!
//! Architecture Invariant: the SQL lives in this module and its children,
//! one per aggregate (`store/appointments.rs`, `store/directory.rs`, ...);
//! the handlers parse, call these and answer. The SQL is portable (`$1`
//! parameters, TEXT ids and instants, INTEGER flags). A test below fails
//! when a file of the backend outside the store runs a query.
//!
//! Architecture Invariant: writers are serialized on both databases, so a
//! write transaction sees every earlier write and no concurrent one that
//! could change what it read. SQLite allows one writer per file (and this
//! process takes turns through a mutex). On PostgreSQL a write transaction
//! ([`Store::write`]) first takes one transaction-scoped advisory lock
//! ([`WRITE_LOCK`]) exclusively, which serializes it with the writers of
//! every process sharing the database; a keyed write transaction
//! ([`Store::write_keyed`], the inbox's batches) takes that lock shared and
//! then an exclusive lock per key (a meeting's `UID`), so keyed writers of
//! different meetings run side by side, and every other writer waits for
//! them all. Reads are not serialized.
//!
//! Architecture Invariant: the store's functions answer a [`StoreError`],
//! never an HTTP error: a handler turns it into its answer (`?`), the mail
//! poller into "try again later" or "set the message aside" by its kind.

use super::error::{ApiError, ApiResult};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Row, Transaction};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

pub mod accounts;
pub mod appointments;
pub mod archive;
pub mod availability;
pub mod contacts;
pub mod demo;
pub mod directory;
pub mod effects;
pub mod feeds;
pub mod group_commit;
pub mod invitations;
pub mod leases;
pub mod ledger;
pub mod notifications;
pub mod outbox;
pub mod preferences;

/// Why the store could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The database failed or could not be reached, or a stored row could
    /// not be read: the same call may succeed later.
    Database(String),
    /// No row of this kind with this id.
    NotFound {
        /// What was looked for ("follow-up", "person").
        what: &'static str,
        /// The id looked for.
        id: String,
    },
    /// The change breaks a rule of the store: it would be refused again.
    Refused {
        /// Stable machine code (`invalid_input`, `conflict`).
        code: &'static str,
        /// A message a person can act on.
        message: String,
    },
}

/// Results of the store.
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// A change the store refuses, with the code `invalid_input`.
    pub fn invalid(message: impl Into<String>) -> Self {
        StoreError::Refused { code: "invalid_input", message: message.into() }
    }

    /// Whether the same call may succeed later (the database failed).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Database(_))
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Database(m) => write!(f, "database: {m}"),
            StoreError::NotFound { what, id } => write!(f, "no {what} with id `{id}`"),
            StoreError::Refused { code, message } => write!(f, "{code}: {message}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Database(m) => ApiError::internal(format!("database: {m}")),
            StoreError::NotFound { what, id } => ApiError::not_found(what, &id),
            StoreError::Refused { code, message } => {
                ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
        }
    }
}

/// The versioned migrations, embedded in the program.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (2, "mail", include_str!("../../migrations/0002_mail.sql")),
    (3, "mail_trust", include_str!("../../migrations/0003_mail_trust.sql")),
    (4, "accounts", include_str!("../../migrations/0004_accounts.sql")),
    (5, "instances", include_str!("../../migrations/0005_instances.sql")),
    (6, "received_messages", include_str!("../../migrations/0006_received_messages.sql")),
    (7, "administration", include_str!("../../migrations/0007_administration.sql")),
    (8, "followup_description", include_str!("../../migrations/0008_followup_description.sql")),
    (9, "contacts_phone_email_order", include_str!("../../migrations/0009_contacts_phone_email_order.sql")),
];

#[derive(Debug)]
struct EmbeddedMigrations;

type MigrationFuture = Pin<Box<dyn Future<Output = Result<Vec<Migration>, sqlx::error::BoxDynError>> + Send>>;

impl MigrationSource<'static> for EmbeddedMigrations {
    fn resolve(self) -> MigrationFuture {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// The key of the PostgreSQL advisory lock every write transaction holds
/// (`invitelk` in ASCII): exclusively, or shared by a keyed one.
pub const WRITE_LOCK: i64 = 0x696e_7669_7465_6c6b;

/// The first half of the two-part advisory lock keys of a keyed write
/// (`invi` in ASCII); the second half is the key's hash ([`key_lock`]).
/// Two-part keys are a space of their own, apart from [`WRITE_LOCK`].
pub const KEY_LOCKS: i32 = 0x696e_7669;

/// The second half of the advisory lock of `key`: 32 bits of its FNV-1a
/// hash. Two keys with one hash share a lock, which only serializes them.
pub fn key_lock(key: &str) -> i32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // The upper and lower halves folded: every bit of the hash counts.
    i32::from_ne_bytes(((hash >> 32) as u32 ^ hash as u32).to_ne_bytes())
}

/// The database behind a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: one file, one writer at a time.
    Sqlite,
    /// PostgreSQL: writers serialized by [`WRITE_LOCK`] (and, for keyed
    /// writers, by their keys).
    Postgres,
}

/// The CRM store: a connection pool and one writer at a time.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: Arc<Mutex<()>>,
    instance: Arc<str>,
    sole: Arc<Mutex<Option<AnyConnection>>>,
}

/// A write transaction; nothing is stored until [`WriteTx::commit`].
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// The connection of the transaction.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Commits every change of the transaction at once.
    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await.map_err(StoreError::from)
    }
}

impl Store {
    /// Opens (creating the SQLite file when missing) and migrates the
    /// database at `url` (`sqlite:PATH` or `postgres://...`).
    pub async fn open(url: &str) -> Result<Store, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let backend = if sqlite { Backend::Sqlite } else { Backend::Postgres };
        let url = if sqlite && !url.contains('?') && !url.contains(":memory:") {
            format!("{url}?mode=rwc")
        } else {
            url.to_owned()
        };
        if sqlite && let Some(path) = sqlite_file(&url) {
            create_private(&path).map_err(sqlx::Error::Io)?;
        }
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 10 })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if sqlite {
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if sqlite {
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        let migrator = Migrator::new(EmbeddedMigrations).await?;
        migrator.run(&pool).await?;
        let instance = format!("{}-{}", std::process::id(), new_id());
        Ok(Store { pool, backend, writer: Arc::new(Mutex::new(())), instance: instance.into(), sole: Arc::default() })
    }

    /// This store's instance id: the holder of the leases it takes (inbox
    /// and outbox rows), unique per process and open.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The database behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A connection for a series of reads.
    pub async fn read(&self) -> StoreResult<sqlx::pool::PoolConnection<Any>> {
        self.pool.acquire().await.map_err(StoreError::from)
    }

    /// Starts a write transaction: one writer at a time, in this process
    /// and, on PostgreSQL, among every process sharing the database.
    pub async fn write(&self) -> StoreResult<WriteTx> {
        let guard = self.writer.clone().lock_owned().await;
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
        }
        Ok(WriteTx { tx, _writer: Some(guard) })
    }

    /// Starts a write transaction that changes only what belongs to `keys`
    /// (the `UID`s of the meetings it applies messages to) and rows no
    /// other writer reads and changes (a message's own ledger entry,
    /// notifications, outbox rows it queues). On PostgreSQL it holds
    /// [`WRITE_LOCK`] shared and one exclusive lock per key, taken in one
    /// order (so two keyed writers never wait for each other in a circle):
    /// keyed writers of different meetings, in any process, run side by
    /// side; a writer of [`Store::write`] waits for them, and they for it.
    /// On SQLite like [`Store::write`], the file's one writer.
    pub async fn write_keyed(&self, keys: &[&str]) -> StoreResult<WriteTx> {
        if self.backend == Backend::Sqlite {
            return self.write().await;
        }
        let mut locks: Vec<i32> = keys.iter().map(|k| key_lock(k)).collect();
        locks.sort_unstable();
        locks.dedup();
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
        for lock in locks {
            sqlx::query("SELECT pg_advisory_xact_lock($1, $2)").bind(KEY_LOCKS).bind(lock).execute(&mut *tx).await?;
        }
        Ok(WriteTx { tx, _writer: None })
    }

    /// Starts a transaction for statements that lock only the rows they
    /// change (lease claims and renewals, each one atomic statement): on
    /// PostgreSQL without [`WRITE_LOCK`], so they never wait for the
    /// writers; on SQLite like [`Store::write`], the file's one writer.
    pub async fn write_rows(&self) -> StoreResult<WriteTx> {
        if self.backend == Backend::Sqlite {
            return self.write().await;
        }
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, _writer: None })
    }

    /// Whether the database answers a statement now (readiness).
    pub async fn answers(&self) -> bool {
        match self.pool.acquire().await {
            Ok(mut conn) => sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok(),
            Err(_) => false,
        }
    }

    /// Whether a write transaction can be started and run a statement now.
    pub async fn writable(&self) -> bool {
        match self.write().await {
            Ok(mut tx) => sqlx::query("SELECT 1").execute(tx.conn()).await.is_ok(),
            Err(_) => false,
        }
    }

    /// Claims the SQLite file for this server alone: a second server on
    /// the same file is refused with a message saying so, since SQLite
    /// serves one file from one process (PostgreSQL serves any number:
    /// nothing is claimed there). The claim is an exclusive lock that
    /// SQLite itself holds on `FILE.instance-lock` for as long as this
    /// store is open; [`Store::close`] or the end of the process, however
    /// it ends, releases it.
    pub async fn claim_sole_instance(&self, url: &str) -> Result<(), String> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path.contains(":memory:") {
            return Ok(());
        }
        let lock = format!("{path}.instance-lock");
        let mut conn = AnyConnection::connect(&format!("sqlite:{lock}?mode=rwc"))
            .await
            .map_err(|e| format!("`{lock}` cannot be opened: {e}"))?;
        let claimed = conn
            .execute(
                "PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; \
                 CREATE TABLE IF NOT EXISTS instance (claimed INTEGER); COMMIT",
            )
            .await;
        match claimed {
            Ok(_) => {}
            Err(e) if e.to_string().contains("locked") || e.to_string().contains("busy") => {
                return Err(format!(
                    "another invitelink server already serves the SQLite database `{path}`; SQLite serves one \
                     instance only: stop the other one, or run several instances on PostgreSQL (docs/postgres.md)"
                ));
            }
            Err(e) => return Err(format!("`{lock}` cannot be locked: {e}")),
        }
        *self.sole.lock().await = Some(conn);
        Ok(())
    }

    /// Closes every connection (the SQLite file is then free).
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(conn) = self.sole.lock().await.take() {
            let _ = conn.close().await;
        }
    }
}

/// Sets `column` of the row `id` of `table` (both named by the code, never
/// from input) to `value` (`None`: NULL).
pub(crate) async fn set_column(
    conn: &mut AnyConnection,
    table: &str,
    column: &str,
    id: &str,
    value: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(&format!("UPDATE {table} SET {column} = $2 WHERE id = $1"))
        .bind(id)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Opens the savepoint `message` in `conn`'s transaction: what follows can
/// be undone alone ([`undo_savepoint`]) or kept ([`keep_savepoint`]).
pub async fn savepoint(conn: &mut AnyConnection) -> StoreResult<()> {
    conn.execute("SAVEPOINT message").await?;
    Ok(())
}

/// Keeps what was written since [`savepoint`].
pub async fn keep_savepoint(conn: &mut AnyConnection) -> StoreResult<()> {
    conn.execute("RELEASE SAVEPOINT message").await?;
    Ok(())
}

/// Undoes what was written since [`savepoint`].
pub async fn undo_savepoint(conn: &mut AnyConnection) -> StoreResult<()> {
    conn.execute("ROLLBACK TO SAVEPOINT message; RELEASE SAVEPOINT message").await?;
    Ok(())
}

/// The file of a `sqlite:PATH` URL (`sqlite://PATH` too, any `?query`
/// dropped); `None` for an in-memory database or another scheme.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// Creates the database file, empty and readable by its owner only (mode
/// 0600 on Unix), when it does not exist yet; SQLite gives its `-wal` and
/// `-shm` files the same mode. An existing file is left as it is.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// `url` as it may be printed or logged: the password, if any, hidden
/// (`postgres://crm:***@db.example/crm`).
pub fn display_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some((authority, tail)) = rest.split_at_checked(end) else { return url.to_owned() };
    let hidden = match authority.rsplit_once('@').and_then(|(info, host)| Some((info.split_once(':')?.0, host))) {
        Some((user, host)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    };
    match hidden.split_once("password=") {
        Some((before, after)) => {
            let rest = after.find('&').and_then(|i| after.get(i..)).unwrap_or_default();
            format!("{before}password=***{rest}")
        }
        None => hidden,
    }
}

/// A new random id: 32 hex digits.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // The system has no randomness source: fall back to time and a counter.
        let nanos = now().timestamp_nanos_opt().unwrap_or_default();
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return format!("{nanos:016x}{n:016x}");
    }
    hex(&bytes)
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The current instant, to the second.
pub fn now() -> DateTime<Utc> {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or_default();
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// An instant as stored and answered: RFC 3339 UTC to the second.
pub fn fmt_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A UTC wall time as stored.
pub fn fmt_naive_utc(t: NaiveDateTime) -> String {
    fmt_instant(t.and_utc())
}

/// An engine instant (`2026-12-03T09:00:00Z`) or date (`2026-12-03`) as stored.
pub fn engine_instant(s: &str) -> String {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return fmt_instant(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return fmt_instant(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    s.to_owned()
}

/// Reads an RFC 3339 instant from the API (any offset), named `field` in errors.
pub fn parse_instant(field: &str, s: &str) -> ApiResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::invalid(format!("`{field}` must be an RFC 3339 instant, not `{s}`")))
}

/// Reads an instant stored by this module.
pub fn stored_instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

/// A TEXT column.
pub fn text(row: &AnyRow, column: &str) -> StoreResult<String> {
    row.try_get::<String, _>(column).map_err(StoreError::from)
}

/// A nullable TEXT column.
pub fn opt_text(row: &AnyRow, column: &str) -> StoreResult<Option<String>> {
    row.try_get::<Option<String>, _>(column).map_err(StoreError::from)
}

/// An INTEGER column.
pub fn int(row: &AnyRow, column: &str) -> StoreResult<i64> {
    row.try_get::<i64, _>(column).map_err(StoreError::from)
}

/// An INTEGER 0/1 column.
pub fn flag(row: &AnyRow, column: &str) -> StoreResult<bool> {
    int(row, column).map(|v| v != 0)
}

/// A flag as stored.
pub fn bit(b: bool) -> i64 {
    i64::from(b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::display_url;

    #[test]
    fn only_the_store_runs_queries() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.clone()];
        let mut offenders = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "store") {
                    continue;
                }
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("store.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // The file's own tests may query the store they set up.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for needle in
                    ["sqlx::query", "query_as(", ".execute(\"", ".fetch_one(", ".fetch_all(", ".fetch_optional("]
                {
                    if code.contains(needle) {
                        offenders.push(format!("{} ({needle})", path.display()));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "SQL outside the store: {offenders:?}");
    }

    #[test]
    fn printed_urls_hide_the_password() {
        assert_eq!(
            display_url("postgres://crm:s3cr%40t@db.example:5432/crm"),
            "postgres://crm:***@db.example:5432/crm"
        );
        assert_eq!(
            display_url("postgres://crm@db.example/crm?sslmode=require"),
            "postgres://crm@db.example/crm?sslmode=require"
        );
        assert_eq!(
            display_url("postgres://db.example/crm?user=crm&password=x&sslmode=require"),
            "postgres://db.example/crm?user=crm&password=***&sslmode=require"
        );
        assert_eq!(display_url("sqlite:crm.sqlite"), "sqlite:crm.sqlite");
        assert_eq!(display_url("postgres://a:b@h/d?password=c"), "postgres://a:***@h/d?password=***");
    }
}
