//! Significant changes (RFC 5546 2.1.4): the changes after which the
//! organizer raises `SEQUENCE` and attendees must answer again.
//!
//! RFC 5546 2.1.4 leaves the list to the implementation. We take the
//! properties that decide when and how often the event happens, as
//! sabre/vobject does, plus `LOCATION`, as Stalwart and the CRM we mirror do
//! (a meeting moved to another place must be confirmed again, SPEC 3.3 rule 4).

use super::object::{recurrence_key, recurrence_line};
use crate::ical::Component;
use crate::ical::value::{DateOrPeriod, DateTimeValue, parse_date_list, parse_date_time, parse_duration};
use crate::tz::ZoneSet;
use std::collections::{BTreeMap, BTreeSet};

/// The properties whose change is significant: when (`DTSTART`, `DTEND`,
/// `DURATION`, `DUE`), how often (`RRULE`, `RDATE`, `EXDATE`), whether
/// (`STATUS`) and where (`LOCATION`).
pub const SIGNIFICANT_PROPERTIES: [&str; 9] =
    ["DTSTART", "DTEND", "DURATION", "DUE", "RRULE", "RDATE", "EXDATE", "STATUS", "LOCATION"];

/// Whether the change from `old` to `new` (two calendars holding the same
/// scheduling object) is significant: a significant property of a component
/// differs, or an overridden instance was added or removed.
///
/// Values are compared for what they mean, not how they are written:
/// `RRULE` as a set of parts (`INTERVAL=1` is the default and may be left
/// out), `RDATE` and `EXDATE` as sets of instants, whatever their grouping
/// into properties, durations by length, time zones by the zone they name.
pub fn is_significant_change(old: &Component<'_>, new: &Component<'_>) -> bool {
    fingerprint(old) != fingerprint(new)
}

/// Normalized significant properties of each component, by instance.
type Fingerprint = BTreeMap<String, BTreeMap<&'static str, BTreeSet<String>>>;

pub(crate) fn fingerprint(calendar: &Component<'_>) -> Fingerprint {
    let zones = ZoneSet::from_calendar(calendar);
    let mut out = Fingerprint::new();
    for comp in calendar.components.iter().filter(|c| c.is("VEVENT") || c.is("VTODO")) {
        let key = match recurrence_key(&zones, comp) {
            Ok(Some(k)) => k.format("%Y%m%dT%H%M%S").to_string(),
            Ok(None) => "master".to_owned(),
            Err(_) => recurrence_line(comp).map(|p| p.value.to_string()).unwrap_or_default(),
        };
        // The first component of an instance wins (duplicates are ignored).
        out.entry(key).or_insert_with(|| component_fingerprint(&zones, comp));
    }
    out
}

fn component_fingerprint(zones: &ZoneSet, comp: &Component<'_>) -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut map = BTreeMap::new();
    for name in SIGNIFICANT_PROPERTIES {
        let mut values = BTreeSet::new();
        for p in comp.props(name) {
            match name {
                "DTSTART" | "DTEND" | "DUE" => {
                    values.insert(match parse_date_time(p) {
                        Ok(v) => date_time_key(zones, &v),
                        Err(_) => p.value.trim().to_owned(),
                    });
                }
                "DURATION" => {
                    values.insert(match parse_duration(&p.value) {
                        Some(d) => d.num_seconds().to_string(),
                        None => p.value.trim().to_owned(),
                    });
                }
                "RRULE" => {
                    values.insert(rrule_key(&p.value));
                }
                "RDATE" | "EXDATE" => match parse_date_list(p) {
                    Ok(list) => {
                        for item in list {
                            values.insert(match item {
                                DateOrPeriod::At(v) => date_time_key(zones, &v),
                                DateOrPeriod::Period(start, end) => format!("{}/{end:?}", date_time_key(zones, &start)),
                            });
                        }
                    }
                    Err(_) => {
                        values.insert(p.value.trim().to_owned());
                    }
                },
                "STATUS" => {
                    values.insert(p.value.trim().to_ascii_uppercase());
                }
                _ => {
                    values.insert(p.text().trim().to_owned());
                }
            }
        }
        if !values.is_empty() {
            map.insert(name, values);
        }
    }
    map
}

/// A date-time by what it means: its form, its instant and its zone.
fn date_time_key(zones: &ZoneSet, v: &DateTimeValue) -> String {
    match v {
        DateTimeValue::Date(d) => format!("D{}", d.format("%Y%m%d")),
        DateTimeValue::Floating(t) => format!("F{}", t.format("%Y%m%dT%H%M%S")),
        DateTimeValue::Utc(t) => format!("U{}", t.format("%Y%m%dT%H%M%S")),
        DateTimeValue::Zoned(_, tzid) => {
            let zone = zones.zone_of(v);
            let name = zone.iana_name().map(str::to_owned).unwrap_or_else(|| tzid.trim().to_owned());
            format!("Z{}@{name}", zones.to_utc(v).format("%Y%m%dT%H%M%S"))
        }
    }
}

/// An `RRULE` as a sorted set of upper-case parts, list values sorted,
/// `INTERVAL=1` dropped.
pub(crate) fn rrule_key(rule: &str) -> String {
    let mut parts: Vec<String> = rule
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let k = k.trim().to_ascii_uppercase();
            let mut items: Vec<String> = v.split(',').map(|i| i.trim().to_ascii_uppercase()).collect();
            items.sort();
            let v = items.join(",");
            if k == "INTERVAL" && v == "1" { None } else { Some(format!("{k}={v}")) }
        })
        .collect();
    parts.sort();
    parts.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::{ParseOptions, parse_calendar};

    fn cal(body: &str) -> Component<'static> {
        let text = format!("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n");
        parse_calendar(&text, &ParseOptions::default()).unwrap().into_owned()
    }

    #[test]
    fn rules_compare_as_sets_of_parts() {
        let a = cal("DTSTART:20260101T100000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU\r\n");
        let b = cal("DTSTART:20260101T100000Z\r\nRRULE:BYDAY=TU,MO;INTERVAL=1;FREQ=WEEKLY\r\n");
        assert!(!is_significant_change(&a, &b));
        let c = cal("DTSTART:20260101T100000Z\r\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU\r\n");
        assert!(is_significant_change(&a, &c));
    }

    #[test]
    fn exdates_compare_as_sets() {
        let a = cal("EXDATE:20260101T100000Z,20260108T100000Z\r\nEXDATE:20260115T100000Z\r\n");
        let b = cal("EXDATE:20260115T100000Z,20260101T100000Z\r\nEXDATE:20260108T100000Z\r\n");
        assert!(!is_significant_change(&a, &b));
    }

    #[test]
    fn location_and_time_are_significant_summary_is_not() {
        let a = cal("DTSTART:20260101T100000Z\r\nLOCATION:Room 1\r\nSUMMARY:a\r\n");
        assert!(!is_significant_change(&a, &cal("DTSTART:20260101T100000Z\r\nLOCATION:Room 1\r\nSUMMARY:b\r\n")));
        assert!(is_significant_change(&a, &cal("DTSTART:20260101T100000Z\r\nLOCATION:Room 2\r\nSUMMARY:a\r\n")));
        assert!(is_significant_change(&a, &cal("DTSTART:20260101T110000Z\r\nLOCATION:Room 1\r\nSUMMARY:a\r\n")));
        assert!(!is_significant_change(&cal("DURATION:PT60M\r\n"), &cal("DURATION:PT1H\r\n")));
    }
}
