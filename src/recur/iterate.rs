//! Walking the instances of a rule (RFC 5545 3.3.10 and 3.8.5.3).
//!
//! The walk goes period by period (a year for `YEARLY`, a week starting on
//! `WKST` for `WEEKLY`, a second for `SECONDLY`), `INTERVAL` periods at a
//! time from the period of `DTSTART`. A period's candidates are its matching
//! days crossed with the hours, minutes and seconds of the rule, in order;
//! `BYSETPOS` picks among them per period. Candidates are never stored: a
//! candidate is computed from its index, so a period with thousands of
//! candidates costs only the ones used. At sub-daily frequencies a period
//! whose month, day, hour or minute cannot match jumps straight to the first
//! period that can.
//!
//! `DTSTART` is always the first instance, also when it does not match the
//! rule (RFC 5545 3.8.5.3). When it matches, it is the first of `COUNT`
//! (3.3.10: "The DTSTART property value always counts as the first
//! occurrence"); when it does not, the set is undefined by the RFC and
//! `COUNT` bounds the instances the rule generates, `DTSTART` coming on top,
//! as both reference implementations of the corpus read it. Rule candidates
//! before `DTSTART` are dropped, and so are dates that do not exist
//! (February 30, `BYSECOND=60`) unless `SKIP` says otherwise.

use super::filter::{DayFilter, TimeSets};
use super::{Frequency, Limits, RRule};
use crate::ical::value::DateTimeValue;
use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

/// Why an iteration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stop {
    /// The rule's `COUNT` is reached.
    Count,
    /// The next candidate is after the rule's `UNTIL`.
    Until,
    /// The next candidate is after the wall time given to [`Instances::stop_after`].
    After,
    /// The walk passed the year 9999, the last year iCalendar can write.
    End,
    /// The maximum number of instances was yielded and there are more (a limit).
    InstanceLimit,
    /// The maximum number of candidate periods was examined (a limit).
    PeriodLimit,
}

/// How `UNTIL` is compared (RFC 5545 3.3.10): a UTC `UNTIL` with a zoned
/// `DTSTART` compares instants; a date or floating `UNTIL` compares wall times,
/// a date including its whole day.
#[derive(Debug, Clone, Copy)]
enum UntilBound {
    None,
    Date(NaiveDate),
    Local(NaiveDateTime),
    Instant(NaiveDateTime),
}

/// The first period of each kind, or the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Year(i32),
    Month(i32, u32),
    Week(NaiveDate),
    Day(NaiveDate),
    Time(NaiveDateTime),
}

impl Cursor {
    fn start(self) -> Option<NaiveDateTime> {
        let date = match self {
            Cursor::Year(y) => NaiveDate::from_ymd_opt(y, 1, 1)?,
            Cursor::Month(y, m) => NaiveDate::from_ymd_opt(y, m, 1)?,
            Cursor::Week(d) | Cursor::Day(d) => d,
            Cursor::Time(t) => return Some(t),
        };
        Some(date.and_time(NaiveTime::MIN))
    }
}

/// What filling a period did.
enum Fill {
    /// The period's candidates are ready (possibly none).
    Ready,
    /// The period cannot match; the cursor moved to the first one that can.
    Jumped,
    /// The walk left the calendar (year 9999).
    End,
}

/// The instances of a rule as wall times, in order, `DTSTART` first.
///
/// Built by [`RRule::instances`]. `Z` converts a wall time of the series'
/// zone to UTC; it is called only to compare with a UTC `UNTIL`.
#[derive(Debug)]
pub struct Instances<'r, Z> {
    rule: &'r RRule,
    filter: DayFilter,
    times: TimeSets,
    start: NaiveDateTime,
    to_utc: Z,
    until: UntilBound,
    stop_after: Option<NaiveDateTime>,
    limits: Limits,
    origin: Cursor,
    cursor: Cursor,
    /// The current period has been filled (so the next step advances).
    filled: bool,
    days: Vec<NaiveDate>,
    fixed_hour: Option<u8>,
    fixed_minute: Option<u8>,
    fixed_second: Option<u8>,
    positions: Vec<u64>,
    use_positions: bool,
    next: u64,
    total: u64,
    floor: NaiveDateTime,
    /// A rule instance found while placing `DTSTART`, not yet yielded.
    pending: Option<NaiveDateTime>,
    emitted: usize,
    /// Rule instances yielded, for `COUNT`.
    counted: usize,
    periods: u64,
    start_pending: bool,
    stop: Option<Stop>,
}

