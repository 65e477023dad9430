//! Zones defined by a `VTIMEZONE` (RFC 5545 3.6.5), honoured when the `TZID`
//! is not a known IANA or Windows name.
//!
//! Each `STANDARD` or `DAYLIGHT` observance contributes onsets: its `DTSTART`,
//! the dates of its yearly `RRULE` and its `RDATE`s, each a wall time read in
//! the observance's `TZOFFSETFROM`; from an onset on, `TZOFFSETTO` is in force.
//! An instant before the first onset uses that onset's `TZOFFSETFROM`.
//!
//! The onsets of the years [`FIRST_YEAR`]..=[`LAST_YEAR`] (and every explicit
//! `DTSTART` and `RDATE`) are computed once, when the zone is read, into a
//! sorted table; a conversion is then one binary search and allocates nothing.
//! Rules still running after [`LAST_YEAR`] are evaluated for the year at hand,
//! so far-future instants stay right without an unbounded table.
//!
//! `RRULE`s are read as zones use them: `FREQ=YEARLY` with `INTERVAL`,
//! `BYMONTH`, `BYDAY` (with ordinals such as `-1SU` or `2SU`), `BYMONTHDAY`,
//! `BYYEARDAY`, `BYSETPOS`, `UNTIL` and `COUNT`; a single `BYHOUR`, `BYMINUTE`
//! or `BYSECOND` replaces the time of `DTSTART`. `BYWEEKNO`, `WKST` and further
//! values of the time parts are ignored. A rule of another frequency, or one
//! that cannot be read, is dropped and the observance keeps its `DTSTART` and
//! `RDATE`s. A `DTSTART` that does not match its own rule (Outlook writes
//! `16010101T020000` beside a rule for the last Sunday of October) is not an
//! onset: the rule's first date after it is.

use crate::ical::Component;
use crate::ical::value::{DateOrPeriod, DateTimeValue, parse_date_list, parse_date_time, parse_date_time_token};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Weekday};

/// First year whose rule onsets are tabulated; earlier onsets only set the
/// offset in force before the table (a few earlier years are read for that).
pub const FIRST_YEAR: i32 = 1900;
/// Last year whose rule onsets are tabulated; later ones are computed on demand.
pub const LAST_YEAR: i32 = 2200;

/// Years before [`FIRST_YEAR`] read to know the offset in force when the table starts.
const LEAD_YEARS: i32 = 8;
/// Observances read from one `VTIMEZONE`; further ones are ignored.
const MAX_OBSERVANCES: usize = 1000;
/// Transitions kept for one zone; further ones are ignored.
const MAX_TRANSITIONS: usize = 100_000;
/// Offsets must be smaller than a day.
const MAX_OFFSET: i32 = 86_399;
const DAY: i64 = 86_400;

/// A zone built from the observances of a `VTIMEZONE`.
///
/// Immutable once built, so it is `Send + Sync` and can be shared through an `Arc`.
#[derive(Clone)]
pub struct CustomZone {
    /// Offset before the first transition, seconds east of UTC.
    initial: i32,
    /// Every tabulated transition, sorted by instant.
    transitions: Box<[Transition]>,
    /// Rules that still have onsets after [`LAST_YEAR`].
    ongoing: Box<[Ongoing]>,
    /// Instants (seconds) from which the ongoing rules must be consulted.
    table_end: i64,
}

impl std::fmt::Debug for CustomZone {
    /// A summary: the table itself holds hundreds of rows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomZone")
            .field("initial", &self.initial)
            .field("transitions", &self.transitions.len())
            .field("last_offset", &self.transitions.last().map_or(self.initial, |t| t.offset))
            .field("ongoing_rules", &self.ongoing.len())
            .finish()
    }
}

/// One change of offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Transition {
    /// The instant, seconds since 1970 UTC.
    utc: i64,
    /// The wall time (as seconds) at which the new offset starts: `utc + offset`.
    wall_start: i64,
    /// Offset from this instant on.
    offset: i32,
    /// Offset in force just before.
    prev: i32,
}

