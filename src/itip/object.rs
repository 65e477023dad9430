//! Reading a scheduling object (RFC 5546 1.4): the `VEVENT`s of one calendar
//! that share a `UID`, the master (no `RECURRENCE-ID`) and its overridden
//! instances, with the fields every iTIP decision looks at.
//!
//! A scheduling object contradicts itself when its components carry different
//! `UID`s or different organizers (RFC 5546 1.4, 2.1.1); reading it then fails
//! with [`ErrorCode::InvalidSchedulingObject`].

use super::vocab::{CuType, Method, PartStat, Role, ScheduleAgent};
use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::value::{
    DateOrPeriod, DateTimeValue, email_cow, email_of, parse_date_list_lenient, parse_date_time, trim, unescape_text,
};
use crate::ical::{Component, OwnedComponent, Property};
use crate::tz::ZoneSet;
use chrono::NaiveDateTime;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;

mod time;
pub use time::Stamp;
pub(crate) use time::{Frame, Moment, length_warnings, own_span, rid_moment};

/// A calendar user line (`ORGANIZER`, RFC 5545 3.8.4.3, or `ATTENDEE`,
/// 3.8.4.1) with its parameters. The attendee's parameters read as their
/// defaults on an `ORGANIZER` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalAddress<'c> {
    /// The cal-address as written, trimmed (`mailto:Anna.Dahl@Example.com`).
    pub address: Cow<'c, str>,
    /// The e-mail address: scheme dropped, lower-cased.
    pub email: Cow<'c, str>,
    /// The `EMAIL` parameter (RFC 7986 6.2), as an e-mail address.
    pub alt_email: Option<Cow<'c, str>>,
    /// `CN`.
    pub name: Option<Cow<'c, str>>,
    /// `SENT-BY`, as an e-mail address: who acts for this user.
    pub sent_by: Option<Cow<'c, str>>,
    /// `PARTSTAT` (`NEEDS-ACTION` when absent).
    pub partstat: PartStat,
    /// `RSVP` (RFC 5545 3.2.17): `Some(true)` for `TRUE`, `Some(false)` for
    /// `FALSE`, `None` when absent or unreadable.
    pub rsvp: Option<bool>,
    /// `ROLE` (`REQ-PARTICIPANT` when absent).
    pub role: Role,
    /// `CUTYPE` (`INDIVIDUAL` when absent).
    pub cutype: CuType,
    /// `SCHEDULE-AGENT` (RFC 6638).
    pub schedule_agent: ScheduleAgent,
    /// `DELEGATED-TO`.
    pub delegated_to: Vec<Cow<'c, str>>,
    /// `DELEGATED-FROM`.
    pub delegated_from: Vec<Cow<'c, str>>,
}

