//! The examples of RFC 5545 3.8.5.3 as data, and property tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::*;
use crate::tz::{Zone, resolve_global};
use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;

/// One example: the rule, `DTSTART` (America/New_York wall time), the
/// instances expected and whether that list is the whole set (otherwise its
/// first instances).
struct Example {
    name: &'static str,
    rule: &'static str,
    start: &'static str,
    expected: &'static str,
    complete: bool,
}

const fn ex(
    name: &'static str,
    rule: &'static str,
    start: &'static str,
    expected: &'static str,
    complete: bool,
) -> Example {
    Example { name, rule, start, expected, complete }
}

/// Instances are written `YYYYMMDD` (at the time of `DTSTART`) or
/// `YYYYMMDDTHHMMSS`, separated by spaces.
const RFC_EXAMPLES: &[Example] = &[
    ex(
        "daily for 10 occurrences",
        "FREQ=DAILY;COUNT=10",
        "19970902T090000",
        "19970902 19970903 19970904 19970905 19970906 19970907 19970908 19970909 19970910 19970911",
        true,
    ),
    ex(
        "every other day, forever",
        "FREQ=DAILY;INTERVAL=2",
        "19970902T090000",
        "19970902 19970904 19970906 19970908 19970910 19970912 19970914",
        false,
    ),
    ex(
        "every 10 days, 5 occurrences",
        "FREQ=DAILY;INTERVAL=10;COUNT=5",
        "19970902T090000",
        "19970902 19970912 19970922 19971002 19971012",
        true,
    ),
    ex(
        "weekly for 10 occurrences",
        "FREQ=WEEKLY;COUNT=10",
        "19970902T090000",
        "19970902 19970909 19970916 19970923 19970930 19971007 19971014 19971021 19971028 19971104",
        true,
    ),
    ex(
        "weekly until December 24, 1997",
        "FREQ=WEEKLY;UNTIL=19971224T000000Z",
        "19970902T090000",
        "19970902 19970909 19970916 19970923 19970930 19971007 19971014 19971021 19971028 19971104 19971111 \
         19971118 19971125 19971202 19971209 19971216 19971223",
        true,
    ),
    ex(
        "every other week, forever",
        "FREQ=WEEKLY;INTERVAL=2;WKST=SU",
        "19970902T090000",
        "19970902 19970916 19970930 19971014 19971028 19971111 19971125 19971209 19971223 19980106 19980120",
        false,
    ),
    ex(
        "weekly on Tuesday and Thursday for five weeks (UNTIL)",
        "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH",
        "19970902T090000",
        "19970902 19970904 19970909 19970911 19970916 19970918 19970923 19970925 19970930 19971002",
        true,
    ),
    ex(
        "weekly on Tuesday and Thursday for five weeks (COUNT)",
        "FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH",
        "19970902T090000",
        "19970902 19970904 19970909 19970911 19970916 19970918 19970923 19970925 19970930 19971002",
        true,
    ),
    ex(
        "every other week on Monday, Wednesday and Friday until December 24, 1997",
        "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR",
        "19970901T090000",
        "19970901 19970903 19970905 19970915 19970917 19970919 19970929 19971001 19971003 19971013 19971015 19971017 \
         19971027 19971029 19971031 19971110 19971112 19971114 19971124 19971126 19971128 19971208 19971210 19971212 \
         19971222",
        true,
    ),
    ex(
        "every other week on Tuesday and Thursday, for 8 occurrences",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH",
        "19970902T090000",
        "19970902 19970904 19970916 19970918 19970930 19971002 19971014 19971016",
        true,
    ),
    ex(
        "monthly on the first Friday for 10 occurrences",
        "FREQ=MONTHLY;COUNT=10;BYDAY=1FR",
        "19970905T090000",
        "19970905 19971003 19971107 19971205 19980102 19980206 19980306 19980403 19980501 19980605",
        true,
    ),
    ex(
        "monthly on the first Friday until December 24, 1997",
        "FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR",
        "19970905T090000",
        "19970905 19971003 19971107 19971205",
        true,
    ),
    ex(
        "every other month on the first and last Sunday for 10 occurrences",
        "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU",
        "19970907T090000",
        "19970907 19970928 19971102 19971130 19980104 19980125 19980301 19980329 19980503 19980531",
        true,
    ),
    ex(
        "monthly on the second-to-last Monday for 6 months",
        "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO",
        "19970922T090000",
        "19970922 19971020 19971117 19971222 19980119 19980216",
        true,
    ),
    ex(
        "monthly on the third-to-the-last day, forever",
        "FREQ=MONTHLY;BYMONTHDAY=-3",
        "19970928T090000",
        "19970928 19971029 19971128 19971229 19980129 19980226",
        false,
    ),
    ex(
        "monthly on the 2nd and 15th for 10 occurrences",
        "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15",
        "19970902T090000",
        "19970902 19970915 19971002 19971015 19971102 19971115 19971202 19971215 19980102 19980115",
        true,
    ),
    ex(
        "monthly on the first and last day for 10 occurrences",
        "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1",
        "19970930T090000",
        "19970930 19971001 19971031 19971101 19971130 19971201 19971231 19980101 19980131 19980201",
        true,
    ),
    ex(
        "every 18 months on the 10th to 15th for 10 occurrences",
        "FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15",
        "19970910T090000",
        "19970910 19970911 19970912 19970913 19970914 19970915 19990310 19990311 19990312 19990313",
        true,
    ),
    ex(
        "every Tuesday, every other month",
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU",
        "19970902T090000",
        "19970902 19970909 19970916 19970923 19970930 19971104 19971111 19971118 19971125 19980106 19980113 19980120 \
         19980127 19980303 19980310 19980317 19980324 19980331",
        false,
    ),
    ex(
        "yearly in June and July for 10 occurrences",
        "FREQ=YEARLY;COUNT=10;BYMONTH=6,7",
        "19970610T090000",
        "19970610 19970710 19980610 19980710 19990610 19990710 20000610 20000710 20010610 20010710",
        true,
    ),
    ex(
        "every other year on January, February and March for 10 occurrences",
        "FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3",
        "19970310T090000",
        "19970310 19990110 19990210 19990310 20010110 20010210 20010310 20030110 20030210 20030310",
        true,
    ),
    ex(
        "every third year on the 1st, 100th and 200th day for 10 occurrences",
        "FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200",
        "19970101T090000",
        "19970101 19970410 19970719 20000101 20000409 20000718 20030101 20030410 20030719 20060101",
        true,
    ),
    ex(
        "every 20th Monday of the year, forever",
        "FREQ=YEARLY;BYDAY=20MO",
        "19970519T090000",
        "19970519 19980518 19990517",
        false,
    ),
    ex(
        "Monday of week number 20, forever",
        "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
        "19970512T090000",
        "19970512 19980511 19990517",
        false,
    ),
    ex(
        "every Thursday in March, forever",
        "FREQ=YEARLY;BYMONTH=3;BYDAY=TH",
        "19970313T090000",
        "19970313 19970320 19970327 19980305 19980312 19980319 19980326 19990304 19990311 19990318 19990325",
        false,
    ),
    ex(
        "every Thursday, but only during June, July and August, forever",
        "FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8",
        "19970605T090000",
        "19970605 19970612 19970619 19970626 19970703 19970710 19970717 19970724 19970731 19970807 19970814 19970821 \
         19970828 19980604 19980611 19980618 19980625 19980702 19980709 19980716 19980723 19980730 19980806 19980813 \
         19980820 19980827 19990603 19990610 19990617 19990624 19990701 19990708 19990715 19990722 19990729 19990805 \
         19990812 19990819 19990826",
        false,
    ),
    // DTSTART does not match; the RFC excludes it with an EXDATE, and it is the first instance here.
    ex(
        "every Friday the 13th, forever",
        "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
        "19970902T090000",
        "19970902 19980213 19980313 19981113 19990813 20001013",
        false,
    ),
    ex(
        "the first Saturday that follows the first Sunday of the month, forever",
        "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13",
        "19970913T090000",
        "19970913 19971011 19971108 19971213 19980110 19980207 19980307 19980411 19980509 19980613",
        false,
    ),
    ex(
        "every 4 years, the first Tuesday after a Monday in November, forever",
        "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8",
        "19961105T090000",
        "19961105 20001107 20041102",
        false,
    ),
    ex(
        "the third instance of Tuesday, Wednesday or Thursday, for the next 3 months",
        "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3",
        "19970904T090000",
        "19970904 19971007 19971106",
        true,
    ),
    ex(
        "the second-to-last weekday of the month",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2",
        "19970929T090000",
        "19970929 19971030 19971127 19971230 19980129 19980226 19980330",
        false,
    ),
    // The RFC lists 15:00 as well, but 15:00 EDT is 19:00Z, after UNTIL (17:00Z is 13:00 EDT).
    ex(
        "every 3 hours from 9:00 AM on a specific day",
        "FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z",
        "19970902T090000",
        "19970902T090000 19970902T120000",
        true,
    ),
    ex(
        "every 15 minutes for 6 occurrences",
        "FREQ=MINUTELY;INTERVAL=15;COUNT=6",
        "19970902T090000",
        "19970902T090000 19970902T091500 19970902T093000 19970902T094500 19970902T100000 19970902T101500",
        true,
    ),
    ex(
        "every hour and a half for 4 occurrences",
        "FREQ=MINUTELY;INTERVAL=90;COUNT=4",
        "19970902T090000",
        "19970902T090000 19970902T103000 19970902T120000 19970902T133000",
        true,
    ),
    ex(
        "every 20 minutes from 9:00 to 16:40 (DAILY)",
        "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40",
        "19970902T090000",
        "19970902T090000 19970902T092000 19970902T094000 19970902T100000 19970902T102000 19970902T104000 \
         19970902T110000 19970902T112000 19970902T114000 19970902T120000 19970902T122000 19970902T124000 \
         19970902T130000 19970902T132000 19970902T134000 19970902T140000 19970902T142000 19970902T144000 \
         19970902T150000 19970902T152000 19970902T154000 19970902T160000 19970902T162000 19970902T164000 \
         19970903T090000 19970903T092000",
        false,
    ),
    ex(
        "every 20 minutes from 9:00 to 16:40 (MINUTELY)",
        "FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16",
        "19970902T090000",
        "19970902T090000 19970902T092000 19970902T094000 19970902T100000 19970902T102000 19970902T104000 \
         19970902T110000 19970902T112000 19970902T114000 19970902T120000 19970902T122000 19970902T124000 \
         19970902T130000 19970902T132000 19970902T134000 19970902T140000 19970902T142000 19970902T144000 \
         19970902T150000 19970902T152000 19970902T154000 19970902T160000 19970902T162000 19970902T164000 \
         19970903T090000 19970903T092000",
        false,
    ),
    ex(
        "WKST makes a difference (MO)",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
        "19970805T090000",
        "19970805 19970810 19970819 19970824",
        true,
    ),
    ex(
        "WKST makes a difference (SU)",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
        "19970805T090000",
        "19970805 19970817 19970819 19970831",
        true,
    ),
    ex(
        "an invalid date (February 30) is ignored",
        "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5",
        "20070115T090000",
        "20070115 20070130 20070215 20070315 20070330",
        true,
    ),
];