/// A yearly rule still producing onsets after the table.
#[derive(Debug, Clone)]
struct Ongoing {
    rule: YearlyRule,
    start: NaiveDateTime,
    from: i32,
    to: i32,
}

/// `UNTIL` of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// A UTC instant (seconds), as RFC 5545 requires in a `VTIMEZONE`.
    Utc(i64),
    /// A wall time (a date counts as its last second), as some producers write.
    Local(NaiveDateTime),
}

/// The parts of a `FREQ=YEARLY` rule that zones use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct YearlyRule {
    interval: i32,
    until: Option<Until>,
    count: Option<u32>,
    /// Bit `m` set for month `m` (1..=12); 0 when `BYMONTH` is absent.
    months: u16,
    month_days: Vec<i8>,
    year_days: Vec<i16>,
    /// (ordinal, weekday); ordinal 0 means every such weekday.
    days: Vec<(i16, Weekday)>,
    set_pos: Vec<i16>,
    hour: Option<u32>,
    minute: Option<u32>,
    second: Option<u32>,
}

/// When an observance starts.
#[derive(Debug, Clone, Copy)]
enum Onset {
    /// A wall time, read in the observance's `TZOFFSETFROM`.
    Local(NaiveDateTime),
    /// A UTC instant.
    Utc(NaiveDateTime),
}

/// Seconds since 1970 of a wall time or instant.
fn secs(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp()
}

/// `t` moved by `offset` seconds; unchanged at the edges of the representable range.
fn shifted(t: NaiveDateTime, offset: i64) -> NaiveDateTime {
    t.checked_add_signed(TimeDelta::seconds(offset)).unwrap_or(t)
}

impl CustomZone {
    /// Reads a `VTIMEZONE`; `None` when it defines no usable observance.
    pub fn from_vtimezone(vtz: &Component<'_>) -> Option<CustomZone> {
        let mut raw: Vec<(i64, i32, i32)> = Vec::new(); // (utc, from, to)
        let mut ongoing = Vec::new();
        let observances = vtz.components.iter().filter(|c| c.is("STANDARD") || c.is("DAYLIGHT"));
        for obs in observances.take(MAX_OBSERVANCES) {
            read_observance(obs, &mut raw, &mut ongoing);
        }
        CustomZone::from_onsets(raw, ongoing)
    }

    /// Builds the table from onsets `(utc seconds, from, to)`.
    fn from_onsets(mut raw: Vec<(i64, i32, i32)>, ongoing: Vec<Ongoing>) -> Option<CustomZone> {
        if raw.is_empty() && ongoing.is_empty() {
            return None;
        }
        raw.sort_by_key(|&(utc, _, _)| utc);
        let initial = match (raw.first(), ongoing.first()) {
            (Some(&(_, from, _)), _) => from,
            (None, Some(o)) => o.from,
            (None, None) => return None,
        };
        let mut prev = initial;
        let transitions: Box<[Transition]> = raw
            .into_iter()
            .map(|(utc, _, to)| {
                let t = Transition { utc, wall_start: utc + i64::from(to), offset: to, prev };
                prev = to;
                t
            })
            .collect();
        let table_end = secs_of_year_start(LAST_YEAR + 1) - DAY;
        Some(CustomZone { initial, transitions, ongoing: ongoing.into_boxed_slice(), table_end })
    }

    /// The offset (seconds east of UTC) in force at a UTC instant.
    pub fn utc_offset(&self, utc: NaiveDateTime) -> i32 {
        self.offset_at(secs(utc))
    }

