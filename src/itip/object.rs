//! Reading a scheduling object (RFC 5546 1.4): the `VEVENT`s of one calendar
//! that share a `UID`, the master (no `RECURRENCE-ID`) and its overridden
//! instances, with the fields every iTIP decision looks at.
//!
//! A scheduling object contradicts itself when its components carry different
//! `UID`s or different organizers (RFC 5546 1.4, 2.1.1); reading it then fails
//! with [`ErrorCode::InvalidSchedulingObject`].

use super::vocab::{CuType, Method, PartStat, Role, ScheduleAgent};
use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::value::{DateTimeValue, email_of, parse_date_time, same_address, unescape_text};
use crate::ical::{Component, Property};
use crate::tz::ZoneSet;
use chrono::NaiveDateTime;
use std::collections::HashSet;

/// The organizer of a scheduling object (`ORGANIZER`, RFC 5545 3.8.4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organizer {
    /// The cal-address as written (`mailto:bob@example.com`).
    pub address: String,
    /// The e-mail address: scheme dropped, lower-cased.
    pub email: String,
    /// `CN`.
    pub name: Option<String>,
    /// `SENT-BY`: who acts for the organizer.
    pub sent_by: Option<String>,
    /// `SCHEDULE-AGENT` (RFC 6638).
    pub schedule_agent: ScheduleAgent,
}

/// An attendee (`ATTENDEE`, RFC 5545 3.8.4.1) with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    /// The cal-address as written.
    pub address: String,
    /// The e-mail address: scheme dropped, lower-cased.
    pub email: String,
    /// `CN`.
    pub name: Option<String>,
    /// `PARTSTAT` (`NEEDS-ACTION` when absent).
    pub partstat: PartStat,
    /// `RSVP=TRUE` (RFC 5545 3.2.17; false when absent).
    pub rsvp: bool,
    /// `ROLE` (`REQ-PARTICIPANT` when absent).
    pub role: Role,
    /// `CUTYPE` (`INDIVIDUAL` when absent).
    pub cutype: CuType,
    /// `SENT-BY`: who acts for the attendee.
    pub sent_by: Option<String>,
    /// `SCHEDULE-AGENT` (RFC 6638).
    pub schedule_agent: ScheduleAgent,
    /// `DELEGATED-TO`.
    pub delegated_to: Vec<String>,
    /// `DELEGATED-FROM`.
    pub delegated_from: Vec<String>,
}

/// One component of the object: the master or an overridden instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// `RECURRENCE-ID`; `None` for the master.
    pub recurrence_id: Option<DateTimeValue>,
    /// `RANGE=THISANDFUTURE` on the `RECURRENCE-ID`.
    pub this_and_future: bool,
    /// `SEQUENCE`, else `X-MICROSOFT-CDO-APPT-SEQUENCE`.
    pub sequence: Option<i64>,
    /// `DTSTAMP` as a UTC time.
    pub dtstamp: Option<NaiveDateTime>,
    /// `DTSTART`.
    pub dtstart: Option<DateTimeValue>,
    /// `STATUS`, upper-cased.
    pub status: Option<String>,
    /// `SUMMARY`, unescaped.
    pub summary: Option<String>,
    /// `ORGANIZER`.
    pub organizer: Option<Organizer>,
    /// `ATTENDEE`s, in order.
    pub attendees: Vec<Attendee>,
}

