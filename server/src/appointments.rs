//! Appointments and their participants as stored, and the organizer's
//! iCalendar copy of a follow-up organized in the CRM.

use super::store::{self, StoreError, StoreResult, flag, int, opt_text, text};
use chrono::{DateTime, Utc};
use invitelink::ical::value::escape_text;
use invitelink::ical::{Component, Property};
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

/// Appointment status values (column `appointments.status`).
pub mod status {
    /// A follow-up organized in the CRM.
    pub const BOOKED: &str = "booked";
    /// Received, not answered (or answered tentatively).
    pub const TENTATIVE: &str = "tentative";
    /// Accepted.
    pub const ACCEPTED: &str = "accepted";
    /// Declined, kept as declined.
    pub const DECLINED: &str = "declined";
    /// Cancelled (deleted by its organizer).
    pub const CANCELLED: &str = "cancelled";
}

/// Invitation status values of participants (column `participants.status`).
pub mod invitation {
    /// Invited, not opened.
    pub const NOT_SEEN: &str = "not_seen";
    /// Opened, not answered (counts as a tentative answer).
    pub const SEEN: &str = "seen";
    /// Accepted.
    pub const ACCEPTED: &str = "accepted";
    /// Declined.
    pub const DECLINED: &str = "declined";
    /// The time changed after the invitee saw the invitation.
    pub const MOVED: &str = "moved";
    /// Moved, and opened since.
    pub const MOVED_SEEN: &str = "moved_seen";
    /// The follow-up was deleted.
    pub const CANCELLED: &str = "cancelled";
    /// A follow-up delegated to this associate, not answered yet.
    pub const ASSIGNED: &str = "assigned";
    /// An external attendee who has not answered (`NEEDS-ACTION`).
    pub const NEEDS_ACTION: &str = "needs_action";
    /// An external attendee's tentative answer.
    pub const TENTATIVE: &str = "tentative";
    /// Pending invitation statuses of associates.
    pub const PENDING: [&str; 4] = [NOT_SEEN, SEEN, MOVED, MOVED_SEEN];
}

/// An appointment in a diary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Appointment {
    /// Id.
    pub id: String,
    /// The associate whose diary holds it.
    pub owner_id: String,
    /// `crm` (organized here), `email` (received) or `archive`.
    pub origin: String,
    /// Title (`SUMMARY`).
    pub title: String,
    /// Location.
    pub location: String,
    /// Description (`DESCRIPTION`, lines separated by LF); empty when none.
    pub description: String,
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// End, RFC 3339 UTC.
    pub end: String,
    /// Whether it is an all-day appointment.
    pub all_day: bool,
    /// `booked`, `tentative`, `accepted`, `declined` or `cancelled`.
    pub status: String,
    /// The organizer moved it after it was accepted.
    pub moved: bool,
    /// Whether it recurs.
    pub recurring: bool,
    /// iCalendar `UID`.
    pub uid: String,
    /// iCalendar `SEQUENCE`.
    pub sequence: i64,
    /// iCalendar `DTSTAMP` of the stored version.
    pub dtstamp: Option<String>,
    /// Organizer's address.
    pub organizer_email: Option<String>,
    /// Organizer's name.
    pub organizer_name: Option<String>,
    /// The stored iCalendar text.
    pub ics: Option<String>,
    /// Linked person.
    pub person_id: Option<String>,
    /// Linked company.
    pub company_id: Option<String>,
    /// Linked project.
    pub project_id: Option<String>,
    /// Linked sale.
    pub sale_id: Option<String>,
    /// Who delegated it, for an assigned follow-up.
    pub assigned_by: Option<String>,
    /// The first time at which every resource and invited associate is free,
    /// when the chosen time does not fit.
    pub first_available: Option<String>,
    /// Created at.
    pub created_at: String,
    /// Last changed at.
    pub updated_at: String,
}

impl Appointment {
    /// A new appointment `id` (with `uid`) in `owner_id`'s diary, from
    /// `origin` (`crm`, `email`, `archive`), made `now` (as stored): empty
    /// title and status, starting and ending `now`, no links. The callers
    /// set what they know with struct update syntax.
    pub fn new(id: String, owner_id: &str, origin: &str, uid: String, now: &str) -> Appointment {
        Appointment {
            id,
            owner_id: owner_id.to_owned(),
            origin: origin.to_owned(),
            title: String::new(),
            location: String::new(),
            description: String::new(),
            start: now.to_owned(),
            end: now.to_owned(),
            all_day: false,
            status: String::new(),
            moved: false,
            recurring: false,
            uid,
            sequence: 0,
            dtstamp: Some(now.to_owned()),
            organizer_email: None,
            organizer_name: None,
            ics: None,
            person_id: None,
            company_id: None,
            project_id: None,
            sale_id: None,
            assigned_by: None,
            first_available: None,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
        }
    }
}

