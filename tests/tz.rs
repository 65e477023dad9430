//! Time zones (SPEC 3.1): Windows and IANA names, custom `VTIMEZONE`s compared
//! with the IANA database, real definitions from Outlook and from the corpus.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use chrono::{Datelike, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Weekday};
use chrono_tz::Tz;
use invitelink::ical::value::{DateTimeValue, parse_date_time};
use invitelink::ical::{Component, ParseOptions, parse_calendar};
use invitelink::tz::custom::CustomZone;
use invitelink::tz::windows::{WINDOWS_TO_IANA, iana_for_windows};
use invitelink::tz::{Zone, ZoneSet, resolve_global};
use proptest::prelude::*;
use std::sync::LazyLock;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

fn at(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, mi, 0).unwrap()
}

fn iana(id: &str) -> Option<&'static str> {
    resolve_global(id).and_then(|z| z.iana_name())
}

/// A calendar holding the given `VTIMEZONE` text.
fn calendar(vtimezones: &str) -> Component<'static> {
    let text = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{vtimezones}END:VCALENDAR\r\n");
    parse_calendar(&text, &ParseOptions::default()).unwrap().into_owned()
}

/// The custom zone defined by one `VTIMEZONE` text.
fn custom(vtimezone: &str) -> CustomZone {
    let cal = calendar(vtimezone);
    CustomZone::from_vtimezone(cal.children("VTIMEZONE").next().unwrap()).expect("usable VTIMEZONE")
}

// ---------------------------------------------------------------------------
// Names

#[test]
fn windows_names_of_the_spec() {
    assert_eq!(iana("W. Europe Standard Time"), Some("Europe/Berlin"));
    assert_eq!(iana("Romance Standard Time"), Some("Europe/Paris"));
    assert_eq!(iana("Pacific Standard Time"), Some("America/Los_Angeles"));
    assert_eq!(iana("GMT Standard Time"), Some("Europe/London"));
    assert_eq!(iana("AUS Eastern Standard Time"), Some("Australia/Sydney"));
    assert_eq!(iana("India Standard Time"), Some("Asia/Calcutta"));
}

#[test]
fn windows_names_ignore_ascii_case_after_an_exact_match() {
    assert_eq!(iana_for_windows("Pacific Standard Time"), Some("America/Los_Angeles"));
    assert_eq!(iana_for_windows("pacific standard time"), Some("America/Los_Angeles"));
    assert_eq!(iana_for_windows("AUS EASTERN STANDARD TIME"), Some("Australia/Sydney"));
    assert_eq!(iana_for_windows("Pacific Standard"), None);
    assert_eq!(iana_for_windows(""), None);
}

#[test]
fn exchange_duplicates_misspellings_quotes_and_prefixes() {
    assert_eq!(iana("Eastern Standard Time 1"), Some("America/New_York"));
    assert_eq!(iana("W. Europe Standard Time 12"), Some("Europe/Berlin"));
    assert_eq!(iana("W. European Standard Time"), Some("Europe/Berlin"));
    assert_eq!(iana("\"Romance Standard Time\""), Some("Europe/Paris"));
    assert_eq!(iana(" Europe/Oslo "), Some("Europe/Oslo"));
    assert_eq!(iana("/freeassociation.sourceforge.net/Tzfile/Europe/London"), Some("Europe/London"));
    assert_eq!(iana("/freeassociation.sourceforge.net/Europe/London"), Some("Europe/London"));
    assert_eq!(iana("/mozilla.org/20050126_1/Europe/Berlin"), Some("Europe/Berlin"));
    assert_eq!(iana("/softwarestudio.org/Olson_20011030_5/America/New_York"), Some("America/New_York"));
    assert_eq!(iana("/citadel.org/20190914_1/America/Argentina/Buenos_Aires"), Some("America/Argentina/Buenos_Aires"));
    assert_eq!(iana("UTC"), Some("UTC"));
    assert_eq!(iana("Etc/GMT+5"), Some("Etc/GMT+5"));
    // Names only the file's VTIMEZONE can explain.
    for unknown in [
        "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
        "Customized Time Zone",
        "Western/Central Europe",
        "Eastern",
        "Eastern Standard Time x",
        "1",
        "",
    ] {
        assert!(resolve_global(unknown).is_none(), "{unknown}");
    }
}

