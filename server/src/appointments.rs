//! Appointments and their participants as stored, and the organizer's
//! iCalendar copy of a follow-up organized in the CRM.

use super::store;
use chrono::{DateTime, Utc};
use invitelink::ical::value::escape_text;
use invitelink::ical::{Component, Property};
use serde::Serialize;
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
