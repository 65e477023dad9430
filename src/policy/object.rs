//! What the policy reads from a scheduling object (RFC 5546 1.4): the
//! message's calendar or the stored appointment. Only the fields the rules
//! need: `METHOD`, `UID`, `SEQUENCE`, `DTSTAMP`, `ORGANIZER` with `SENT-BY`,
//! `ATTENDEE`s with `PARTSTAT`/`RSVP`/`EMAIL`, `RRULE`/`RDATE`,
//! `RECURRENCE-ID`, times and the texts shown to the user.

use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::Component;
use crate::ical::value::{DateTimeValue, email_of, parse_date_time};
use crate::tz::ZoneSet;
use chrono::NaiveDateTime;

/// A calendar user address (`ORGANIZER` or `ATTENDEE`) and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The address, lower-cased, without `mailto:`.
    pub email: String,
    /// The `EMAIL` parameter (RFC 7986 6.2), lower-cased, when the value is not the mailbox.
    pub alt_email: Option<String>,
    /// The value as written (`mailto:Anna.Dahl@Example.com`).
    pub raw: String,
    /// `CN`.
    pub name: Option<String>,
    /// `SENT-BY`, lower-cased, without `mailto:`.
    pub sent_by: Option<String>,
    /// `PARTSTAT`, upper-case (`NEEDS-ACTION` when absent).
    pub partstat: String,
    /// `ROLE`, upper-case (`REQ-PARTICIPANT` when absent).
    pub role: String,
    /// Whether `RSVP=FALSE` is written (RFC 5545 3.2.17: the default is FALSE,
    /// but an invitation that leaves it out still expects the usual answer).
    pub rsvp_false: bool,
}

impl Address {
    fn read(prop: &crate::ical::Property<'_>) -> Address {
        let upper = |name: &str, default: &str| {
            prop.param(name).map(|v| v.trim().to_ascii_uppercase()).unwrap_or_else(|| default.to_owned())
        };
        let alt_email = prop.param("EMAIL").map(email_of).filter(|e| !e.is_empty());
        Address {
            email: email_of(&prop.value),
            alt_email,
            raw: prop.value.trim().to_owned(),
            name: prop.param("CN").map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            sent_by: prop.param("SENT-BY").map(email_of).filter(|e| !e.is_empty()),
            partstat: upper("PARTSTAT", "NEEDS-ACTION"),
            role: upper("ROLE", "REQ-PARTICIPANT"),
            rsvp_false: prop.param("RSVP").is_some_and(|v| v.trim().eq_ignore_ascii_case("FALSE")),
        }
    }

    /// Whether this is the mailbox `addr` (normalized), by the value: an
    /// `EMAIL` parameter never makes a line someone else's (a line
    /// `ATTENDEE;EMAIL=anna@...:mailto:ben@...` is Ben's, not Anna's).
    /// The one exception: a value that is no e-mail address at all
    /// (`urn:uuid:...`, as booking systems write) is the user its `EMAIL`
    /// names ([`Address::reach_email`]); it cannot stand for another mailbox.
    pub fn is(&self, addr: &str) -> bool {
        !addr.is_empty() && (self.email == addr || self.reach_email() == Some(addr))
    }

    /// The `EMAIL` parameter (RFC 7986 6.2), when the value is not itself an
    /// e-mail address (`urn:uuid:...`): the address to reach this user by.
    pub fn reach_email(&self) -> Option<&str> {
        let mailto = self.raw.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("mailto:")) || self.raw.contains('@');
        self.alt_email.as_deref().filter(|_| !mailto)
    }
}

/// One `VEVENT` of a scheduling object: the master or an instance override.
#[derive(Debug, Clone)]
pub struct Instance<'c, 'a> {
    /// The component.
    pub event: &'c Component<'a>,
    /// `RECURRENCE-ID`, for an override.
    pub recurrence_id: Option<DateTimeValue>,
    /// `SEQUENCE` (or `X-MICROSOFT-CDO-APPT-SEQUENCE` when it is missing or 0).
    pub sequence: i64,
    /// `DTSTAMP`, as written (UTC per RFC 5545 3.8.7.2).
    pub dtstamp: Option<NaiveDateTime>,
    /// `ORGANIZER`.
    pub organizer: Option<Address>,
    /// `ATTENDEE`s, in order.
    pub attendees: Vec<Address>,
}

/// A calendar read as one scheduling object (every `VEVENT` shares a `UID`).
#[derive(Debug, Clone)]
pub struct SchedulingObject<'c, 'a> {
    /// `METHOD`, upper-case: the calendar's, else the content type's.
    pub method: Option<String>,
    /// The `UID`.
    pub uid: String,
    /// Every `VEVENT`, in order.
    pub instances: Vec<Instance<'c, 'a>>,
    /// The zones of the calendar.
    pub zones: ZoneSet,
}