#[test]
fn every_windows_target_is_in_the_iana_database() {
    assert!(WINDOWS_TO_IANA.len() > 100);
    for (windows, target) in WINDOWS_TO_IANA.iter() {
        assert!(target.parse::<Tz>().is_ok(), "{windows} -> {target} unknown to chrono-tz");
        assert_eq!(iana_for_windows(windows), Some(*target), "{windows}");
        let expected = if *target == "Etc/UTC" { "UTC" } else { target };
        assert_eq!(iana(windows), Some(expected), "{windows}");
    }
    assert_eq!(invitelink::tz::windows::CLDR_CORE_VERSION, "48.2.0");
}

#[test]
fn resolution_prefers_names_then_the_calendar() {
    let cal = calendar(&format!(
        "{}{}{}",
        BERLIN.replace("TZID:Berlin (custom)", "TZID:(UTC+01:00) Amsterdam\\, Berlin\\, Bern\\, Rome"),
        // An IANA name wins over its (here wrong) definition.
        INDIA.replace("TZID:Indian Time", "TZID:Europe/London"),
        INDIA,
    ));
    let zones = ZoneSet::from_calendar(&cal);
    let amsterdam = zones.resolve("(UTC+01:00) Amsterdam, Berlin, Bern, Rome").unwrap();
    assert!(matches!(amsterdam, Zone::Custom(_)));
    assert!(matches!(zones.resolve("\"(UTC+01:00) Amsterdam, Berlin, Bern, Rome\""), Some(Zone::Custom(_))));
    assert_eq!(amsterdam.to_utc(at(2024, 7, 1, 12, 0)), at(2024, 7, 1, 10, 0));
    assert_eq!(zones.resolve("Europe/London").unwrap().iana_name(), Some("Europe/London"));
    assert!(matches!(zones.resolve("Indian Time"), Some(Zone::Custom(_))));
    assert!(zones.resolve("Nowhere").is_none());

    let v = DateTimeValue::Zoned(at(2024, 1, 15, 9, 0), "Indian Time".into());
    assert_eq!(zones.to_utc(&v), at(2024, 1, 15, 3, 30));
    let v = DateTimeValue::Zoned(at(2024, 1, 15, 9, 0), "Nowhere".into());
    assert!(matches!(zones.zone_of(&v), Zone::Floating));
    assert_eq!(zones.to_utc(&v), at(2024, 1, 15, 9, 0));

    // The stored copy's zones join those of the message without replacing them.
    let mut merged = ZoneSet::from_calendar(&calendar(""));
    merged.merge(zones);
    assert!(matches!(merged.resolve("Indian Time"), Some(Zone::Custom(_))));
}

// ---------------------------------------------------------------------------
// Custom zones against the IANA database

/// Europe/Berlin's rules since 1996, under a name nobody else knows.
const BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Berlin (custom)\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// America/New_York since 2007, with the 1987-2006 rules ended by UNTIL.
const NEW_YORK: &str = "BEGIN:VTIMEZONE\r\nTZID:US East (custom)\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nDTSTART:19870405T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T070000Z\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nDTSTART:19671029T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20061029T060000Z\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nDTSTART:20070311T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nDTSTART:20071104T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// Australia/Lord_Howe: half-hour offset and a half-hour shift, southern hemisphere.
const LORD_HOWE: &str = "BEGIN:VTIMEZONE\r\nTZID:Lord Howe (custom)\r\n\
BEGIN:STANDARD\r\nDTSTART:20080406T020000\r\nTZOFFSETFROM:+1100\r\nTZOFFSETTO:+1030\r\n\
RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:20081005T020000\r\nTZOFFSETFROM:+1030\r\nTZOFFSETTO:+1100\r\n\
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