impl<'c> CalAddress<'c> {
    /// Reads an `ORGANIZER` or `ATTENDEE` line, in one pass over its
    /// parameters (the first of a repeated single-valued parameter wins;
    /// the values of repeated `DELEGATED-TO`/`-FROM` add up). Its texts
    /// borrow from the line wherever they are as the line writes them.
    pub fn read(p: &'c Property<'_>) -> CalAddress<'c> {
        let mut a = CalAddress {
            address: Cow::Borrowed(trim(&p.value)),
            email: email_cow(&p.value),
            alt_email: None,
            name: None,
            sent_by: None,
            partstat: PartStat::default(),
            rsvp: None,
            role: Role::default(),
            cutype: CuType::default(),
            schedule_agent: ScheduleAgent::default(),
            delegated_to: Vec::new(),
            delegated_from: Vec::new(),
        };
        let mut seen = [false; 8];
        for param in &p.params {
            let name = param.name.as_ref();
            let list = |values: &'c [Cow<'_, str>]| {
                values.iter().map(|v| trim(v)).filter(|v| !v.is_empty()).map(Cow::Borrowed).collect::<Vec<_>>()
            };
            if name.eq_ignore_ascii_case("DELEGATED-TO") {
                a.delegated_to.extend(list(&param.values));
                continue;
            }
            if name.eq_ignore_ascii_case("DELEGATED-FROM") {
                a.delegated_from.extend(list(&param.values));
                continue;
            }
            // The reader writes parameter names in upper case: matched as
            // written first, in any case otherwise.
            let slot = SINGLE.iter().position(|n| *n == name);
            let Some(slot) = slot.or_else(|| SINGLE.iter().position(|n| name.eq_ignore_ascii_case(n))) else {
                continue;
            };
            match seen.get_mut(slot) {
                Some(done) if !*done => *done = true,
                _ => continue,
            }
            let Some(v) = param.values.first().map(|v| v.as_ref()) else { continue };
            match slot {
                0 => a.alt_email = Some(email_cow(v)).filter(|e| !e.is_empty()),
                1 => a.name = Some(trim(v)).filter(|s| !s.is_empty()).map(Cow::Borrowed),
                2 => a.sent_by = Some(email_cow(v)).filter(|e| !e.is_empty()),
                3 => a.partstat = PartStat::parse(v),
                4 => {
                    a.rsvp = match trim(v) {
                        t if t.eq_ignore_ascii_case("TRUE") => Some(true),
                        t if t.eq_ignore_ascii_case("FALSE") => Some(false),
                        _ => None,
                    }
                }
                5 => a.role = Role::parse(v),
                6 => a.cutype = CuType::parse(v),
                _ => a.schedule_agent = ScheduleAgent::parse(v),
            }
        }
        a
    }

    /// Whether this is the mailbox `addr` (an e-mail address, normalized),
    /// by the value: an `EMAIL` parameter never makes a line someone else's
    /// (a line `ATTENDEE;EMAIL=anna@...:mailto:ben@...` is Ben's, not
    /// Anna's). The one exception: a value that is no e-mail address at all
    /// (`urn:uuid:...`, as booking systems write) is the user its `EMAIL`
    /// names ([`CalAddress::reach_email`]); it cannot stand for another mailbox.
    pub fn is(&self, addr: &str) -> bool {
        !addr.is_empty() && (self.email == addr || self.reach_email() == Some(addr))
    }

    /// The `EMAIL` parameter (RFC 7986 6.2), when the value is not itself an
    /// e-mail address (`urn:uuid:...`): the address to reach this user by.
    pub fn reach_email(&self) -> Option<&str> {
        let mailto =
            self.address.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("mailto:")) || self.address.contains('@');
        self.alt_email.as_deref().filter(|_| !mailto)
    }
}

/// The single-valued parameters [`CalAddress::read`] reads, in the order of
/// its slots.
const SINGLE: [&str; 8] = ["EMAIL", "CN", "SENT-BY", "PARTSTAT", "RSVP", "ROLE", "CUTYPE", "SCHEDULE-AGENT"];

/// One `VEVENT` of the object: the master or an overridden instance.
#[derive(Debug, Clone)]
pub struct Instance<'c, 'a> {
    /// The component.
    pub event: &'c Component<'a>,
    /// `RECURRENCE-ID`; `None` for the master.
    pub recurrence_id: Option<DateTimeValue>,
    /// `RANGE=THISANDFUTURE` on the `RECURRENCE-ID`.
    pub this_and_future: bool,
    /// The version number ([`sequence_of`]: `SEQUENCE`, else Exchange's
    /// `X-MICROSOFT-CDO-APPT-SEQUENCE`); `None` when neither is given (RFC
    /// 5545 3.8.7.4 reads that as 0).
    pub sequence: Option<i64>,
    /// `DTSTAMP` as a UTC time.
    pub dtstamp: Option<NaiveDateTime>,
    /// `DTSTART`.
    pub dtstart: Option<DateTimeValue>,
    /// `STATUS`, upper-cased.
    pub status: Option<String>,
    /// `ORGANIZER`.
    pub organizer: Option<CalAddress<'c>>,
    /// `ATTENDEE`s, in order.
    pub attendees: Vec<CalAddress<'c>>,
}

impl Instance<'_, '_> {
    /// A text property, unescaped and trimmed, when not empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.event.prop(name).map(|p| p.text().trim().to_owned()).filter(|t| !t.is_empty())
    }

    /// Whether this instance is cancelled (`STATUS:CANCELLED`).
    pub fn is_cancelled(&self) -> bool {
        self.status.as_deref() == Some("CANCELLED")
    }
}