impl<'c, 'a> SchedulingObject<'c, 'a> {
    /// Reads `calendar`; `content_method` is the `method=` of the e-mail part.
    pub fn read(calendar: &'c Component<'a>, content_method: Option<&str>) -> Result<SchedulingObject<'c, 'a>> {
        let method = calendar
            .value("METHOD")
            .map(|m| m.trim().to_ascii_uppercase())
            .filter(|m| !m.is_empty())
            .or_else(|| content_method.map(|m| m.trim().to_ascii_uppercase()).filter(|m| !m.is_empty()));
        let mut uid: Option<String> = None;
        let mut instances = Vec::new();
        for event in calendar.children("VEVENT") {
            let Some(this_uid) = event.value("UID").map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) else {
                return Err(EngineError::at(ErrorCode::MissingUid, event.line.max(1), "the `VEVENT` has no `UID`"));
            };
            match &uid {
                Some(u) if *u != this_uid => {
                    return Err(EngineError::at(
                        ErrorCode::InvalidSchedulingObject,
                        event.line.max(1),
                        format!("the calendar holds two events, `{u}` and `{this_uid}`; a message is about one"),
                    ));
                }
                Some(_) => {}
                None => uid = Some(this_uid),
            }
            instances.push(Instance::read(event)?);
        }
        let Some(uid) = uid else {
            return Err(EngineError::at(ErrorCode::NoEvent, calendar.line.max(1), "the calendar has no `VEVENT`"));
        };
        Ok(SchedulingObject { method, uid, instances, zones: ZoneSet::from_calendar(calendar) })
    }

    /// The master (the `VEVENT` without `RECURRENCE-ID`), when there is one.
    pub fn master(&self) -> Option<&Instance<'c, 'a>> {
        self.instances.iter().find(|i| i.recurrence_id.is_none())
    }

    /// The master, else the first instance.
    pub fn main(&self) -> Option<&Instance<'c, 'a>> {
        self.master().or_else(|| self.instances.first())
    }

    /// Whether the event recurs (`RRULE` or `RDATE` on the master).
    pub fn recurring(&self) -> bool {
        self.master().is_some_and(|m| m.event.prop("RRULE").is_some() || m.event.prop("RDATE").is_some())
    }

    /// Whether the message is about instances only (no master).
    pub fn instances_only(&self) -> bool {
        self.master().is_none()
    }

    /// The highest `SEQUENCE` of the object.
    pub fn sequence(&self) -> i64 {
        self.instances.iter().map(|i| i.sequence).max().unwrap_or(0)
    }

    /// The organizer (of the main instance, else of any instance).
    pub fn organizer(&self) -> Option<&Address> {
        self.main()
            .and_then(|m| m.organizer.as_ref())
            .or_else(|| self.instances.iter().find_map(|i| i.organizer.as_ref()))
    }

    /// The first attendee line naming `addr`, in any instance.
    pub fn attendee(&self, addr: &str) -> Option<&Address> {
        self.instances.iter().flat_map(|i| i.attendees.iter()).find(|a| a.is(addr))
    }

    /// Whether any instance lists an attendee.
    pub fn has_attendees(&self) -> bool {
        self.instances.iter().any(|i| !i.attendees.is_empty())
    }

    /// The instance with the same `RECURRENCE-ID` as `other` (compared as
    /// instants), else the master.
    pub fn counterpart(&self, other: &Instance<'_, '_>, other_zones: &ZoneSet) -> Option<&Instance<'c, 'a>> {
        match &other.recurrence_id {
            None => self.master(),
            Some(rid) => {
                let at = other_zones.to_utc(rid);
                self.instances
                    .iter()
                    .find(|i| i.recurrence_id.as_ref().is_some_and(|r| self.zones.to_utc(r) == at))
                    .or_else(|| self.master())
            }
        }
    }

    /// A value as written in decisions: a date (`2026-12-03`) or a UTC
    /// instant (`2026-12-03T09:00:00Z`).
    pub fn moment(&self, v: &DateTimeValue) -> String {
        format_moment(v, &self.zones)
    }

    /// Start and end of an instance, as in [`Self::moment`], and whether it
    /// is all-day: by the rules of [`crate::expand::own_span`], so the diary
    /// and the expansion show the same meeting.
    pub fn span(&self, inst: &Instance<'_, '_>) -> (Option<String>, Option<String>, bool) {
        match crate::expand::own_span(inst.event, &self.zones) {
            Some((start, end, all_day)) => (Some(start), Some(end), all_day),
            None => (None, None, false),
        }
    }

    /// The `RECURRENCE-ID` of an instance as written in decisions.
    pub fn recurrence_id_of(&self, inst: &Instance<'_, '_>) -> Option<String> {
        inst.recurrence_id.as_ref().map(|r| self.moment(r))
    }
}

/// A value as written in decisions (see [`SchedulingObject::moment`]).
pub fn format_moment(v: &DateTimeValue, zones: &ZoneSet) -> String {
    match v {
        DateTimeValue::Date(d) => d.format("%Y-%m-%d").to_string(),
        other => zones.to_utc(other).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}

impl<'c, 'a> Instance<'c, 'a> {
    fn read(event: &'c Component<'a>) -> Result<Instance<'c, 'a>> {
        let recurrence_id = match event.prop("RECURRENCE-ID") {
            Some(p) => Some(parse_date_time(p)?),
            None => None,
        };
        // The one rule for the version number (Exchange's fallback included);
        // a malformed number reads as 0 here, as iTIP processing reports it.
        let sequence = crate::itip::object::sequence_of(event).ok().flatten().unwrap_or(0);
        let dtstamp = event.prop("DTSTAMP").and_then(|p| parse_date_time(p).ok()).map(|v| v.local());
        Ok(Instance {
            event,
            recurrence_id,
            sequence,
            dtstamp,
            organizer: event.prop("ORGANIZER").map(Address::read),
            attendees: event.props("ATTENDEE").map(Address::read).collect(),
        })
    }

    /// A text property, unescaped and trimmed, when not empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.event.prop(name).map(|p| p.text().trim().to_owned()).filter(|t| !t.is_empty())
    }

    /// Whether this instance is newer than `stored` (RFC 5546 2.1.5:
    /// `SEQUENCE`, then `DTSTAMP`), the same, or older.
    pub fn compare_version(&self, stored: &Instance<'_, '_>) -> std::cmp::Ordering {
        self.sequence.cmp(&stored.sequence).then_with(|| match (self.dtstamp, stored.dtstamp) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => std::cmp::Ordering::Equal,
        })
    }
}
