//! The associates' invitations and assignments as stored (participants of
//! the CRM's follow-ups), their Invitations lists and their diaries.

use super::appointments::{appointment_columns, appointment_from_row, participant_columns};
use super::{StoreResult, flag, opt_text, text};
use crate::appointments::{Participant, invitation};
use crate::calendar::CalendarEntry;
use crate::invitations::{DiaryEntry, InvitationItem};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

async fn items(
    conn: &mut AnyConnection,
    sql: &str,
    user_id: &str,
    direction: &str,
    out: &mut Vec<InvitationItem>,
) -> StoreResult<()> {
    let rows = sqlx::query(sql).bind(user_id).fetch_all(&mut *conn).await?;
    for row in rows {
        let p = Participant {
            id: text(&row, "p_id")?,
            appointment_id: text(&row, "p_appointment_id")?,
            kind: text(&row, "p_kind")?,
            role: text(&row, "p_role")?,
            associate_id: opt_text(&row, "p_associate_id")?,
            resource_id: None,
            person_id: None,
            email: None,
            name: opt_text(&row, "p_name")?,
            status: text(&row, "p_status")?,
            conflict: false,
            updated_at: text(&row, "p_updated_at")?,
        };
        let appointment = appointment_from_row(&row)?;
        let conflict = sqlx::query("SELECT id FROM participants WHERE appointment_id = $1 AND conflict = 1")
            .bind(&appointment.id)
            .fetch_optional(&mut *conn)
            .await?
            .is_some();
        out.push(InvitationItem {
            id: p.id,
            kind: if p.role == "assignee" { "assignment".to_owned() } else { "invitation".to_owned() },
            direction: direction.to_owned(),
            status: p.status,
            conflict,
            associate_id: p.associate_id,
            associate_name: p.name,
            appointment,
        });
    }
    Ok(())
}

fn select() -> String {
    let p = "p.id AS p_id, p.appointment_id AS p_appointment_id, p.kind AS p_kind, p.role AS p_role, \
             p.associate_id AS p_associate_id, p.name AS p_name, p.status AS p_status, p.updated_at AS p_updated_at";
    format!(
        "SELECT {p}, {} FROM participants p JOIN appointments a ON a.id = p.appointment_id",
        appointment_columns("a.")
    )
}

/// The invitations and assignments waiting for `user_id`: new, seen,
/// moved, and cancelled ones not yet seen.
pub async fn incoming(conn: &mut AnyConnection, user_id: &str) -> StoreResult<Vec<InvitationItem>> {
    let sql = format!(
        "{} WHERE p.associate_id = $1 AND p.kind = 'associate' AND p.response_seen = 0 AND ( \
         (p.role = 'invitee' AND p.status IN ('not_seen', 'seen', 'moved', 'moved_seen', 'cancelled')) \
         OR (p.role = 'assignee' AND p.status IN ('assigned', 'seen'))) ORDER BY a.start_at, p.id",
        select()
    );
    let mut out = Vec::new();
    items(conn, &sql, user_id, "incoming", &mut out).await?;
    Ok(out)
}

/// The answers to `user_id`'s invitations and assignments not yet seen.
pub async fn responses(conn: &mut AnyConnection, user_id: &str) -> StoreResult<Vec<InvitationItem>> {
    let sql = format!(
        "{} WHERE p.kind = 'associate' AND p.response_seen = 0 AND p.status IN ('accepted', 'declined') AND ( \
         (p.role = 'invitee' AND a.owner_id = $1 AND a.status <> 'cancelled') \
         OR (p.role = 'assignee' AND a.assigned_by = $1)) ORDER BY p.updated_at, p.id",
        select()
    );
    let mut out = Vec::new();
    items(conn, &sql, user_id, "response", &mut out).await?;
    Ok(out)
}

