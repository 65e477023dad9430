//! The inboxes' leases: the one instance that polls an inbox now, with a
//! fencing generation, and the inbox's cursor, written in the transaction
//! of the batch it follows.

use super::{Backend, Store, StoreError, StoreResult, fmt_instant, int, now, opt_text};
use crate::admin::PollSummary;
use crate::mail::{Cursor, Lease};
use chrono::TimeDelta;
use sqlx::AnyConnection;
use std::time::Duration;

/// `now + ttl` as stored.
fn lease_end(ttl: Duration) -> String {
    let ttl = TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX);
    fmt_instant(now().checked_add_signed(ttl).unwrap_or_else(now))
}

/// Takes the lease of `inbox` for `holder` when it is free, ran out, or is
/// `holder`'s already: one statement, so two instances asking at once
/// cannot both get it. A take-over raises the generation. On SQLite, where
/// the server holds the file alone ([`Store::claim_sole_instance`]), a
/// lease left by a server that died is taken over at once.
pub async fn acquire(store: &Store, inbox: &str, holder: &str, ttl: Duration) -> StoreResult<Option<Lease>> {
    let expired_before = match store.backend() {
        Backend::Sqlite => lease_end(Duration::from_secs(366 * 86_400)),
        Backend::Postgres => fmt_instant(now()),
    };
    let mut tx = store.write_rows().await?;
    let row = sqlx::query(
        "INSERT INTO inbox_leases (inbox, holder, lease_until, generation, next_uid) VALUES ($1, $2, $3, 1, 1) \
         ON CONFLICT (inbox) DO UPDATE SET holder = $2, lease_until = $3, generation = inbox_leases.generation + 1 \
         WHERE inbox_leases.lease_until < $4 OR inbox_leases.holder = $2 \
         RETURNING generation, uid_validity, next_uid",
    )
    .bind(inbox)
    .bind(holder)
    .bind(lease_end(ttl))
    .bind(expired_before)
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    let Some(row) = row else { return Ok(None) };
    let validity = sqlx::Row::try_get::<Option<i64>, _>(&row, "uid_validity").map_err(StoreError::from)?;
    let cursor = validity.and_then(|v| {
        Some(Cursor {
            uid_validity: u32::try_from(v).ok()?,
            next_uid: u32::try_from(int(&row, "next_uid").ok()?).ok()?,
        })
    });
    Ok(Some(Lease { inbox: inbox.to_owned(), holder: holder.to_owned(), generation: int(&row, "generation")?, cursor }))
}

/// Extends `lease` by `ttl` (`None`: ends it now); false when it is no
/// longer held.
pub async fn renew(store: &Store, lease: &Lease, ttl: Option<Duration>) -> StoreResult<bool> {
    let until = match ttl {
        Some(ttl) => lease_end(ttl),
        None => fmt_instant(chrono::DateTime::UNIX_EPOCH),
    };
    let mut tx = store.write_rows().await?;
    let done =
        sqlx::query("UPDATE inbox_leases SET lease_until = $1 WHERE inbox = $2 AND holder = $3 AND generation = $4")
            .bind(until)
            .bind(&lease.inbox)
            .bind(&lease.holder)
            .bind(lease.generation)
            .execute(tx.conn())
            .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Writes the cursor of `lease`'s inbox, in the transaction of the batch it
/// follows; refused (and so the whole batch) when the lease is no longer
/// this generation's.
pub async fn write_cursor(conn: &mut AnyConnection, lease: &Lease, cursor: Cursor) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE inbox_leases SET uid_validity = $1, next_uid = $2 WHERE inbox = $3 AND holder = $4 AND generation = $5",
    )
    .bind(i64::from(cursor.uid_validity))
    .bind(i64::from(cursor.next_uid))
    .bind(&lease.inbox)
    .bind(&lease.holder)
    .bind(lease.generation)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Refused {
            code: "conflict",
            message: format!(
                "the inbox `{}` is polled by another instance now (its lease was taken over)",
                lease.inbox
            ),
        });
    }
    Ok(())
}

/// Records what a poll of the inbox named `inbox` did (one upsert).
pub async fn record_poll(store: &Store, inbox: &str, poll: &PollSummary) -> StoreResult<()> {
    let now = fmt_instant(super::now());
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let (success, error, error_at) = match &poll.error {
        None => (Some(now.clone()), None, None),
        Some(e) => (None, Some(e.clone()), Some(now.clone())),
    };
    let mut tx = store.write_rows().await?;
    sqlx::query(
        "INSERT INTO inbox_polls (inbox, last_poll_at, last_success_at, last_error, last_error_at, applied, rejected, failed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (inbox) DO UPDATE SET last_poll_at = $2, \
         last_success_at = COALESCE($3, inbox_polls.last_success_at), last_error = $4, \
         last_error_at = COALESCE($5, inbox_polls.last_error_at), applied = inbox_polls.applied + $6, \
         rejected = inbox_polls.rejected + $7, failed = inbox_polls.failed + $8",
    )
    .bind(inbox)
    .bind(&now)
    .bind(success)
    .bind(error)
    .bind(error_at)
    .bind(count(poll.applied))
    .bind(count(poll.rejected))
    .bind(count(poll.failed))
    .execute(tx.conn())
    .await?;
    tx.commit().await
}

/// What the polls of an inbox did, as recorded.
#[derive(Debug, Default)]
pub struct LastPoll {
    /// The last poll, successful or not.
    pub last_poll_at: Option<String>,
    /// The last successful poll.
    pub last_success_at: Option<String>,
    /// The last poll's error, while the inbox fails.
    pub last_error: Option<String>,
    /// When that error happened.
    pub last_error_at: Option<String>,
    /// Messages applied.
    pub applied: i64,
    /// Messages rejected.
    pub rejected: i64,
    /// Deliveries that failed.
    pub failed: i64,
}

/// What the polls of the inbox named `inbox` did; `None` before the first.
pub async fn last_poll(conn: &mut AnyConnection, inbox: &str) -> StoreResult<Option<LastPoll>> {
    let row = sqlx::query(
        "SELECT last_poll_at, last_success_at, last_error, last_error_at, applied, rejected, failed \
         FROM inbox_polls WHERE inbox = $1",
    )
    .bind(inbox)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(LastPoll {
            last_poll_at: opt_text(&r, "last_poll_at")?,
            last_success_at: opt_text(&r, "last_success_at")?,
            last_error: opt_text(&r, "last_error")?,
            last_error_at: opt_text(&r, "last_error_at")?,
            applied: int(&r, "applied")?,
            rejected: int(&r, "rejected")?,
            failed: int(&r, "failed")?,
        })
    })
    .transpose()
}
