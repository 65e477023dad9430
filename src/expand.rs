//! Occurrences of the events of a calendar over a window (SPEC 3.4 `expand`).
//!
//! A series is a `VEVENT` without `RECURRENCE-ID` (the master) with the
//! overrides of its `UID`. Its instances are `DTSTART`, the instances of each
//! `RRULE` and the `RDATE`s, less the `EXDATE`s (RFC 5545 3.8.5); each is
//! generated as a wall time in the zone of `DTSTART` and converted to UTC on
//! its own, so a 09:00 meeting stays at 09:00 across DST changes.
//!
//! Decisions (RFC 5545 unless said otherwise; see docs/corpus-decisions.md):
//! - Length: `DTEND` gives an exact duration, the same for every instance;
//!   `DURATION` is nominal for its days and weeks (kept in wall-clock days)
//!   and exact for its time part (3.3.6, 3.8.5.3); an all-day event without
//!   either lasts one day, any other event zero (3.6.1). A negative length
//!   counts as zero.
//! - `EXDATE`s compare as instants; a date `EXDATE` removes every instance on
//!   that date (in the series' wall time).
//! - An override (`RECURRENCE-ID`) replaces the instance it names; it is
//!   shown on its own terms, also when it names no instance of the set
//!   (RFC 5546 lets an attendee be invited to one instance only, so an
//!   override without a master must show, and one with a master is treated
//!   alike), unless an `EXDATE` of the master removed the instance it names
//!   (3.8.5.1: the set is what RRULE and RDATE give less EXDATE; there is no
//!   instance left to modify). `RANGE=THISANDFUTURE` moves every later instance by the same
//!   offset and gives it the override's length, summary and status.
//!   Cancelled overrides stay in the list with their `STATUS`.
//! - On an all-day series a date-time `RECURRENCE-ID` or `EXDATE` names the
//!   instance of its own calendar date (3.8.4.4: for a `DATE` series the
//!   value "MUST be the calendar date for the recurrence instance").
//! - A series whose `RRULE` or `DTSTART` cannot be read is left out and its
//!   error is listed in [`Expansion::errors`]; the other series still expand.
//!
//! Times are written as UTC RFC 3339 instants (`2026-12-03T09:00:00Z`),
//! all-day values as dates (`2026-12-03`) and floating values (no zone, or a
//! `TZID` nothing can resolve) as wall times (`2026-12-03T09:00:00`).

use crate::error::{EngineError, Result};
use crate::ical::Component;
use crate::ical::value::{DateOrPeriod, DateTimeValue, PeriodEnd, parse_date_list_lenient};
pub use crate::itip::object::Stamp;
use crate::itip::object::{
    Frame, Moment, dtstart_of, has_rules, is_override, length_warnings, recurrence_id_of, rid_moment,
};
use crate::recur::{Limits, RRule};
use crate::tz::ZoneSet;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Options of [`expand`]. Instants are UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandOptions {
    /// Start of the window; default: the earliest `DTSTART` of any `VEVENT`
    /// (a date counts as 00:00 UTC, a floating time as if it were UTC).
    pub from: Option<NaiveDateTime>,
    /// End of the window, exclusive; default: `from` + 730 days.
    pub until: Option<NaiveDateTime>,
    /// Most occurrences per series (SPEC 7: 1,000).
    pub max_instances: usize,
    /// Longest window (SPEC 7: two years); a longer one is cut.
    pub horizon: TimeDelta,
}

impl Default for ExpandOptions {
    fn default() -> Self {
        ExpandOptions { from: None, until: None, max_instances: 1000, horizon: TimeDelta::days(730) }
    }
}