/// The answer of the invitation `id` was seen: it leaves its owner's list.
pub async fn mark_response_seen(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE participants SET response_seen = 1 WHERE id = $1").bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// The diary of `user_id` from `from` until `until` (instants as stored):
/// their own appointments (a series by its occurrences) and the invitations
/// to others' follow-ups, unsorted.
pub async fn diary(conn: &mut AnyConnection, user_id: &str, from: &str, until: &str) -> StoreResult<Vec<DiaryEntry>> {
    let mut out = Vec::new();
    let own = sqlx::query(
        "SELECT id, title, location, start_at, end_at, status, recurring FROM appointments WHERE owner_id = $1 \
         AND status NOT IN ('cancelled', 'declined') AND start_at < $3 AND end_at > $2 ORDER BY start_at LIMIT 2000",
    )
    .bind(user_id)
    .bind(from)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    for row in own {
        if flag(&row, "recurring")? {
            continue;
        }
        out.push(DiaryEntry {
            kind: "appointment".to_owned(),
            appointment_id: text(&row, "id")?,
            invitation_id: None,
            recurrence_id: None,
            title: text(&row, "title")?,
            location: text(&row, "location")?,
            start: text(&row, "start_at")?,
            end: text(&row, "end_at")?,
            status: text(&row, "status")?,
        });
    }
    let series = sqlx::query(
        "SELECT a.id, a.title, a.location, a.status, o.recurrence_id, o.start_at, o.end_at FROM occurrences o \
         JOIN appointments a ON a.id = o.appointment_id WHERE a.owner_id = $1 AND a.status NOT IN ('cancelled', 'declined') \
         AND o.status <> 'cancelled' AND o.start_at < $3 AND o.end_at > $2 ORDER BY o.start_at LIMIT 2000",
    )
    .bind(user_id)
    .bind(from)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    for row in series {
        out.push(DiaryEntry {
            kind: "appointment".to_owned(),
            appointment_id: text(&row, "id")?,
            invitation_id: None,
            recurrence_id: Some(text(&row, "recurrence_id")?),
            title: text(&row, "title")?,
            location: text(&row, "location")?,
            start: text(&row, "start_at")?,
            end: text(&row, "end_at")?,
            status: text(&row, "status")?,
        });
    }
    let invited = sqlx::query(&format!(
        "SELECT {}, {} FROM participants p JOIN appointments a ON a.id = p.appointment_id \
         WHERE p.associate_id = $1 AND p.kind = 'associate' AND p.role = 'invitee' AND a.owner_id <> $1 \
         AND p.status IN ('not_seen', 'seen', 'moved', 'moved_seen', 'accepted') AND a.status <> 'cancelled' \
         AND a.start_at < $3 AND a.end_at > $2 ORDER BY a.start_at LIMIT 2000",
        participant_columns("p."),
        "a.title, a.location, a.start_at, a.end_at"
    ))
    .bind(user_id)
    .bind(from)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    for row in invited {
        let status = text(&row, "status")?;
        out.push(DiaryEntry {
            kind: if status == invitation::ACCEPTED { "appointment" } else { "invitation" }.to_owned(),
            appointment_id: text(&row, "appointment_id")?,
            invitation_id: Some(text(&row, "id")?),
            recurrence_id: None,
            title: text(&row, "title")?,
            location: text(&row, "location")?,
            start: text(&row, "start_at")?,
            end: text(&row, "end_at")?,
            status,
        });
    }
    Ok(out)
}

/// The most calendar entries of each kind one request answers.
pub const MAX_ENTRIES: i64 = 2000;

/// 1 when a resource of the appointment is double-booked: an integer on
/// both stores (a bare `EXISTS` is a BOOLEAN on PostgreSQL, an integer on SQLite).
const CONFLICT: &str = "CASE WHEN EXISTS (SELECT 1 FROM participants r WHERE r.appointment_id = a.id \
     AND r.kind = 'resource' AND r.conflict = 1) THEN 1 ELSE 0 END";

fn entry(row: &AnyRow, kind: &str, status: String, invitation_id: Option<String>) -> StoreResult<CalendarEntry> {
    Ok(CalendarEntry {
        kind: kind.to_owned(),
        appointment_id: text(row, "id")?,
        invitation_id,
        recurrence_id: opt_text(row, "recurrence_id")?,
        title: text(row, "title")?,
        location: text(row, "location")?,
        start: text(row, "start_at")?,
        end: text(row, "end_at")?,
        status,
        moved: flag(row, "moved")?,
        conflict: flag(row, "conflict")?,
        origin: text(row, "origin")?,
        owner_name: opt_text(row, "owner_name")?,
    })
}

/// The calendar of `user_id` from `from` until `until` (instants as stored):
/// own appointments in every status (a series by its occurrences), and the
/// follow-ups they are invited to or assigned, in every invitation status;
/// unsorted.
pub async fn calendar(
    conn: &mut AnyConnection,
    user_id: &str,
    from: &str,
    until: &str,
) -> StoreResult<Vec<CalendarEntry>> {
    let mut out = Vec::new();
    let own = sqlx::query(&format!(
        "SELECT a.id, a.title, a.location, a.start_at, a.end_at, a.status, a.moved, a.origin, \
         NULL AS recurrence_id, NULL AS owner_name, {CONFLICT} AS conflict FROM appointments a \
         WHERE a.owner_id = $1 AND a.recurring = 0 AND a.start_at < $3 AND a.end_at > $2 \
         ORDER BY a.start_at LIMIT {MAX_ENTRIES}"
    ))
    .bind(user_id)
    .bind(from)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    for row in &own {
        out.push(entry(row, "appointment", text(row, "status")?, None)?);
    }
    let series = sqlx::query(&format!(
        "SELECT a.id, a.title, a.location, o.start_at, o.end_at, a.status, o.status AS occurrence_status, a.moved, \
         a.origin, o.recurrence_id, NULL AS owner_name, {CONFLICT} AS conflict FROM occurrences o \
         JOIN appointments a ON a.id = o.appointment_id WHERE a.owner_id = $1 \
         AND o.start_at < $3 AND o.end_at > $2 ORDER BY o.start_at LIMIT {MAX_ENTRIES}"
    ))
    .bind(user_id)
    .bind(from)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    for row in &series {
        let status = match text(row, "occurrence_status")?.as_str() {
            "cancelled" => "cancelled".to_owned(),
            _ => text(row, "status")?,
        };
        out.push(entry(row, "appointment", status, None)?);
    }
    let invited = sqlx::query(&format!(
        "SELECT a.id, a.title, a.location, a.start_at, a.end_at, a.moved, a.origin, NULL AS recurrence_id, \
         o.name AS owner_name, {CONFLICT} AS conflict, p.id AS p_id, p.role AS p_role, p.status AS p_status, \
         a.status AS a_status FROM participants p JOIN appointments a ON a.id = p.appointment_id \
         JOIN associates o ON o.id = a.owner_id \
         WHERE p.associate_id = $1 AND p.kind = 'associate' AND a.owner_id <> $1 \
         AND a.start_at < $3 AND a.end_at > $2 ORDER BY a.start_at LIMIT {MAX_ENTRIES}"
    ))
    .bind(user_id)
    .bind(from)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    for row in &invited {
        let role = text(row, "p_role")?;
        let mut status = text(row, "p_status")?;
        if text(row, "a_status")? == "cancelled" {
            status = "cancelled".to_owned();
        }
        // An accepted assignment made me the owner: it is listed above.
        let kind = if role == "assignee" { "assignment" } else { "invitation" };
        out.push(entry(row, kind, status, Some(text(row, "p_id")?))?);
    }
    Ok(out)
}