impl RRule {
    /// The instances of this rule for a series starting at the wall time
    /// `start` (midnight for an all-day series), with the default [`Limits`].
    /// `to_utc` converts a wall time of the series' zone to UTC (use
    /// `|t| t` for UTC, floating and all-day series).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use invitelink::recur::RRule;
    /// let rule = RRule::parse("FREQ=MONTHLY;BYDAY=-1FR;COUNT=3").unwrap();
    /// let start = NaiveDate::from_ymd_opt(2026, 1, 30).unwrap().and_hms_opt(9, 0, 0).unwrap();
    /// let days: Vec<String> = rule.instances(start, |t| t).map(|t| t.date().to_string()).collect();
    /// assert_eq!(days, ["2026-01-30", "2026-02-27", "2026-03-27"]);
    /// ```
    pub fn instances<Z: Fn(NaiveDateTime) -> NaiveDateTime>(
        &self,
        start: NaiveDateTime,
        to_utc: Z,
    ) -> Instances<'_, Z> {
        let filter = DayFilter::new(self, start);
        let times = TimeSets::new(self, start);
        let until = match &self.until {
            None => UntilBound::None,
            Some(DateTimeValue::Date(d)) => UntilBound::Date(*d),
            Some(DateTimeValue::Floating(t) | DateTimeValue::Zoned(t, _)) => UntilBound::Local(*t),
            Some(DateTimeValue::Utc(t)) => UntilBound::Instant(*t),
        };
        let date = start.date();
        let origin = match self.freq {
            Frequency::Yearly => Cursor::Year(date.year()),
            Frequency::Monthly => Cursor::Month(date.year(), date.month()),
            Frequency::Weekly => {
                let back = (date.weekday().num_days_from_monday() + 7 - self.week_start.num_days_from_monday()) % 7;
                Cursor::Week(date.checked_sub_days(Days::new(u64::from(back))).unwrap_or(date))
            }
            Frequency::Daily => Cursor::Day(date),
            Frequency::Hourly => Cursor::Time(start.with_minute(0).and_then(|t| t.with_second(0)).unwrap_or(start)),
            Frequency::Minutely => Cursor::Time(start.with_second(0).unwrap_or(start)),
            Frequency::Secondly => Cursor::Time(start),
        };
        Instances {
            rule: self,
            filter,
            times,
            start,
            to_utc,
            until,
            stop_after: None,
            limits: Limits::default(),
            origin,
            cursor: origin,
            filled: false,
            days: Vec::with_capacity(8),
            fixed_hour: None,
            fixed_minute: None,
            fixed_second: None,
            positions: Vec::new(),
            use_positions: !self.by_set_pos.is_empty(),
            next: 0,
            total: 0,
            floor: start - TimeDelta::seconds(1),
            pending: None,
            emitted: 0,
            counted: 0,
            periods: 0,
            start_pending: true,
            stop: None,
        }
    }
}

