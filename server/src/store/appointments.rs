//! The appointments of the diaries and their participants: every row
//! read and written in one place, bound by one helper per table.

use super::{StoreError, StoreResult, bit, flag, fmt_instant, int, now, opt_text, text};
use crate::appointments::{Appointment, Participant};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

const APPOINTMENT_COLUMNS: &str = "id, owner_id, origin, title, location, start_at, end_at, all_day, status, moved, \
     recurring, uid, ical_sequence, dtstamp, organizer_email, organizer_name, ics, person_id, company_id, project_id, \
     sale_id, assigned_by, first_available_at, created_at, updated_at, description";

/// `SELECT` list of appointments, for joins (prefix `a.`).
pub fn appointment_columns(prefix: &str) -> String {
    APPOINTMENT_COLUMNS.split(", ").map(|c| format!("{prefix}{c}")).collect::<Vec<_>>().join(", ")
}

/// Reads an appointment from a row of [`appointment_columns`].
pub fn appointment_from_row(row: &AnyRow) -> StoreResult<Appointment> {
    Ok(Appointment {
        id: text(row, "id")?,
        owner_id: text(row, "owner_id")?,
        origin: text(row, "origin")?,
        title: text(row, "title")?,
        location: text(row, "location")?,
        description: text(row, "description")?,
        start: text(row, "start_at")?,
        end: text(row, "end_at")?,
        all_day: flag(row, "all_day")?,
        status: text(row, "status")?,
        moved: flag(row, "moved")?,
        recurring: flag(row, "recurring")?,
        uid: text(row, "uid")?,
        sequence: int(row, "ical_sequence")?,
        dtstamp: opt_text(row, "dtstamp")?,
        organizer_email: opt_text(row, "organizer_email")?,
        organizer_name: opt_text(row, "organizer_name")?,
        ics: opt_text(row, "ics")?,
        person_id: opt_text(row, "person_id")?,
        company_id: opt_text(row, "company_id")?,
        project_id: opt_text(row, "project_id")?,
        sale_id: opt_text(row, "sale_id")?,
        assigned_by: opt_text(row, "assigned_by")?,
        first_available: opt_text(row, "first_available_at")?,
        created_at: text(row, "created_at")?,
        updated_at: text(row, "updated_at")?,
    })
}