/// More cases of our own: defaults, SKIP, negative parts, week numbers.
const MORE_EXAMPLES: &[Example] = &[
    ex(
        "daily in January for 3 years (YEARLY, every weekday)",
        "FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA",
        "19980101T090000",
        "",
        true,
    ),
    ex(
        "yearly on February 29 skips common years",
        "FREQ=YEARLY;COUNT=3",
        "20000229T090000",
        "20000229 20040229 20080229",
        true,
    ),
    ex(
        "RSCALE=GREGORIAN;SKIP=FORWARD moves February 29 to March 1",
        "RSCALE=GREGORIAN;FREQ=YEARLY;SKIP=FORWARD;COUNT=5",
        "20120229T000000",
        "20120229 20130301 20140301 20150301 20160229",
        true,
    ),
    ex(
        "SKIP=BACKWARD moves the 31st to the last day",
        "RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=BACKWARD;COUNT=4",
        "20260131T100000",
        "20260131 20260228 20260331 20260430",
        true,
    ),
    ex(
        "monthly on the 31st skips short months",
        "FREQ=MONTHLY;COUNT=4",
        "20260131T100000",
        "20260131 20260331 20260531 20260731",
        true,
    ),
    ex(
        "BYYEARDAY=-307 is the last day of February",
        "FREQ=YEARLY;BYYEARDAY=-307;COUNT=3",
        "20240229T080000",
        "20240229 20250228 20260228",
        true,
    ),
    ex(
        "week 1 may start in December",
        "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO;COUNT=4",
        "20241230T080000",
        "20241230 20251229 20270104 20280103",
        true,
    ),
    ex(
        "last week of the year (DTSTART in week 52 of 53)",
        "FREQ=YEARLY;BYWEEKNO=-1;BYDAY=SU;COUNT=3",
        "20261227T080000",
        "20261227 20270103 20280102 20281231",
        true,
    ),
    ex(
        "BYWEEKNO alone takes the weekday of DTSTART",
        "FREQ=YEARLY;BYWEEKNO=20;COUNT=3",
        "20260513T080000",
        "20260513 20270519 20280517",
        true,
    ),
    ex(
        "last working day of the month",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=4",
        "20260130T170000",
        "20260130 20260227 20260331 20260430",
        true,
    ),
    ex(
        "first and last Monday of the year",
        "FREQ=YEARLY;BYDAY=1MO,-1MO;COUNT=4",
        "20260105T080000",
        "20260105 20261228 20270104 20271227",
        true,
    ),
    ex(
        "BYSETPOS over times",
        "FREQ=DAILY;BYHOUR=9,12,15;BYSETPOS=-1;COUNT=2",
        "20260101T150000",
        "20260101T150000 20260102T150000",
        true,
    ),
    ex(
        "DTSTART not matching comes on top of COUNT",
        "FREQ=WEEKLY;BYDAY=MO;COUNT=3",
        "20260107T090000",
        "20260107 20260112 20260119 20260126",
        true,
    ),
    ex(
        "DTSTART matching is the first of COUNT",
        "FREQ=WEEKLY;BYDAY=MO;COUNT=3",
        "20260105T090000",
        "20260105 20260112 20260119",
        true,
    ),
    ex("COUNT=0 leaves DTSTART alone", "FREQ=DAILY;COUNT=0", "20260105T090000", "20260105", true),
    ex(
        "UNTIL as a date includes that day",
        "FREQ=DAILY;UNTIL=20260103",
        "20260101T090000",
        "20260101 20260102 20260103",
        true,
    ),
    ex("UNTIL before DTSTART keeps DTSTART", "FREQ=DAILY;UNTIL=20250101", "20260101T090000", "20260101", true),
    ex(
        "hourly with a day filter skips whole days",
        "FREQ=HOURLY;INTERVAL=5;BYDAY=SA;COUNT=5",
        "20260102T000000",
        "20260102T000000 20260103T010000 20260103T060000 20260103T110000 20260103T160000 20260103T210000",
        true,
    ),
    ex(
        "secondly within one minute a day",
        "FREQ=SECONDLY;BYHOUR=9;BYMINUTE=30;BYSECOND=0,30;COUNT=4",
        "20260101T093000",
        "20260101T093000 20260101T093030 20260102T093000 20260102T093030",
        true,
    ),
    ex(
        "weekly ordinal is ignored",
        "FREQ=WEEKLY;BYDAY=1MO;COUNT=3",
        "20260105T080000",
        "20260105 20260112 20260119",
        true,
    ),
    ex(
        "monthly with BYMONTH limits",
        "FREQ=MONTHLY;BYMONTH=1,7;BYMONTHDAY=1;COUNT=3",
        "20260101T080000",
        "20260101 20260701 20270101",
        true,
    ),
    ex(
        "daily with BYMONTHDAY and BYMONTH",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=-1;COUNT=3",
        "20260228T080000",
        "20260228 20270228 20280229",
        true,
    ),
];

