//! Busy times as stored: an associate's appointments and invitations, a
//! resource's bookings, and the conflict marks of resource bookings.

use super::{StoreResult, bit, fmt_instant, text};
use crate::appointments::invitation;
use crate::availability::Busy;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

/// Busy intervals of an associate overlapping `[from, until)`, leaving out
/// `exclude` (the appointment being planned).
pub async fn associate_busy(
    conn: &mut AnyConnection,
    associate_id: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    exclude: Option<&str>,
) -> StoreResult<Vec<Busy>> {
    let (from, until) = (fmt_instant(from), fmt_instant(until));
    let exclude = exclude.unwrap_or_default();
    let mut out = Vec::new();
    let own = sqlx::query(
        "SELECT id, start_at, end_at, status FROM appointments WHERE owner_id = $1 AND recurring = 0 \
         AND status NOT IN ('cancelled', 'declined') AND start_at < $3 AND end_at > $2 AND id <> $4 \
         UNION ALL SELECT a.id, o.start_at, o.end_at, a.status FROM occurrences o JOIN appointments a \
         ON a.id = o.appointment_id WHERE a.owner_id = $1 AND a.status NOT IN ('cancelled', 'declined') \
         AND o.status <> 'cancelled' AND o.start_at < $3 AND o.end_at > $2 AND a.id <> $4",
    )
    .bind(associate_id)
    .bind(&from)
    .bind(&until)
    .bind(exclude)
    .fetch_all(&mut *conn)
    .await?;
    for row in own {
        let status = if text(&row, "status")? == "tentative" { "tentative" } else { "busy" };
        out.push(Busy {
            start: text(&row, "start_at")?,
            end: text(&row, "end_at")?,
            status: status.to_owned(),
            appointment_id: text(&row, "id")?,
        });
    }
    let invited = sqlx::query(
        "SELECT a.id, a.start_at, a.end_at, p.status FROM participants p JOIN appointments a ON a.id = p.appointment_id \
         WHERE p.associate_id = $1 AND p.kind = 'associate' AND p.role = 'invitee' \
         AND p.status IN ('not_seen', 'seen', 'moved', 'moved_seen', 'accepted') AND a.status <> 'cancelled' \
         AND a.owner_id <> $1 AND a.start_at < $3 AND a.end_at > $2 AND a.id <> $4",
    )
    .bind(associate_id)
    .bind(&from)
    .bind(&until)
    .bind(exclude)
    .fetch_all(&mut *conn)
    .await?;
    for row in invited {
        let status = if text(&row, "status")? == invitation::ACCEPTED { "busy" } else { "tentative" };
        out.push(Busy {
            start: text(&row, "start_at")?,
            end: text(&row, "end_at")?,
            status: status.to_owned(),
            appointment_id: text(&row, "id")?,
        });
    }
    out.sort_by(|a, b| a.start.cmp(&b.start));
    Ok(out)
}

/// Bookings of a resource overlapping `[from, until)`, leaving out `exclude`.
pub async fn resource_busy(
    conn: &mut AnyConnection,
    resource_id: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    exclude: Option<&str>,
) -> StoreResult<Vec<Busy>> {
    let rows = sqlx::query(
        "SELECT a.id, a.start_at, a.end_at FROM participants p JOIN appointments a ON a.id = p.appointment_id \
         WHERE p.resource_id = $1 AND p.kind = 'resource' AND p.status = 'accepted' AND a.status <> 'cancelled' \
         AND a.start_at < $3 AND a.end_at > $2 AND a.id <> $4 ORDER BY a.start_at",
    )
    .bind(resource_id)
    .bind(fmt_instant(from))
    .bind(fmt_instant(until))
    .bind(exclude.unwrap_or_default())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(Busy {
            start: text(&row, "start_at")?,
            end: text(&row, "end_at")?,
            status: "busy".to_owned(),
            appointment_id: text(&row, "id")?,
        });
    }
    Ok(out)
}

/// The name of the resource `id` (retired or not).
pub async fn resource_name(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<String>> {
    let row = sqlx::query("SELECT name FROM resources WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?;
    row.map(|r| text(&r, "name")).transpose()
}

/// An accepted booking of a resource by an appointment.
pub struct Booking {
    /// The booking (participant) id.
    pub participant_id: String,
    /// The resource.
    pub resource_id: String,
    /// The appointment's start, as stored.
    pub start: String,
    /// Its end, as stored.
    pub end: String,
}

/// The accepted resource bookings of `appointment_id`.
pub async fn resource_bookings(conn: &mut AnyConnection, appointment_id: &str) -> StoreResult<Vec<Booking>> {
    let rows = sqlx::query(
        "SELECT p.id, p.resource_id, a.start_at, a.end_at FROM participants p JOIN appointments a \
         ON a.id = p.appointment_id WHERE p.appointment_id = $1 AND p.kind = 'resource' AND p.status = 'accepted'",
    )
    .bind(appointment_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Booking {
                participant_id: text(row, "id")?,
                resource_id: text(row, "resource_id")?,
                start: text(row, "start_at")?,
                end: text(row, "end_at")?,
            })
        })
        .collect()
}

/// Marks the booking `participant_id` as in conflict or not.
pub async fn set_conflict(conn: &mut AnyConnection, participant_id: &str, conflict: bool) -> StoreResult<()> {
    sqlx::query("UPDATE participants SET conflict = $2 WHERE id = $1")
        .bind(participant_id)
        .bind(bit(conflict))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The resources booked by `appointment_id` (accepted or not).
pub async fn resources_of(conn: &mut AnyConnection, appointment_id: &str) -> StoreResult<Vec<String>> {
    let rows = sqlx::query("SELECT resource_id FROM participants WHERE appointment_id = $1 AND kind = 'resource'")
        .bind(appointment_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| text(r, "resource_id")).collect()
}