/// America/St_Johns since 2011: offsets of -0330 and -0230.
const ST_JOHNS: &str = "BEGIN:VTIMEZONE\r\nTZID:Newfoundland (custom)\r\n\
BEGIN:STANDARD\r\nDTSTART:20111106T020000\r\nTZOFFSETFROM:-0230\r\nTZOFFSETTO:-0330\r\n\
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:20120311T020000\r\nTZOFFSETFROM:-0330\r\nTZOFFSETTO:-0230\r\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

/// As Outlook writes it (taken from the output of the benchmark corpus
/// generator), renamed so that the definition itself is read.
const OUTLOOK_SYDNEY: &str = "BEGIN:VTIMEZONE\r\nTZID:AUS Eastern Standard Time (copy)\r\n\
BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+1100\r\nTZOFFSETTO:+1000\r\n\
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+1000\r\nTZOFFSETTO:+1100\r\n\
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=10\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

/// A fixed offset as Outlook writes it (benchmark corpus generator), renamed.
const INDIA: &str = "BEGIN:VTIMEZONE\r\nTZID:Indian Time\r\n\
BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\n\
END:STANDARD\r\nEND:VTIMEZONE\r\n";

/// The last `weekday` of a month (not December).
fn last_weekday(y: i32, m: u32, weekday: Weekday) -> NaiveDate {
    let mut d = NaiveDate::from_ymd_opt(y, m + 1, 1).unwrap().pred_opt().unwrap();
    while d.weekday() != weekday {
        d = d.pred_opt().unwrap();
    }
    d
}

/// Europe/London 2020-2030 written out as RDATEs (tzurl.org style, no RRULE).
fn london_by_rdates() -> String {
    let mut summer = Vec::new();
    let mut winter = Vec::new();
    for y in 2020..=2030 {
        summer.push(format!("{}T010000", last_weekday(y, 3, Weekday::Sun).format("%Y%m%d")));
        winter.push(format!("{}T020000", last_weekday(y, 10, Weekday::Sun).format("%Y%m%d")));
    }
    format!(
        "BEGIN:VTIMEZONE\r\nTZID:London (dates)\r\n\
         BEGIN:DAYLIGHT\r\nDTSTART:{first_summer}\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\n\
         RDATE:{summer_a}\r\nRDATE:{summer_b}\r\nEND:DAYLIGHT\r\n\
         BEGIN:STANDARD\r\nDTSTART:{first_winter}\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\n\
         RDATE:{winter_all}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
        first_summer = summer[0],
        summer_a = summer[1..6].join(","),
        summer_b = summer[6..].join(","),
        first_winter = winter[0],
        winter_all = winter[1..].join(","),
    )
}

/// What RFC 5545 3.3.5 asks of a wall time, computed with the IANA database:
/// the earlier instant when repeated, moved forward by the gap when skipped.
fn expected_to_utc(tz: Tz, local: NaiveDateTime) -> NaiveDateTime {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.naive_utc(),
        LocalResult::Ambiguous(a, b) => a.naive_utc().min(b.naive_utc()),
        LocalResult::None => {
            let before = tz.from_local_datetime(&(local - TimeDelta::hours(6))).earliest().unwrap();
            local - TimeDelta::seconds(i64::from(before.offset().fix().local_minus_utc()))
        }
    }
}

/// Compares a custom zone with an IANA zone every 15 minutes of `years`, both
/// ways; returns how many skipped and repeated wall times were met.
fn compare_with_iana(zone: &CustomZone, tz: Tz, years: std::ops::RangeInclusive<i32>) -> (u32, u32) {
    let start = at(*years.start(), 1, 1, 0, 0);
    let end = at(*years.end() + 1, 1, 1, 0, 0);
    let step = TimeDelta::minutes(15);
    let (mut gaps, mut folds) = (0, 0);
    let mut t = start;
    while t < end {
        let want = tz.from_utc_datetime(&t).naive_local();
        assert_eq!(zone.from_utc(t), want, "from_utc({t}) against {tz}");
        match tz.from_local_datetime(&t) {
            LocalResult::None => gaps += 1,
            LocalResult::Ambiguous(..) => folds += 1,
            LocalResult::Single(_) => {}
        }
        assert_eq!(zone.to_utc(t), expected_to_utc(tz, t), "to_utc({t}) against {tz}");
        t += step;
    }
    (gaps, folds)
}