fn parse_local(s: &str, start: NaiveDateTime) -> NaiveDateTime {
    if s.len() == 8 {
        NaiveDate::parse_from_str(s, "%Y%m%d").unwrap().and_time(start.time())
    } else {
        NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%S").unwrap()
    }
}

fn new_york() -> Zone {
    resolve_global("America/New_York").unwrap()
}

fn check(example: &Example) {
    let rule = RRule::parse(example.rule).unwrap_or_else(|e| panic!("{}: {e}", example.name));
    let start = NaiveDateTime::parse_from_str(example.start, "%Y%m%dT%H%M%S").unwrap();
    let expected: Vec<NaiveDateTime> = example.expected.split_whitespace().map(|s| parse_local(s, start)).collect();
    let zone = new_york();
    let take = if example.complete { 10_000 } else { expected.len() };
    let got: Vec<NaiveDateTime> = rule.instances(start, |t| zone.to_utc(t)).take(take).collect();
    if example.name.starts_with("daily in January") {
        assert_eq!(got.len(), 93, "{}", example.name);
        assert!(got.iter().all(|t| t.month() == 1), "{}", example.name);
        return;
    }
    assert_eq!(got, expected, "{} ({})", example.name, example.rule);
}

#[test]
fn rfc_5545_examples() {
    for example in RFC_EXAMPLES {
        check(example);
    }
}