/// A participant of an appointment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Participant {
    /// Id (also the id of the invitation or assignment).
    pub id: String,
    /// The appointment.
    pub appointment_id: String,
    /// `associate`, `resource`, `person` or `email`.
    pub kind: String,
    /// `invitee`, or `assignee` for a delegated follow-up.
    pub role: String,
    /// The associate, for kind `associate`.
    pub associate_id: Option<String>,
    /// The resource, for kind `resource`.
    pub resource_id: Option<String>,
    /// The person, for kind `person`.
    pub person_id: Option<String>,
    /// The address e-mail goes to.
    pub email: Option<String>,
    /// The name.
    pub name: Option<String>,
    /// Invitation status (see docs/api.md).
    pub status: String,
    /// A resource booked twice at overlapping times.
    pub conflict: bool,
    /// Last changed at.
    pub updated_at: String,
}

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
        .bind(store::bit(a.all_day))
        .bind(&a.status)
        .bind(store::bit(a.moved))
        .bind(store::bit(a.recurring))
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
    .bind(store::bit(p.conflict))
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
        .bind(store::fmt_instant(store::now()))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A participant with every optional field empty.
pub fn blank_participant(appointment_id: &str, kind: &str, status: &str) -> Participant {
    Participant {
        id: store::new_id(),
        appointment_id: appointment_id.to_owned(),
        kind: kind.to_owned(),
        role: "invitee".to_owned(),
        associate_id: None,
        resource_id: None,
        person_id: None,
        email: None,
        name: None,
        status: status.to_owned(),
        conflict: false,
        updated_at: store::fmt_instant(store::now()),
    }
}

/// iCalendar form of a UTC instant (`20261203T090000Z`).
pub fn ical_utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn partstat_of(status: &str) -> &'static str {
    match status {
        invitation::ACCEPTED => "ACCEPTED",
        invitation::DECLINED => "DECLINED",
        invitation::TENTATIVE | invitation::SEEN | invitation::MOVED_SEEN => "TENTATIVE",
        _ => "NEEDS-ACTION",
    }
}

/// The organizer's copy of a follow-up organized in the CRM: one `VEVENT`
/// with the associates and external attendees (resources have no address
/// and are not listed). External attendees get `RSVP` as `rsvp` says.
pub fn organizer_copy(a: &Appointment, participants: &[Participant], rsvp: bool, now: DateTime<Utc>) -> String {
    let mut event = Component::new("VEVENT");
    event.properties.push(Property::new("UID", a.uid.clone()));
    event.properties.push(Property::new("DTSTAMP", ical_utc(now)));
    event.properties.push(Property::new("SEQUENCE", a.sequence.to_string()));
    event.properties.push(Property::new("DTSTART", ical_utc(store::stored_instant(&a.start))));
    event.properties.push(Property::new("DTEND", ical_utc(store::stored_instant(&a.end))));
    event.properties.push(Property::new("SUMMARY", escape_text(&a.title)));
    if !a.location.is_empty() {
        event.properties.push(Property::new("LOCATION", escape_text(&a.location)));
    }
    if !a.description.is_empty() {
        event.properties.push(Property::new("DESCRIPTION", escape_text(&a.description)));
    }
    let cancelled = a.status == status::CANCELLED;
    event.properties.push(Property::new("STATUS", if cancelled { "CANCELLED" } else { "CONFIRMED" }));
    if let Some(email) = &a.organizer_email {
        let mut organizer = Property::new("ORGANIZER", format!("mailto:{email}"));
        if let Some(name) = &a.organizer_name {
            organizer.set_param("CN", name.clone());
        }
        event.properties.push(organizer);
    }
    for p in participants {
        let Some(email) = &p.email else { continue };
        if p.kind == "resource" || p.role != "invitee" || p.status == invitation::CANCELLED {
            continue;
        }
        let external = p.kind == "person" || p.kind == "email";
        let mut attendee = Property::new("ATTENDEE", format!("mailto:{email}"));
        if let Some(name) = &p.name {
            attendee.set_param("CN", name.clone());
        }
        attendee.set_param("CUTYPE", "INDIVIDUAL");
        attendee.set_param("ROLE", "REQ-PARTICIPANT");
        attendee.set_param("PARTSTAT", partstat_of(&p.status));
        attendee.set_param("RSVP", if external && rsvp { "TRUE" } else { "FALSE" });
        event.properties.push(attendee);
    }
    let mut calendar = Component::new("VCALENDAR");
    calendar.properties.push(Property::new("VERSION", "2.0"));
    calendar.properties.push(Property::new("PRODID", "-//invitelink//CRM//EN"));
    calendar.components.push(event);
    calendar.to_ics()
}