impl<Z: Fn(NaiveDateTime) -> NaiveDateTime> Instances<'_, Z> {
    /// Sets the limits of the walk.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Ends the walk (with [`Stop::After`], not a limit) at the first instance
    /// after the wall time `last`.
    pub fn stop_after(mut self, last: NaiveDateTime) -> Self {
        self.stop_after = Some(last);
        self
    }

    /// Moves the walk forward to the wall time `at`, so that instances long
    /// before a window are not walked one by one: the next instance is the
    /// first at or after `at`. Does nothing for a rule with `COUNT` (whose
    /// instances must be counted from `DTSTART`) or when `at` is not ahead of
    /// the walk's period.
    pub fn skip_to(&mut self, at: NaiveDateTime) {
        if self.rule.count.is_some() || self.stop.is_some() || at <= self.start {
            return;
        }
        let interval = i64::from(self.rule.interval.max(1));
        let target = match self.origin {
            Cursor::Year(y0) => {
                let k = (i64::from(at.year()) - i64::from(y0)).div_euclid(interval);
                i32::try_from(i64::from(y0) + k * interval).ok().map(Cursor::Year)
            }
            Cursor::Month(y0, m0) => {
                let base = i64::from(y0) * 12 + i64::from(m0) - 1;
                let now = i64::from(at.year()) * 12 + i64::from(at.month()) - 1;
                let idx = base + (now - base).div_euclid(interval) * interval;
                let y = i32::try_from(idx.div_euclid(12)).ok();
                let m = u32::try_from(idx.rem_euclid(12) + 1).ok();
                y.zip(m).map(|(y, m)| Cursor::Month(y, m))
            }
            Cursor::Week(w0) => {
                let k = (at.date() - w0).num_days().div_euclid(7 * interval);
                w0.checked_add_signed(TimeDelta::days(k * 7 * interval)).map(Cursor::Week)
            }
            Cursor::Day(d0) => {
                let k = (at.date() - d0).num_days().div_euclid(interval);
                d0.checked_add_signed(TimeDelta::days(k * interval)).map(Cursor::Day)
            }
            Cursor::Time(t0) => {
                let step = interval * self.unit_seconds();
                let k = (at - t0).num_seconds().div_euclid(step);
                TimeDelta::try_seconds(k * step).and_then(|d| t0.checked_add_signed(d)).map(Cursor::Time)
            }
        };
        let Some(target) = target else { return };
        let ahead = match (target.start(), self.cursor.start()) {
            (Some(t), Some(c)) => t > c,
            _ => false,
        };
        if ahead {
            self.cursor = target;
            self.filled = false;
            self.next = 0;
            self.total = 0;
            self.start_pending = false;
            self.pending = None;
            self.floor = self.floor.max(at - TimeDelta::seconds(1));
        }
    }

    /// Why the walk ended, once it has.
    pub fn stopped(&self) -> Option<Stop> {
        self.stop
    }

    /// Whether a limit cut the set (more instances would follow).
    pub fn limit_hit(&self) -> bool {
        matches!(self.stop, Some(Stop::InstanceLimit | Stop::PeriodLimit))
    }

    /// Candidate periods examined so far.
    pub fn periods_examined(&self) -> u64 {
        self.periods
    }

    fn unit_seconds(&self) -> i64 {
        match self.rule.freq {
            Frequency::Hourly => 3600,
            Frequency::Minutely => 60,
            _ => 1,
        }
    }

    fn within_until(&self, t: NaiveDateTime) -> bool {
        match self.until {
            UntilBound::None => true,
            UntilBound::Date(d) => t.date() <= d,
            UntilBound::Local(u) => t <= u,
            UntilBound::Instant(u) => {
                let slack = TimeDelta::days(2);
                if t + slack <= u {
                    true
                } else if t - slack > u {
                    false
                } else {
                    (self.to_utc)(t) <= u
                }
            }
        }
    }

    fn end(&mut self, why: Stop) -> Option<NaiveDateTime> {
        self.stop = Some(why);
        None
    }

    /// Moves to the next period, `INTERVAL` periods on.
    fn advance(&mut self) -> bool {
        let n = self.rule.interval.max(1);
        let next = match self.cursor {
            Cursor::Year(y) => i32::try_from(n).ok().and_then(|n| y.checked_add(n)).map(Cursor::Year),
            Cursor::Month(y, m) => NaiveDate::from_ymd_opt(y, m, 1)
                .and_then(|d| d.checked_add_months(Months::new(n)))
                .map(|d| Cursor::Month(d.year(), d.month())),
            Cursor::Week(d) => d.checked_add_days(Days::new(7 * u64::from(n))).map(Cursor::Week),
            Cursor::Day(d) => d.checked_add_days(Days::new(u64::from(n))).map(Cursor::Day),
            Cursor::Time(t) => TimeDelta::try_seconds(i64::from(n) * self.unit_seconds())
                .and_then(|d| t.checked_add_signed(d))
                .map(Cursor::Time),
        };
        match next {
            Some(c) => {
                self.cursor = c;
                true
            }
            None => false,
        }
    }

    /// Moves a sub-daily walk to the first period at or after `target`.
    fn jump_to(&mut self, target: NaiveDateTime) -> Fill {
        let Cursor::Time(t) = self.cursor else { return Fill::End };
        let step = i64::from(self.rule.interval.max(1)) * self.unit_seconds();
        let delta = (target - t).num_seconds().max(1);
        let k = (delta + step - 1) / step;
        match TimeDelta::try_seconds(k.saturating_mul(step)).and_then(|d| t.checked_add_signed(d)) {
            Some(n) => {
                self.cursor = Cursor::Time(n);
                Fill::Jumped
            }
            None => Fill::End,
        }
    }

    fn push_month(&mut self, year: i32, month: u32) -> bool {
        let (mut mask, forward) = self.filter.month_days(year, month);
        let mut day = 1;
        while mask != 0 {
            let skip = mask.trailing_zeros();
            day += skip;
            if let Some(d) = NaiveDate::from_ymd_opt(year, month, day) {
                self.days.push(d);
            }
            mask >>= skip;
            mask >>= 1;
            day += 1;
        }
        if forward {
            let first_next = NaiveDate::from_ymd_opt(year, month, 1).and_then(|d| d.checked_add_months(Months::new(1)));
            if let Some(d) = first_next {
                self.days.push(d);
            }
        }
        forward
    }

    /// Computes the candidates of the current period.
    fn fill(&mut self) -> Fill {
        self.days.clear();
        self.fixed_hour = None;
        self.fixed_minute = None;
        self.fixed_second = None;
        match self.cursor {
            Cursor::Year(y) => {
                if y > 9999 {
                    return Fill::End;
                }
                let mut forward = false;
                for m in 1..=12 {
                    forward |= self.push_month(y, m);
                }
                if forward {
                    self.days.sort_unstable();
                    self.days.dedup();
                }
            }
            Cursor::Month(y, m) => {
                if y > 9999 {
                    return Fill::End;
                }
                self.push_month(y, m);
            }
            Cursor::Week(ws) => {
                if ws.year() > 9999 {
                    return Fill::End;
                }
                let wkst = self.rule.week_start.num_days_from_monday();
                let weekday_only = self.filter.weekday_only();
                let mut day = ws;
                for i in 0..7u32 {
                    if self.filter.weekday_allowed((wkst + i) % 7) {
                        let ok = if weekday_only {
                            self.filter.month_allowed(day.month())
                        } else {
                            self.filter.matches(day)
                        };
                        if ok {
                            self.days.push(day);
                        }
                    }
                    match day.succ_opt() {
                        Some(d) => day = d,
                        None => break,
                    }
                }
            }
            Cursor::Day(d) => {
                if d.year() > 9999 {
                    return Fill::End;
                }
                if self.filter.matches(d) {
                    self.days.push(d);
                }
            }
            Cursor::Time(t) => {
                if t.year() > 9999 {
                    return Fill::End;
                }
                let date = t.date();
                if !self.filter.month_allowed(date.month()) {
                    let next_month = NaiveDate::from_ymd_opt(date.year(), date.month(), 1)
                        .and_then(|d| d.checked_add_months(Months::new(1)));
                    return match next_month {
                        Some(d) => self.jump_to(d.and_time(NaiveTime::MIN)),
                        None => Fill::End,
                    };
                }
                if !self.filter.matches(date) {
                    return match date.succ_opt() {
                        Some(d) => self.jump_to(d.and_time(NaiveTime::MIN)),
                        None => Fill::End,
                    };
                }
                let (h, m, s) = (t.hour(), t.minute(), t.second());
                let day_start = date.and_time(NaiveTime::MIN);
                if self.times.hour_mask >> h & 1 == 0 {
                    let later = self.times.hour_mask.checked_shr(h + 1).unwrap_or(0);
                    let target = if later != 0 {
                        day_start + TimeDelta::hours(i64::from(h + 1 + later.trailing_zeros()))
                    } else {
                        day_start + TimeDelta::days(1)
                    };
                    return self.jump_to(target);
                }
                self.fixed_hour = Some(h as u8);
                let hour_start = day_start + TimeDelta::hours(i64::from(h));
                if self.rule.freq <= Frequency::Minutely {
                    if self.times.minute_mask >> m & 1 == 0 {
                        let later = self.times.minute_mask.checked_shr(m + 1).unwrap_or(0);
                        let target = if later != 0 {
                            hour_start + TimeDelta::minutes(i64::from(m + 1 + later.trailing_zeros()))
                        } else {
                            hour_start + TimeDelta::hours(1)
                        };
                        return self.jump_to(target);
                    }
                    self.fixed_minute = Some(m as u8);
                }
                if self.rule.freq == Frequency::Secondly {
                    if self.times.second_mask >> s & 1 == 0 {
                        let minute_start = hour_start + TimeDelta::minutes(i64::from(m));
                        let later = self.times.second_mask.checked_shr(s + 1).unwrap_or(0) & ((1 << 60) - 1);
                        let target = if later != 0 {
                            minute_start + TimeDelta::seconds(i64::from(s + 1 + later.trailing_zeros()))
                        } else {
                            minute_start + TimeDelta::minutes(1)
                        };
                        return self.jump_to(target);
                    }
                    self.fixed_second = Some(s as u8);
                }
                self.days.push(date);
            }
        }
        let per_day = self.per_day();
        self.total = (self.days.len() as u64).saturating_mul(per_day);
        self.next = 0;
        if self.use_positions {
            self.positions.clear();
            let n = self.total as i64;
            for &p in &self.rule.by_set_pos {
                let idx = if p > 0 { i64::from(p) - 1 } else { n + i64::from(p) };
                if (0..n).contains(&idx) {
                    self.positions.push(idx as u64);
                }
            }
            self.positions.sort_unstable();
            self.positions.dedup();
            self.total = self.positions.len() as u64;
        } else if self.days.first().is_some_and(|d| *d <= self.floor.date()) {
            self.next = self.first_after_floor();
        }
        Fill::Ready
    }

    fn per_day(&self) -> u64 {
        let nh = if self.fixed_hour.is_some() { 1 } else { self.times.hours.len() as u64 };
        let nm = if self.fixed_minute.is_some() { 1 } else { self.times.minutes.len() as u64 };
        let ns = if self.fixed_second.is_some() { 1 } else { self.times.seconds.len() as u64 };
        nh * nm * ns
    }

    /// The candidate at `idx` of the current period as (date, h, m, s).
    fn decode(&self, idx: u64) -> Option<(NaiveDate, u32, u32, u32)> {
        let ns = if self.fixed_second.is_some() { 1 } else { self.times.seconds.len() as u64 };
        let nm = if self.fixed_minute.is_some() { 1 } else { self.times.minutes.len() as u64 };
        let nh = if self.fixed_hour.is_some() { 1 } else { self.times.hours.len() as u64 };
        let per_day = (nh * nm * ns).max(1);
        let day = *self.days.get(usize::try_from(idx / per_day).ok()?)?;
        let r = idx % per_day;
        let h = match self.fixed_hour {
            Some(h) => h,
            None => *self.times.hours.get(usize::try_from(r / (nm * ns)).ok()?)?,
        };
        let r = r % (nm * ns);
        let m = match self.fixed_minute {
            Some(m) => m,
            None => *self.times.minutes.get(usize::try_from(r / ns).ok()?)?,
        };
        let s = match self.fixed_second {
            Some(s) => s,
            None => *self.times.seconds.get(usize::try_from(r % ns).ok()?)?,
        };
        Some((day, u32::from(h), u32::from(m), u32::from(s)))
    }

    /// The first index whose candidate is after the floor (binary search:
    /// candidates are in order).
    fn first_after_floor(&self) -> u64 {
        let f = self.floor;
        let key = (f.date(), f.hour(), f.minute(), f.second());
        let (mut lo, mut hi) = (0u64, self.total);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.decode(mid) {
                Some(c) if c <= key => lo = mid + 1,
                _ => hi = mid,
            }
        }
        lo
    }
}