/// Where a version stands against another (RFC 5546 2.1.5): by `SEQUENCE`
/// (absent = 0), then by `DTSTAMP` when both have one.
pub(crate) fn compare_versions(
    msg: (Option<i64>, Option<NaiveDateTime>),
    stored: (Option<i64>, Option<NaiveDateTime>),
) -> Ordering {
    match msg.0.unwrap_or(0).cmp(&stored.0.unwrap_or(0)) {
        Ordering::Equal => match (msg.1, stored.1) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => Ordering::Equal,
        },
        other => other,
    }
}

/// A scheduling object read from a calendar: the one reading of a meeting
/// that iTIP processing, scheduling, replies and the policy share.
#[derive(Debug, Clone)]
pub struct SchedulingObject<'c, 'a> {
    /// The calendar read.
    pub calendar: &'c Component<'a>,
    /// The `UID` shared by every component.
    pub uid: String,
    /// The calendar's `METHOD`, else the `method=` of the e-mail part it came
    /// in ([`SchedulingObject::read_message`]); `None` for a stored object.
    pub method: Option<Method>,
    /// The version of the master (else of the first component).
    pub sequence: Option<i64>,
    /// `DTSTAMP` of the master (else of the first component), in UTC.
    pub dtstamp: Option<NaiveDateTime>,
    /// The organizer: the master's line, else the first component's that
    /// names one (the same in every component that names one).
    pub organizer: Option<CalAddress<'c>>,
    /// Every attendee of the object ([`Self::attendees`]) when that is not
    /// simply the one component's lines: `None` for an object of one
    /// component naming no address twice, most invitations.
    union: Option<Vec<CalAddress<'c>>>,
    /// `STATUS` of the master (else of the first component), upper-cased.
    pub status: Option<String>,
    /// Whether the event recurs: the master has an `RRULE` or `RDATE`.
    pub recurring: bool,
    /// The `RECURRENCE-ID`s of the overridden instances, in order.
    pub overrides: Vec<DateTimeValue>,
    /// Every component, in order.
    pub instances: Vec<Instance<'c, 'a>>,
    /// The time zones the calendar defines or names.
    pub zones: ZoneSet,
}

impl<'c, 'a> SchedulingObject<'c, 'a> {
    /// Reads the `VEVENT`s of `calendar`.
    ///
    /// Errors: [`ErrorCode::NoEvent`] without a `VEVENT`,
    /// [`ErrorCode::MissingUid`] for a `VEVENT` without `UID`,
    /// [`ErrorCode::InvalidSchedulingObject`] when the components name
    /// different `UID`s or organizers, [`ErrorCode::InvalidValue`] for a
    /// malformed `SEQUENCE`, `RECURRENCE-ID` or `DTSTART`.
    pub fn read(calendar: &'c Component<'a>) -> Result<SchedulingObject<'c, 'a>> {
        Self::read_message(calendar, None)
    }