/// A scheduling object read from a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulingObject {
    /// The `UID` shared by every component.
    pub uid: String,
    /// The calendar's `METHOD`; `None` for a stored object.
    pub method: Option<Method>,
    /// `SEQUENCE` of the master (else of the first component), else its
    /// `X-MICROSOFT-CDO-APPT-SEQUENCE` (Exchange); `None` when neither is given
    /// (RFC 5545 3.8.7.4 reads that as 0).
    pub sequence: Option<i64>,
    /// `DTSTAMP` of the master (else of the first component), in UTC.
    pub dtstamp: Option<NaiveDateTime>,
    /// The organizer (the same in every component that names one).
    pub organizer: Option<Organizer>,
    /// Every attendee of the object in order of first appearance, the
    /// master's line first (its `PARTSTAT` is the answer for the series).
    pub attendees: Vec<Attendee>,
    /// `STATUS` of the master (else of the first component), upper-cased.
    pub status: Option<String>,
    /// Whether any component has an `RRULE` or `RDATE`.
    pub recurring: bool,
    /// Whether the object has a master component (no `RECURRENCE-ID`).
    pub has_master: bool,
    /// The `RECURRENCE-ID`s of the overridden instances, in order.
    pub overrides: Vec<DateTimeValue>,
    /// Every component, in order.
    pub instances: Vec<Instance>,
}

