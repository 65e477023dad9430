//! Time zones: resolving a `TZID` and converting wall times to UTC.
//!
//! Order of resolution for a `TZID` (SPEC 3.1), once surrounding quotes and
//! blanks are removed: an IANA name; a Windows name as Outlook and Exchange
//! send it, mapped through CLDR's windowsZones table ([`windows`], generated
//! from the data), also with Exchange's duplicate suffix (`Eastern Standard
//! Time 1`) and the few misspellings of [`WINDOWS_ALIASES`]; an IANA name
//! behind a path prefix (`/freeassociation.sourceforge.net/Tzfile/Europe/London`,
//! `/mozilla.org/20050126_1/Europe/Berlin`); then the calendar's own
//! `VTIMEZONE` ([`custom`]). A `TZID` none of these knows is read as floating
//! time ([`ZoneSet::resolve`] returns `None`, so the caller can say so).
//!
//! Wall times that do not exist (a spring-forward gap) are moved forward by
//! the length of the gap; ambiguous wall times (the fall-back hour) take the
//! first, earlier instant (RFC 5545 3.3.5).

pub mod custom;
pub mod display_names;
pub mod iana;
mod iana_names;
pub mod windows;

use crate::ical::Component;
use crate::ical::value::{DateTimeValue, unescape_text};
use chrono::{NaiveDateTime, Offset, TimeDelta, TimeZone};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

/// A zone of the IANA database: chrono-tz's natively; in WebAssembly the
/// compact table of [`iana`], generated from chrono-tz's (the same answers,
/// a tenth of the size).
#[cfg(not(target_arch = "wasm32"))]
pub type IanaZone = chrono_tz::Tz;
/// A zone of the IANA database: chrono-tz's natively; in WebAssembly the
/// compact table of [`iana`], generated from chrono-tz's (the same answers,
/// a tenth of the size).
#[cfg(target_arch = "wasm32")]
pub type IanaZone = iana::Tz;

/// A resolved time zone.
#[derive(Debug, Clone)]
pub enum Zone {
    /// UTC.
    Utc,
    /// No zone: wall time, read as UTC where an instant is needed.
    Floating,
    /// A zone of the IANA database.
    Iana(IanaZone),
    /// A zone defined by a `VTIMEZONE` of the calendar.
    Custom(Arc<custom::CustomZone>),
}

impl Zone {
    /// The UTC instant of a wall time in this zone.
    #[inline]
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
            Zone::Iana(tz) => shifted(utc, tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()),
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

/// Converts the wall times of one zone to UTC one after another (the
/// instances of a series), remembering the last stretch of wall time that
/// has one offset: most wall times fall in the stretch of the one before
/// and need no look-up in the zone. The answers are [`Zone::to_utc`]'s:
/// wall times in a fold or a gap, and zones of a calendar's `VTIMEZONE`,
/// are looked up each time.
#[derive(Debug, Clone)]
pub struct Stretch {
    /// The zone's transitions, when they are known (an IANA zone).
    table: Option<iana::Tz>,
    /// The last stretch: local seconds, begin and end, and its offset.
    last: Cell<Option<(i64, i64, i32)>>,
}

impl Stretch {
    /// A converter for `zone`; its transitions are found once, here.
    pub fn new(zone: &Zone) -> Stretch {
        let table = match zone {
            // chrono-tz does not show its transitions; the compact table
            // holds the same ones (`tests/tz.rs` compares every zone).
            #[cfg(not(target_arch = "wasm32"))]
            Zone::Iana(tz) => tz.name().parse::<iana::Tz>().ok(),
            #[cfg(target_arch = "wasm32")]
            Zone::Iana(tz) => Some(*tz),
            _ => None,
        };
        Stretch { table, last: Cell::new(None) }
    }

    /// The UTC instant of `local` in `zone`, the zone this was made for.
    pub fn to_utc(&self, zone: &Zone, local: NaiveDateTime) -> NaiveDateTime {
        let Some(table) = self.table else { return zone.to_utc(local) };
        let seconds = local.and_utc().timestamp();
        if let Some((begin, end, offset)) = self.last.get() {
            let utc = local.checked_sub_signed(TimeDelta::seconds(i64::from(offset)));
            if let Some(utc) = utc.filter(|_| begin <= seconds && seconds < end) {
                return utc;
            }
        }
        self.last.set(table.single_offset_span(local));
        zone.to_utc(local)
    }

