//! Time zones: resolving a `TZID` and converting wall times to UTC.
//!
//! Order of resolution for a `TZID` (SPEC 3.1): an IANA name (also behind a
//! prefix such as `/freeassociation.sourceforge.net/Tzfile/`), then a Windows
//! name as Outlook and Exchange send it, mapped through CLDR's windowsZones
//! table ([`windows`], generated from the data), then the calendar's own
//! `VTIMEZONE` ([`custom`]). A `TZID` none of these knows is read as floating
//! time, and the caller is told so.
//!
//! Wall times that do not exist (a spring-forward gap) are moved forward by
//! the length of the gap; ambiguous wall times (the fall-back hour) take the
//! first, earlier instant (RFC 5545 3.3.5).

pub mod custom;
pub mod windows;

use crate::ical::Component;
use crate::ical::value::DateTimeValue;
use chrono::{NaiveDateTime, Offset, TimeZone};
use std::collections::HashMap;
use std::sync::Arc;

/// A resolved time zone.
#[derive(Debug, Clone)]
pub enum Zone {
    /// UTC.
    Utc,
    /// No zone: wall time, read as UTC where an instant is needed.
    Floating,
    /// A zone of the IANA database.
    Iana(chrono_tz::Tz),
    /// A zone defined by a `VTIMEZONE` of the calendar.
    Custom(Arc<custom::CustomZone>),
}

impl Zone {
    /// The UTC instant of a wall time in this zone.
    pub fn to_utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        match self {
            Zone::Utc | Zone::Floating => local,
            Zone::Iana(tz) => iana_to_utc(tz, local),
            Zone::Custom(z) => z.to_utc(local),
        }
    }

    /// The wall time in this zone of a UTC instant.
    pub fn from_utc(&self, utc: NaiveDateTime) -> NaiveDateTime {
        match self {
            Zone::Utc | Zone::Floating => utc,
            Zone::Iana(tz) => utc + tz.offset_from_utc_datetime(&utc).fix().local_minus_utc_delta(),
            Zone::Custom(z) => z.from_utc(utc),
        }
    }

    /// The IANA name, when the zone has one.
    pub fn iana_name(&self) -> Option<&'static str> {
        match self {
            Zone::Iana(tz) => Some(tz.name()),
            Zone::Utc => Some("UTC"),
            _ => None,
        }
    }
}

trait LocalMinusUtc {
    fn local_minus_utc_delta(&self) -> chrono::TimeDelta;
}

impl LocalMinusUtc for chrono::FixedOffset {
    fn local_minus_utc_delta(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(i64::from(self.local_minus_utc()))
    }
}

fn iana_to_utc(tz: &chrono_tz::Tz, local: NaiveDateTime) -> NaiveDateTime {
    use chrono::LocalResult;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.naive_utc(),
        LocalResult::Ambiguous(a, b) => a.naive_utc().min(b.naive_utc()),
        LocalResult::None => {
            // In a gap: use the offset in force before the gap, which moves
            // the wall time forward by the gap's length (RFC 5545 3.3.5).
            let before = local - chrono::TimeDelta::hours(3);
            let off = match tz.from_local_datetime(&before) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.offset().fix().local_minus_utc(),
                LocalResult::None => 0,
            };
            local - chrono::TimeDelta::seconds(i64::from(off))
        }
    }
}

/// Resolves the `TZID`s of one calendar.
#[derive(Debug, Clone, Default)]
pub struct ZoneSet {
    custom: HashMap<String, Arc<custom::CustomZone>>,
}

impl ZoneSet {
    /// The zones defined by the `VTIMEZONE`s of `calendar`. When a `TZID` is
    /// defined twice (Exchange sends duplicates), the first definition wins.
    pub fn from_calendar(calendar: &Component<'_>) -> ZoneSet {
        let mut custom = HashMap::new();
        for vtz in calendar.children("VTIMEZONE") {
            let Some(id) = vtz.value("TZID") else { continue };
            let id = id.trim().to_owned();
            if custom.contains_key(&id) {
                continue;
            }
            if let Some(z) = custom::CustomZone::from_vtimezone(vtz) {
                custom.insert(id, Arc::new(z));
            }
        }
        ZoneSet { custom }
    }

    /// Adds the zones of another calendar (for example the stored copy), not
    /// replacing those already known.
    pub fn merge(&mut self, other: ZoneSet) {
        for (k, v) in other.custom {
            self.custom.entry(k).or_insert(v);
        }
    }

    /// The zone a `TZID` names; `None` when nothing knows it.
    pub fn resolve(&self, tzid: &str) -> Option<Zone> {
        let id = tzid.trim().trim_matches('"');
        if let Some(z) = resolve_global(id) {
            return Some(z);
        }
        self.custom.get(id).map(|z| Zone::Custom(Arc::clone(z)))
    }

    /// The zone of a value: UTC, floating, or its `TZID` (floating when unknown).
    pub fn zone_of(&self, v: &DateTimeValue) -> Zone {
        match v {
            DateTimeValue::Utc(_) => Zone::Utc,
            DateTimeValue::Date(_) | DateTimeValue::Floating(_) => Zone::Floating,
            DateTimeValue::Zoned(_, id) => self.resolve(id).unwrap_or(Zone::Floating),
        }
    }

    /// The UTC instant of a value; dates and floating times are read as UTC.
    pub fn to_utc(&self, v: &DateTimeValue) -> NaiveDateTime {
        self.zone_of(v).to_utc(v.local())
    }
}

/// IANA and Windows names (and IANA names behind a path prefix).
pub fn resolve_global(id: &str) -> Option<Zone> {
    if id.eq_ignore_ascii_case("UTC")
        || id.eq_ignore_ascii_case("GMT")
        || id == "Z"
        || id.eq_ignore_ascii_case("Etc/UTC")
    {
        return Some(Zone::Utc);
    }
    if let Ok(tz) = id.parse::<chrono_tz::Tz>() {
        return Some(Zone::Iana(tz));
    }
    if let Some(name) = windows::iana_for_windows(id) {
        if let Ok(tz) = name.parse::<chrono_tz::Tz>() {
            return Some(Zone::Iana(tz));
        }
    }
    // `/freeassociation.sourceforge.net/Tzfile/Europe/London`, `/mozilla.org/20050126_1/Europe/Berlin`:
    // the longest suffix that is an IANA name.
    if id.contains('/') {
        let mut rest = id;
        while let Some(i) = rest.find('/') {
            rest = rest.get(i + 1..).unwrap_or("");
            if rest.contains('/') {
                if let Ok(tz) = rest.parse::<chrono_tz::Tz>() {
                    return Some(Zone::Iana(tz));
                }
            }
        }
    }
    None
}