    /// The UTC instant of a wall time. A wall time skipped by a forward jump
    /// is moved forward by the jump; a repeated one takes the earlier instant.
    pub fn to_utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        let l = secs(local);
        let offset = if l < self.table_end - 2 * DAY || self.ongoing.is_empty() {
            self.table_offset_for_wall(l)
        } else {
            self.offset_for_wall_on_demand(l)
        };
        shifted(local, -i64::from(offset))
    }

    /// The wall time of a UTC instant.
    pub fn from_utc(&self, utc: NaiveDateTime) -> NaiveDateTime {
        shifted(utc, i64::from(self.offset_at(secs(utc))))
    }

    /// The offset in force at instant `u` (seconds).
    fn offset_at(&self, u: i64) -> i32 {
        let k = self.transitions.partition_point(|t| t.utc <= u);
        let (mut at, mut offset) = match k.checked_sub(1).and_then(|i| self.transitions.get(i)) {
            Some(t) => (t.utc, t.offset),
            None => (i64::MIN, self.initial),
        };
        if u >= self.table_end {
            for o in self.ongoing.iter() {
                if let Some(onset) = o.latest_onset_at_or_before(u)
                    && onset >= at
                {
                    (at, offset) = (onset, o.to);
                }
            }
        }
        offset
    }

    /// The offset to subtract from wall time `l` (seconds), from the table alone.
    fn table_offset_for_wall(&self, l: i64) -> i32 {
        let k = self.transitions.partition_point(|t| t.wall_start <= l);
        let Some(t) = k.checked_sub(1).and_then(|i| self.transitions.get(i)) else {
            return self.initial;
        };
        // Just after a backward jump the wall time also belongs to the period
        // before it, which gives the earlier instant. Inside a forward gap the
        // last period that started is the one before the gap, so the wall time
        // is read in the old offset and lands after the jump.
        if l < t.utc + i64::from(t.prev) { t.prev } else { t.offset }
    }

    /// The offset to subtract from wall time `l`, where ongoing rules matter.
    fn offset_for_wall_on_demand(&self, l: i64) -> i32 {
        let before = self.offset_at(l.saturating_sub(2 * DAY));
        let after = self.offset_at(l.saturating_add(2 * DAY));
        let valid = |o: i32| self.offset_at(l - i64::from(o)) == o;
        match (valid(before), valid(after)) {
            (true, true) => before.max(after), // the larger offset gives the earlier instant
            (false, true) => after,
            _ => before,
        }
    }
}

impl Ongoing {
    /// The latest onset (UTC seconds) at or before `u`, searching a few years back.
    fn latest_onset_at_or_before(&self, u: i64) -> Option<i64> {
        let year = chrono::DateTime::from_timestamp(u, 0)?.year();
        let lowest = (LAST_YEAR + 1).max(self.start.year()).max(year - LEAD_YEARS);
        let mut y = year + 1;
        while y >= lowest {
            let mut best = None;
            self.rule.for_each_onset_in_year(y, self.start, |local| {
                let utc = secs(local) - i64::from(self.from);
                if local > self.start && utc <= u && self.rule.before_until(local, utc) {
                    best = Some(utc);
                }
            });
            if best.is_some() {
                return best;
            }
            y -= 1;
        }
        None
    }
}

/// Reads a UTC offset: `+0530`, `-0330`, `+053000`; a missing sign or a colon is tolerated.
fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, s.get(1..)?),
        b'-' => (-1, s.get(1..)?),
        _ => (1, s),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 4 | 6) {
        return None;
    }
    let h: i32 = digits.get(0..2)?.parse().ok()?;
    let m: i32 = digits.get(2..4)?.parse().ok()?;
    let sec: i32 = if digits.len() == 6 { digits.get(4..6)?.parse().ok()? } else { 0 };
    if m > 59 || sec > 59 {
        return None;
    }
    let total = h * 3600 + m * 60 + sec;
    (total <= MAX_OFFSET).then_some(sign * total)
}

