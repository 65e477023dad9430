//! The private calendar feeds as stored: one secret (hashed) per
//! associate, when it was made and last fetched, and the appointments a
//! feed lists.

use super::{StoreResult, flag, fmt_instant, int, opt_text, text};
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

/// When the feed of `associate_id` was made and last fetched; `None`
/// without one.
pub async fn of(conn: &mut AnyConnection, associate_id: &str) -> StoreResult<Option<(String, Option<String>)>> {
    let row = sqlx::query("SELECT created_at, last_fetched_at FROM calendar_feeds WHERE associate_id = $1")
        .bind(associate_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| Ok((text(&r, "created_at")?, opt_text(&r, "last_fetched_at")?))).transpose()
}

/// Gives `associate_id` the feed with the secret hashed as `secret_hash`,
/// made at `created_at`, in place of any earlier one.
pub async fn replace(
    conn: &mut AnyConnection,
    associate_id: &str,
    secret_hash: &str,
    created_at: &str,
) -> StoreResult<()> {
    revoke(conn, associate_id).await?;
    sqlx::query("INSERT INTO calendar_feeds (associate_id, secret_hash, created_at) VALUES ($1, $2, $3)")
        .bind(associate_id)
        .bind(secret_hash)
        .bind(created_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes the feed of `associate_id`.
pub async fn revoke(conn: &mut AnyConnection, associate_id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM calendar_feeds WHERE associate_id = $1").bind(associate_id).execute(&mut *conn).await?;
    Ok(())
}

/// The associate (id, name) whose feed's secret hashes to `secret_hash`,
/// unless they are disabled.
pub async fn owner(conn: &mut AnyConnection, secret_hash: &str) -> StoreResult<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT a.id, a.name FROM calendar_feeds f JOIN associates a ON a.id = f.associate_id \
         WHERE f.secret_hash = $1 AND a.disabled_at IS NULL",
    )
    .bind(secret_hash)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok((text(&r, "id")?, text(&r, "name")?))).transpose()
}

/// Records that the feed of `associate_id` was fetched `now` (at most once
/// a minute, so that a client polling hard does not write each time).
pub async fn fetched(conn: &mut AnyConnection, associate_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "UPDATE calendar_feeds SET last_fetched_at = $2 WHERE associate_id = $1 \
         AND (last_fetched_at IS NULL OR last_fetched_at < $3)",
    )
    .bind(associate_id)
    .bind(fmt_instant(now))
    .bind(fmt_instant(now - chrono::Duration::minutes(1)))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An appointment as a feed lists it.
pub struct FeedAppointment {
    /// Id.
    pub id: String,
    /// The meeting's `UID`.
    pub uid: String,
    /// Title.
    pub title: String,
    /// Location.
    pub location: String,
    /// Start, as stored.
    pub start: String,
    /// End, as stored.
    pub end: String,
    /// A whole-day appointment.
    pub all_day: bool,
    /// Status.
    pub status: String,
    /// A series.
    pub recurring: bool,
    /// The stored iCalendar source.
    pub ics: Option<String>,
    /// The feed's own `SEQUENCE` of it.
    pub ical_sequence: i64,
    /// The organizer's address.
    pub organizer_email: Option<String>,
    /// The organizer's name.
    pub organizer_name: Option<String>,
    /// Last changed at.
    pub updated_at: String,
}

const COLUMNS: &str = "a.id, a.uid, a.title, a.location, a.start_at, a.end_at, a.all_day, a.status, a.recurring, \
     a.ics, a.ical_sequence, a.organizer_email, a.organizer_name, a.updated_at";

fn appointment_from_row(row: &AnyRow) -> StoreResult<FeedAppointment> {
    Ok(FeedAppointment {
        id: text(row, "id")?,
        uid: text(row, "uid")?,
        title: text(row, "title")?,
        location: text(row, "location")?,
        start: text(row, "start_at")?,
        end: text(row, "end_at")?,
        all_day: flag(row, "all_day")?,
        status: text(row, "status")?,
        recurring: flag(row, "recurring")?,
        ics: opt_text(row, "ics")?,
        ical_sequence: int(row, "ical_sequence")?,
        organizer_email: opt_text(row, "organizer_email")?,
        organizer_name: opt_text(row, "organizer_name")?,
        updated_at: text(row, "updated_at")?,
    })
}

/// The appointments of `owner`'s feed ending after `since` (series always),
/// at most `max` of each kind: their own (not declined), and the others'
/// they accepted.
pub async fn appointments(
    conn: &mut AnyConnection,
    owner: &str,
    since: &str,
    max: i64,
) -> StoreResult<(Vec<FeedAppointment>, Vec<FeedAppointment>)> {
    let own = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM appointments a WHERE a.owner_id = $1 AND a.status <> 'declined' \
         AND (a.end_at > $2 OR a.recurring = 1) ORDER BY a.start_at, a.id LIMIT $3"
    ))
    .bind(owner)
    .bind(since)
    .bind(max)
    .fetch_all(&mut *conn)
    .await?;
    let accepted = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM participants p JOIN appointments a ON a.id = p.appointment_id \
         WHERE p.associate_id = $1 AND p.kind = 'associate' AND p.status = 'accepted' AND a.owner_id <> $1 \
         AND (a.end_at > $2 OR a.recurring = 1) ORDER BY a.start_at, a.id LIMIT $3"
    ))
    .bind(owner)
    .bind(since)
    .bind(max)
    .fetch_all(&mut *conn)
    .await?;
    Ok((
        own.iter().map(appointment_from_row).collect::<StoreResult<_>>()?,
        accepted.iter().map(appointment_from_row).collect::<StoreResult<_>>()?,
    ))
}

/// The cancelled occurrences (`RECURRENCE-ID`s, as stored) of the series `id`.
pub async fn cancelled_occurrences(conn: &mut AnyConnection, id: &str) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT recurrence_id FROM occurrences WHERE appointment_id = $1 AND status = 'cancelled' ORDER BY recurrence_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| text(r, "recurrence_id")).collect()
}