/// The appointment with `id`.
pub async fn find(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<Appointment>> {
    let row = sqlx::query(&format!("SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(appointment_from_row).transpose()
}

/// The appointment with `id`, or 404.
pub async fn get(conn: &mut AnyConnection, id: &str) -> StoreResult<Appointment> {
    find(conn, id).await?.ok_or_else(|| StoreError::NotFound { what: "follow-up", id: id.to_owned() })
}

/// The appointment in `owner_id`'s diary with `uid`.
pub async fn find_by_uid(conn: &mut AnyConnection, owner_id: &str, uid: &str) -> StoreResult<Option<Appointment>> {
    let row = sqlx::query(&format!("SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE owner_id = $1 AND uid = $2"))
        .bind(owner_id)
        .bind(uid)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(appointment_from_row).transpose()
}

/// The follow-up organized in the CRM with `uid` (any owner).
pub async fn find_crm_by_uid(conn: &mut AnyConnection, uid: &str) -> StoreResult<Option<Appointment>> {
    let row = sqlx::query(&format!(
        "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE uid = $1 AND origin = 'crm' ORDER BY created_at LIMIT 1"
    ))
    .bind(uid)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(appointment_from_row).transpose()
}

/// Binds every column of `a`, in the order of `APPOINTMENT_COLUMNS`
/// (`$1` the id ... `$26` the description): the one row-binding of the table.
fn bind_appointment<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    a: &'q Appointment,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&a.id)
        .bind(&a.owner_id)
        .bind(&a.origin)
        .bind(&a.title)
        .bind(&a.location)
        .bind(&a.start)
        .bind(&a.end)
        .bind(bit(a.all_day))
        .bind(&a.status)
        .bind(bit(a.moved))
        .bind(bit(a.recurring))
        .bind(&a.uid)
        .bind(a.sequence)
        .bind(&a.dtstamp)
        .bind(&a.organizer_email)
        .bind(&a.organizer_name)
        .bind(&a.ics)
        .bind(&a.person_id)
        .bind(&a.company_id)
        .bind(&a.project_id)
        .bind(&a.sale_id)
        .bind(&a.assigned_by)
        .bind(&a.first_available)
        .bind(&a.created_at)
        .bind(&a.updated_at)
        .bind(&a.description)
}

/// `$1, $2, ...` for every column of `APPOINTMENT_COLUMNS`.
fn appointment_placeholders() -> String {
    (1..=APPOINTMENT_COLUMNS.split(", ").count()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Inserts `a` as it is.
pub async fn insert(conn: &mut AnyConnection, a: &Appointment) -> StoreResult<()> {
    let sql = format!("INSERT INTO appointments ({APPOINTMENT_COLUMNS}) VALUES ({})", appointment_placeholders());
    bind_appointment(sqlx::query(&sql), a).execute(&mut *conn).await?;
    Ok(())
}

/// Writes every column of `a` but its id and creation time (the creation
/// time stays as stored: `$24` is bound and not written).
pub async fn update(conn: &mut AnyConnection, a: &Appointment) -> StoreResult<()> {
    let assignments: Vec<String> = APPOINTMENT_COLUMNS
        .split(", ")
        .enumerate()
        .skip(1)
        .map(|(i, column)| match column {
            "created_at" => format!("created_at = COALESCE(created_at, ${})", i + 1),
            _ => format!("{column} = ${}", i + 1),
        })
        .collect();
    let sql = format!("UPDATE appointments SET {} WHERE id = $1", assignments.join(", "));
    bind_appointment(sqlx::query(&sql), a).execute(&mut *conn).await?;
    Ok(())
}

const PARTICIPANT_COLUMNS: &str = "id, appointment_id, kind, role, associate_id, resource_id, person_id, email, name, \
     status, conflict, updated_at";

/// `SELECT` list of participants, for joins.
pub fn participant_columns(prefix: &str) -> String {
    PARTICIPANT_COLUMNS.split(", ").map(|c| format!("{prefix}{c}")).collect::<Vec<_>>().join(", ")
}

/// Reads a participant from a row of [`participant_columns`].
pub fn participant_from_row(row: &AnyRow) -> StoreResult<Participant> {
    Ok(Participant {
        id: text(row, "id")?,
        appointment_id: text(row, "appointment_id")?,
        kind: text(row, "kind")?,
        role: text(row, "role")?,
        associate_id: opt_text(row, "associate_id")?,
        resource_id: opt_text(row, "resource_id")?,
        person_id: opt_text(row, "person_id")?,
        email: opt_text(row, "email")?,
        name: opt_text(row, "name")?,
        status: text(row, "status")?,
        conflict: flag(row, "conflict")?,
        updated_at: text(row, "updated_at")?,
    })
}

/// The participants of an appointment, in the order added.
pub async fn participants(conn: &mut AnyConnection, appointment_id: &str) -> StoreResult<Vec<Participant>> {
    let rows = sqlx::query(&format!(
        "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE appointment_id = $1 ORDER BY updated_at, id"
    ))
    .bind(appointment_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(participant_from_row).collect()
}

/// The participant with `id`.
pub async fn find_participant(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<Participant>> {
    let row = sqlx::query(&format!("SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(participant_from_row).transpose()
}

/// Inserts a participant.
pub async fn insert_participant(conn: &mut AnyConnection, p: &Participant) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO participants ({PARTICIPANT_COLUMNS}, response_seen) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0)"
    ))
    .bind(&p.id)
    .bind(&p.appointment_id)
    .bind(&p.kind)
    .bind(&p.role)
    .bind(&p.associate_id)
    .bind(&p.resource_id)
    .bind(&p.person_id)
    .bind(&p.email)
    .bind(&p.name)
    .bind(&p.status)
    .bind(bit(p.conflict))
    .bind(&p.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets a participant's status (and resets whether its answer was seen).
pub async fn set_participant_status(conn: &mut AnyConnection, id: &str, status: &str) -> StoreResult<()> {
    sqlx::query("UPDATE participants SET status = $2, response_seen = 0, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(fmt_instant(now()))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether the associate `associate_id` takes part in the appointment
/// `appointment_id` (invited, assigned or a resource's booker).
pub async fn takes_part(conn: &mut AnyConnection, appointment_id: &str, associate_id: &str) -> StoreResult<bool> {
    let row = sqlx::query("SELECT id FROM participants WHERE appointment_id = $1 AND associate_id = $2")
        .bind(appointment_id)
        .bind(associate_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// Records the first slot every participant has free (`None`: none found).
pub async fn set_first_available(conn: &mut AnyConnection, id: &str, at: Option<&str>) -> StoreResult<()> {
    sqlx::query("UPDATE appointments SET first_available_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stores the organizer's copy `ics` written at `dtstamp`.
pub async fn set_organizer_copy(
    conn: &mut AnyConnection,
    id: &str,
    ics: Option<&str>,
    dtstamp: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("UPDATE appointments SET ics = $2, dtstamp = $3 WHERE id = $1")
        .bind(id)
        .bind(ics)
        .bind(dtstamp)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes the participant `id`.
pub async fn delete_participant(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM participants WHERE id = $1").bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// Whether the appointment has an assignment waiting for an answer.
pub async fn assignment_pending(conn: &mut AnyConnection, appointment_id: &str) -> StoreResult<bool> {
    let row = sqlx::query(
        "SELECT id FROM participants WHERE appointment_id = $1 AND role = 'assignee' AND status IN ('assigned', 'seen')",
    )
    .bind(appointment_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// Marks the declined assignments of the appointment as seen; whether
/// there was one not seen yet (else nothing changes).
pub async fn see_declined_assignments(conn: &mut AnyConnection, appointment_id: &str) -> StoreResult<bool> {
    let unseen = sqlx::query(
        "SELECT id FROM participants WHERE appointment_id = $1 AND role = 'assignee' AND status = 'declined' \
         AND response_seen = 0",
    )
    .bind(appointment_id)
    .fetch_optional(&mut *conn)
    .await?;
    if unseen.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE participants SET response_seen = 1 WHERE appointment_id = $1 AND role = 'assignee' AND status = 'declined'",
    )
    .bind(appointment_id)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}
