//! A rule compiled for iteration: the day-level `BY` parts as bit masks, with
//! the defaults RFC 5545 3.3.10 takes from `DTSTART` ("information, not
//! contained in the rule, necessary to determine the various recurrence
//! instance start time and dates are derived from the Start Time").
//!
//! Every `BY` part is a test on a day; a period's days are those of the
//! period that pass every test. That is the table of RFC 5545 3.3.10 read
//! once: a part that "expands" contributes the days it names and a part that
//! "limits" removes days, and both are the same intersection once the
//! defaults are filled in (`FREQ=YEARLY` alone takes the month and the day of
//! `DTSTART`, `FREQ=MONTHLY` its day of the month, `FREQ=WEEKLY` its weekday).
//! A `BYDAY` ordinal counts within the month for `MONTHLY` and for `YEARLY`
//! with `BYMONTH`, within the year for `YEARLY` otherwise, and is ignored for
//! the other frequencies (RFC 5545 forbids it there).

use super::calendar::{days_in_month, days_in_year, week_number, weekday_index};
use super::{Frequency, RRule, Skip};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// Days 1, 8, 15, 22 and 29 of a month, as bits 0, 7, 14, 21, 28.
const EVERY_SEVENTH: u64 = 1 | 1 << 7 | 1 << 14 | 1 << 21 | 1 << 28;

/// The day-level tests of a rule.
#[derive(Debug, Clone)]
pub(super) struct DayFilter {
    /// Bit `m` for each month 1..=12 allowed.
    months: u16,
    /// Whether any day test beyond the month applies.
    has_monthday: bool,
    /// Bit `d` for `BYMONTHDAY=d`.
    monthday_pos: u32,
    /// Bit `n` for `BYMONTHDAY=-n`.
    monthday_neg: u32,
    /// The monthday bits as day bits (bit `d-1`) for months of 28..=31 days.
    monthday_by_length: [u32; 4],
    has_weekday: bool,
    /// Bit `w` (Monday = 0) for each weekday without an ordinal.
    weekday_plain: u8,
    /// (ordinal, weekday index) pairs.
    weekday_nth: Vec<(i8, u32)>,
    /// Ordinals count within the year rather than the month.
    nth_in_year: bool,
    has_yearday: bool,
    yearday_pos: [u64; 6],
    yearday_neg: [u64; 6],
    has_weekno: bool,
    weekno_pos: u64,
    weekno_neg: u64,
    week_start: u32,
    /// `SKIP` applies: only when the month days are the only day test.
    skip: Skip,
}

fn bit64(set: &[u64; 6], n: u32) -> bool {
    let word = (n / 64) as usize;
    set.get(word).is_some_and(|w| w >> (n % 64) & 1 == 1)
}

fn set64(set: &mut [u64; 6], n: u32) {
    if let Some(w) = set.get_mut((n / 64) as usize) {
        *w |= 1 << (n % 64);
    }
}