    /// [`Self::read`] for a message whose e-mail part says `method=`
    /// `content_method`: used when the calendar names no `METHOD`.
    pub fn read_message(calendar: &'c Component<'a>, content_method: Option<&str>) -> Result<SchedulingObject<'c, 'a>> {
        let events = events(calendar);
        let Some(first) = events.first() else {
            return Err(EngineError::at(ErrorCode::NoEvent, calendar.line.max(1), "the calendar has no `VEVENT`"));
        };
        let uid = uid_of(first)?;
        let mut instances = Vec::with_capacity(events.len());
        let mut organizer: Option<&CalAddress> = None;
        for ev in &events {
            let this_uid = uid_of(ev)?;
            if this_uid != uid {
                return Err(EngineError::at(
                    ErrorCode::InvalidSchedulingObject,
                    ev.line.max(1),
                    format!("the components of one object have different uids `{uid}` and `{this_uid}`"),
                ));
            }
            instances.push(read_instance(ev)?);
        }
        for (inst, ev) in instances.iter().zip(&events) {
            let Some(o) = &inst.organizer else { continue };
            match organizer {
                Some(known) if known.email != o.email || o.email.is_empty() => {
                    return Err(EngineError::at(
                        ErrorCode::InvalidSchedulingObject,
                        ev.line.max(1),
                        format!("the organizer differs between components: `{}` and `{}`", known.address, o.address),
                    ));
                }
                Some(_) => {}
                None => organizer = Some(o),
            }
        }
        let main = instances.iter().find(|i| i.recurrence_id.is_none()).or(instances.first());
        let (sequence, dtstamp, status) = match main {
            Some(m) => (m.sequence, m.dtstamp, m.status.clone()),
            None => (None, None, None),
        };
        // Prefer the main component's own organizer line (its CN and SENT-BY).
        let organizer = main.and_then(|m| m.organizer.as_ref()).or(organizer).cloned();
        let mut attendees: Vec<&CalAddress> = Vec::with_capacity(main.map_or(0, |m| m.attendees.len()));
        // The union by address, in order: a short list is searched (cheaper
        // than hashing each address), a long one is hashed (with foldhash,
        // seeded per process: a third of SipHash's steps here).
        // The main component comes first, then the others (main once only).
        let others = instances.iter().filter(|i| !main.is_some_and(|m| std::ptr::eq(*i, m)));
        let lines = main.into_iter().chain(others).flat_map(|i| i.attendees.iter());
        let short = lines.clone().nth(32).is_none();
        let mut known: HashSet<&str, foldhash::fast::RandomState> =
            HashSet::with_capacity_and_hasher(if short { 0 } else { lines.clone().count() }, Default::default());
        for a in lines {
            let new = if short { !attendees.iter().any(|k| k.email == a.email) } else { known.insert(&*a.email) };
            if new {
                attendees.push(a);
            }
        }
        // One component whose lines are the union already: no copy.
        let own = instances.len() == 1 && main.is_some_and(|m| m.attendees.len() == attendees.len());
        let union = (!own).then(|| attendees.into_iter().cloned().collect());
        let master = instances.iter().find(|i| i.recurrence_id.is_none());
        let recurring = master.is_some_and(|m| has_rules(m.event));
        let overrides = instances.iter().filter_map(|i| i.recurrence_id.clone()).collect();
        let method = calendar
            .value("METHOD")
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .or_else(|| content_method.map(str::trim).filter(|m| !m.is_empty()))
            .map(Method::parse);
        Ok(SchedulingObject {
            calendar,
            uid,
            method,
            sequence,
            dtstamp,
            organizer,
            union,
            status,
            recurring,
            overrides,
            instances,
            zones: ZoneSet::from_calendar(calendar),
        })
    }

    /// Every attendee of the object in order of first appearance, the
    /// master's lines first (its `PARTSTAT` is the answer for the series);
    /// an address named twice is the first line naming it.
    pub fn attendees(&self) -> &[CalAddress<'c>] {
        match &self.union {
            Some(union) => union,
            None => self.instances.first().map_or(&[], |i| &i.attendees),
        }
    }

    /// The master component, when there is one.
    pub fn master(&self) -> Option<&Instance<'c, 'a>> {
        self.instances.iter().find(|i| i.recurrence_id.is_none())
    }

    /// The master, else the first component.
    pub fn main(&self) -> Option<&Instance<'c, 'a>> {
        self.master().or_else(|| self.instances.first())
    }

    /// Whether the object is about instances only (no master).
    pub fn instances_only(&self) -> bool {
        self.master().is_none()
    }

    /// The highest version number of the object's components (absent = 0).
    pub fn highest_sequence(&self) -> i64 {
        self.instances.iter().map(|i| i.sequence.unwrap_or(0)).max().unwrap_or(0)
    }