/// One occurrence of an event, as the CLI prints it (SPEC 3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Occurrence {
    /// The event's `UID`; empty when it has none.
    pub uid: Arc<str>,
    /// `null` for a non-recurring event (its `UID` has no `RRULE`, `RDATE` or
    /// `RECURRENCE-ID` anywhere in the calendar); otherwise the instance's
    /// original start, or an override's `RECURRENCE-ID`, in the format of `start`.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string | null"))]
    pub recurrence_id: Option<Stamp>,
    /// `2026-12-03T09:00:00Z`, `2026-12-03` (all day) or `2026-12-03T09:00:00` (floating).
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub start: Stamp,
    /// The end, in the same format.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub end: Stamp,
    /// Whether `start` is a date.
    pub all_day: bool,
    /// `SUMMARY`, as text.
    pub summary: Option<Arc<str>>,
    /// `STATUS` (`CONFIRMED`, `TENTATIVE`, `CANCELLED`, ...).
    pub status: Option<Arc<str>>,
    /// Whether the times are floating wall times (omitted when false).
    #[serde(default, skip_serializing_if = "is_false")]
    pub floating: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The result of [`expand`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expansion {
    /// Occurrences sorted by start, then `UID`.
    pub occurrences: Vec<Occurrence>,
    /// Whether a series was cut by `max_instances`, the horizon or the
    /// engine's bound on the work of one rule (`recurrence_limit`).
    pub limited: bool,
    /// Series left out because a value could not be read, one error each.
    pub errors: Vec<EngineError>,
    /// Damaged parts that were skipped while the rest was used (a malformed
    /// `RRULE` part, a rule without a usable `FREQ`), with their lines.
    pub warnings: Vec<EngineError>,
}

/// One instance of a series before overrides: its original start.
#[derive(Debug, Clone, Copy)]
struct Slot {
    local: NaiveDateTime,
    start: Moment,
    end: Moment,
}

/// A `RANGE=THISANDFUTURE` override in effect from an original start on.
struct FutureChange {
    from: NaiveDateTime,
    offset: TimeDelta,
    frame: Frame,
    /// The override's texts, falling back to the master's.
    texts: Texts,
}

struct Window {
    from: NaiveDateTime,
    until: NaiveDateTime,
}

impl Window {
    fn overlaps(&self, start: Moment, end: Moment) -> bool {
        let (s, e) = (start.instant(), end.instant());
        if e > s { s < self.until && e > self.from } else { self.from <= s && s < self.until }
    }
}

fn text_of(event: &Component<'_>, name: &str) -> Option<Arc<str>> {
    event.prop(name).map(|p| Arc::from(p.text()))
}

/// The texts an event gives each of its occurrences, read once and shared.
#[derive(Clone)]
struct Texts {
    uid: Arc<str>,
    summary: Option<Arc<str>>,
    status: Option<Arc<str>>,
}

impl Texts {
    fn of(uid: Arc<str>, event: &Component<'_>) -> Texts {
        Texts { uid, summary: text_of(event, "SUMMARY"), status: text_of(event, "STATUS") }
    }

    /// The texts of an override, falling back to its master's.
    fn over(&self, event: &Component<'_>) -> Texts {
        let own = Texts::of(self.uid.clone(), event);
        Texts {
            summary: own.summary.or_else(|| self.summary.clone()),
            status: own.status.or_else(|| self.status.clone()),
            ..own
        }
    }
}

/// Every occurrence of the `VEVENT`s of `calendar` that overlaps the window
/// `[from, until)`; a zero-length occurrence when `from <= start < until`.
///
/// ```
/// use invitelink::expand::{expand, ExpandOptions};
/// use invitelink::ical::{parse_calendar, ParseOptions};
/// let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Europe/Oslo:20260320T090000\r\n\
///            DURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
/// let cal = parse_calendar(ics, &ParseOptions::default()).unwrap();
/// let found = expand(&cal, &ExpandOptions::default()).unwrap();
/// let starts: Vec<&str> = found.occurrences.iter().map(|o| o.start.as_str()).collect();
/// assert_eq!(starts, ["2026-03-20T08:00:00Z", "2026-03-27T08:00:00Z", "2026-04-03T07:00:00Z"]);
/// ```
pub fn expand(calendar: &Component<'_>, opts: &ExpandOptions) -> Result<Expansion> {
    let mut budget = Budget::default();
    let zones = ZoneSet::from_calendar(calendar);
    let events: Vec<&Component<'_>> = calendar.children("VEVENT").collect();
    let mut out = Expansion::default();

    let Some(from) = opts.from.or_else(|| earliest_start(&events, &zones)) else { return Ok(out) };
    let asked = opts.until.unwrap_or(from + TimeDelta::days(730));
    let capped = from.checked_add_signed(opts.horizon).unwrap_or(asked);
    let window = Window { from, until: asked.min(capped) };
    let cut_by_horizon = asked > window.until;

    let mut recurring: HashSet<&str> = HashSet::new();
    for e in &events {
        let recurs = has_rules(e) || is_override(e);
        if let Some(uid) = e.value("UID").filter(|_| recurs) {
            recurring.insert(uid.trim());
        }
    }
    let mut overrides: HashMap<&str, Vec<&Component<'_>>> = HashMap::new();
    let mut masters: HashSet<&str> = HashSet::new();
    for e in &events {
        let uid = e.value("UID").map(str::trim).unwrap_or("");
        if is_override(e) {
            overrides.entry(uid).or_default().push(e);
        } else if !uid.is_empty() {
            masters.insert(uid);
        }
    }

    let mut served: HashSet<&str> = HashSet::new();
    for event in &events {
        let uid = event.value("UID").map(str::trim).unwrap_or("");
        let result = if is_override(event) {
            // Overrides go with the first master of their UID; those
            // without one stand alone.
            if masters.contains(uid) {
                continue;
            }
            expand_override(event, &Arc::from(uid), &zones, &window, &mut out.occurrences)
        } else {
            let is_recurring = if uid.is_empty() { has_rules(event) } else { recurring.contains(uid) };
            let own: &[&Component<'_>] = if !uid.is_empty() && served.insert(uid) {
                overrides.get(uid).map(Vec::as_slice).unwrap_or(&[])
            } else {
                &[]
            };
            if out.occurrences.len() >= MAX_OCCURRENCES_PER_MESSAGE {
                // The message's share of work is spent: later series are cut.
                out.limited = true;
                continue;
            }
            let series = Series { event, uid, is_recurring, overrides: own };
            expand_series(&series, &zones, &window, opts, cut_by_horizon, &mut budget, &mut out)
        };
        if let Err(e) = result {
            out.errors.push(e.with_line(event.line));
        }
    }
    out.occurrences.sort_by(|a, b| a.start.cmp_instant(&b.start).then_with(|| a.uid.cmp(&b.uid)));
    Ok(out)
}

/// Most `RRULE`s read in one message, over all its components (SPEC 7: the
/// work for one message is bounded, not only the work for one rule).
pub const MAX_RULES_PER_MESSAGE: usize = 64;
/// Most candidate periods examined in one message, over all its rules.
pub const MAX_PERIODS_PER_MESSAGE: u64 = 2_000_000;
/// Most occurrences listed for one message, over all its series.
pub const MAX_OCCURRENCES_PER_MESSAGE: usize = 20_000;

/// What is left of one message's recurrence work.
#[derive(Debug, Clone, Copy)]
struct Budget {
    rules: usize,
    periods: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { rules: MAX_RULES_PER_MESSAGE, periods: MAX_PERIODS_PER_MESSAGE }
    }
}