impl DayFilter {
    /// Compiles the day tests of `rule` for a series starting at `start`.
    pub(super) fn new(rule: &RRule, start: NaiveDateTime) -> DayFilter {
        let date = start.date();
        let mut months: u16 = 0;
        for &m in &rule.by_month {
            months |= 1 << m;
        }
        let mut monthdays: Vec<i8> = rule.by_month_day.clone();
        let mut weekday_plain: u8 = 0;
        let mut weekday_nth = Vec::new();
        let ordinals_apply = matches!(rule.freq, Frequency::Monthly | Frequency::Yearly);
        for wd in &rule.by_day {
            let w = weekday_index(wd.weekday);
            match wd.ordinal {
                Some(n) if ordinals_apply => weekday_nth.push((n, w)),
                _ => weekday_plain |= 1 << w,
            }
        }
        let no_day_part = rule.by_week_no.is_empty()
            && rule.by_year_day.is_empty()
            && rule.by_month_day.is_empty()
            && rule.by_day.is_empty();
        match rule.freq {
            Frequency::Yearly if no_day_part => {
                if months == 0 {
                    months = 1 << date.month();
                }
                monthdays.push(date.day() as i8);
            }
            Frequency::Yearly
                if rule.by_day.is_empty()
                    && !rule.by_week_no.is_empty()
                    && rule.by_month_day.is_empty()
                    && rule.by_year_day.is_empty() =>
            {
                // Week numbers name weeks; the day of the week is DTSTART's.
                weekday_plain |= 1 << weekday_index(date.weekday());
            }
            Frequency::Monthly if no_day_part => monthdays.push(date.day() as i8),
            Frequency::Weekly if no_day_part => weekday_plain |= 1 << weekday_index(date.weekday()),
            _ => {}
        }
        if months == 0 {
            months = 0b1_1111_1111_1110;
        }
        let mut monthday_pos = 0u32;
        let mut monthday_neg = 0u32;
        for &d in &monthdays {
            if d > 0 {
                monthday_pos |= 1 << d;
            } else if d < 0 {
                monthday_neg |= 1 << d.unsigned_abs();
            }
        }
        let mut monthday_by_length = [0u32; 4];
        for (i, slot) in monthday_by_length.iter_mut().enumerate() {
            let dim = 28 + i as u32;
            let mut bits = (monthday_pos >> 1) & ((1u32 << dim) - 1);
            for n in 1..=dim {
                if monthday_neg >> n & 1 == 1 {
                    bits |= 1 << (dim - n);
                }
            }
            *slot = bits;
        }
        let mut yearday_pos = [0u64; 6];
        let mut yearday_neg = [0u64; 6];
        for &d in &rule.by_year_day {
            if d > 0 {
                set64(&mut yearday_pos, d.unsigned_abs().into());
            } else {
                set64(&mut yearday_neg, d.unsigned_abs().into());
            }
        }
        let mut weekno_pos = 0u64;
        let mut weekno_neg = 0u64;
        for &w in &rule.by_week_no {
            if w > 0 {
                weekno_pos |= 1 << w;
            } else {
                weekno_neg |= 1 << w.unsigned_abs();
            }
        }
        let has_weekday = weekday_plain != 0 || !weekday_nth.is_empty();
        let skip = if has_weekday || !rule.by_year_day.is_empty() || !rule.by_week_no.is_empty() {
            Skip::Omit
        } else {
            rule.skip
        };
        DayFilter {
            months,
            has_monthday: !monthdays.is_empty(),
            monthday_pos,
            monthday_neg,
            monthday_by_length,
            has_weekday,
            weekday_plain,
            weekday_nth,
            nth_in_year: rule.freq == Frequency::Yearly && rule.by_month.is_empty(),
            has_yearday: !rule.by_year_day.is_empty(),
            yearday_pos,
            yearday_neg,
            has_weekno: !rule.by_week_no.is_empty(),
            weekno_pos,
            weekno_neg,
            week_start: weekday_index(rule.week_start),
            skip,
        }
    }

    /// Whether `month` (1..=12) can hold a matching day.
    pub(super) fn month_allowed(&self, month: u32) -> bool {
        self.months >> month & 1 == 1
    }

    /// Whether the only test besides the month is the weekday without ordinals.
    pub(super) fn weekday_only(&self) -> bool {
        !self.has_monthday && !self.has_yearday && !self.has_weekno && self.weekday_nth.is_empty()
    }

    /// Whether the weekday (Monday = 0) passes the plain `BYDAY` test; true
    /// when there is no such test.
    pub(super) fn weekday_allowed(&self, w: u32) -> bool {
        !self.has_weekday || self.weekday_plain >> w & 1 == 1
    }

    /// Whether `date` passes every day test.
    pub(super) fn matches(&self, date: NaiveDate) -> bool {
        let (year, month, day) = (date.year(), date.month(), date.day());
        if !self.month_allowed(month) {
            return false;
        }
        let dim = days_in_month(year, month);
        if self.has_monthday
            && self.monthday_pos >> day & 1 == 0
            && self.monthday_neg >> (dim + 1 - day).min(31) & 1 == 0
        {
            return false;
        }
        let yday = date.ordinal();
        let ylen = days_in_year(year);
        if self.has_yearday && !bit64(&self.yearday_pos, yday) && !bit64(&self.yearday_neg, ylen + 1 - yday) {
            return false;
        }
        if self.has_weekday {
            let w = weekday_index(date.weekday());
            if self.weekday_plain >> w & 1 == 0 {
                let (fwd, back) = if self.nth_in_year {
                    ((yday - 1) / 7 + 1, (ylen - yday) / 7 + 1)
                } else {
                    ((day - 1) / 7 + 1, (dim - day) / 7 + 1)
                };
                let hit = self.weekday_nth.iter().any(|&(n, nw)| {
                    nw == w && ((n > 0 && n.unsigned_abs() as u32 == fwd) || (n < 0 && n.unsigned_abs() as u32 == back))
                });
                if !hit {
                    return false;
                }
            }
        }
        if self.has_weekno {
            let Some((week, weeks)) = week_number(date, self.week_start) else { return false };
            let neg = weeks + 1 - week;
            if self.weekno_pos >> week & 1 == 0 && self.weekno_neg >> neg.min(63) & 1 == 0 {
                return false;
            }
        }
        true
    }

