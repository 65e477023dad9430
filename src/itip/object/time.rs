//! The time of one event, read by the RFC's rules: `DTSTART`, its zone and
//! how long each instance lasts (`DTEND`, else `DURATION` with its days and
//! weeks nominal, RFC 5545 3.3.6, else the default length). The snapshot
//! ([`super::SchedulingObject::span`]), the expansion ([`crate::expand`]) and
//! through them the diary read a meeting's start and end here and nowhere
//! else, so they show the same meeting.

use crate::error::{EngineError, Result};
use crate::ical::Component;
use crate::ical::value::{DateTimeValue, parse_date_time, parse_duration};
use crate::tz::{Zone, ZoneSet};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

/// A start or end: an all-day date, a floating wall time or a UTC instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Moment {
    Date(NaiveDate),
    Floating(NaiveDateTime),
    Utc(NaiveDateTime),
}

impl Moment {
    /// The instant used for windows and ordering (dates and floating times as UTC).
    pub(crate) fn instant(self) -> NaiveDateTime {
        match self {
            Moment::Date(d) => d.and_time(NaiveTime::MIN),
            Moment::Floating(t) | Moment::Utc(t) => t,
        }
    }

    /// The moment as the output writes it; by hand, as this runs once per
    /// occurrence and chrono's formatter dominated expansion time.
    pub(crate) fn text(self) -> String {
        let mut out = String::with_capacity(20);
        match self {
            Moment::Date(d) => push_date(&mut out, d),
            Moment::Floating(t) => push_date_time(&mut out, t),
            Moment::Utc(t) => {
                push_date_time(&mut out, t);
                out.push('Z');
            }
        }
        out
    }
}

fn push_digits(out: &mut String, value: u32, width: u32) {
    let mut div = 10u32.pow(width.saturating_sub(1));
    while div > 0 {
        out.push(char::from(b'0' + ((value / div) % 10) as u8));
        div /= 10;
    }
}

fn push_date(out: &mut String, d: NaiveDate) {
    match u32::try_from(d.year()) {
        Ok(y) if y <= 9999 => push_digits(out, y, 4),
        _ => out.push_str(&d.format("%Y").to_string()),
    }
    out.push('-');
    push_digits(out, d.month(), 2);
    out.push('-');
    push_digits(out, d.day(), 2);
}

fn push_date_time(out: &mut String, t: NaiveDateTime) {
    push_date(out, t.date());
    out.push('T');
    push_digits(out, t.hour(), 2);
    out.push(':');
    push_digits(out, t.minute(), 2);
    out.push(':');
    push_digits(out, t.second(), 2);
}

/// How long each instance lasts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Length {
    /// All-day: a number of days.
    Days(i64),
    /// The same exact duration for every instance.
    Exact(TimeDelta),
    /// Nominal days (wall clock) plus an exact time part.
    Nominal(i64, TimeDelta),
}

impl Length {
    /// An upper bound of the length, for widening the walk.
    pub(crate) fn most(self) -> TimeDelta {
        match self {
            Length::Days(d) => TimeDelta::days(d.max(0) + 1),
            Length::Exact(t) => t,
            Length::Nominal(d, t) => TimeDelta::days(d + 1) + t,
        }
    }
}

/// The time frame of one event: its `DTSTART` and length, in its zone.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// `DTSTART`.
    pub(crate) start: DateTimeValue,
    /// The zone of `DTSTART`.
    pub(crate) zone: Zone,
    /// Whether the times are floating wall times.
    pub(crate) floating: bool,
    /// How long each instance lasts.
    pub(crate) length: Length,
}

impl Frame {
    pub(crate) fn read(event: &Component<'_>, zones: &ZoneSet) -> Result<Option<Frame>> {
        let Some(start) = super::dtstart_of(event)? else { return Ok(None) };
        let zone = zones.zone_of(&start);
        let floating = matches!(start, DateTimeValue::Floating(_))
            || matches!((&start, &zone), (DateTimeValue::Zoned(..), Zone::Floating));
        let length = match (event.prop("DTEND"), event.prop("DURATION")) {
            (Some(end), _) => match parse_date_time(end) {
                Ok(end) => end_length(&start, &end, zones),
                Err(_) => default_length(&start),
            },
            (None, Some(d)) => duration_length(&start, &d.value).unwrap_or_else(|| default_length(&start)),
            (None, None) => default_length(&start),
        };
        Ok(Some(Frame { start, zone, floating, length }))
    }

    pub(crate) fn is_date(&self) -> bool {
        self.start.is_date()
    }

    /// The start and end of an instance starting at the wall time `local`.
    pub(crate) fn at(&self, local: NaiveDateTime) -> (Moment, Moment) {
        if self.is_date() {
            let start = local.date();
            let days = match self.length {
                Length::Days(d) => d,
                Length::Exact(t) | Length::Nominal(_, t) => t.num_days(),
            };
            let end = start.checked_add_signed(TimeDelta::days(days)).unwrap_or(start);
            return (Moment::Date(start), Moment::Date(end));
        }
        if self.floating {
            let end = match self.length {
                Length::Exact(t) => local + t,
                Length::Days(d) => local + TimeDelta::days(d),
                Length::Nominal(d, t) => local + TimeDelta::days(d) + t,
            };
            return (Moment::Floating(local), Moment::Floating(end.max(local)));
        }
        let start = self.zone.to_utc(local);
        let end = match self.length {
            Length::Exact(t) => start + t,
            Length::Days(d) => self.zone.to_utc(local + TimeDelta::days(d)),
            Length::Nominal(d, t) => self.zone.to_utc(local + TimeDelta::days(d)) + t,
        };
        (Moment::Utc(start), Moment::Utc(end.max(start)))
    }

