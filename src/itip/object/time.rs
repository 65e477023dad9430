//! The time of one event, read by the RFC's rules: `DTSTART`, its zone and
//! how long each instance lasts (`DTEND`, else `DURATION` with its days and
//! weeks nominal, RFC 5545 3.3.6, else the default length). The snapshot
//! ([`super::SchedulingObject::span`]), the expansion ([`crate::expand`]) and
//! through them the diary read a meeting's start and end here and nowhere
//! else, so they show the same meeting.

use crate::error::{EngineError, Result};
use crate::ical::Component;
use crate::ical::value::{DateTimeValue, parse_date_time, parse_duration};
use crate::tz::{Stretch, Zone, ZoneSet};
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

    /// The moment as the output writes it.
    pub(crate) fn text(self) -> String {
        self.stamp().as_str().to_owned()
    }

    /// The moment as the output writes it, held inline: written by hand, as
    /// this runs up to three times per occurrence of an expansion (chrono's
    /// formatter and one allocation per text once dominated its time).
    pub(crate) fn stamp(self) -> Stamp {
        let mut buf = [0u8; STAMP_BYTES];
        let (date, time) = match self {
            Moment::Date(d) => (d, None),
            Moment::Floating(t) | Moment::Utc(t) => (t.date(), Some(t.time())),
        };
        let Some(year) = u32::try_from(date.year()).ok().filter(|y| *y <= 9999) else {
            // Beyond four digits (chrono's range reaches six): its formatter.
            let text = match self {
                Moment::Date(d) => d.format("%Y-%m-%d").to_string(),
                Moment::Floating(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
                Moment::Utc(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            };
            return Stamp::new(&text).unwrap_or_default();
        };
        if let Some(head) = buf.get_mut(..20) {
            head.copy_from_slice(b"0000-00-00T00:00:00Z");
        }
        put_two(&mut buf, 0, year / 100);
        put_two(&mut buf, 2, year % 100);
        put_two(&mut buf, 5, date.month());
        put_two(&mut buf, 8, date.day());
        let len = match (self, time) {
            (Moment::Utc(_) | Moment::Floating(_), Some(t)) => {
                put_two(&mut buf, 11, t.hour());
                put_two(&mut buf, 14, t.minute());
                put_two(&mut buf, 17, t.second());
                if matches!(self, Moment::Utc(_)) { 20 } else { 19 }
            }
            _ => 10,
        };
        Stamp { len, bytes: buf }
    }
}

/// The longest text of a [`Stamp`]: a six-digit signed year, the limit of
/// chrono's dates (`+262143-12-31T23:59:59Z`).
const STAMP_BYTES: usize = 23;

/// A date, floating wall time or UTC instant as the expansion writes it
/// (`2026-12-03`, `2026-12-03T09:00:00`, `2026-12-03T09:00:00Z`), held
/// inline rather than allocated: an expansion writes up to three per
/// occurrence. Reads as a `str`; serialized as a string.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Stamp {
    len: u8,
    bytes: [u8; STAMP_BYTES],
}

impl Stamp {
    /// A stamp holding `text`; `None` when it is longer than a stamp holds.
    pub fn new(text: &str) -> Option<Stamp> {
        let mut bytes = [0u8; STAMP_BYTES];
        bytes.get_mut(..text.len())?.copy_from_slice(text.as_bytes());
        Some(Stamp { len: u8::try_from(text.len()).ok()?, bytes })
    }

    /// Orders stamps by the instant they name, dates and floating times
    /// read as UTC: stamps of one form compare as text (their digits are
    /// fixed-width), stamps of different forms through one fixed-width key
    /// (`YYYY-MM-DDTHH:MM:SS`).
    pub(crate) fn cmp_instant(&self, other: &Stamp) -> std::cmp::Ordering {
        if self.len == other.len {
            // The first sixteen bytes (to the minute) decide almost always.
            let head = |s: &Stamp| s.bytes.first_chunk::<16>().map(|h| u128::from_be_bytes(*h));
            return head(self).cmp(&head(other)).then_with(|| self.bytes.cmp(&other.bytes));
        }
        self.instant_key().cmp(&other.instant_key())
    }

    fn instant_key(&self) -> [u8; 19] {
        let mut key = *b"0000-00-00T00:00:00";
        let text = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        let text = text.strip_suffix(b"Z").unwrap_or(text);
        let n = text.len().min(key.len());
        if let (Some(k), Some(t)) = (key.get_mut(..n), text.get(..n)) {
            k.copy_from_slice(t);
        }
        key
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Built from a `str` or from ASCII digits and separators only.
        self.bytes.get(..usize::from(self.len)).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
    }
}