impl<Z: Fn(NaiveDateTime) -> NaiveDateTime> Instances<'_, Z> {
    /// The next rule candidate after the floor, or `None` with `stop` set.
    fn pull(&mut self) -> Option<NaiveDateTime> {
        loop {
            while self.next < self.total {
                let idx = if self.use_positions {
                    match self.positions.get(self.next as usize) {
                        Some(&i) => i,
                        None => break,
                    }
                } else {
                    self.next
                };
                self.next += 1;
                let Some((day, h, m, s)) = self.decode(idx) else { continue };
                let Some(time) = NaiveTime::from_hms_opt(h, m, s) else { continue };
                let t = day.and_time(time);
                if t <= self.floor {
                    continue;
                }
                if !self.within_until(t) {
                    return self.end(Stop::Until);
                }
                if self.stop_after.is_some_and(|a| t > a) {
                    return self.end(Stop::After);
                }
                self.floor = t;
                return Some(t);
            }
            if self.filled && !self.advance() {
                return self.end(Stop::End);
            }
            self.filled = false;
            self.periods += 1;
            if self.periods > self.limits.max_periods {
                return self.end(Stop::PeriodLimit);
            }
            let Some(period_start) = self.cursor.start() else { return self.end(Stop::End) };
            if period_start.year() > 9999 {
                return self.end(Stop::End);
            }
            if !self.within_until(period_start) {
                return self.end(Stop::Until);
            }
            if self.stop_after.is_some_and(|a| period_start > a) {
                return self.end(Stop::After);
            }
            match self.fill() {
                Fill::Ready => self.filled = true,
                Fill::Jumped => {}
                Fill::End => return self.end(Stop::End),
            }
        }
    }
}