    /// The matching days of a month as bits (bit `d-1` for day `d`), and
    /// whether `SKIP=FORWARD` moves a day that does not exist to the first
    /// of the next month.
    pub(super) fn month_days(&self, year: i32, month: u32) -> (u32, bool) {
        if !self.month_allowed(month) {
            return (0, false);
        }
        let dim = days_in_month(year, month);
        let valid = (1u32 << dim) - 1;
        if self.has_yearday || self.has_weekno || (self.nth_in_year && !self.weekday_nth.is_empty()) {
            let mut mask = 0u32;
            for day in 1..=dim {
                if NaiveDate::from_ymd_opt(year, month, day).is_some_and(|d| self.matches(d)) {
                    mask |= 1 << (day - 1);
                }
            }
            return (mask, false);
        }
        let mut mask = valid;
        let mut forward = false;
        if self.has_monthday {
            let idx = (dim - 28) as usize;
            let mut days = self.monthday_by_length.get(idx).copied().unwrap_or(0);
            let missing = self.monthday_pos.checked_shr(dim + 1).unwrap_or(0) != 0;
            if missing {
                match self.skip {
                    Skip::Omit => {}
                    Skip::Backward => days |= 1 << (dim - 1),
                    Skip::Forward => forward = true,
                }
            }
            mask &= days;
        }
        if self.has_weekday {
            let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else { return (0, false) };
            let wd1 = weekday_index(first.weekday());
            let mut days = 0u64;
            for w in 0..7 {
                if self.weekday_plain >> w & 1 == 1 {
                    days |= EVERY_SEVENTH << ((w + 7 - wd1) % 7);
                }
            }
            for &(n, w) in &self.weekday_nth {
                let first_idx = (w + 7 - wd1) % 7;
                let k = u32::from(n.unsigned_abs()) - 1;
                let idx = if n > 0 {
                    first_idx + 7 * k
                } else {
                    let last = first_idx + 7 * ((dim - 1 - first_idx) / 7);
                    match last.checked_sub(7 * k) {
                        Some(i) => i,
                        None => continue,
                    }
                };
                if idx < dim {
                    days |= 1 << idx;
                }
            }
            mask &= days as u32;
        }
        (mask & valid, forward)
    }
}

/// The hours, minutes and seconds of a rule as sorted lists, with the
/// defaults from `DTSTART` for the frequencies where the part expands.
#[derive(Debug, Clone)]
pub(super) struct TimeSets {
    pub(super) hours: Vec<u8>,
    pub(super) minutes: Vec<u8>,
    pub(super) seconds: Vec<u8>,
    /// Bit masks of the parts that limit (empty part: every value).
    pub(super) hour_mask: u32,
    pub(super) minute_mask: u64,
    pub(super) second_mask: u64,
}

impl TimeSets {
    pub(super) fn new(rule: &RRule, start: NaiveDateTime) -> TimeSets {
        let pick = |part: &[u8], default: u32| -> Vec<u8> {
            if part.is_empty() { vec![default as u8] } else { part.to_vec() }
        };
        let mask = |part: &[u8], all: u64| -> u64 {
            if part.is_empty() { all } else { part.iter().fold(0u64, |m, &v| m | 1 << v) }
        };
        TimeSets {
            hours: pick(&rule.by_hour, start.hour()),
            minutes: pick(&rule.by_minute, start.minute()),
            seconds: pick(&rule.by_second, start.second()),
            hour_mask: mask(&rule.by_hour, (1 << 24) - 1) as u32,
            minute_mask: mask(&rule.by_minute, (1 << 60) - 1),
            second_mask: mask(&rule.by_second, (1 << 61) - 1),
        }
    }
}