impl std::ops::Deref for Stamp {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Stamp {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Stamp {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<Stamp> for String {
    fn from(s: Stamp) -> String {
        s.as_str().to_owned()
    }
}

impl serde::Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Stamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Stamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Stamp::new(&text).ok_or_else(|| serde::de::Error::custom("a date or time longer than 23 bytes"))
    }
}

/// Two decimal digits of `value` (below 100) at `at`.
fn put_two(buf: &mut [u8; STAMP_BYTES], at: usize, value: u32) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
                                5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    let i = (value % 100) as usize * 2;
    if let (Some(to), Some(from)) = (buf.get_mut(at..at + 2), PAIRS.get(i..i + 2)) {
        to.copy_from_slice(from);
    }
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
    /// The conversion of the series' wall times to UTC.
    stretch: Stretch,
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
        let stretch = Stretch::new(&zone);
        Ok(Some(Frame { start, zone, floating, length, stretch }))
    }

    pub(crate) fn is_date(&self) -> bool {
        self.start.is_date()
    }

    /// The UTC instant of a wall time in the zone.
    fn to_utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        self.stretch.to_utc(&self.zone, local)
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
        let start = self.to_utc(local);
        let end = match self.length {
            Length::Exact(t) => start + t,
            Length::Days(d) => self.to_utc(local + TimeDelta::days(d)),
            Length::Nominal(d, t) => self.to_utc(local + TimeDelta::days(d)) + t,
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
    Some(match (start.is_date(), days) {
        (true, _) => Length::Days(days + time.num_days()),
        // No day part: every instance lasts the same exact time.
        (false, 0) => Length::Exact(time),
        (false, _) => Length::Nominal(days, time),
    })
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::ical::{ParseOptions, parse_calendar};

    /// The remembered stretch of one offset gives the zone's own answer for
    /// every wall time: walked forward and backward in steps that land in
    /// gaps and folds, over zones with half-hour changes, a skipped day and
    /// a change at midnight.
    #[test]
    fn remembered_offsets_give_the_zones_answers() {
        for tzid in ["Europe/Oslo", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia", "America/Santiago"] {
            let text = format!(
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID={tzid}:20100101T000000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            );
            let cal = parse_calendar(&text, &ParseOptions::default()).unwrap();
            let zones = ZoneSet::from_calendar(&cal);
            let event = cal.children("VEVENT").next().unwrap();
            let frame = Frame::read(event, &zones).unwrap().unwrap();
            let first = frame.start.local();
            let step = TimeDelta::minutes(17);
            let mut hits = 0;
            for i in (0..60_000).chain((0..60_000).rev()) {
                let local = first + step * i;
                let remembered =
                    frame.stretch.last().is_some_and(|(b, e, _)| (b..e).contains(&local.and_utc().timestamp()));
                hits += usize::from(remembered);
                assert_eq!(frame.to_utc(local), frame.zone.to_utc(local), "{tzid} {local}");
            }
            assert!(hits > 100_000, "{tzid}: the stretch was used {hits} times");
        }
    }

    #[test]
    fn stamps_read_as_text_and_order_by_instant() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let nine = day.and_hms_opt(9, 5, 7).unwrap();
        assert_eq!(Moment::Date(day).stamp(), "2026-12-03");
        assert_eq!(Moment::Floating(nine).stamp(), "2026-12-03T09:05:07");
        assert_eq!(Moment::Utc(nine).stamp(), "2026-12-03T09:05:07Z");
        let far = NaiveDate::from_ymd_opt(12026, 1, 2).unwrap();
        assert_eq!(Moment::Date(far).stamp(), "+12026-01-02");
        assert_eq!(Moment::Date(day).stamp().cmp_instant(&Moment::Utc(nine).stamp()), std::cmp::Ordering::Less);
        assert_eq!(Moment::Floating(nine).stamp().cmp_instant(&Moment::Utc(nine).stamp()), std::cmp::Ordering::Equal);
        let json = serde_json::to_string(&Moment::Utc(nine).stamp()).unwrap();
        assert_eq!(json, "\"2026-12-03T09:05:07Z\"");
        assert_eq!(serde_json::from_str::<Stamp>(&json).unwrap(), Moment::Utc(nine).stamp());
        assert!(serde_json::from_str::<Stamp>("\"a text far longer than any stamp\"").is_err());
    }
}