/// Reads one observance, adding its onsets up to [`LAST_YEAR`] to `raw` and its
/// rule to `ongoing` when the rule runs past it.
fn read_observance(obs: &Component<'_>, raw: &mut Vec<(i64, i32, i32)>, ongoing: &mut Vec<Ongoing>) {
    let Some(to) = obs.value("TZOFFSETTO").and_then(parse_offset) else { return };
    let from = obs.value("TZOFFSETFROM").and_then(parse_offset).unwrap_or(to);
    let Some(start) = obs.prop("DTSTART").and_then(|p| parse_date_time(p).ok()) else { return };
    let start = match start {
        DateTimeValue::Utc(t) => shifted(t, i64::from(from)),
        other => other.local(),
    };
    let mut push = |onset: Onset| {
        if raw.len() < MAX_TRANSITIONS {
            let utc = match onset {
                Onset::Local(t) => secs(t) - i64::from(from),
                Onset::Utc(t) => secs(t),
            };
            raw.push((utc, from, to));
        }
    };
    let rule = obs.prop("RRULE").and_then(|p| YearlyRule::parse(&p.value));
    match &rule {
        None => push(Onset::Local(start)),
        Some(rule) => {
            let mut left = rule.count;
            if rule.matches(start) {
                push(Onset::Local(start));
                left = left.map(|n| n.saturating_sub(1));
            }
            let first = match rule.count {
                Some(_) => start.year().max(1),
                None => start.year().max(FIRST_YEAR - LEAD_YEARS),
            };
            let mut year = first;
            'years: while year <= LAST_YEAR {
                if left == Some(0) {
                    break;
                }
                let mut stop = false;
                rule.for_each_onset_in_year(year, start, |local| {
                    if stop || local <= start {
                        return;
                    }
                    let utc = secs(local) - i64::from(from);
                    if !rule.before_until(local, utc) || left == Some(0) {
                        stop = true;
                        return;
                    }
                    push(Onset::Local(local));
                    left = left.map(|n| n.saturating_sub(1));
                });
                if stop {
                    break 'years;
                }
                year += 1;
            }
            let runs_on = rule.count.is_none()
                && match rule.until {
                    None => true,
                    Some(Until::Utc(u)) => u >= secs_of_year_start(LAST_YEAR + 1) - DAY,
                    Some(Until::Local(t)) => t.year() > LAST_YEAR,
                };
            if runs_on {
                ongoing.push(Ongoing { rule: rule.clone(), start, from, to });
            }
        }
    }
    for p in obs.props("RDATE") {
        let Ok(list) = parse_date_list(p) else { continue };
        for item in list {
            let v = match item {
                DateOrPeriod::At(v) | DateOrPeriod::Period(v, _) => v,
            };
            push(match v {
                DateTimeValue::Utc(t) => Onset::Utc(t),
                other => Onset::Local(other.local()),
            });
        }
    }
}

fn secs_of_year_start(year: i32) -> i64 {
    NaiveDate::from_ymd_opt(year, 1, 1).map_or(i64::MAX, |d| secs(d.and_time(NaiveTime::MIN)))
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

/// Reads a comma-separated list of integers within `lo..=hi`, zero excluded when `nonzero`.
fn int_list<T: TryFrom<i32>>(v: &str, lo: i32, hi: i32, nonzero: bool) -> Option<Vec<T>> {
    v.split(',')
        .map(|s| {
            let n: i32 = s.trim().trim_start_matches('+').parse().ok()?;
            if n < lo || n > hi || (nonzero && n == 0) {
                return None;
            }
            T::try_from(n).ok()
        })
        .collect()
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if NaiveDate::from_ymd_opt(year, 2, 29).is_some() => 29,
        _ => 28,
    }
}

/// A set of days of one year, bit `ordinal0`.
#[derive(Default, Clone, Copy)]
struct DaySet([u64; 6]);

impl DaySet {
    fn insert(&mut self, d: NaiveDate) {
        self.insert_ordinal0(d.ordinal0());
    }

    fn insert_ordinal0(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut((i / 64) as usize) {
            *w |= 1 << (i % 64);
        }
    }

    fn contains(&self, d: NaiveDate) -> bool {
        let i = d.ordinal0() as usize;
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// Ordinals (0-based) in increasing order.
    fn ordinals(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(wi, &w)| {
            let mut rest = w;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros();
                    rest &= rest - 1;
                    wi as u32 * 64 + b
                })
            })
        })
    }
}

