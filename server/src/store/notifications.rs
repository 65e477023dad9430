//! The notifications of the associates ("Invitation declined" until Got it).

use super::{StoreResult, fmt_instant, new_id, now, opt_text, text};
use crate::invitations::Notification;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

/// Stores a notification for `associate_id` about `appointment_id` (and the
/// invitation `participant_id`).
pub async fn add(
    conn: &mut AnyConnection,
    associate_id: &str,
    what: &str,
    appointment_id: Option<&str>,
    participant_id: Option<&str>,
    message: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO notifications (id, associate_id, what, appointment_id, participant_id, message, created_at, got_it_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
    )
    .bind(new_id())
    .bind(associate_id)
    .bind(what)
    .bind(appointment_id)
    .bind(participant_id)
    .bind(message)
    .bind(fmt_instant(now()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn notification_from_row(row: &sqlx::any::AnyRow) -> StoreResult<Notification> {
    Ok(Notification {
        id: text(row, "id")?,
        what: text(row, "what")?,
        appointment_id: opt_text(row, "appointment_id")?,
        message: text(row, "message")?,
        created_at: text(row, "created_at")?,
        got_it_at: opt_text(row, "got_it_at")?,
    })
}

const COLUMNS: &str = "id, what, appointment_id, message, created_at, got_it_at";

/// The notifications of `associate_id` not acknowledged yet (`all`: every
/// one), oldest first, at most 1,000.
pub async fn list(conn: &mut AnyConnection, associate_id: &str, all: bool) -> StoreResult<Vec<Notification>> {
    let filter = if all { "" } else { " AND got_it_at IS NULL" };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE associate_id = $1{filter} ORDER BY created_at, id LIMIT 1000"
    ))
    .bind(associate_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(notification_from_row).collect()
}

/// The associate the notification `id` is for; `None` when there is none.
pub async fn owner(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<String>> {
    let row =
        sqlx::query("SELECT associate_id FROM notifications WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?;
    row.map(|r| text(&r, "associate_id")).transpose()
}

/// Acknowledges the notification `id` `at` (once: a second Got it keeps the
/// first time) and returns it.
pub async fn got_it(conn: &mut AnyConnection, id: &str, at: DateTime<Utc>) -> StoreResult<Notification> {
    sqlx::query("UPDATE notifications SET got_it_at = COALESCE(got_it_at, $2) WHERE id = $1")
        .bind(id)
        .bind(fmt_instant(at))
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM notifications WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    notification_from_row(&row)
}