    /// The attendee with this address (a cal-address or an e-mail address;
    /// compared as [`CalAddress::is`] does).
    pub fn attendee(&self, address: &str) -> Option<&CalAddress<'c>> {
        let email = email_of(address);
        self.attendees().iter().find(|a| a.is(&email))
    }

    /// Whether `address` is the organizer.
    pub fn is_organizer(&self, address: &str) -> bool {
        let email = email_of(address);
        self.organizer.as_ref().is_some_and(|o| o.is(&email))
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

    /// A value as written in decisions: a date (`2026-12-03`) or a UTC
    /// instant (`2026-12-03T09:00:00Z`).
    pub fn moment(&self, v: &DateTimeValue) -> String {
        format_moment(v, &self.zones)
    }

    /// Start and end of an instance, as in [`Self::moment`], and whether it
    /// is all-day: by the rules of [`own_span`], so the diary
    /// and the expansion show the same meeting.
    pub fn span(&self, inst: &Instance<'_, '_>) -> (Option<String>, Option<String>, bool) {
        match own_span(inst.event, &self.zones) {
            Some((start, end, all_day)) => (Some(start), Some(end), all_day),
            None => (None, None, false),
        }
    }

    /// The master's time and recurrence lines as written (`DTSTART`,
    /// `DTEND`, `DURATION`, `RRULE`, `RDATE`, `EXDATE`, in their order) with
    /// the `VTIMEZONE`s they name, for a copy of the series elsewhere (the
    /// calendar feed). `None` without a master or its `DTSTART`, or when a
    /// zone the lines name is not defined in the calendar (the times could
    /// not be read without it).
    pub fn series_lines(&self) -> Option<SeriesLines> {
        const TIMES: [&str; 6] = ["DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE"];
        let master = self.master()?;
        master.dtstart.as_ref()?;
        let lines: Vec<Property<'static>> = master
            .event
            .properties
            .iter()
            .filter(|p| TIMES.iter().any(|t| p.name.eq_ignore_ascii_case(t)))
            .map(Property::to_static)
            .collect();
        let mut named: Vec<String> =
            lines.iter().filter_map(|p| p.param("TZID")).map(|t| t.trim().to_owned()).collect();
        named.sort();
        named.dedup();
        let mut zones = Vec::new();
        for id in &named {
            let zone = self.calendar.children("VTIMEZONE").find(|v| vtimezone_id(v).as_deref() == Some(id.as_str()))?;
            zones.push(zone.to_static());
        }
        Some(SeriesLines { lines, zones })
    }

    /// The `RECURRENCE-ID` of an instance as written in decisions.
    pub fn recurrence_id_of(&self, inst: &Instance<'_, '_>) -> Option<String> {
        inst.recurrence_id.as_ref().map(|r| self.moment(r))
    }
}

/// A series' time and recurrence lines with the zones they name
/// ([`SchedulingObject::series_lines`]).
#[derive(Debug, Clone)]
pub struct SeriesLines {
    /// The lines, as written.
    pub lines: Vec<Property<'static>>,
    /// One `VTIMEZONE` for each `TZID` the lines name.
    pub zones: Vec<OwnedComponent>,
}