impl SchedulingObject {
    /// Reads the `VEVENT`s of `calendar`.
    ///
    /// Errors: [`ErrorCode::NoEvent`] without a `VEVENT`,
    /// [`ErrorCode::MissingUid`] for a `VEVENT` without `UID`,
    /// [`ErrorCode::InvalidSchedulingObject`] when the components name
    /// different `UID`s or organizers, [`ErrorCode::InvalidValue`] for a
    /// malformed `SEQUENCE`.
    pub fn read(calendar: &Component<'_>) -> Result<SchedulingObject> {
        let events = events(calendar);
        let Some(first) = events.first() else {
            return Err(EngineError::at(ErrorCode::NoEvent, calendar.line.max(1), "the calendar has no `VEVENT`"));
        };
        let uid = uid_of(first)?;
        let mut instances = Vec::with_capacity(events.len());
        let mut organizer: Option<Organizer> = None;
        for ev in &events {
            let this_uid = uid_of(ev)?;
            if this_uid != uid {
                return Err(EngineError::at(
                    ErrorCode::InvalidSchedulingObject,
                    ev.line.max(1),
                    format!("the components of one object have different uids `{uid}` and `{this_uid}`"),
                ));
            }
            let inst = read_instance(ev)?;
            if let Some(o) = &inst.organizer {
                match &organizer {
                    Some(known) if !same_address(&known.address, &o.address) => {
                        return Err(EngineError::at(
                            ErrorCode::InvalidSchedulingObject,
                            ev.line.max(1),
                            format!(
                                "the organizer differs between components: `{}` and `{}`",
                                known.address, o.address
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => organizer = Some(o.clone()),
                }
            }
            instances.push(inst);
        }
        let has_master = instances.iter().any(|i| i.recurrence_id.is_none());
        let main = instances.iter().find(|i| i.recurrence_id.is_none()).or(instances.first());
        let (sequence, dtstamp, status) = match main {
            Some(m) => (m.sequence, m.dtstamp, m.status.clone()),
            None => (None, None, None),
        };
        // Prefer the master's own organizer line (its CN and SENT-BY).
        if let Some(o) = main.and_then(|m| m.organizer.clone()) {
            organizer = Some(o);
        }
        let mut attendees: Vec<Attendee> = Vec::new();
        let mut known: HashSet<&str> = HashSet::new();
        let ordered = main.into_iter().chain(instances.iter());
        for inst in ordered {
            for a in &inst.attendees {
                if known.insert(a.email.as_str()) {
                    attendees.push(a.clone());
                }
            }
        }
        let recurring = events.iter().any(|e| e.prop("RRULE").is_some() || e.prop("RDATE").is_some());
        let overrides = instances.iter().filter_map(|i| i.recurrence_id.clone()).collect();
        let method = calendar.value("METHOD").map(Method::parse);
        Ok(SchedulingObject {
            uid,
            method,
            sequence,
            dtstamp,
            organizer,
            attendees,
            status,
            recurring,
            has_master,
            overrides,
            instances,
        })
    }

    /// The master component, when there is one.
    pub fn master(&self) -> Option<&Instance> {
        self.instances.iter().find(|i| i.recurrence_id.is_none())
    }

    /// The attendee with this address (compared as e-mail addresses).
    pub fn attendee(&self, address: &str) -> Option<&Attendee> {
        self.attendees.iter().find(|a| same_address(&a.address, address))
    }

    /// Whether `address` is the organizer.
    pub fn is_organizer(&self, address: &str) -> bool {
        self.organizer.as_ref().is_some_and(|o| same_address(&o.address, address))
    }

    /// The `TZID` in which the instances of the object are named: that of the
    /// master's `DTSTART`, or, without a master, that of the first
    /// `RECURRENCE-ID` (an object holding only overridden instances).
    pub fn recurrence_tzid(&self) -> Option<&str> {
        match self.master() {
            Some(m) => m.dtstart.as_ref().and_then(DateTimeValue::tzid),
            None => self.instances.first().and_then(|i| i.recurrence_id.as_ref()).and_then(DateTimeValue::tzid),
        }
    }
}

/// The `VEVENT`s of a calendar, in order.
pub(crate) fn events<'c, 'a>(calendar: &'c Component<'a>) -> Vec<&'c Component<'a>> {
    calendar.children("VEVENT").collect()
}

fn uid_of(ev: &Component<'_>) -> Result<String> {
    match ev.value("UID").map(str::trim) {
        Some(u) if !u.is_empty() => Ok(u.to_owned()),
        _ => Err(EngineError::at(ErrorCode::MissingUid, ev.line.max(1), "a `VEVENT` has no `UID`")),
    }
}

/// The version number of a component (RFC 5546 2.1.5): `SEQUENCE`, or
/// Exchange's `X-MICROSOFT-CDO-APPT-SEQUENCE` where `SEQUENCE` is absent or 0
/// and the Exchange number is higher. The one reading of it: the policy and
/// iTIP processing both call this. A malformed `SEQUENCE` is an error.
pub fn sequence_of(ev: &Component<'_>) -> Result<Option<i64>> {
    let number = |name: &str| -> Result<Option<i64>> {
        let Some(p) = ev.prop(name) else { return Ok(None) };
        p.value.trim().parse::<i64>().map(Some).map_err(|_| {
            EngineError::at(
                ErrorCode::InvalidValue,
                p.line.max(1),
                format!("`{}` of `{}` is not an integer", p.value, p.name),
            )
        })
    };
    let sequence = number("SEQUENCE")?;
    // Exchange keeps the real number in its own property and may write
    // SEQUENCE:0 (or none) beside it.
    if sequence.is_none_or(|s| s <= 0)
        && let Ok(Some(cdo)) = number("X-MICROSOFT-CDO-APPT-SEQUENCE")
        && cdo > 0
    {
        return Ok(Some(cdo));
    }
    Ok(sequence)
}

/// `DTSTAMP` of a component in UTC; a malformed one reads as absent (it only
/// breaks ties between equal `SEQUENCE`s).
pub(crate) fn dtstamp_of(ev: &Component<'_>) -> Option<NaiveDateTime> {
    let v = parse_date_time(ev.prop("DTSTAMP")?).ok()?;
    Some(v.local())
}

fn read_instance(ev: &Component<'_>) -> Result<Instance> {
    let (recurrence_id, this_and_future) = match ev.prop("RECURRENCE-ID") {
        Some(p) => {
            let v = parse_date_time(p)?;
            let range = p.param("RANGE").is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"));
            (Some(v), range)
        }
        None => (None, false),
    };
    let dtstart = match ev.prop("DTSTART") {
        Some(p) => Some(parse_date_time(p)?),
        None => None,
    };
    Ok(Instance {
        recurrence_id,
        this_and_future,
        sequence: sequence_of(ev)?,
        dtstamp: dtstamp_of(ev),
        dtstart,
        status: ev.value("STATUS").map(|s| s.trim().to_ascii_uppercase()),
        summary: ev.prop("SUMMARY").map(Property::text),
        organizer: ev.prop("ORGANIZER").map(read_organizer),
        attendees: ev.props("ATTENDEE").map(read_attendee).collect(),
    })
}

fn param_text(p: &Property<'_>, name: &str) -> Option<String> {
    p.param(name).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn param_list(p: &Property<'_>, name: &str) -> Vec<String> {
    p.params
        .iter()
        .filter(|x| x.name.eq_ignore_ascii_case(name))
        .flat_map(|x| x.values.iter().map(|v| v.trim().to_owned()))
        .filter(|v| !v.is_empty())
        .collect()
}

/// Reads an `ORGANIZER` line.
pub fn read_organizer(p: &Property<'_>) -> Organizer {
    Organizer {
        address: p.value.trim().to_owned(),
        email: email_of(&p.value),
        name: param_text(p, "CN"),
        sent_by: param_text(p, "SENT-BY"),
        schedule_agent: p.param("SCHEDULE-AGENT").map(ScheduleAgent::parse).unwrap_or_default(),
    }
}

/// Reads an `ATTENDEE` line.
pub fn read_attendee(p: &Property<'_>) -> Attendee {
    Attendee {
        address: p.value.trim().to_owned(),
        email: email_of(&p.value),
        name: param_text(p, "CN"),
        partstat: p.param("PARTSTAT").map(PartStat::parse).unwrap_or_default(),
        rsvp: p.param("RSVP").is_some_and(|v| v.trim().eq_ignore_ascii_case("TRUE")),
        role: p.param("ROLE").map(Role::parse).unwrap_or_default(),
        cutype: p.param("CUTYPE").map(CuType::parse).unwrap_or_default(),
        sent_by: param_text(p, "SENT-BY"),
        schedule_agent: p.param("SCHEDULE-AGENT").map(ScheduleAgent::parse).unwrap_or_default(),
        delegated_to: param_list(p, "DELEGATED-TO"),
        delegated_from: param_list(p, "DELEGATED-FROM"),
    }
}

/// A cal-address in the form we write and compare in messages: `mailto:`
/// lower-cased with the e-mail address (RFC 5546 leaves case to the server;
/// the CRM matches addresses case-insensitively), any other URI as written.
pub fn normalize_address(address: &str) -> String {
    let t = address.trim();
    match t.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => format!("mailto:{}", email_of(t)),
        _ => t.to_owned(),
    }
}

/// The instant an instance is named by (`RECURRENCE-ID`, an `EXDATE` or
/// `RDATE` value, a `DTSTART`): UTC for zoned and UTC values, the wall time
/// for floating times and dates. Two names of one instance given in
/// different zones compare equal.
pub(crate) fn instant(zones: &ZoneSet, v: &DateTimeValue) -> NaiveDateTime {
    zones.to_utc(v)
}

/// The key of a component: the instant of its `RECURRENCE-ID`, `None` for
/// the master.
pub(crate) fn recurrence_key(zones: &ZoneSet, ev: &Component<'_>) -> Result<Option<NaiveDateTime>> {
    match ev.prop("RECURRENCE-ID") {
        Some(p) => Ok(Some(instant(zones, &parse_date_time(p)?))),
        None => Ok(None),
    }
}

/// An instant written in the form of `model` (a date, floating, UTC, or a
/// wall time in the same zone): how the organizer's copy names instances.
pub(crate) fn in_form_of(zones: &ZoneSet, model: &DateTimeValue, utc: NaiveDateTime) -> DateTimeValue {
    match model {
        DateTimeValue::Date(_) => DateTimeValue::Date(utc.date()),
        DateTimeValue::Floating(_) => DateTimeValue::Floating(utc),
        DateTimeValue::Utc(_) => DateTimeValue::Utc(utc),
        DateTimeValue::Zoned(_, _) => model.with_local(zones.zone_of(model).from_utc(utc)),
    }
}

/// The `TZID` of a `VTIMEZONE` (its value is TEXT: escapes resolved).
pub(crate) fn vtimezone_id(vtz: &Component<'_>) -> Option<String> {
    vtz.prop("TZID").map(|p| unescape_text(p.value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::{ParseOptions, parse_calendar};

    fn read(text: &str) -> Result<SchedulingObject> {
        SchedulingObject::read(&parse_calendar(text, &ParseOptions::default()).unwrap())
    }

    #[test]
    fn reads_an_exchange_object() {
        let o = read(
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u1\r\nX-MICROSOFT-CDO-APPT-SEQUENCE:3\r\n\
             ORGANIZER;CN=Bob;SENT-BY=\"mailto:amy@x.org\":MAILTO:Bob@X.org\r\n\
             ATTENDEE;PARTSTAT=ACCEPTED;RSVP=TRUE;CUTYPE=ROOM:mailto:room@x.org\r\n\
             ATTENDEE:mailto:eve@x.org\r\nDTSTART:20260101T100000Z\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:u1\r\nRECURRENCE-ID:20260102T100000Z\r\nORGANIZER:mailto:bob@x.org\r\n\
             ATTENDEE:mailto:zed@x.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        )
        .unwrap();
        assert_eq!(o.uid, "u1");
        assert_eq!(o.method, Some(Method::Request));
        assert_eq!(o.sequence, Some(3));
        let org = o.organizer.as_ref().unwrap();
        assert_eq!((org.email.as_str(), org.name.as_deref()), ("bob@x.org", Some("Bob")));
        assert_eq!(org.sent_by.as_deref(), Some("mailto:amy@x.org"));
        assert_eq!(o.attendees.len(), 3);
        assert_eq!(o.attendees[0].partstat, PartStat::Accepted);
        assert!(o.attendees[0].rsvp);
        assert_eq!(o.attendees[0].cutype, CuType::Room);
        assert!(o.recurring && o.has_master);
        assert_eq!(o.overrides.len(), 1);
        assert!(o.is_organizer("mailto:BOB@x.org"));
    }

    #[test]
    fn refuses_contradictions() {
        let two_uids =
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nEND:VEVENT\nBEGIN:VEVENT\nUID:b\nEND:VEVENT\nEND:VCALENDAR\n";
        assert_eq!(read(two_uids).unwrap_err().code, ErrorCode::InvalidSchedulingObject);
        let no_uid = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n";
        assert_eq!(read(no_uid).unwrap_err().code, ErrorCode::MissingUid);
        let todo = "BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:a\nEND:VTODO\nEND:VCALENDAR\n";
        assert_eq!(read(todo).unwrap_err().code, ErrorCode::NoEvent);
        let bad_seq = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nSEQUENCE:x\nEND:VEVENT\nEND:VCALENDAR\n";
        assert_eq!(read(bad_seq).unwrap_err().code, ErrorCode::InvalidValue);
    }

    #[test]
    fn one_version_number_with_exchanges_fallback() {
        let seq = |lines: &str| {
            let text = format!("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:u\n{lines}END:VEVENT\nEND:VCALENDAR\n");
            let cal = parse_calendar(&text, &ParseOptions::default()).unwrap();
            sequence_of(cal.children("VEVENT").next().unwrap())
        };
        assert_eq!(seq("SEQUENCE:2\n").unwrap(), Some(2));
        assert_eq!(seq("").unwrap(), None);
        assert_eq!(seq("SEQUENCE:0\nX-MICROSOFT-CDO-APPT-SEQUENCE:3\n").unwrap(), Some(3));
        assert_eq!(seq("X-MICROSOFT-CDO-APPT-SEQUENCE:3\n").unwrap(), Some(3));
        assert_eq!(seq("SEQUENCE:2\nX-MICROSOFT-CDO-APPT-SEQUENCE:5\n").unwrap(), Some(2));
        assert_eq!(seq("SEQUENCE:0\nX-MICROSOFT-CDO-APPT-SEQUENCE:junk\n").unwrap(), Some(0));
        assert!(seq("SEQUENCE:two\n").is_err());
    }

    #[test]
    fn normalizes_mailto_addresses() {
        assert_eq!(normalize_address("MAILTO:Bob@Example.org"), "mailto:bob@example.org");
        assert_eq!(normalize_address("urn:uuid:1"), "urn:uuid:1");
    }
}