#[test]
fn more_examples() {
    for example in MORE_EXAMPLES {
        check(example);
    }
}

#[test]
fn daily_until_december_24() {
    let rule = RRule::parse("FREQ=DAILY;UNTIL=19971224T000000Z").unwrap();
    let start = parse_local("19970902T090000", NaiveDateTime::MIN);
    let zone = new_york();
    let got: Vec<NaiveDateTime> = rule.instances(start, |t| zone.to_utc(t)).collect();
    assert_eq!(got.len(), 113);
    assert_eq!(got.last().unwrap().to_string(), "1997-12-23 09:00:00");
}

#[test]
fn utc_until_compares_instants_across_dst() {
    // 2026-03-29 02:00 Oslo is a gap; UNTIL at 08:00Z is 10:00 CEST on that day.
    let rule = RRule::parse("FREQ=DAILY;UNTIL=20260329T080000Z").unwrap();
    let start = parse_local("20260327T090000", NaiveDateTime::MIN);
    let zone = resolve_global("Europe/Oslo").unwrap();
    let got: Vec<String> = rule.instances(start, |t| zone.to_utc(t)).map(|t| t.to_string()).collect();
    assert_eq!(got, ["2026-03-27 09:00:00", "2026-03-28 09:00:00", "2026-03-29 09:00:00"]);
    let rule = RRule::parse("FREQ=DAILY;UNTIL=20260329T065959Z").unwrap();
    assert_eq!(rule.instances(start, |t| zone.to_utc(t)).count(), 2);
}

