//! Recurrence expansion: the engine's raw iterator ([`invitelink::recur`])
//! with the zone conversion of every instance, the full public
//! [`invitelink::expand::expand`] (strings, sorting, overrides), and the
//! `rrule` crate with its own chrono-tz zone, on the same rules for the same
//! number of instances.

use crate::measure::Case;
use chrono::{NaiveDateTime, TimeDelta};
use invitelink::expand::{ExpandOptions, expand};
use invitelink::ical::value::{DateTimeValue, parse_date_time};
use invitelink::ical::{Component, parse_calendar};
use invitelink::recur::{Limits, RRule};
use invitelink::tz::{Zone, ZoneSet};

/// A rule as an event would carry it.
pub struct Rule {
    /// Name in the tables.
    pub name: &'static str,
    /// The `DTSTART` content line.
    pub dtstart: &'static str,
    /// The `RRULE` value.
    pub rrule: &'static str,
}

/// The typical rules of invitations.
pub const RULES: [Rule; 3] = [
    Rule {
        name: "weekly BYDAY=MO,WE,FR, Europe/Oslo",
        dtstart: "DTSTART;TZID=Europe/Oslo:20260105T090000",
        rrule: "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    },
    Rule { name: "daily COUNT, UTC", dtstart: "DTSTART:20260105T090000Z", rrule: "FREQ=DAILY;COUNT=1000" },
    Rule {
        name: "monthly BYDAY=-1FR, Europe/Oslo",
        dtstart: "DTSTART;TZID=Europe/Oslo:20260130T090000",
        rrule: "FREQ=MONTHLY;BYDAY=-1FR",
    },
];

/// Instances per series: the engine's default cap (SPEC 7).
pub const INSTANCES: usize = 1000;

fn event_text(rule: &Rule) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-1\r\n\
         DTSTAMP:20260101T000000Z\r\n{}\r\nDURATION:PT1H\r\nRRULE:{}\r\nSUMMARY:Sync\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        rule.dtstart, rule.rrule
    )
}

/// What one rule's cases need, prepared outside the timing.
pub struct Prepared {
    text: String,
    rrule: RRule,
    start: NaiveDateTime,
    zone: Zone,
    other: rrule::RRuleSet,
}

/// Reads a rule for every implementation; `Err` says which could not.
pub fn prepare(rule: &Rule) -> Result<Prepared, String> {
    let text = event_text(rule);
    let cal = parse_calendar(&text, &Default::default()).map_err(|e| e.to_string())?;
    let event = cal.children("VEVENT").next().ok_or("no event")?;
    let dtstart = event.prop("DTSTART").ok_or("no DTSTART")?;
    let value = parse_date_time(dtstart).map_err(|e| e.to_string())?;
    let zone = ZoneSet::from_calendar(&cal).zone_of(&value);
    let start = match value {
        DateTimeValue::Date(d) => d.and_time(chrono::NaiveTime::MIN),
        DateTimeValue::Floating(t) | DateTimeValue::Utc(t) | DateTimeValue::Zoned(t, _) => t,
    };
    let rrule = RRule::parse(rule.rrule).map_err(|e| e.to_string())?;
    let other: rrule::RRuleSet =
        format!("{}\nRRULE:{}", rule.dtstart, rule.rrule).parse().map_err(|e: rrule::RRuleError| e.to_string())?;
    Ok(Prepared { text, rrule, start, zone, other })
}

/// The UTC starts of the first [`INSTANCES`] instances by the raw iterator.
fn ours_raw(p: &Prepared) -> Vec<NaiveDateTime> {
    let zone = &p.zone;
    p.rrule
        .instances(p.start, |t| zone.to_utc(t))
        .with_limits(Limits { max_instances: INSTANCES, ..Limits::default() })
        .map(|t| zone.to_utc(t))
        .collect()
}

fn other(p: &Prepared) -> Vec<NaiveDateTime> {
    (&p.other).into_iter().take(INSTANCES).map(|t| t.naive_utc()).collect()
}

fn options() -> ExpandOptions {
    ExpandOptions {
        from: NaiveDateTime::parse_from_str("2026-01-01T00:00:00", "%Y-%m-%dT%H:%M:%S").ok(),
        until: NaiveDateTime::parse_from_str("2200-01-01T00:00:00", "%Y-%m-%dT%H:%M:%S").ok(),
        max_instances: INSTANCES,
        horizon: TimeDelta::days(365 * 200),
    }
}

