//! An attendee's answer as an iTIP `REPLY` (RFC 5546 3.2.3), and the pieces
//! every outgoing message is built from.
//!
//! A `REPLY` names the event (`UID`, `SEQUENCE`, `RECURRENCE-ID` for an
//! instance), the organizer it goes to and exactly one attendee, the one who
//! answers. We also carry `DTSTART`, `DTEND` (or `DURATION`), `SUMMARY` and
//! the time zones they use: clients such as Google Calendar only apply a
//! reply that describes the event it answers.

use super::PRODID;
use super::object::{
    SchedulingObject, events, in_form_of, is_override, recurrence_key, recurrence_line, sequence_of, time_lines,
    vtimezone_id,
};
use super::process::referenced_tzids;
use super::vocab::PartStat;
use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::value::{DateTimeValue, same_address};
use crate::ical::{Component, OwnedComponent, Property};
use crate::tz::ZoneSet;
use chrono::NaiveDateTime;
use std::collections::HashSet;

/// The `REPLY` that `attendee` sends to answer `invitation` (a `REQUEST`, or
/// the stored copy of one) with `partstat`, stamped `now` (UTC).
///
/// The reply holds one `VEVENT` for each component of the invitation the
/// attendee is in (the master answers for the series; each override the
/// attendee is in is answered too), with `UID`, `SEQUENCE`, `DTSTAMP`,
/// `DTSTART`, `DTEND` or `DURATION`, `SUMMARY`, `RECURRENCE-ID` for an
/// override, the `ORGANIZER` line, and the attendee's own line only, with
/// `PARTSTAT` set and `RSVP` removed; plus the `VTIMEZONE`s these use.
///
/// Errors: [`ErrorCode::InvalidContext`] when `attendee` is not an attendee
/// of the invitation; [`ErrorCode::InvalidSchedulingObject`] when the
/// invitation names no organizer (there is nobody to answer) or contradicts
/// itself; the errors of [`SchedulingObject::read`].
pub fn reply(
    invitation: &Component<'_>,
    attendee: &str,
    partstat: PartStat,
    now: NaiveDateTime,
) -> Result<OwnedComponent> {
    let object = SchedulingObject::read(invitation)?;
    if object.attendee(attendee).is_none() {
        return Err(EngineError::new(
            ErrorCode::InvalidContext,
            format!("`{attendee}` is not an attendee of the invitation `{}`", object.uid),
        ));
    }
    let all = events(invitation);
    let Some(organizer) = all.iter().find_map(|e| e.prop("ORGANIZER")) else {
        return Err(EngineError::new(
            ErrorCode::InvalidSchedulingObject,
            format!("the invitation `{}` names no organizer to reply to", object.uid),
        ));
    };
    let zones = &object.zones;
    let fallback_summary = first_summary(invitation);
    let mut msg = message_calendar("REPLY");
    let mut seen: HashSet<Option<NaiveDateTime>> = HashSet::new();
    for ev in all {
        let key = recurrence_key(zones, ev)?;
        if !seen.insert(key) {
            continue;
        }
        let Some(line) = ev.props("ATTENDEE").find(|a| same_address(&a.value, attendee)) else { continue };
        let mut me = line.to_static();
        me.set_param("PARTSTAT", partstat.as_str().to_owned());
        for p in ["RSVP", "SCHEDULE-STATUS", "SCHEDULE-FORCE-SEND", "SCHEDULE-AGENT"] {
            me.remove_param(p);
        }
        let mut org = ev.prop("ORGANIZER").unwrap_or(organizer).to_static();
        for p in ["SCHEDULE-STATUS", "SCHEDULE-FORCE-SEND", "SCHEDULE-AGENT"] {
            org.remove_param(p);
        }
        let sequence = sequence_of(ev)?.or(object.sequence).unwrap_or(0);
        let vevent = ReplyEvent {
            uid: &object.uid,
            sequence,
            now,
            source: Some(ev),
            instance: key.map(|k| (k, None)),
            summary: fallback_summary.as_deref(),
            organizer: org,
            attendee: me,
        }
        .build(zones);
        msg.components.push(vevent);
    }
    attach_timezones(&mut msg, invitation);
    Ok(msg)
}