#[test]
fn never_matching_rules_end_quickly() {
    let start = parse_local("20260101T000000", NaiveDateTime::MIN);
    for text in [
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31",
    ] {
        let Ok(rule) = RRule::parse(text) else { continue };
        let mut it = rule.instances(start, |t| t);
        assert_eq!(it.next(), Some(start), "{text}");
        assert_eq!(it.next(), None, "{text}");
        assert!(matches!(it.stopped(), Some(Stop::End | Stop::PeriodLimit)), "{text}");
    }
}

#[test]
fn secondly_without_count_is_cut_by_the_limit() {
    let rule = RRule::parse("FREQ=SECONDLY").unwrap();
    let start = parse_local("20260101T000000", NaiveDateTime::MIN);
    let mut it = rule.instances(start, |t| t).with_limits(Limits { max_instances: 1000, max_periods: 1_000_000 });
    assert_eq!(it.by_ref().count(), 1000);
    assert!(it.limit_hit());
    assert_eq!(it.stopped(), Some(Stop::InstanceLimit));
}

#[test]
fn count_reached_exactly_is_not_a_limit() {
    let rule = RRule::parse("FREQ=DAILY;COUNT=5").unwrap();
    let start = parse_local("20260101T000000", NaiveDateTime::MIN);
    let mut it = rule.instances(start, |t| t).with_limits(Limits { max_instances: 5, max_periods: 100 });
    assert_eq!(it.by_ref().count(), 5);
    assert!(!it.limit_hit());
}