#[test]
fn renamed_berlin_matches_iana_2020_2030() {
    let zone = custom(BERLIN);
    let (gaps, folds) = compare_with_iana(&zone, chrono_tz::Europe::Berlin, 2020..=2030);
    assert_eq!((gaps, folds), (11 * 4, 11 * 4), "one skipped and one repeated hour a year");
    // The edges, by hand: 2021-03-28 02:30 does not exist; 2021-10-31 02:30 happens twice.
    assert_eq!(zone.to_utc(at(2021, 3, 28, 1, 59)), at(2021, 3, 28, 0, 59));
    assert_eq!(zone.to_utc(at(2021, 3, 28, 2, 30)), at(2021, 3, 28, 1, 30));
    assert_eq!(zone.to_utc(at(2021, 3, 28, 3, 0)), at(2021, 3, 28, 1, 0));
    assert_eq!(zone.to_utc(at(2021, 10, 31, 2, 30)), at(2021, 10, 31, 0, 30));
    assert_eq!(zone.to_utc(at(2021, 10, 31, 3, 0)), at(2021, 10, 31, 2, 0));
    assert_eq!(zone.from_utc(at(2021, 10, 31, 0, 30)), at(2021, 10, 31, 2, 30));
    assert_eq!(zone.from_utc(at(2021, 10, 31, 1, 30)), at(2021, 10, 31, 2, 30));
    // Before the first observance: its TZOFFSETFROM.
    assert_eq!(zone.to_utc(at(1960, 7, 1, 12, 0)), at(1960, 7, 1, 11, 0));
}

#[test]
fn renamed_new_york_with_two_eras_matches_iana() {
    let zone = custom(NEW_YORK);
    compare_with_iana(&zone, chrono_tz::America::New_York, 2004..=2030);
}

#[test]
fn half_hour_zones_match_iana() {
    compare_with_iana(&custom(LORD_HOWE), chrono_tz::Australia::Lord_Howe, 2020..=2030);
    compare_with_iana(&custom(ST_JOHNS), chrono_tz::America::St_Johns, 2020..=2030);
}

#[test]
fn outlook_definition_matches_iana() {
    let zone = custom(OUTLOOK_SYDNEY);
    let (gaps, folds) = compare_with_iana(&zone, chrono_tz::Australia::Sydney, 2020..=2030);
    assert!(gaps > 0 && folds > 0);
}

#[test]
fn rdate_definition_matches_iana() {
    let zone = custom(&london_by_rdates());
    let (gaps, folds) = compare_with_iana(&zone, chrono_tz::Europe::London, 2020..=2030);
    assert_eq!((gaps, folds), (44, 44));
}

#[test]
fn fixed_offsets() {
    let india = custom(INDIA);
    assert_eq!(india.to_utc(at(2024, 6, 1, 9, 0)), at(2024, 6, 1, 3, 30));
    assert_eq!(india.from_utc(at(1800, 1, 1, 0, 0)), at(1800, 1, 1, 5, 30));
    assert_eq!(india.from_utc(at(2500, 1, 1, 0, 0)), at(2500, 1, 1, 5, 30));
    compare_with_iana(&india, chrono_tz::Asia::Kolkata, 2020..=2022);

    let odd = custom(
        "BEGIN:VTIMEZONE\r\nTZID:Odd\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n\
         TZOFFSETFROM:-033012\r\nTZOFFSETTO:-033012\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
    );
    let utc = at(2024, 1, 1, 12, 0);
    assert_eq!(odd.from_utc(utc), utc - TimeDelta::seconds(3 * 3600 + 30 * 60 + 12));
    assert_eq!(odd.to_utc(odd.from_utc(utc)), utc);
}