impl<Z: Fn(NaiveDateTime) -> NaiveDateTime> Iterator for Instances<'_, Z> {
    type Item = NaiveDateTime;

    fn next(&mut self) -> Option<NaiveDateTime> {
        if self.start_pending {
            self.start_pending = false;
            if self.stop_after.is_some_and(|a| self.start > a) {
                return self.end(Stop::After);
            }
            if self.limits.max_instances == 0 {
                return self.end(Stop::InstanceLimit);
            }
            self.emitted = 1;
            if self.rule.count == Some(0) {
                self.stop = Some(Stop::Count);
                return Some(self.start);
            }
            // Whether DTSTART is itself an instance of the rule decides
            // whether it counts towards COUNT.
            match self.pull() {
                Some(t) if t == self.start => self.counted = 1,
                Some(t) => self.pending = Some(t),
                None => {}
            }
            return Some(self.start);
        }
        let t = match self.pending.take() {
            Some(t) => t,
            None => {
                if self.stop.is_some() {
                    return None;
                }
                if self.rule.count.is_some_and(|c| self.counted >= c as usize) {
                    return self.end(Stop::Count);
                }
                self.pull()?
            }
        };
        if self.emitted >= self.limits.max_instances {
            return self.end(Stop::InstanceLimit);
        }
        self.emitted += 1;
        self.counted += 1;
        Some(t)
    }
}