impl YearlyRule {
    /// Reads an `RRULE` value; `None` unless it is a readable `FREQ=YEARLY` rule.
    fn parse(value: &str) -> Option<YearlyRule> {
        let mut rule = YearlyRule { interval: 1, ..YearlyRule::default() };
        let mut yearly = false;
        for part in value.split(';') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (k, v) = part.split_once('=')?;
            let v = v.trim();
            match k.trim().to_ascii_uppercase().as_str() {
                "FREQ" => yearly = v.eq_ignore_ascii_case("YEARLY"),
                "INTERVAL" => rule.interval = v.parse().ok().filter(|n| (1..=1000).contains(n))?,
                "COUNT" => rule.count = Some(v.parse().ok()?),
                "UNTIL" => {
                    rule.until = Some(match parse_date_time_token(v, None, false)? {
                        DateTimeValue::Utc(t) => Until::Utc(secs(t)),
                        DateTimeValue::Date(d) => Until::Local(d.and_hms_opt(23, 59, 59)?),
                        other => Until::Local(other.local()),
                    })
                }
                "BYMONTH" => {
                    for m in int_list::<u8>(v, 1, 12, true)? {
                        rule.months |= 1 << m;
                    }
                }
                "BYMONTHDAY" => rule.month_days = int_list(v, -31, 31, true)?,
                "BYYEARDAY" => rule.year_days = int_list(v, -366, 366, true)?,
                "BYSETPOS" => rule.set_pos = int_list(v, -366, 366, true)?,
                "BYDAY" => {
                    for d in v.split(',') {
                        let d = d.trim();
                        let split = d.len().checked_sub(2)?;
                        let (n, wd) = (d.get(..split)?, parse_weekday(d.get(split..)?)?);
                        let n: i16 = if n.is_empty() { 0 } else { n.trim_start_matches('+').parse().ok()? };
                        if !(-53..=53).contains(&n) {
                            return None;
                        }
                        rule.days.push((n, wd));
                    }
                }
                "BYHOUR" => rule.hour = int_list::<u32>(v, 0, 23, false)?.first().copied(),
                "BYMINUTE" => rule.minute = int_list::<u32>(v, 0, 59, false)?.first().copied(),
                "BYSECOND" => rule.second = int_list::<u32>(v, 0, 60, false)?.first().copied().map(|s| s.min(59)),
                _ => {}
            }
        }
        yearly.then_some(rule)
    }

    /// The time of day of the onsets.
    fn time(&self, start: NaiveDateTime) -> NaiveTime {
        let t = start.time();
        NaiveTime::from_hms_opt(
            self.hour.unwrap_or(t.hour()),
            self.minute.unwrap_or(t.minute()),
            self.second.unwrap_or(t.second()),
        )
        .unwrap_or(t)
    }

    /// Whether `local`, an onset at `utc` seconds, is not after `UNTIL`.
    fn before_until(&self, local: NaiveDateTime, utc: i64) -> bool {
        match self.until {
            None => true,
            Some(Until::Utc(u)) => utc <= u,
            Some(Until::Local(t)) => local <= t,
        }
    }

    /// Whether `start` is one of the rule's own onsets.
    fn matches(&self, start: NaiveDateTime) -> bool {
        start.time() == self.time(start) && self.days_of_year(start.year(), start.date()).contains(start.date())
    }

    /// Calls `f` with each onset of `year`, in order (before `UNTIL`/`COUNT` are applied).
    fn for_each_onset_in_year(&self, year: i32, start: NaiveDateTime, mut f: impl FnMut(NaiveDateTime)) {
        if (year - start.year()).rem_euclid(self.interval) != 0 {
            return;
        }
        let time = self.time(start);
        let set = self.days_of_year(year, start.date());
        for ord in set.ordinals() {
            if let Some(d) = NaiveDate::from_yo_opt(year, ord + 1) {
                f(d.and_time(time));
            }
        }
    }

    fn in_months(&self, month: u32) -> bool {
        self.months == 0 || self.months & (1 << month) != 0
    }

    fn weekday_listed(&self, wd: Weekday) -> bool {
        self.days.is_empty() || self.days.iter().any(|&(_, w)| w == wd)
    }

    fn month_day_listed(&self, d: NaiveDate) -> bool {
        self.month_days.is_empty()
            || self.month_days.iter().any(|&md| {
                let dim = days_in_month(d.year(), d.month()) as i32;
                let day = if md > 0 { i32::from(md) } else { dim + i32::from(md) + 1 };
                day == d.day() as i32
            })
    }

    /// The dates of `year` selected by the `BY*` parts (RFC 5545 3.3.10, `FREQ=YEARLY`).
    fn days_of_year(&self, year: i32, start: NaiveDate) -> DaySet {
        let mut set = DaySet::default();
        let months = || (1..=12u32).filter(|&m| self.in_months(m));
        if !self.year_days.is_empty() {
            let len = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() { 366 } else { 365 };
            for &yd in &self.year_days {
                let ord = if yd > 0 { i32::from(yd) } else { len + i32::from(yd) + 1 };
                let Some(d) = u32::try_from(ord).ok().and_then(|o| NaiveDate::from_yo_opt(year, o)) else { continue };
                if self.in_months(d.month()) && self.month_day_listed(d) && self.weekday_listed(d.weekday()) {
                    set.insert(d);
                }
            }
        } else if !self.month_days.is_empty() {
            for m in months() {
                let dim = days_in_month(year, m) as i32;
                for &md in &self.month_days {
                    let day = if md > 0 { i32::from(md) } else { dim + i32::from(md) + 1 };
                    let Some(d) = u32::try_from(day).ok().and_then(|day| NaiveDate::from_ymd_opt(year, m, day)) else {
                        continue;
                    };
                    if self.weekday_listed(d.weekday()) {
                        set.insert(d);
                    }
                }
            }
        } else if !self.days.is_empty() {
            if self.months != 0 {
                for m in months() {
                    let (Some(first), dim) = (NaiveDate::from_ymd_opt(year, m, 1), days_in_month(year, m)) else {
                        continue;
                    };
                    for &(n, wd) in &self.days {
                        insert_weekdays(&mut set, first, dim, n, wd);
                    }
                }
            } else if let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) {
                let len = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() { 366 } else { 365 };
                for &(n, wd) in &self.days {
                    insert_weekdays(&mut set, first, len, n, wd);
                }
            }
        } else {
            // Only `BYMONTH`, or nothing: the day of `DTSTART` in those months, or in its own.
            for m in 1..=12u32 {
                let wanted = if self.months == 0 { m == start.month() } else { self.in_months(m) };
                if let Some(d) = NaiveDate::from_ymd_opt(year, m, start.day()).filter(|_| wanted) {
                    set.insert(d);
                }
            }
        }
        if self.set_pos.is_empty() { set } else { self.select_positions(set) }
    }

    /// Applies `BYSETPOS` to the dates of one year.
    fn select_positions(&self, set: DaySet) -> DaySet {
        let n = set.len() as i32;
        let mut out = DaySet::default();
        for (i, ord) in set.ordinals().enumerate() {
            let i = i as i32;
            if self.set_pos.iter().any(|&p| if p > 0 { i32::from(p) - 1 == i } else { n + i32::from(p) == i }) {
                out.insert_ordinal0(ord);
            }
        }
        out
    }
}