/// Checks that the three give the same instants; a message per difference.
pub fn check(rule: &Rule, p: &Prepared) -> Vec<String> {
    let mut problems = Vec::new();
    let a = ours_raw(p);
    let b = other(p);
    if a.len() != INSTANCES {
        problems.push(format!("{}: our iterator gave {} instances", rule.name, a.len()));
    }
    if a != b {
        let first = a.iter().zip(&b).position(|(x, y)| x != y);
        problems.push(format!(
            "{}: ours and rrule differ (lengths {} and {}, first difference at {:?})",
            rule.name,
            a.len(),
            b.len(),
            first
        ));
    }
    match parse_calendar(&p.text, &Default::default()).map(|c| expand(&c, &options())) {
        Ok(Ok(x)) if x.occurrences.len() == a.len() => {}
        Ok(Ok(x)) => problems.push(format!("{}: expand gave {} occurrences", rule.name, x.occurrences.len())),
        Ok(Err(e)) | Err(e) => problems.push(format!("{}: {e}", rule.name)),
    }
    problems
}

/// The three cases of one rule, in the order ours raw, ours expand, rrule.
pub fn cases<'a>(rule: &Rule, p: &'a Prepared, cal: &'a Component<'a>) -> Vec<Case<'a>> {
    let n = vec![INSTANCES as f64];
    let zone = &p.zone;
    let opts = options();
    vec![
        Case {
            name: format!("{}: invitelink recur iterator + to_utc", rule.name),
            run: Box::new(move || {
                p.rrule
                    .instances(p.start, |t| zone.to_utc(t))
                    .with_limits(Limits { max_instances: INSTANCES, ..Limits::default() })
                    .map(|t| zone.to_utc(t).and_utc().timestamp() as usize)
                    .fold(0usize, usize::wrapping_add)
            }),
            units: n.clone(),
        },
        Case {
            name: format!("{}: invitelink expand::expand", rule.name),
            run: Box::new(move || expand(cal, &opts).map(|x| x.occurrences.len()).unwrap_or(0)),
            units: n.clone(),
        },
        Case {
            name: format!("{}: rrule 0.14", rule.name),
            run: Box::new(move || {
                (&p.other).into_iter().take(INSTANCES).map(|t| t.timestamp() as usize).fold(0usize, usize::wrapping_add)
            }),
            units: n,
        },
    ]
}

/// The calendar text of a prepared rule (parsed by the caller, who keeps it).
pub fn text(p: &Prepared) -> &str {
    &p.text
}

/// A UTC instant as `2026-12-03T09:00:00Z`, digit by digit (the experiment
/// beside chrono's `format`, which reads its pattern on every call).
fn format_utc(t: NaiveDateTime, out: &mut String) {
    use chrono::{Datelike, Timelike};
    fn two(out: &mut String, n: u32) {
        out.push(char::from(b'0' + (n / 10 % 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
    }
    let y = t.year().clamp(0, 9999) as u32;
    two(out, y / 100);
    two(out, y % 100);
    out.push('-');
    two(out, t.month());
    out.push('-');
    two(out, t.day());
    out.push('T');
    two(out, t.hour());
    out.push(':');
    two(out, t.minute());
    out.push(':');
    two(out, t.second());
    out.push('Z');
}

/// The output step of `expand` alone, for one series of the weekly rule:
/// three instants written per occurrence (start, end, recurrence id) with
/// chrono's `format`, and digit by digit.
pub fn format_cases(p: &Prepared) -> Vec<Case<'_>> {
    let instants = ours_raw(p);
    let hour = TimeDelta::hours(1);
    let n = vec![instants.len() as f64];
    let a = instants.clone();
    vec![
        Case {
            name: "3 instants per occurrence with chrono `format`".into(),
            run: Box::new(move || {
                a.iter()
                    .map(|t| {
                        let s = t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
                        let e = (*t + hour).format("%Y-%m-%dT%H:%M:%SZ").to_string();
                        let r = t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
                        s.len() + e.len() + r.len()
                    })
                    .sum()
            }),
            units: n.clone(),
        },
        Case {
            name: "3 instants per occurrence digit by digit (experiment)".into(),
            run: Box::new(move || {
                instants
                    .iter()
                    .map(|t| {
                        let (mut s, mut e, mut r) =
                            (String::with_capacity(20), String::with_capacity(20), String::with_capacity(20));
                        format_utc(*t, &mut s);
                        format_utc(*t + hour, &mut e);
                        format_utc(*t, &mut r);
                        s.len() + e.len() + r.len()
                    })
                    .sum()
            }),
            units: n,
        },
    ]
}

/// Whether the digit-by-digit writer gives chrono's text on the weekly rule.
pub fn format_agrees(p: &Prepared) -> bool {
    ours_raw(p).iter().all(|t| {
        let mut s = String::new();
        format_utc(*t, &mut s);
        s == t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    })
}
