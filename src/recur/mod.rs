//! Recurrence rules (RFC 5545 3.3.10, 3.8.5).
//!
//! [`RRule`] is a typed recurrence rule read from the text of an `RRULE`
//! ([`RRule::parse`], [`parse`]) and written back with `Display`.
//! [`RRule::instances`] walks its instances as wall times in the zone of the
//! event's `DTSTART`; the caller converts each wall time to UTC with the zone
//! ([`crate::tz`]), which keeps the rule in step with DST changes as RFC 5545
//! 3.3.10 wants ("the recurrence is in local time").
//!
//! Architecture Invariant: iteration is always bounded. It ends at the rule's
//! `COUNT` or `UNTIL`, at the year 9999 (the last year iCalendar can write),
//! at an optional wall time given by the caller, after a maximum number of
//! instances, and after a maximum number of candidate periods examined, so a
//! rule that never matches (`FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30`) or one
//! that matches every second ends quickly, and [`Instances::limit_hit`] says
//! when a limit cut the set. The iterator allocates only when it is built.

mod calendar;
mod filter;
mod iterate;
mod parse;
#[cfg(test)]
mod tests;

pub use iterate::{Instances, Stop};
pub use parse::{parse, parse_lenient};

use crate::ical::value::DateTimeValue;
use chrono::Weekday;

/// The `FREQ` of a rule (RFC 5545 3.3.10). The RFC defines exactly these
/// seven values and no extension, so the enum is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Frequency {
    /// `SECONDLY`.
    Secondly,
    /// `MINUTELY`.
    Minutely,
    /// `HOURLY`.
    Hourly,
    /// `DAILY`.
    Daily,
    /// `WEEKLY`.
    Weekly,
    /// `MONTHLY`.
    Monthly,
    /// `YEARLY`.
    Yearly,
}

impl Frequency {
    /// The name as written in a rule (`WEEKLY`).
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Secondly => "SECONDLY",
            Frequency::Minutely => "MINUTELY",
            Frequency::Hourly => "HOURLY",
            Frequency::Daily => "DAILY",
            Frequency::Weekly => "WEEKLY",
            Frequency::Monthly => "MONTHLY",
            Frequency::Yearly => "YEARLY",
        }
    }
}

/// One `BYDAY` value (`MO`, `+2TU`, `-1SU`): a weekday with an optional
/// ordinal (RFC 5545 3.3.10, `weekdaynum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeekdayNum {
    /// The n-th (positive) or n-th last (negative) of the month or year;
    /// `None` for every such weekday. Never 0; within -53..=53.
    pub ordinal: Option<i8>,
    /// The weekday.
    pub weekday: Weekday,
}

/// What becomes of a date a rule names that does not exist (February 30):
/// the `SKIP` part of RFC 7529 section 3.1, honoured with `RSCALE=GREGORIAN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Skip {
    /// Leave the date out (RFC 5545 3.3.10; the default).
    #[default]
    Omit,
    /// Use the last day of the month instead.
    Backward,
    /// Use the first day of the next month instead.
    Forward,
}

/// A recurrence rule (RFC 5545 3.3.10): every part typed, lists sorted and
/// without duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RRule {
    /// `FREQ`.
    pub freq: Frequency,
    /// `INTERVAL`, at least 1.
    pub interval: u32,
    /// `COUNT`: the number of instances, `DTSTART` included.
    pub count: Option<u32>,
    /// `UNTIL`, inclusive: a date, a floating date-time or a UTC date-time
    /// (never [`DateTimeValue::Zoned`]).
    pub until: Option<DateTimeValue>,
    /// `BYSECOND`, 0..=60.
    pub by_second: Vec<u8>,
    /// `BYMINUTE`, 0..=59.
    pub by_minute: Vec<u8>,
    /// `BYHOUR`, 0..=23.
    pub by_hour: Vec<u8>,
    /// `BYDAY`, in the order written (duplicates removed).
    pub by_day: Vec<WeekdayNum>,
    /// `BYMONTHDAY`, -31..=31 without 0.
    pub by_month_day: Vec<i8>,
    /// `BYYEARDAY`, -366..=366 without 0.
    pub by_year_day: Vec<i16>,
    /// `BYWEEKNO`, -53..=53 without 0.
    pub by_week_no: Vec<i8>,
    /// `BYMONTH`, 1..=12.
    pub by_month: Vec<u8>,
    /// `BYSETPOS`, -366..=366 without 0.
    pub by_set_pos: Vec<i16>,
    /// `WKST`, Monday unless given.
    pub week_start: Weekday,
    /// `RSCALE=GREGORIAN` was written (RFC 7529); no other scale is supported.
    pub rscale: bool,
    /// `SKIP` (RFC 7529), [`Skip::Omit`] unless given.
    pub skip: Skip,
}

impl RRule {
    /// A rule of frequency `freq` with every other part at its default.
    pub fn new(freq: Frequency) -> RRule {
        RRule {
            freq,
            interval: 1,
            count: None,
            until: None,
            by_second: Vec::new(),
            by_minute: Vec::new(),
            by_hour: Vec::new(),
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            by_year_day: Vec::new(),
            by_week_no: Vec::new(),
            by_month: Vec::new(),
            by_set_pos: Vec::new(),
            week_start: Weekday::Mon,
            rscale: false,
            skip: Skip::Omit,
        }
    }

    /// Reads the value of an `RRULE` (`FREQ=WEEKLY;BYDAY=MO,WE`); see [`parse`].
    pub fn parse(text: &str) -> crate::Result<RRule> {
        parse::parse(text)
    }
}

/// Limits of one iteration. Both are caps, not part of the rule: when one
/// cuts the set, [`Instances::limit_hit`] is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most instances yielded (`DTSTART` included).
    pub max_instances: usize,
    /// Most candidate periods examined (a year for `YEARLY`, a second for
    /// `SECONDLY`; a run of periods skipped at once counts as one).
    pub max_periods: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_instances: 100_000, max_periods: 500_000 }
    }
}