/// Adds the `n`th weekday `wd` (every one when `n` is 0, counted from the end
/// when negative) of the `len` days starting at `first`.
fn insert_weekdays(set: &mut DaySet, first: NaiveDate, len: u32, n: i16, wd: Weekday) {
    let lead = (wd.num_days_from_monday() + 7 - first.weekday().num_days_from_monday()) % 7;
    let count = if lead >= len { 0 } else { (len - 1 - lead) / 7 + 1 };
    let pick = |k: u32| first.checked_add_signed(TimeDelta::days(i64::from(lead + 7 * k)));
    let n = i32::from(n);
    let count = count as i32;
    if n == 0 {
        for k in 0..count {
            if let Some(d) = pick(k as u32) {
                set.insert(d);
            }
        }
    } else {
        let k = if n > 0 { n - 1 } else { count + n };
        if (0..count).contains(&k)
            && let Some(d) = pick(k as u32)
        {
            set.insert(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::{ParseOptions, parse_calendar};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        date(y, m, d).and_hms_opt(h, mi, 0).unwrap()
    }

    fn dates(rule: &str, year: i32) -> Vec<NaiveDate> {
        let rule = YearlyRule::parse(rule).unwrap();
        let mut out = Vec::new();
        rule.for_each_onset_in_year(year, at(1970, 1, 1, 2, 0), |t| out.push(t.date()));
        out
    }

    fn zone(body: &str) -> CustomZone {
        let text =
            format!("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Test\r\n{body}END:VTIMEZONE\r\nEND:VCALENDAR\r\n");
        let cal = parse_calendar(&text, &ParseOptions::default()).unwrap();
        CustomZone::from_vtimezone(cal.children("VTIMEZONE").next().unwrap()).unwrap()
    }

    const CET: &str = "BEGIN:DAYLIGHT\r\nDTSTART:19810329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
        RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nDTSTART:19961027T030000\r\n\
        TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n";

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+0530"), Some(19_800));
        assert_eq!(parse_offset("-0330"), Some(-12_600));
        assert_eq!(parse_offset("+053000"), Some(19_800));
        assert_eq!(parse_offset("-000512"), Some(-312));
        assert_eq!(parse_offset("+05:30"), Some(19_800));
        assert_eq!(parse_offset("+2400"), None);
        assert_eq!(parse_offset("+0560"), None);
        assert_eq!(parse_offset("+05"), None);
        assert_eq!(parse_offset(""), None);
    }

    #[test]
    fn yearly_rules() {
        assert_eq!(dates("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", 2024), [date(2024, 3, 31)]);
        assert_eq!(dates("FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", 2024), [date(2024, 3, 10)]);
        assert_eq!(dates("FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", 2026), [date(2026, 11, 1)]);
        assert_eq!(dates("FREQ=YEARLY;BYMONTH=4,10;BYDAY=1SU", 2025), [date(2025, 4, 6), date(2025, 10, 5)]);
        // Brazil's old rule: the Sunday on or after the 15th.
        assert_eq!(
            dates("FREQ=YEARLY;BYMONTH=10;BYDAY=SU;BYMONTHDAY=15,16,17,18,19,20,21", 2017),
            [date(2017, 10, 15)]
        );
        assert_eq!(dates("FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=-1", 2023), [date(2023, 9, 30)]);
        assert_eq!(dates("FREQ=YEARLY;BYYEARDAY=60", 2024), [date(2024, 2, 29)]);
        assert_eq!(dates("FREQ=YEARLY;BYYEARDAY=-1", 2023), [date(2023, 12, 31)]);
        assert_eq!(dates("FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYSETPOS=-1", 2024), [date(2024, 3, 31)]);
        assert_eq!(dates("FREQ=YEARLY;BYDAY=1MO", 2024), [date(2024, 1, 1)]);
        assert_eq!(dates("FREQ=YEARLY;BYDAY=-1FR", 2024), [date(2024, 12, 27)]);
        assert_eq!(dates("FREQ=YEARLY;BYMONTH=2", 2025), [date(2025, 2, 1)]);
        assert_eq!(dates("FREQ=YEARLY", 2025), [date(2025, 1, 1)]);
        assert_eq!(dates("FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYDAY=-1SU", 1971), Vec::<NaiveDate>::new());
        assert!(YearlyRule::parse("FREQ=MONTHLY;BYDAY=1SU").is_none());
        assert!(YearlyRule::parse("FREQ=YEARLY;BYMONTH=13").is_none());
        assert!(YearlyRule::parse("FREQ=YEARLY;BYDAY=9XX").is_none());
    }

    #[test]
    fn wall_table_agrees_with_the_general_search() {
        let z = zone(CET);
        let mut l = secs(at(2020, 1, 1, 0, 0));
        let end = secs(at(2031, 1, 1, 0, 0));
        while l < end {
            assert_eq!(z.table_offset_for_wall(l), z.offset_for_wall_on_demand(l), "wall {l}");
            l += 900;
        }
    }

    #[test]
    fn rules_run_on_after_the_table() {
        let z = zone(CET);
        assert_eq!(z.utc_offset(at(2350, 7, 1, 12, 0)), 7200);
        assert_eq!(z.utc_offset(at(2350, 1, 1, 12, 0)), 3600);
        // 2350-03-26 is the last Sunday of March: 02:30 does not exist and moves forward.
        assert_eq!(z.to_utc(at(2350, 3, 26, 2, 30)), at(2350, 3, 26, 1, 30));
        assert_eq!(z.to_utc(at(2350, 3, 26, 3, 30)), at(2350, 3, 26, 1, 30));
        assert_eq!(z.from_utc(at(2350, 3, 26, 0, 59)), at(2350, 3, 26, 1, 59));
        assert_eq!(z.from_utc(at(2350, 3, 26, 1, 0)), at(2350, 3, 26, 3, 0));
        // 2350-10-29 is the last Sunday of October: 02:30 happens twice, the first is taken.
        assert_eq!(z.to_utc(at(2350, 10, 29, 2, 30)), at(2350, 10, 29, 0, 30));
        assert_eq!(z.to_utc(at(2350, 10, 29, 3, 0)), at(2350, 10, 29, 2, 0));
        assert_eq!(z.from_utc(at(2350, 10, 29, 1, 30)), at(2350, 10, 29, 2, 30));
    }

    #[test]
    fn until_and_count_end_a_rule() {
        let z = zone(
            "BEGIN:DAYLIGHT\r\nDTSTART:20000326T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
             RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;UNTIL=20030330T010000Z\r\nEND:DAYLIGHT\r\n\
             BEGIN:STANDARD\r\nDTSTART:20001029T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n\
             RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;COUNT=3\r\nEND:STANDARD\r\n",
        );
        assert_eq!(z.utc_offset(at(2003, 7, 1, 0, 0)), 7200);
        assert_eq!(z.utc_offset(at(2003, 12, 1, 0, 0)), 7200, "COUNT=3 ended in 2002");
        assert_eq!(z.utc_offset(at(2004, 7, 1, 0, 0)), 7200);
        assert!(z.ongoing.is_empty());
    }

    #[test]
    fn outlook_dtstart_is_not_an_onset() {
        let z = zone(
            "BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n\
             RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n\
             DTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
             RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n",
        );
        assert_eq!(z.utc_offset(at(2024, 1, 15, 0, 0)), 3600);
        assert_eq!(z.utc_offset(at(2024, 6, 15, 0, 0)), 7200);
        assert_eq!(z.transitions.first().map(|t| t.utc), Some(secs(at(1892, 3, 27, 1, 0))));
    }

    #[test]
    fn debug_is_a_summary() {
        let shown = format!("{:?}", zone(CET));
        assert!(shown.starts_with("CustomZone { initial: 3600, transitions: "), "{shown}");
        assert!(shown.len() < 120, "{shown}");
    }

    #[test]
    fn unusable_definitions() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Empty\r\nBEGIN:STANDARD\r\nDTSTART:20000101T000000\r\n\
                    TZOFFSETTO:bad\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n";
        let cal = parse_calendar(text, &ParseOptions::default()).unwrap();
        assert!(CustomZone::from_vtimezone(cal.children("VTIMEZONE").next().unwrap()).is_none());
    }
}
