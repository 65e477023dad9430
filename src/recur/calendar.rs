//! Gregorian calendar arithmetic for the rule engine: month lengths, weekday
//! indexes and week numbers with a chosen week start (RFC 5545 3.3.10,
//! `BYWEEKNO` and `WKST`).

use chrono::{Datelike, NaiveDate, Weekday};

/// Whether `year` is a leap year.
pub(super) fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1..=12) of `year`.
pub(super) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days in `year`.
pub(super) fn days_in_year(year: i32) -> u32 {
    if is_leap(year) { 366 } else { 365 }
}

/// Monday = 0 ... Sunday = 6.
pub(super) fn weekday_index(w: Weekday) -> u32 {
    w.num_days_from_monday()
}

/// The first day of week 1 of `year` when weeks start on `wkst` (0 = Monday):
/// week 1 is the first week with at least four days in the year.
fn week_one_start(year: i32, wkst: u32) -> Option<NaiveDate> {
    let jan1 = NaiveDate::from_ymd_opt(year, 1, 1)?;
    let offset = (weekday_index(jan1.weekday()) + 7 - wkst) % 7;
    if offset <= 3 {
        jan1.checked_sub_days(chrono::Days::new(u64::from(offset)))
    } else {
        jan1.checked_add_days(chrono::Days::new(u64::from(7 - offset)))
    }
}

/// The week number of `date` (1..=53) and the number of weeks of the year
/// it belongs to, weeks starting on `wkst` (0 = Monday). Days of late
/// December can belong to week 1 of the next year and days of early January
/// to the last week of the previous one.
pub(super) fn week_number(date: NaiveDate, wkst: u32) -> Option<(u32, u32)> {
    let year = date.year();
    let this = week_one_start(year, wkst)?;
    let next = week_one_start(year + 1, wkst)?;
    let (start, end) = if date < this {
        (week_one_start(year - 1, wkst)?, this)
    } else if date >= next {
        (next, week_one_start(year + 2, wkst)?)
    } else {
        (this, next)
    };
    let week = (date - start).num_days() / 7 + 1;
    let weeks = (end - start).num_days() / 7;
    Some((u32::try_from(week).ok()?, u32::try_from(weeks).ok()?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn week_numbers_follow_iso_with_monday_start() {
        for (date, week) in [(d(2026, 1, 1), 1), (d(2027, 1, 1), 53), (d(2024, 12, 30), 1), (d(2026, 12, 31), 53)] {
            assert_eq!(week_number(date, 0).unwrap().0, week, "{date}");
            assert_eq!(week_number(date, 0).unwrap().0, date.iso_week().week(), "{date}");
        }
        assert_eq!(week_number(d(2026, 6, 1), 0).unwrap().1, 53);
        assert_eq!(week_number(d(2025, 6, 1), 0).unwrap().1, 52);
    }

    #[test]
    fn week_numbers_agree_with_iso_for_every_day() {
        let mut day = d(1999, 1, 1);
        while day < d(2031, 1, 1) {
            assert_eq!(week_number(day, 0).unwrap().0, day.iso_week().week(), "{day}");
            day = day.succ_opt().unwrap();
        }
    }
}