#[test]
fn outlook_request_resolves_by_windows_name() {
    // A whole Outlook VTIMEZONE as the benchmark generator writes it: the
    // Windows name wins, and the definition agrees with it.
    let cal = calendar(&OUTLOOK_SYDNEY.replace(" (copy)", ""));
    let zones = ZoneSet::from_calendar(&cal);
    let zone = zones.resolve("AUS Eastern Standard Time").unwrap();
    assert_eq!(zone.iana_name(), Some("Australia/Sydney"));
    assert_eq!(zone.to_utc(at(2026, 1, 15, 10, 0)), at(2026, 1, 14, 23, 0));
}

// ---------------------------------------------------------------------------
// Real files

fn read_corpus(path: &str) -> String {
    std::fs::read_to_string(format!("{CORPUS}/{path}")).unwrap()
}

fn expected(path: &str) -> serde_json::Value {
    serde_json::from_str(&read_corpus(&format!("expected/{path}.json"))).unwrap()
}

fn utc_of(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").unwrap()
}

/// For each recurring master of `path` whose `DTSTART` has a `TZID` (which
/// must resolve; to the file's own `VTIMEZONE` when `custom_only`), every
/// occurrence both references agree on, read back in that zone, falls at the
/// wall time of `DTSTART`, and that wall time converts back to the same
/// instant. Returns the count checked.
fn occurrences_keep_their_wall_time(path: &str, custom_only: bool) -> usize {
    let text = read_corpus(path);
    let Ok(cal) = parse_calendar(&text, &ParseOptions::default()) else { return 0 };
    let zones = ZoneSet::from_calendar(&cal);
    let expected = expected(path);
    let mut checked = 0;
    for ev in cal.children("VEVENT") {
        let Some(rule) = ev.value("RRULE") else { continue };
        // Rules that set their own hours, and extra dates, leave the wall time of DTSTART.
        if ev.prop("RECURRENCE-ID").is_some() || ev.prop("RDATE").is_some() || rule.contains("BYHOUR") {
            continue;
        }
        let Some(Ok(start)) = ev.prop("DTSTART").map(parse_date_time) else { continue };
        let Some(tzid) = start.tzid() else { continue };
        let zone = zones.resolve(tzid).unwrap_or_else(|| panic!("{path}: `{tzid}` unresolved"));
        if custom_only {
            assert!(matches!(zone, Zone::Custom(_)), "{path}: `{tzid}` should be read from the file");
        }
        let uid = ev.value("UID").unwrap_or("(no UID)");
        for occ in expected["occurrences"].as_array().into_iter().flatten() {
            let Some(rid) = occ["recurrence_id"].as_str().filter(|_| occ["uid"] == uid) else { continue };
            let instant = utc_of(rid);
            let wall = zone.from_utc(instant);
            assert_eq!(wall.time(), start.local().time(), "{path}: occurrence {rid}");
            assert_eq!(zone.to_utc(wall), instant, "{path}: occurrence {rid}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn corpus_custom_zones_agree_with_both_references() {
    // Outlook-style names only the VTIMEZONE of the file explains.
    assert!(occurrences_keep_their_wall_time("ical4j__ical4j/Standup.ics", true) > 500);
    assert!(occurrences_keep_their_wall_time("ical4j__ical4j/2207678.ics", true) > 100);
    assert_eq!(occurrences_keep_their_wall_time("ical4j__ical4j/calconnect3.ics", true), 5);
}

#[test]
fn corpus_zones_agree_with_both_references_everywhere() {
    let mut files = 0;
    let mut total = 0;
    for dir in std::fs::read_dir(CORPUS).unwrap() {
        let dir = dir.unwrap().path();
        if dir.file_name().unwrap() == "expected" || !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_none_or(|e| e != "ics") {
                continue;
            }
            let rel = format!(
                "{}/{}",
                dir.file_name().unwrap().to_str().unwrap(),
                file.file_name().unwrap().to_str().unwrap()
            );
            let n = occurrences_keep_their_wall_time(&rel, false);
            if n > 0 {
                files += 1;
                total += n;
            }
        }
    }
    eprintln!("{files} files, {total} occurrences");
    assert!(files >= 10);
}

#[test]
fn corpus_single_events_in_custom_zones() {
    // (file, TZID as the events write it, DTSTART wall time, start agreed by both references)
    let cases = [
        ("ical4j__ical4j/tmeher.ics", "Pacific Time (US & Canada), Tijuana", at(2004, 10, 11, 22, 30)),
        ("ical4j__ical4j/test-relaxed-parsing.ics", "(GMT-03:00)", at(2016, 5, 18, 12, 30)),
    ];
    for (path, tzid, local) in cases {
        let text = read_corpus(path);
        let cal = parse_calendar(&text, &ParseOptions::default()).unwrap();
        let zones = ZoneSet::from_calendar(&cal);
        let zone = zones.resolve(tzid).unwrap_or_else(|| panic!("{path}: `{tzid}`"));
        assert!(matches!(zone, Zone::Custom(_)), "{path}");
        let want = utc_of(expected(path)["occurrences"][0]["start"].as_str().unwrap());
        assert_eq!(zone.to_utc(local), want, "{path}");
    }
}

// ---------------------------------------------------------------------------
// Properties

static PROPERTY_ZONES: LazyLock<Vec<CustomZone>> = LazyLock::new(|| {
    vec![custom(BERLIN), custom(LORD_HOWE), custom(&london_by_rdates()), custom(INDIA), custom(NEW_YORK)]
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// An instant read as wall time and converted back is the same instant,
    /// but in a repeated hour, where the earlier of the two instants is given.
    #[test]
    fn to_utc_undoes_from_utc(secs in -2_208_988_800i64..10_413_792_000i64, which in 0usize..5) {
        let zone = &PROPERTY_ZONES[which];
        let t = chrono::DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
        let wall = zone.from_utc(t);
        let back = zone.to_utc(wall);
        if back != t {
            prop_assert!(back < t && t - back <= TimeDelta::hours(1), "{t}: {wall} -> {back}");
            prop_assert_eq!(zone.from_utc(back), wall);
        }
    }

    /// A wall time converted to an instant reads back as the same wall time,
    /// but in a skipped hour, where it reads back later by the length of the gap.
    #[test]
    fn from_utc_undoes_to_utc(secs in -2_208_988_800i64..10_413_792_000i64, which in 0usize..5) {
        let zone = &PROPERTY_ZONES[which];
        let wall = chrono::DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
        let again = zone.from_utc(zone.to_utc(wall));
        prop_assert!(again >= wall && again - wall <= TimeDelta::hours(1), "{wall} -> {again}");
    }
}

/// The zone a `TZID` resolves to in a calendar with the given `VTIMEZONE`s.
fn resolved_in(vtimezones: &str, tzid: &str) -> Option<&'static str> {
    let cal = calendar(vtimezones);
    match ZoneSet::from_calendar(&cal).resolve(tzid)? {
        Zone::Iana(tz) => Some(tz.name()),
        Zone::Utc => Some("UTC"),
        Zone::Custom(_) => Some("custom"),
        Zone::Floating => None,
    }
}

#[test]
fn exchange_display_names_resolve_without_a_vtimezone() {
    let cases = [
        ("(UTC-05:00) Eastern Time (US & Canada)", Some("America/New_York")),
        ("\"(UTC-05:00) Eastern Time (US & Canada)\"", Some("America/New_York")),
        ("(UTC-05:00)  eastern time (us & canada)", Some("America/New_York")),
        ("(GMT-05:00) Eastern Time (US & Canada)", Some("America/New_York")),
        ("(GMT+10:00) Canberra, Melbourne, Sydney", Some("Australia/Sydney")),
        ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", Some("Europe/Berlin")),
        ("(UTC+00:00) Dublin, Edinburgh, Lisbon, London", Some("Europe/London")),
        ("(UTC) Coordinated Universal Time", Some("Etc/UTC")),
        ("tzone://Microsoft/Eastern", Some("America/New_York")),
        ("tzone://Microsoft/Pacific Standard Time", Some("America/Los_Angeles")),
        ("tzone://Microsoft/Utc", Some("UTC")),
        // Not Windows' words: stays floating.
        ("(UTC+01:00) Atlantis", None),
        ("tzone://Microsoft/Custom", None),
    ];
    for (tzid, want) in cases {
        assert_eq!(resolved_in("", tzid), want, "{tzid}");
    }
    // The calendar's own VTIMEZONE of that name still wins.
    let own = "BEGIN:VTIMEZONE\r\nTZID:(UTC-05:00) Eastern Time (US & Canada)\r\nBEGIN:STANDARD\r\n\
               DTSTART:16010101T000000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";
    assert_eq!(resolved_in(own, "(UTC-05:00) Eastern Time (US & Canada)"), Some("custom"));
    // An event in such a zone lands at the right instant (EST, UTC-5, in January).
    let cal = calendar("");
    let zones = ZoneSet::from_calendar(&cal);
    let v = DateTimeValue::Zoned(at(2026, 1, 15, 9, 0), "(UTC-05:00) Eastern Time (US & Canada)".into());
    assert_eq!(zones.to_utc(&v), at(2026, 1, 15, 14, 0));
}

#[test]
fn every_generated_display_name_names_a_cldr_zone() {
    use invitelink::tz::display_names::DISPLAY_TO_WINDOWS;
    assert!(DISPLAY_TO_WINDOWS.len() >= 130);
    for (display, windows) in DISPLAY_TO_WINDOWS.iter() {
        assert!(iana_for_windows(windows).is_some(), "{display} -> {windows}");
        assert!(resolved_in("", display).is_some(), "{display}");
    }
}

// ---------------------------------------------------------------------------
// The compact IANA table of the WebAssembly build against chrono-tz

/// The offsets of a wall time, as seconds east of UTC.
fn local_offsets<T: TimeZone>(tz: &T, local: NaiveDateTime) -> LocalResult<i32> {
    tz.offset_from_local_datetime(&local).map(|o| o.fix().local_minus_utc())
}

#[test]
fn the_compact_table_answers_as_chrono_tz_for_every_zone() {
    use invitelink::tz::iana;
    assert_eq!(iana::TZDB_VERSION, chrono_tz::IANA_TZDB_VERSION, "regenerate with `cargo xtask gen-tz-data`");
    let ours: Vec<&str> = iana::Tz::all().map(iana::Tz::name).collect();
    let mut theirs: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);
    let instant = |secs: i64| chrono::DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
    for tz in chrono_tz::TZ_VARIANTS {
        let compact: iana::Tz = tz.name().parse().unwrap();
        assert_eq!(compact.name(), tz.name());
        let utc = |secs: i64| {
            let t = instant(secs);
            let want = tz.offset_from_utc_datetime(&t).fix().local_minus_utc();
            assert_eq!(compact.offset_from_utc_datetime(&t).fix().local_minus_utc(), want, "{tz} at {t} UTC");
        };
        let local = |secs: i64| {
            let t = instant(secs);
            assert_eq!(local_offsets(&compact, t), local_offsets(&tz, t), "{tz} at {t} local");
        };
        // Every transition, from both sides, in UTC and in wall time.
        let mut before = compact.initial_offset();
        for &(at, after) in compact.transitions() {
            for d in [-1, 0, 1] {
                utc(at + d);
            }
            for wall in [at + i64::from(before), at + i64::from(after)] {
                for d in [-3601, -1, 0, 1, 3600] {
                    local(wall + d);
                }
            }
            before = after;
        }
        // And every four weeks between, from 1850 to 2050, at 12:00 UTC and local.
        let mut t = -3_786_825_600;
        while t < 2_524_608_000 {
            utc(t + 43_200);
            local(t + 43_200);
            t += 28 * 86_400;
        }
    }
}
