//! Prints how many recurrence instances per second the engine walks, with
//! each wall time converted to UTC through its zone (as `expand` does).
//!
//! `cargo run --release --example recur_speed`

use chrono::{NaiveDate, NaiveDateTime};
use invitelink::recur::{Limits, RRule};
use invitelink::tz::resolve_global;
use std::time::Instant;

fn measure(label: &str, rule: &str, zone_name: &str) {
    let Ok(rule) = RRule::parse(rule) else { return };
    let Some(zone) = resolve_global(zone_name) else { return };
    let Some(start) = NaiveDate::from_ymd_opt(2000, 1, 3).and_then(|d| d.and_hms_opt(9, 0, 0)) else { return };
    // Instances of the years 2000 to 2099, where zones have DST rules, walked
    // again and again until there are a few million.
    let Some(end) = NaiveDate::from_ymd_opt(2099, 12, 31).and_then(|d| d.and_hms_opt(23, 59, 59)) else { return };
    let limits = Limits { max_instances: 1_000_000, max_periods: 10_000_000 };
    let mut total = 0u64;
    let mut check = NaiveDateTime::MIN;
    let began = Instant::now();
    while total < 5_000_000 {
        for local in rule.instances(start, |t| zone.to_utc(t)).with_limits(limits).stop_after(end) {
            check = check.max(zone.to_utc(local));
            total += 1;
        }
    }
    let secs = began.elapsed().as_secs_f64();
    println!(
        "{label:<44} {total:>9} instances in {secs:>6.3} s = {:>6.2} M/s (last {check})",
        total as f64 / secs / 1e6
    );
}

fn main() {
    measure("weekly, Europe/Oslo", "FREQ=WEEKLY;BYDAY=MO", "Europe/Oslo");
    measure("weekly MO,WE,FR interval 2, Europe/Oslo", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR", "Europe/Oslo");
    measure("daily, Europe/Oslo", "FREQ=DAILY", "Europe/Oslo");
    measure("monthly last weekday, Europe/Oslo", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "Europe/Oslo");
    measure("yearly, America/New_York", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "America/New_York");
    measure("hourly 9-17 weekdays, UTC", "FREQ=HOURLY;BYHOUR=9,10,11,12,13,14,15,16,17;BYDAY=MO,TU,WE,TH,FR", "UTC");
}