#[test]
fn skip_to_moves_ahead_without_count() {
    let rule = RRule::parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO").unwrap();
    let start = parse_local("20000103T090000", NaiveDateTime::MIN);
    let mut it = rule.instances(start, |t| t);
    it.skip_to(parse_local("20260101T000000", NaiveDateTime::MIN));
    let first = it.next().unwrap();
    assert_eq!(first, parse_local("20260112T090000", NaiveDateTime::MIN));
    assert_eq!((first.date() - start.date()).num_days() % 14, 0);
    assert!(it.periods_examined() < 5);
    // A dense period is entered at the target, not walked from its start.
    let rule = RRule::parse("FREQ=YEARLY;BYHOUR=0,6,12,18;BYMINUTE=0,30;BYDAY=MO,TU,WE,TH,FR,SA,SU").unwrap();
    let mut it = rule.instances(start, |t| t);
    it.skip_to(parse_local("20261231T181500", NaiveDateTime::MIN));
    assert_eq!(it.next(), Some(parse_local("20261231T183000", NaiveDateTime::MIN)));
}

#[test]
fn lenient_and_strict_reading() {
    let r = RRule::parse("freq=daily;byday=MO, TU , we;;UNTIL=20150722T080000Z;").unwrap();
    assert_eq!(r.by_day.len(), 3);
    assert_eq!(r.to_string(), "FREQ=DAILY;UNTIL=20150722T080000Z;BYDAY=MO,TU,WE");
    assert!(RRule::parse("FREQ=DAILY\\;COUNT=3").is_ok());
    assert!(RRule::parse("BYDAY=1MO ;FREQ=MONTHLY").is_ok());
    for bad in [
        "",
        "COUNT=3",
        "FREQ=FORTNIGHTLY",
        "FREQ=DAILY;BYMONTHDAY=0",
        "FREQ=DAILY;BYHOUR=24",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;COUNT=3;COUNT=4",
        "FREQ=DAILY;BYDAY=XX",
        "FREQ=DAILY;BYDAY=60MO",
        "FREQ=DAILY;FOO=1",
        "FREQ=DAILY;UNTIL=2026",
        "RSCALE=CHINESE;FREQ=YEARLY",
        "FREQ=MONTHLY;BYMONTH=5L",
    ] {
        let err = RRule::parse(bad).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidValue, "{bad}");
    }
    assert!(RRule::parse("FREQ=DAILY;X-NAME=1").is_ok());
}