/// An empty iTIP message: `VERSION`, `PRODID`, `METHOD`.
pub(crate) fn message_calendar(method: &str) -> OwnedComponent {
    let mut cal = Component::new("VCALENDAR");
    cal.properties.push(Property::new("VERSION", "2.0"));
    cal.properties.push(Property::new("PRODID", PRODID));
    cal.properties.push(Property::new("METHOD", method));
    cal
}

/// Adds the `VTIMEZONE`s of `source` that `msg` uses (one per `TZID`),
/// before its events.
pub(crate) fn attach_timezones(msg: &mut OwnedComponent, source: &Component<'_>) {
    let used = referenced_tzids(msg);
    let mut taken: HashSet<String> = HashSet::new();
    let mut zones = Vec::new();
    for v in source.children("VTIMEZONE") {
        let Some(id) = vtimezone_id(v) else { continue };
        if used.contains(&id) && taken.insert(id) {
            zones.push(v.to_static());
        }
    }
    let at = msg.components.iter().position(|c| !c.is("VTIMEZONE")).unwrap_or(msg.components.len());
    for (i, z) in zones.into_iter().enumerate() {
        msg.components.insert(at + i, z);
    }
}

/// `SUMMARY` of the first `VEVENT` (the series' title, used for instances
/// that have none of their own).
pub(crate) fn first_summary(cal: &Component<'_>) -> Option<String> {
    events(cal).first().and_then(|e| e.value("SUMMARY")).map(str::to_owned)
}