    /// The wall time in the series' zone of a value of the series (an
    /// `RDATE`, `EXDATE` or `RECURRENCE-ID`); a date in a date-time series
    /// takes the time of day of `DTSTART`.
    pub(crate) fn local_of(&self, v: &DateTimeValue, zones: &ZoneSet) -> NaiveDateTime {
        if self.is_date() {
            return v.local().date().and_time(NaiveTime::MIN);
        }
        match v {
            DateTimeValue::Date(d) => d.and_time(self.start.local().time()),
            other if self.floating => other.local(),
            // A floating value (or one whose TZID nothing resolves) in a
            // zoned series is read as a wall time of the series' zone.
            other => match zones.zone_of(other) {
                Zone::Floating => other.local(),
                zone => self.zone.from_utc(zone.to_utc(other.local())),
            },
        }
    }
}

fn default_length(start: &DateTimeValue) -> Length {
    if start.is_date() { Length::Days(1) } else { Length::Exact(TimeDelta::zero()) }
}

fn end_length(start: &DateTimeValue, end: &DateTimeValue, zones: &ZoneSet) -> Length {
    if start.is_date() {
        return Length::Days((end.local().date() - start.local().date()).num_days().max(0));
    }
    let span = zones.to_utc(end) - zones.to_utc(start);
    Length::Exact(span.max(TimeDelta::zero()))
}

/// What is wrong with the length of an event, as damaged input: a `DTEND`
/// that cannot be read or is before `DTSTART`, a `DURATION` that cannot be
/// read or is negative. The event is kept with the default length (or none).
pub(crate) fn length_warnings(event: &Component<'_>, zones: &ZoneSet) -> Vec<EngineError> {
    let mut out = Vec::new();
    let warn = |p: &crate::ical::Property<'_>, what: String| {
        EngineError::at(crate::ErrorCode::InvalidValue, p.line.max(1), what)
    };
    let start = super::dtstart_of(event).ok().flatten();
    if let Some(p) = event.prop("DTEND") {
        match parse_date_time(p) {
            Err(_) => out.push(warn(p, format!("`{}` of `DTEND` cannot be read: the default length is used", p.value))),
            Ok(end) => {
                if start.as_ref().is_some_and(|s| zones.to_utc(&end) < zones.to_utc(s)) {
                    out.push(warn(
                        p,
                        format!("`DTEND` `{}` is before `DTSTART`: the event is read as lasting no time", p.value),
                    ));
                }
            }
        }
    } else if let Some(p) = event.prop("DURATION") {
        match parse_duration(&p.value) {
            None => {
                out.push(warn(p, format!("`{}` of `DURATION` cannot be read: the default length is used", p.value)))
            }
            Some(d) if d < TimeDelta::zero() => {
                out.push(warn(
                    p,
                    format!("`DURATION` `{}` is negative: the event is read as lasting no time", p.value),
                ));
            }
            Some(_) => {}
        }
    }
    out
}

/// `DURATION` split into nominal days and an exact time part (RFC 5545 3.3.6).
fn duration_length(start: &DateTimeValue, text: &str) -> Option<Length> {
    let t = text.trim();
    let total = parse_duration(t)?;
    if total < TimeDelta::zero() {
        return Some(if start.is_date() { Length::Days(0) } else { Length::Exact(TimeDelta::zero()) });
    }
    let body = t.trim_start_matches(['+', '-']);
    let (date_part, time_part) = match body.find(['T', 't']) {
        Some(i) => (body.get(..i).unwrap_or("P"), body.get(i..).unwrap_or("")),
        None => (body, ""),
    };
    let days = if date_part.len() > 1 { parse_duration(date_part)?.num_days() } else { 0 };
    let time = if time_part.is_empty() { TimeDelta::zero() } else { parse_duration(&format!("P{time_part}"))? };
    Some(if start.is_date() { Length::Days(days + time.num_days()) } else { Length::Nominal(days, time) })
}

/// The start and end of an event's own instance (its `DTSTART`), by the same
/// rules as every expanded occurrence: `DTEND`, else `DURATION` with its
/// days and weeks nominal (RFC 5545 3.3.6: the same wall time on the next
/// day, across a daylight-saving change), else the default length. Dates
/// as `2026-12-03`, instants in UTC as `2026-12-03T09:00:00Z` (floating
/// times read as UTC). `None` without a readable `DTSTART`. The diary's
/// appointment and `expand` give the same meeting because both use this.
pub(crate) fn own_span(event: &Component<'_>, zones: &ZoneSet) -> Option<(String, String, bool)> {
    let frame = Frame::read(event, zones).ok()??;
    let (start, end) = frame.at(frame.start.local());
    let text = |m: Moment| match m {
        Moment::Date(_) | Moment::Utc(_) => m.text(),
        Moment::Floating(t) => Moment::Utc(t).text(),
    };
    Some((text(start), text(end), frame.is_date()))
}

/// The moment of a `RECURRENCE-ID` as written (a zoned value as UTC).
pub(crate) fn rid_moment(v: &DateTimeValue, zones: &ZoneSet) -> Moment {
    match v {
        DateTimeValue::Date(d) => Moment::Date(*d),
        DateTimeValue::Floating(t) => Moment::Floating(*t),
        DateTimeValue::Utc(t) => Moment::Utc(*t),
        DateTimeValue::Zoned(t, _) => match zones.zone_of(v) {
            Zone::Floating => Moment::Floating(*t),
            zone => Moment::Utc(zone.to_utc(*t)),
        },
    }
}