/// A value as written in decisions (see [`SchedulingObject::moment`]).
pub fn format_moment(v: &DateTimeValue, zones: &ZoneSet) -> String {
    match v {
        DateTimeValue::Date(d) => d.format("%Y-%m-%d").to_string(),
        other => zones.to_utc(other).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
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

fn read_instance<'c, 'a>(ev: &'c Component<'a>) -> Result<Instance<'c, 'a>> {
    let (recurrence_id, this_and_future) = match recurrence_id_of(ev)? {
        Some((v, range)) => (Some(v), range),
        None => (None, false),
    };
    Ok(Instance {
        event: ev,
        recurrence_id,
        this_and_future,
        sequence: sequence_of(ev)?,
        dtstamp: dtstamp_of(ev),
        dtstart: dtstart_of(ev)?,
        status: ev.value("STATUS").map(|s| s.trim().to_ascii_uppercase()),
        organizer: ev.prop("ORGANIZER").map(CalAddress::read),
        attendees: {
            // Counted first: a long list grows (and moves) several times.
            let mut list = Vec::with_capacity(ev.props("ATTENDEE").count());
            list.extend(ev.props("ATTENDEE").map(CalAddress::read));
            list
        },
    })
}

/// `DTSTART` of a component; a malformed one is an error.
pub(crate) fn dtstart_of(ev: &Component<'_>) -> Result<Option<DateTimeValue>> {
    ev.prop("DTSTART").map(parse_date_time).transpose()
}

/// `RECURRENCE-ID` of a component, and whether it says
/// `RANGE=THISANDFUTURE`; a malformed one is an error.
pub(crate) fn recurrence_id_of(ev: &Component<'_>) -> Result<Option<(DateTimeValue, bool)>> {
    let Some(p) = recurrence_line(ev) else { return Ok(None) };
    let range = p.param("RANGE").is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"));
    Ok(Some((parse_date_time(p)?, range)))
}

/// The instants a component's `EXDATE`s exclude ([`instant`]); values that
/// cannot be read are skipped, as the expansion skips them.
pub(crate) fn exdate_instants(zones: &ZoneSet, ev: &Component<'_>) -> HashSet<NaiveDateTime> {
    let mut out = HashSet::new();
    for p in ev.props("EXDATE") {
        for item in parse_date_list_lenient(p).0 {
            if let DateOrPeriod::At(v) = item {
                out.insert(instant(zones, &v));
            }
        }
    }
    out
}

/// A component's `RRULE`s as comparable keys (parts in order, `INTERVAL=1`
/// left out: [`super::significant::rrule_key`]), sorted; empty without one.
pub(crate) fn rules_of(ev: &Component<'_>) -> Vec<String> {
    let mut rules: Vec<String> = ev.props("RRULE").map(|p| super::significant::rrule_key(&p.value)).collect();
    rules.sort();
    rules
}

/// What damage costs a component's recurrence (docs/decision.md, "Damaged
/// input"): each part of an `RRULE` skipped, each rule dropped, each `RDATE`
/// or `EXDATE` value skipped, with its line. The expansion skips the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecurrenceDamage {
    /// A malformed part of a rule, skipped; the rest of the rule is used.
    PartSkipped(u32, String),
    /// A rule with no usable `FREQ`, dropped.
    RuleDropped(u32, String),
    /// An `RDATE` or `EXDATE` value that cannot be read, skipped.
    ValueSkipped(u32, String),
}

/// The [`RecurrenceDamage`] of a component, in order of its lines' kinds
/// (rules, then `RDATE`s and `EXDATE`s).
pub(crate) fn recurrence_damage(ev: &Component<'_>) -> Vec<RecurrenceDamage> {
    let mut out = Vec::new();
    for rule in ev.props("RRULE") {
        let (read, skipped) = crate::recur::parse_lenient(&rule.value);
        out.extend(skipped.into_iter().map(|e| RecurrenceDamage::PartSkipped(rule.line, e.message)));
        if let Err(e) = read {
            out.push(RecurrenceDamage::RuleDropped(rule.line, e.message));
        }
    }
    for list in ev.props("RDATE").chain(ev.props("EXDATE")) {
        let (_, skipped) = parse_date_list_lenient(list);
        out.extend(skipped.into_iter().map(|e| RecurrenceDamage::ValueSkipped(list.line, e.message)));
    }
    out
}

/// `DTEND` of a component; a malformed one is an error.
pub(crate) fn dtend_of(ev: &Component<'_>) -> Result<Option<DateTimeValue>> {
    ev.prop("DTEND").map(parse_date_time).transpose()
}

/// The `RECURRENCE-ID` line of a component, as written.
pub(crate) fn recurrence_line<'c, 'a>(ev: &'c Component<'a>) -> Option<&'c Property<'a>> {
    ev.prop("RECURRENCE-ID")
}

/// Whether a component is an overridden instance: it names a
/// `RECURRENCE-ID` (readable or not).
pub(crate) fn is_override(ev: &Component<'_>) -> bool {
    recurrence_line(ev).is_some()
}

/// The lines that say when a component is, as written, for a message about
/// it to carry: `DTSTART`, then `DTEND`, else `DURATION`.
pub(crate) fn time_lines<'c, 'a>(ev: &'c Component<'a>) -> impl Iterator<Item = &'c Property<'a>> {
    let length = ev.prop("DTEND").or_else(|| ev.prop("DURATION"));
    ev.prop("DTSTART").into_iter().chain(length)
}

/// Whether a component has rules of its own: an `RRULE` or an `RDATE`.
pub(crate) fn has_rules(ev: &Component<'_>) -> bool {
    ev.prop("RRULE").is_some() || ev.prop("RDATE").is_some()
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
    Ok(recurrence_id_of(ev)?.map(|(v, _)| instant(zones, &v)))
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
pub fn vtimezone_id(vtz: &Component<'_>) -> Option<String> {
    vtz.prop("TZID").map(|p| unescape_text(p.value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::{ParseOptions, parse_calendar};

    fn read(text: &str) -> Result<()> {
        let cal = parse_calendar(text, &ParseOptions::default()).unwrap();
        SchedulingObject::read(&cal).map(|_| ())
    }

    #[test]
    fn reads_an_exchange_object() {
        let cal = parse_calendar(
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u1\r\nX-MICROSOFT-CDO-APPT-SEQUENCE:3\r\n\
             ORGANIZER;CN=Bob;SENT-BY=\"mailto:amy@x.org\":MAILTO:Bob@X.org\r\n\
             ATTENDEE;PARTSTAT=ACCEPTED;RSVP=TRUE;CUTYPE=ROOM:mailto:room@x.org\r\n\
             ATTENDEE:mailto:eve@x.org\r\nDTSTART:20260101T100000Z\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:u1\r\nRECURRENCE-ID:20260102T100000Z\r\nORGANIZER:mailto:bob@x.org\r\n\
             ATTENDEE:mailto:zed@x.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            &ParseOptions::default(),
        )
        .unwrap();
        let o = SchedulingObject::read(&cal).unwrap();
        assert_eq!(o.uid, "u1");
        assert_eq!(o.method, Some(Method::Request));
        assert_eq!(o.sequence, Some(3));
        let org = o.organizer.as_ref().unwrap();
        assert_eq!((&*org.email, org.name.as_deref()), ("bob@x.org", Some("Bob")));
        assert_eq!(org.sent_by.as_deref(), Some("amy@x.org"));
        assert_eq!(o.attendees().len(), 3);
        assert_eq!(o.attendees()[0].partstat, PartStat::Accepted);
        assert_eq!(o.attendees()[0].rsvp, Some(true));
        assert_eq!(o.attendees()[0].cutype, CuType::Room);
        assert!(o.recurring && !o.instances_only());
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

    /// One reading of a meeting: outside this module no code reads a
    /// component's time, version or recurrence identity for itself (the
    /// expansion reads the recurrence set it expands; a `VTIMEZONE`'s
    /// observances are read by the zone reader). Editing lines (`prop_mut`)
    /// is not reading.
    #[test]
    fn only_the_snapshot_reads_times_and_versions() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<std::path::PathBuf> =
            ["src", "server/src", "cli/src", "wasm/src"].iter().map(|d| root.join(d)).collect();
        let own = root.join("src/itip/object");
        let mut offenders = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                if path != own {
                    files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                }
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if path.extension().is_none_or(|e| e != "rs") || name == "tests.rs" || path == own.with_extension("rs") {
                continue;
            }
            if path.ends_with("src/tz/custom.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let mut names = vec![
                "DTSTART",
                "DTEND",
                "DURATION",
                "RECURRENCE-ID",
                "SEQUENCE",
                "X-MICROSOFT-CDO-APPT-SEQUENCE",
                "DTSTAMP",
            ];
            if !path.ends_with("src/expand.rs") {
                names.extend(["RRULE", "RDATE", "EXDATE"]);
            }
            for n in names {
                for read in ["prop", "props", "value"] {
                    let needle = format!(".{read}(\"{n}\")");
                    if code.contains(&needle) {
                        offenders.push(format!("{} ({needle})", path.display()));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "read outside the snapshot: {offenders:?}");
    }

    #[test]
    fn normalizes_mailto_addresses() {
        assert_eq!(normalize_address("MAILTO:Bob@Example.org"), "mailto:bob@example.org");
        assert_eq!(normalize_address("urn:uuid:1"), "urn:uuid:1");
    }
}