/// One `VEVENT` of a `REPLY`.
pub(crate) struct ReplyEvent<'r, 'a> {
    /// `UID`.
    pub uid: &'r str,
    /// `SEQUENCE`.
    pub sequence: i64,
    /// `DTSTAMP` (UTC).
    pub now: NaiveDateTime,
    /// The component answered, when the object has one for the instance.
    pub source: Option<&'r Component<'a>>,
    /// The instance answered (`None`: the master), with the form its
    /// `RECURRENCE-ID` is written in when there is no source component.
    pub instance: Option<(NaiveDateTime, Option<&'r DateTimeValue>)>,
    /// `SUMMARY` (escaped) when the source has none.
    pub summary: Option<&'r str>,
    /// The `ORGANIZER` line.
    pub organizer: Property<'static>,
    /// The `ATTENDEE` line.
    pub attendee: Property<'static>,
}

impl ReplyEvent<'_, '_> {
    pub(crate) fn build(self, zones: &ZoneSet) -> OwnedComponent {
        let mut ev = Component::new("VEVENT");
        ev.properties.push(Property::new("UID", self.uid));
        ev.properties.push(Property::new("DTSTAMP", DateTimeValue::Utc(self.now).to_ical_value()));
        ev.properties.push(Property::new("SEQUENCE", self.sequence.to_string()));
        match self.source {
            Some(src) => {
                ev.properties.extend(time_lines(src).map(Property::to_static));
                if let Some(s) = src.value("SUMMARY").or(self.summary) {
                    ev.properties.push(Property::new("SUMMARY", s));
                }
                if let Some(p) = recurrence_line(src) {
                    ev.properties.push(p.to_static());
                }
            }
            None => {
                if let Some((at, model)) = self.instance {
                    ev.properties.push(instance_value(zones, model, at).to_property("DTSTART"));
                }
                if let Some(s) = self.summary {
                    ev.properties.push(Property::new("SUMMARY", s));
                }
            }
        }
        if !is_override(&ev)
            && let Some((at, model)) = self.instance
        {
            ev.properties.push(instance_value(zones, model, at).to_property("RECURRENCE-ID"));
        }
        ev.properties.push(self.organizer);
        ev.properties.push(self.attendee);
        ev
    }
}

/// An instant in the form instances are named in; UTC without a model.
fn instance_value(zones: &ZoneSet, model: Option<&DateTimeValue>, at: NaiveDateTime) -> DateTimeValue {
    match model {
        Some(m) => in_form_of(zones, m, at),
        None => DateTimeValue::Utc(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::{ParseOptions, parse_calendar};
    use chrono::NaiveDate;

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap().and_hms_opt(8, 0, 0).unwrap()
    }

    const INVITE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n\
        BEGIN:VTIMEZONE\r\nTZID:Europe/Oslo\r\nEND:VTIMEZONE\r\nBEGIN:VTIMEZONE\r\nTZID:Unused\r\nEND:VTIMEZONE\r\n\
        BEGIN:VEVENT\r\nUID:m1\r\nSEQUENCE:2\r\nSUMMARY:Plan\\, review\r\nDTSTART;TZID=Europe/Oslo:20260310T090000\r\n\
        DTEND;TZID=Europe/Oslo:20260310T100000\r\nORGANIZER;CN=Bob:mailto:bob@x.org\r\n\
        ATTENDEE;CN=Amy;RSVP=TRUE;ROLE=REQ-PARTICIPANT:mailto:amy@x.org\r\nATTENDEE:mailto:eve@x.org\r\n\
        X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn a_reply_is_complete_and_names_only_the_attendee() {
        let cal = parse_calendar(INVITE, &ParseOptions::default()).unwrap();
        let r = reply(&cal, "MAILTO:Amy@x.org", PartStat::Accepted, now()).unwrap();
        assert_eq!(r.value("METHOD"), Some("REPLY"));
        assert_eq!(r.children("VTIMEZONE").count(), 1);
        let ev = r.children("VEVENT").next().unwrap();
        assert_eq!(ev.value("SEQUENCE"), Some("2"));
        assert_eq!(ev.value("DTSTAMP"), Some("20260301T080000Z"));
        assert_eq!(ev.value("SUMMARY"), Some("Plan\\, review"));
        assert!(ev.prop("DTEND").is_some());
        let att: Vec<_> = ev.props("ATTENDEE").collect();
        assert_eq!(att.len(), 1);
        assert_eq!(att[0].param("PARTSTAT"), Some("ACCEPTED"));
        assert_eq!(att[0].param("CN"), Some("Amy"));
        assert!(att[0].param("RSVP").is_none());
        assert_eq!(ev.prop("ORGANIZER").unwrap().param("CN"), Some("Bob"));
        assert!(ev.prop("X-MICROSOFT-CDO-BUSYSTATUS").is_none());
    }

    #[test]
    fn a_stranger_cannot_reply() {
        let cal = parse_calendar(INVITE, &ParseOptions::default()).unwrap();
        let err = reply(&cal, "mailto:zed@x.org", PartStat::Accepted, now()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidContext);
    }

    #[test]
    fn every_instance_of_the_attendee_is_answered() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:s\r\nDTSTART:20260101T090000Z\r\nRRULE:FREQ=DAILY\r\n\
            ORGANIZER:mailto:bob@x.org\r\nATTENDEE:mailto:amy@x.org\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20260102T090000Z\r\nDTSTART:20260102T100000Z\r\n\
            ORGANIZER:mailto:bob@x.org\r\nATTENDEE:mailto:amy@x.org\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20260103T090000Z\r\nDTSTART:20260103T090000Z\r\n\
            ORGANIZER:mailto:bob@x.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let cal = parse_calendar(text, &ParseOptions::default()).unwrap();
        let r = reply(&cal, "mailto:amy@x.org", PartStat::Declined, now()).unwrap();
        let evs: Vec<_> = r.children("VEVENT").collect();
        assert_eq!(evs.len(), 2);
        assert!(evs[0].prop("RECURRENCE-ID").is_none());
        assert_eq!(evs[1].value("RECURRENCE-ID"), Some("20260102T090000Z"));
        assert_eq!(evs[1].value("SEQUENCE"), Some("0"));
    }
}