fn arb_rule() -> impl Strategy<Value = String> {
    let freq = prop::sample::select(vec!["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]);
    let list = |min: i32, max: i32| prop::collection::vec(min..=max, 0..4);
    let days = prop::collection::vec((prop::option::of(-5i32..=5), 0usize..7), 0..4);
    (
        freq,
        1u32..20,
        prop::option::of(0u32..50),
        (list(0, 60), list(0, 59), list(0, 23)),
        days,
        (list(-31, 31), list(-366, 366), list(-53, 53), list(1, 12), list(-10, 10)),
        0usize..7,
        prop::option::of(0u32..3000),
    )
        .prop_map(
            |(freq, interval, count, (secs, mins, hours), days, (mdays, ydays, weeks, months, setpos), wkst, until)| {
                const WD: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
                let join = |name: &str, v: &[i32]| {
                    let items: Vec<String> = v
                        .iter()
                        .filter(|x| {
                            **x != 0 || name.contains("SECOND") || name.contains("MINUTE") || name.contains("HOUR")
                        })
                        .map(|x| x.to_string())
                        .collect();
                    if items.is_empty() { String::new() } else { format!(";{name}={}", items.join(",")) }
                };
                let mut s = format!("FREQ={freq};INTERVAL={interval}");
                if let Some(c) = count {
                    s.push_str(&format!(";COUNT={c}"));
                }
                if let Some(u) = until {
                    let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::TimeDelta::days(i64::from(u));
                    s.push_str(&format!(";UNTIL={}T000000Z", d.format("%Y%m%d")));
                }
                s.push_str(&join("BYSECOND", &secs));
                s.push_str(&join("BYMINUTE", &mins));
                s.push_str(&join("BYHOUR", &hours));
                let byday: Vec<String> = days
                    .iter()
                    .map(|(o, d)| match o {
                        Some(n) if *n != 0 => format!("{n}{}", WD[*d]),
                        _ => WD[*d].to_string(),
                    })
                    .collect();
                if !byday.is_empty() {
                    s.push_str(&format!(";BYDAY={}", byday.join(",")));
                }
                s.push_str(&join("BYMONTHDAY", &mdays));
                s.push_str(&join("BYYEARDAY", &ydays));
                s.push_str(&join("BYWEEKNO", &weeks));
                s.push_str(&join("BYMONTH", &months));
                s.push_str(&join("BYSETPOS", &setpos));
                s.push_str(&format!(";WKST={}", WD[wkst]));
                s
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Random rules never panic, stay bounded and yield strictly increasing
    /// instances, every one of them (but DTSTART) matching the rule's limits.
    #[test]
    fn random_rules_are_bounded_and_ordered(text in arb_rule(), day in 0i64..3000, secs in 0u32..86_400) {
        let rule = RRule::parse(&text).unwrap();
        prop_assert_eq!(RRule::parse(&rule.to_string()).unwrap(), rule.clone());
        let start = (NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::TimeDelta::days(day))
            .and_time(chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).unwrap());
        let limits = Limits { max_instances: 300, max_periods: 20_000 };
        let mut it = rule.instances(start, |t| t).with_limits(limits);
        let mut last: Option<NaiveDateTime> = None;
        let mut n = 0usize;
        for t in it.by_ref() {
            if let Some(l) = last {
                prop_assert!(t > l, "{} not after {}", t, l);
            }
            if n > 0 {
                if !rule.by_month.is_empty() {
                    prop_assert!(rule.by_month.contains(&(t.month() as u8)));
                }
                if !rule.by_hour.is_empty() {
                    prop_assert!(rule.by_hour.contains(&(t.hour() as u8)));
                }
                if let Some(crate::ical::value::DateTimeValue::Utc(u)) = &rule.until {
                    prop_assert!(t <= *u);
                }
            }
            last = Some(t);
            n += 1;
        }
        prop_assert!(n <= limits.max_instances);
        prop_assert!(it.periods_examined() <= limits.max_periods + 1);
        prop_assert!(it.stopped().is_some());
        if let Some(c) = rule.count {
            prop_assert!(n <= c as usize + 1);
        }
    }

    /// A day matches when its bit is set in its month's mask.
    #[test]
    fn day_tests_agree_with_month_masks(text in arb_rule(), year in 1990i32..2040, month in 1u32..=12) {
        let rule = RRule::parse(&text).unwrap();
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap().and_hms_opt(9, 0, 0).unwrap();
        let filter = super::filter::DayFilter::new(&rule, start);
        let (mask, _) = filter.month_days(year, month);
        for d in 1..=super::calendar::days_in_month(year, month) {
            let date = NaiveDate::from_ymd_opt(year, month, d).unwrap();
            if rule.skip == Skip::Omit {
                prop_assert_eq!(mask >> (d - 1) & 1 == 1, filter.matches(date), "{} {}", text, date);
            }
        }
    }
}

use chrono::{Datelike, Timelike};