    /// The stretch remembered last (local seconds, begin and end, offset).
    pub fn last(&self) -> Option<(i64, i64, i32)> {
        self.last.get()
    }
}

/// `t` moved by `seconds`; unchanged at the edges of the representable range.
fn shifted(t: NaiveDateTime, seconds: i32) -> NaiveDateTime {
    t.checked_add_signed(TimeDelta::seconds(i64::from(seconds))).unwrap_or(t)
}

fn iana_to_utc(tz: &IanaZone, local: NaiveDateTime) -> NaiveDateTime {
    use chrono::LocalResult;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.naive_utc(),
        LocalResult::Ambiguous(a, b) => a.naive_utc().min(b.naive_utc()),
        LocalResult::None => {
            // In a gap: use the offset in force before the gap, which moves
            // the wall time forward by the gap's length (RFC 5545 3.3.5).
            let before = local.checked_sub_signed(TimeDelta::hours(3)).unwrap_or(local);
            let off = match tz.from_local_datetime(&before) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.offset().fix().local_minus_utc(),
                LocalResult::None => 0,
            };
            shifted(local, -off)
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
    /// A `VTIMEZONE` whose `TZID` is an IANA or Windows name is not read: that
    /// name wins over the definition (SPEC 3.1).
    pub fn from_calendar(calendar: &Component<'_>) -> ZoneSet {
        let mut custom = HashMap::new();
        for vtz in calendar.children("VTIMEZONE") {
            let Some(id) = vtz.value("TZID") else { continue };
            // The TZID property is TEXT (`Kuala Lumpur\, Singapore`); the parameters
            // that refer to it carry the plain text.
            let id = normalize_tzid(&unescape_text(id)).to_owned();
            if custom.contains_key(&id) || resolve_global(&id).is_some() {
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
        let id = normalize_tzid(tzid);
        if let Some(z) = resolve_global(id) {
            return Some(z);
        }
        if let Some(z) = self.custom.get(id) {
            return Some(Zone::Custom(Arc::clone(z)));
        }
        // Last, with no VTIMEZONE of that name: the names Exchange 2007/2010
        // and Outlook export.
        resolve_exchange_name(id)
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

/// A `TZID` without surrounding blanks and quotes (`TZID="Europe/Berlin"` is
/// sometimes written with its quotes kept in the value).
fn normalize_tzid(tzid: &str) -> &str {
    tzid.trim().trim_matches('"').trim()
}

/// Names that are not Windows names but are sent as if they were, with the
/// Windows name meant. Kept short: only names seen in real invitations.
pub const WINDOWS_ALIASES: &[(&str, &str)] = &[
    // Teams invitations (wvrzel/simpleCalDAV#44).
    ("W. European Standard Time", "W. Europe Standard Time"),
];

/// The IANA zone of a Windows name, an alias of one, or either followed by
/// Exchange's duplicate suffix (`Eastern Standard Time 1`).
fn iana_for_windows_like(id: &str) -> Option<&'static str> {
    let lookup = |name: &str| {
        windows::iana_for_windows(name).or_else(|| {
            let (_, meant) = WINDOWS_ALIASES.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(name))?;
            windows::iana_for_windows(meant)
        })
    };
    lookup(id).or_else(|| lookup(strip_duplicate_suffix(id)?))
}

/// `Eastern Standard Time 1` -> `Eastern Standard Time`: Exchange numbers the
/// second copy of a zone it sends twice.
fn strip_duplicate_suffix(id: &str) -> Option<&str> {
    let base = id.trim_end_matches(|c: char| c.is_ascii_digit());
    if base.len() == id.len() {
        return None;
    }
    let base = base.strip_suffix(' ')?.trim_end();
    (!base.is_empty()).then_some(base)
}

/// The IANA zone named at the end of a path (`/freeassociation.sourceforge.net/Tzfile/Europe/London`,
/// `/mozilla.org/20050126_1/Europe/Berlin`): the longest suffix after a `/`
/// that is an IANA name. A one-part name (`UTC`) is accepted only after a
/// leading `/`, the mark of such prefixes.
fn iana_behind_prefix(id: &str) -> Option<IanaZone> {
    let rooted = id.starts_with('/');
    let mut rest = id;
    while let Some(i) = rest.find('/') {
        rest = rest.get(i + 1..)?;
        if (rooted || rest.contains('/'))
            && let Ok(tz) = rest.parse::<IanaZone>()
        {
            return Some(tz);
        }
    }
    None
}

/// The zone an Exchange or Outlook export names without a `VTIMEZONE`:
/// Windows' display name, in its current form ("(UTC-05:00) Eastern Time
/// (US & Canada)") or the older one ("(GMT-05:00) Eastern Time (US &
/// Canada)"), through [`display_names`] (generated) and CLDR's table; or an
/// old Exchange id `tzone://Microsoft/<Windows id>` (also `<name>` for
/// `<name> Standard Time`).
pub fn resolve_exchange_name(tzid: &str) -> Option<Zone> {
    let id = normalize_tzid(tzid);
    if let Some(rest) = id.get(..18).filter(|p| p.eq_ignore_ascii_case("tzone://Microsoft/")).and_then(|_| id.get(18..))
    {
        let rest = rest.trim();
        if rest.eq_ignore_ascii_case("Utc") || rest.eq_ignore_ascii_case("GMT") {
            return Some(Zone::Utc);
        }
        let iana = iana_for_windows_like(rest).or_else(|| iana_for_windows_like(&format!("{rest} Standard Time")))?;
        return iana.parse::<IanaZone>().ok().map(Zone::Iana);
    }
    if !id.starts_with('(') {
        return None;
    }
    // One space between words; "(GMT+01:00)" is the older spelling of "(UTC+01:00)".
    let mut key = id.split_whitespace().collect::<Vec<_>>().join(" ");
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("(GMT")) {
        key.replace_range(..4, "(UTC");
    }
    let windows_id = display_names::windows_for_display(&key)?;
    windows::iana_for_windows(windows_id)?.parse::<IanaZone>().ok().map(Zone::Iana)
}

/// Resolves a `TZID` without the calendar: UTC, an IANA name, a Windows name
/// (see [`WINDOWS_ALIASES`] and the duplicate suffix), an IANA name behind a
/// path prefix. `None` when none of these applies.
pub fn resolve_global(tzid: &str) -> Option<Zone> {
    let id = normalize_tzid(tzid);
    if id.eq_ignore_ascii_case("UTC")
        || id.eq_ignore_ascii_case("GMT")
        || id == "Z"
        || id.eq_ignore_ascii_case("Etc/UTC")
    {
        return Some(Zone::Utc);
    }
    if let Ok(tz) = id.parse::<IanaZone>() {
        return Some(Zone::Iana(tz));
    }
    if let Some(tz) = iana_for_windows_like(id).and_then(|name| name.parse::<IanaZone>().ok()) {
        return Some(Zone::Iana(tz));
    }
    if id.contains('/') {
        return iana_behind_prefix(id).map(Zone::Iana);
    }
    None
}