/// One series to expand: its master (or single event) and overrides.
struct Series<'s, 'c, 'a> {
    event: &'s Component<'a>,
    uid: &'s str,
    is_recurring: bool,
    overrides: &'c [&'s Component<'a>],
}

fn earliest_start(events: &[&Component<'_>], zones: &ZoneSet) -> Option<NaiveDateTime> {
    events.iter().filter_map(|e| dtstart_of(e).ok().flatten()).map(|v| zones.to_utc(&v)).min()
}

/// An override, shown on its own terms.
fn expand_override(
    event: &Component<'_>,
    uid: &Arc<str>,
    zones: &ZoneSet,
    window: &Window,
    out: &mut Vec<Occurrence>,
) -> Result<()> {
    let Some(frame) = Frame::read(event, zones)? else { return Ok(()) };
    let (start, end) = frame.at(frame.start.local());
    if !window.overlaps(start, end) {
        return Ok(());
    }
    let rid = recurrence_id_of(event).ok().flatten().map(|(v, _)| rid_moment(&v, zones));
    let texts = Texts::of(uid.clone(), event);
    out.push(occurrence(&texts, rid.map(Moment::stamp), (start, start.stamp()), end, frame.floating));
    Ok(())
}

/// An occurrence; `start_text` is `start` as written (the caller may have
/// written it already as the recurrence id).
fn occurrence(
    texts: &Texts,
    recurrence_id: Option<Stamp>,
    (start, start_text): (Moment, Stamp),
    end: Moment,
    floating: bool,
) -> Occurrence {
    Occurrence {
        uid: texts.uid.clone(),
        recurrence_id,
        start: start_text,
        end: end.stamp(),
        all_day: matches!(start, Moment::Date(_)),
        summary: texts.summary.clone(),
        status: texts.status.clone(),
        floating: floating && !matches!(start, Moment::Date(_)),
    }
}

/// The keys by which an original start is named by an `EXDATE` or a
/// `RECURRENCE-ID`: an instant, or a date for date values and all-day series.
#[derive(Default)]
struct Names {
    instants: HashSet<NaiveDateTime>,
    dates: HashSet<NaiveDate>,
}

impl Names {
    fn add(&mut self, v: &DateTimeValue, frame: &Frame, zones: &ZoneSet) {
        if frame.is_date() || v.is_date() {
            self.dates.insert(v.local().date());
        } else {
            self.instants.insert(frame.at(frame.local_of(v, zones)).0.instant());
        }
    }

    fn names_at(&self, local: NaiveDateTime, frame: &Frame) -> bool {
        self.dates.contains(&local.date()) || (!frame.is_date() && self.instants.contains(&frame.at(local).0.instant()))
    }

    fn is_empty(&self) -> bool {
        self.dates.is_empty() && self.instants.is_empty()
    }

    fn names(&self, slot: &Slot, frame: &Frame) -> bool {
        self.dates.contains(&slot.local.date()) || (!frame.is_date() && self.instants.contains(&slot.start.instant()))
    }
}

#[allow(clippy::too_many_arguments)]
fn expand_series(
    series: &Series<'_, '_, '_>,
    zones: &ZoneSet,
    window: &Window,
    opts: &ExpandOptions,
    cut_by_horizon: bool,
    budget: &mut Budget,
    out: &mut Expansion,
) -> Result<()> {
    let Series { event, uid, is_recurring, overrides } = *series;
    let Some(frame) = Frame::read(event, zones)? else { return Ok(()) };
    out.warnings.extend(length_warnings(event, zones));
    let mut rules: Vec<RRule> = Vec::new();
    let mut limited = false;
    for p in event.props("RRULE") {
        if budget.rules == 0 {
            limited = true;
            break;
        }
        budget.rules -= 1;
        // Damaged input (docs/decision.md): a malformed part is skipped and
        // reported, the rest of the rule used; a rule with no usable FREQ
        // is dropped and reported. DTSTART stays an occurrence either way.
        let (rule, skipped) = crate::recur::parse_lenient(&p.value);
        out.warnings.extend(skipped.into_iter().map(|e| e.with_line(p.line)));
        match rule {
            Ok(r) => rules.push(r),
            Err(e) => out.warnings.push(e.with_line(p.line)),
        }
    }
    let start_local = frame.start.local();

    // THISANDFUTURE overrides, by original start.
    let texts = Texts::of(Arc::from(uid), event);
    let mut changes: Vec<FutureChange> = Vec::new();
    let mut replaced = Names::default();
    for o in overrides {
        let Ok(Some((rid, future))) = recurrence_id_of(o) else { continue };
        replaced.add(&rid, &frame, zones);
        if let (true, Ok(Some(of))) = (future, Frame::read(o, zones)) {
            let rid_local = frame.local_of(&rid, zones);
            let original = frame.at(rid_local).0.instant();
            let moved = of.at(of.start.local()).0.instant();
            changes.push(FutureChange { from: rid_local, offset: moved - original, frame: of, texts: texts.over(o) });
        }
    }
    changes.sort_by_key(|c| c.from);
    let widest_shift = changes.iter().map(|c| c.offset.abs()).max().unwrap_or(TimeDelta::zero());

    // The walk's bounds, widened for the length of an instance, for the
    // zone's offset and for THISANDFUTURE shifts.
    let slack = TimeDelta::days(1) + widest_shift;
    let walk = Window { from: window.from - frame.length.most() - slack, until: window.until + slack };
    // Instances kept: those that overlap the window, or that a shift may move into it.
    let keep = if changes.is_empty() {
        Window { from: window.from, until: window.until }
    } else {
        Window { from: window.from - widest_shift, until: window.until + widest_shift }
    };
    let cap = opts.max_instances.saturating_add(1).saturating_add(overrides.len());
    let mut slots: Vec<Slot> = Vec::new();
    let mut beyond = false;
    let to_utc = |t: NaiveDateTime| if frame.floating || frame.is_date() { t } else { frame.zone.to_utc(t) };
    let local_of_instant =
        |t: NaiveDateTime| if frame.floating || frame.is_date() { t } else { frame.zone.from_utc(t) };

    if rules.is_empty() {
        let (s, e) = frame.at(start_local);
        slots.push(Slot { local: start_local, start: s, end: e });
    }
    for rule in &rules {
        let max_periods = Limits::default().max_periods.min(budget.periods);
        let limits = Limits { max_instances: usize::MAX, max_periods };
        let mut it = rule.instances(start_local, to_utc).with_limits(limits).stop_after(local_of_instant(walk.until));
        it.skip_to(local_of_instant(walk.from));
        let mut taken = 0usize;
        for local in it.by_ref() {
            let (s, e) = frame.at(local);
            if s.instant() >= keep.until {
                beyond = true;
                break;
            }
            if !keep.overlaps(s, e) {
                continue;
            }
            slots.push(Slot { local, start: s, end: e });
            taken += 1;
            if taken > cap {
                limited = true;
                break;
            }
        }
        budget.periods = budget.periods.saturating_sub(it.periods_examined());
        if it.limit_hit() {
            limited = true;
        }
        if matches!(it.stopped(), Some(crate::recur::Stop::After)) {
            beyond = true;
        }
    }
    for p in event.props("RDATE") {
        let (list, skipped) = parse_date_list_lenient(p);
        out.warnings.extend(skipped);
        for item in list {
            let (value, end) = match item {
                DateOrPeriod::At(v) => (v, None),
                DateOrPeriod::Period(v, end) => (v, Some(end)),
            };
            let local = frame.local_of(&value, zones);
            let (s, mut e) = frame.at(local);
            match end {
                Some(PeriodEnd::End(v)) => {
                    let end_local = frame.local_of(&v, zones);
                    e = frame.at(end_local).0.max(s);
                }
                Some(PeriodEnd::Duration(d)) => {
                    e = match s {
                        Moment::Date(day) => Moment::Date(day + TimeDelta::days(d.num_days().max(0))),
                        Moment::Floating(t) => Moment::Floating(t + d.max(TimeDelta::zero())),
                        Moment::Utc(t) => Moment::Utc(t + d.max(TimeDelta::zero())),
                    }
                }
                None => {}
            }
            if keep.overlaps(s, e) {
                slots.push(Slot { local, start: s, end: e });
            }
        }
    }
    slots.sort_by_key(|s| s.start.instant());
    slots.dedup_by_key(|s| s.start.instant());

    let mut excluded = Names::default();
    for p in event.props("EXDATE") {
        let (list, skipped) = parse_date_list_lenient(p);
        out.warnings.extend(skipped);
        for item in list {
            let (DateOrPeriod::At(v) | DateOrPeriod::Period(v, _)) = item;
            excluded.add(&v, &frame, zones);
        }
    }

    // Overrides, unless an EXDATE removed the instance they modify.
    for o in overrides {
        let rid = recurrence_id_of(o).ok().flatten().map(|(v, _)| v);
        if rid.is_some_and(|v| excluded.names_at(frame.local_of(&v, zones), &frame)) {
            continue;
        }
        if let Err(e) = expand_override(o, &texts.uid, zones, window, &mut out.occurrences) {
            out.errors.push(e.with_line(o.line));
        }
    }

    let mut count = 0usize;
    out.occurrences.reserve(slots.len().min(opts.max_instances));
    let named = !excluded.is_empty() || !replaced.is_empty();
    for slot in slots {
        if named && (excluded.names(&slot, &frame) || replaced.names(&slot, &frame)) {
            continue;
        }
        let original = slot.start.stamp();
        let rid = is_recurring.then_some(original);
        let change = changes.iter().rev().find(|c| c.from < slot.local);
        let (start, end, source, floating) = match change {
            Some(c) => {
                let (s, e) = shifted(&slot, c);
                ((s, s.stamp()), e, &c.texts, c.frame.floating)
            }
            None => ((slot.start, original), slot.end, &texts, frame.floating),
        };
        if !window.overlaps(start.0, end) {
            continue;
        }
        if count >= opts.max_instances {
            limited = true;
            break;
        }
        count += 1;
        out.occurrences.push(occurrence(source, rid, start, end, floating));
    }
    if limited || (cut_by_horizon && beyond) {
        out.limited = true;
    }
    Ok(())
}

/// An instance moved by a `THISANDFUTURE` override: the same offset, the
/// override's length.
fn shifted(slot: &Slot, change: &FutureChange) -> (Moment, Moment) {
    let start = slot.start.instant() + change.offset;
    let of = &change.frame;
    if of.is_date() {
        return of.at(start.date().and_time(NaiveTime::MIN));
    }
    let local = if of.floating { start } else { of.zone.from_utc(start) };
    of.at(local)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::ical::{ParseOptions, parse_calendar};

    fn run(body: &str, opts: &ExpandOptions) -> Expansion {
        let text = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}END:VCALENDAR\r\n");
        let cal = parse_calendar(&text, &ParseOptions::default()).unwrap();
        expand(&cal, opts).unwrap()
    }

    fn starts(e: &Expansion) -> Vec<String> {
        e.occurrences.iter().map(|o| format!("{}/{}", o.start, o.end)).collect()
    }

    #[test]
    fn the_work_of_one_message_is_bounded_over_all_its_components() {
        // 100 series of two days each: the first 64 rules are read, the
        // others keep only their DTSTART, and the cut is reported.
        let body: String = (0..100)
            .map(|i| {
                format!(
                    "BEGIN:VEVENT\r\nUID:s{i}\r\nDTSTART:20260101T{:02}0000Z\r\nRRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\n",
                    i % 24
                )
            })
            .collect();
        let e = run(&body, &ExpandOptions::default());
        assert_eq!(e.occurrences.len(), MAX_RULES_PER_MESSAGE * 2 + (100 - MAX_RULES_PER_MESSAGE));
        assert!(e.limited);
        // Sixty rules that match nothing after DTSTART (each would examine
        // 500,000 seconds) share one budget: 2,000,000 periods in all.
        let body: String = (0..60)
            .map(|i| {
                format!(
                    "BEGIN:VEVENT\r\nUID:x{i}\r\nDTSTART:20260101T000000Z\r\nRRULE:FREQ=SECONDLY;BYSETPOS=2\r\nEND:VEVENT\r\n"
                )
            })
            .collect();
        let text = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}END:VCALENDAR\r\n");
        let cal = parse_calendar(&text, &ParseOptions::default()).unwrap();
        let events: Vec<&Component<'_>> = cal.children("VEVENT").collect();
        let zones = ZoneSet::from_calendar(&cal);
        let window = Window {
            from: NaiveDateTime::default(),
            until: chrono::NaiveDate::from_ymd_opt(2028, 1, 1).unwrap().and_time(chrono::NaiveTime::MIN),
        };
        let mut budget = Budget::default();
        let mut out = Expansion::default();
        for (n, event) in events.iter().enumerate() {
            let series = Series { event, uid: "x", is_recurring: true, overrides: &[] };
            expand_series(&series, &zones, &window, &ExpandOptions::default(), false, &mut budget, &mut out).unwrap();
            // Four rules spend it all (plus one period each to notice).
            if n >= 4 {
                assert_eq!(budget.periods, 0, "after rule {n}");
            }
        }
        assert!(out.limited);
        assert_eq!(out.occurrences.len(), 60, "each keeps its DTSTART");
    }

    #[test]
    fn weekly_in_oslo_keeps_wall_time_across_dst() {
        let e = run(
            "BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=Europe/Oslo:20261020T090000\r\n\
             DTEND;TZID=Europe/Oslo:20261020T100000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\n",
            &ExpandOptions::default(),
        );
        assert_eq!(
            starts(&e),
            [
                "2026-10-20T07:00:00Z/2026-10-20T08:00:00Z",
                "2026-10-27T08:00:00Z/2026-10-27T09:00:00Z",
                "2026-11-03T08:00:00Z/2026-11-03T09:00:00Z"
            ]
        );
        assert_eq!(e.occurrences[0].recurrence_id.as_deref(), Some("2026-10-20T07:00:00Z"));
        assert!(!e.limited);
    }

    #[test]
    fn non_recurring_has_no_recurrence_id_and_all_day_lasts_a_day() {
        let e = run(
            "BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20261203\r\nSUMMARY:Fest\r\nEND:VEVENT\r\n",
            &ExpandOptions::default(),
        );
        let o = &e.occurrences[0];
        assert_eq!((o.start.as_str(), o.end.as_str(), o.all_day), ("2026-12-03", "2026-12-04", true));
        assert_eq!(o.recurrence_id, None);
        let json = serde_json::to_string(o).unwrap();
        assert!(!json.contains("floating"), "{json}");
    }

    #[test]
    fn exdate_override_and_this_and_future() {
        let e = run(
            "BEGIN:VEVENT\r\nUID:s\r\nDTSTART:20260105T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=6\r\n\
             EXDATE:20260106T090000Z\r\nSUMMARY:Daily\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20260107T090000Z\r\nDTSTART:20260107T120000Z\r\n\
             DURATION:PT30M\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20260108T090000Z\r\n\
             DTSTART:20260108T100000Z\r\nDURATION:PT2H\r\nSUMMARY:Later\r\nEND:VEVENT\r\n",
            &ExpandOptions::default(),
        );
        assert_eq!(
            starts(&e),
            [
                "2026-01-05T09:00:00Z/2026-01-05T10:00:00Z",
                "2026-01-07T12:00:00Z/2026-01-07T12:30:00Z",
                "2026-01-08T10:00:00Z/2026-01-08T12:00:00Z",
                "2026-01-09T10:00:00Z/2026-01-09T12:00:00Z",
                "2026-01-10T10:00:00Z/2026-01-10T12:00:00Z"
            ]
        );
        assert_eq!(e.occurrences[1].status.as_deref(), Some("CANCELLED"));
        assert_eq!(e.occurrences[3].summary.as_deref(), Some("Later"));
        assert_eq!(e.occurrences[3].recurrence_id.as_deref(), Some("2026-01-09T09:00:00Z"));
    }

    #[test]
    fn instances_are_capped_and_reported() {
        let e = run(
            "BEGIN:VEVENT\r\nUID:h\r\nDTSTART:20260101T000000Z\r\nRRULE:FREQ=HOURLY\r\nEND:VEVENT\r\n",
            &ExpandOptions::default(),
        );
        assert_eq!(e.occurrences.len(), 1000);
        assert!(e.limited);
        let e = run(
            "BEGIN:VEVENT\r\nUID:s\r\nDTSTART:20260101T000000Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\n",
            &ExpandOptions::default(),
        );
        assert_eq!(e.occurrences.len(), 1000);
        assert!(e.limited);
    }

    #[test]
    fn a_far_window_does_not_walk_from_dtstart() {
        let opts = ExpandOptions {
            from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0),
            until: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap().and_hms_opt(0, 0, 0),
            ..ExpandOptions::default()
        };
        let e =
            run("BEGIN:VEVENT\r\nUID:m\r\nDTSTART:19900101T000000Z\r\nRRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\n", &opts);
        assert_eq!(e.occurrences.len(), 1000);
        assert_eq!(e.occurrences[0].start, "2026-01-01T00:00:00Z");
    }

    #[test]
    fn a_rule_without_a_usable_freq_is_dropped_and_dtstart_stays() {
        let e = run(
            "BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260101T000000Z\r\nRRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:y\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\n",
            &ExpandOptions::default(),
        );
        assert_eq!(e.occurrences.len(), 2, "DTSTART is always an occurrence");
        assert!(e.errors.is_empty());
        assert_eq!(e.warnings.len(), 2, "the bad FREQ, then the dropped rule: {:?}", e.warnings);
        assert!(e.warnings.iter().all(|w| w.code == crate::ErrorCode::InvalidValue && w.line == Some(6)));
    }

    #[test]
    fn a_malformed_rule_part_is_skipped_and_the_rest_expands() {
        // As damaged Google exports carry them: junk, a repeated prefix, an
        // unknown part name, a value out of range.
        for rule in [
            "FREQ=WEEKLY;BYDAY=MO;junk;COUNT=10",
            "RRULE:FREQ=WEEKLY;RRULE:BYDAY=MO;COUNT=10",
            "FREQ=WEEKLY;BYDAY=MO;X_BROKEN=1;COUNT=10",
            "FREQ=WEEKLY;BYDAY=MO;BYHOUR=25;COUNT=10",
        ] {
            let e = run(
                &format!("BEGIN:VEVENT\r\nUID:g\r\nDTSTART:20260105T090000Z\r\nRRULE:{rule}\r\nEND:VEVENT\r\n"),
                &ExpandOptions::default(),
            );
            assert_eq!(e.occurrences.len(), 10, "{rule}");
            assert!(e.occurrences.iter().all(|o| o.start.ends_with("T09:00:00Z")), "{rule}");
            let skipped = if rule.contains("RRULE:BYDAY") { 0 } else { 1 };
            assert_eq!(e.warnings.len(), skipped, "{rule}: {:?}", e.warnings);
        }
    }

    #[test]
    fn damaged_date_lists_and_lengths_keep_what_can_be_read() {
        let e = run(
            "BEGIN:VEVENT\r\nUID:d\r\nDTSTART:20260105T090000Z\r\nDURATION:-PT1H\r\nRRULE:FREQ=DAILY;COUNT=5\r\n\
             EXDATE:20260106T090000Z,2026013XT090000Z,20260108T090000Z\r\n\
             RDATE:20260231T090000Z,20260120T090000Z\r\nEND:VEVENT\r\n",
            &ExpandOptions::default(),
        );
        let days: Vec<&str> = e.occurrences.iter().map(|o| o.start.get(..10).unwrap()).collect();
        assert_eq!(days, ["2026-01-05", "2026-01-07", "2026-01-09", "2026-01-20"]);
        assert!(e.occurrences.iter().all(|o| o.start == o.end), "a negative DURATION lasts no time");
        let lines: Vec<Option<u32>> = e.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [Some(6), Some(9), Some(8)], "{:?}", e.warnings);
        // A DURATION that cannot be read: the default length (none for a date-time).
        let e = run(
            "BEGIN:VEVENT\r\nUID:p\r\nDTSTART:20260105T090000Z\r\nDURATION:PXYZ\r\nEND:VEVENT\r\n",
            &ExpandOptions::default(),
        );
        assert_eq!(e.occurrences.len(), 1);
        assert_eq!(e.warnings.len(), 1);
    }

    #[test]
    fn rdates_exdates_and_orphans() {
        let e = run(
            "BEGIN:VEVENT\r\nUID:r\r\nDTSTART;TZID=Europe/Oslo:20260105T090000\r\nDURATION:PT1H\r\n\
             RRULE:FREQ=DAILY;COUNT=3\r\nEXDATE:20260106T090000\r\nEXDATE;VALUE=DATE:20260107\r\n\
             RDATE;VALUE=PERIOD:20260110T120000Z/PT2H\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:r\r\nRECURRENCE-ID;TZID=Europe/Oslo:20260107T090000\r\n\
             DTSTART;TZID=Europe/Oslo:20260107T100000\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:r\r\nRECURRENCE-ID;TZID=Europe/Oslo:20260120T090000\r\n\
             DTSTART;TZID=Europe/Oslo:20260120T100000\r\nEND:VEVENT\r\n",
            &ExpandOptions::default(),
        );
        // The floating EXDATE is a wall time of the series; the override of
        // an excluded instance is not shown; the orphan override is.
        assert_eq!(
            starts(&e),
            [
                "2026-01-05T08:00:00Z/2026-01-05T09:00:00Z",
                "2026-01-10T12:00:00Z/2026-01-10T14:00:00Z",
                "2026-01-20T09:00:00Z/2026-01-20T09:00:00Z"
            ]
        );
        assert_eq!(e.occurrences[2].recurrence_id.as_deref(), Some("2026-01-20T08:00:00Z"));
    }

    #[test]
    fn nominal_duration_keeps_wall_clock_days() {
        // P1D over the spring-forward night lasts 23 hours; DTEND keeps 24.
        let e = run(
            "BEGIN:VEVENT\r\nUID:n\r\nDTSTART;TZID=Europe/Oslo:20260328T120000\r\nDURATION:P1D\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:x\r\nDTSTART;TZID=Europe/Oslo:20260328T120000\r\n\
             DTEND;TZID=Europe/Oslo:20260329T130000\r\nEND:VEVENT\r\n",
            &ExpandOptions::default(),
        );
        assert_eq!(
            starts(&e),
            ["2026-03-28T11:00:00Z/2026-03-29T10:00:00Z", "2026-03-28T11:00:00Z/2026-03-29T11:00:00Z"]
        );
    }
}
