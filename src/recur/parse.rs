//! Reading and writing the text of a recurrence rule (RFC 5545 3.3.10).
//!
//! The reader is lenient where real files need it and strict where a guess
//! could change the meaning:
//! - names and values in any case (`freq=weekly`, `byday=mo`);
//! - spaces around names, values and list items (`BYDAY=MO, TU`, `1MO `),
//!   empty parts (`FREQ=DAILY;;COUNT=5;`), a leading `RRULE:`, and `\;` or
//!   `\,` escaped as if the value were TEXT;
//! - `COUNT` together with `UNTIL` (RFC 5545 says MUST NOT): both bound the set;
//! - a `BYDAY` ordinal with a frequency other than `MONTHLY` or `YEARLY`
//!   (MUST NOT): the ordinal is ignored when iterating;
//! - `SKIP` without `RSCALE` (RFC 7529 says MUST NOT): honoured.
//!
//! Errors (`invalid_value`): no `FREQ`, an unknown frequency, part name or
//! weekday, a number out of its range (`BYMONTHDAY=0`, `BYHOUR=24`,
//! `INTERVAL=0`), a part given twice, a malformed `UNTIL`, and an `RSCALE`
//! other than `GREGORIAN` (RFC 7529 section 5 lets an application that does
//! not support a calendar scale reject the rule). `X-` parts are ignored.

use super::{Frequency, RRule, Skip, WeekdayNum};
use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::value::{DateTimeValue, parse_date_time_token};
use chrono::Weekday;
use std::fmt;

fn invalid(message: String) -> EngineError {
    EngineError::new(ErrorCode::InvalidValue, message)
}

/// Reads the value of an `RRULE` (or `EXRULE`) property.
///
/// ```
/// use invitelink::recur::{parse, Frequency};
/// let rule = parse("FREQ=WEEKLY;BYDAY=MO, we;COUNT=4").unwrap();
/// assert_eq!(rule.freq, Frequency::Weekly);
/// assert_eq!(rule.to_string(), "FREQ=WEEKLY;COUNT=4;BYDAY=MO,WE");
/// ```
pub fn parse(text: &str) -> Result<RRule> {
    let (rule, mut skipped) = read(text);
    match skipped.drain(..).next() {
        Some(first) => Err(first),
        None => rule,
    }
}

/// Reads the value of an `RRULE` as damaged files need it (the policy of
/// `docs/decision.md`, "Damaged input"): a malformed part (no `=`, an
/// unknown name, a value out of range, a part given twice, a stray
/// `RRULE:` inside the value) is skipped and reported, and the rest of the
/// rule is used. The rule itself is an error only when no usable `FREQ` is
/// left.
///
/// ```
/// use invitelink::recur::parse_lenient;
/// let (rule, skipped) = parse_lenient("FREQ=WEEKLY;junk;BYDAY=MO;COUNT=3");
/// assert_eq!(rule.unwrap().to_string(), "FREQ=WEEKLY;COUNT=3;BYDAY=MO");
/// assert_eq!(skipped.len(), 1);
/// ```
pub fn parse_lenient(text: &str) -> (Result<RRule>, Vec<EngineError>) {
    read(text)
}

/// One reading of a rule: the rule (or why there is none) and the parts
/// skipped, each with why.
fn read(text: &str) -> (Result<RRule>, Vec<EngineError>) {
    let cleaned: String;
    let mut body = text.trim();
    if body.contains('\\') {
        cleaned = body.replace("\\;", ";").replace("\\,", ",");
        body = cleaned.as_str();
    }
    if let Some(rest) = strip_rrule_prefix(body) {
        body = rest;
    }
    let mut rule = RRule::new(Frequency::Daily);
    let mut seen: Vec<String> = Vec::new();
    let mut freq: Option<Frequency> = None;
    let mut skipped = Vec::new();
    for part in body.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        // A repeated prefix inside the value (`RRULE:FREQ=DAILY;RRULE:COUNT=3`).
        let part = strip_rrule_prefix(part).unwrap_or(part);
        if let Err(e) = read_part(part, &mut rule, &mut seen, &mut freq) {
            skipped.push(e);
        }
    }
    // Another calendar scale changes what every part means: the rule cannot
    // be read as a Gregorian one, whatever else is right in it.
    if let Some(scale) = body.split(';').filter_map(|p| p.split_once('=')).find_map(|(n, v)| {
        let n = n.trim();
        let n = strip_rrule_prefix(n).unwrap_or(n);
        (n.eq_ignore_ascii_case("RSCALE") && !v.trim().eq_ignore_ascii_case("GREGORIAN")).then(|| v.trim())
    }) {
        return (Err(invalid(format!("calendar scale `{scale}` of `RSCALE` is not supported"))), Vec::new());
    }
    let rule = match freq {
        Some(f) => {
            rule.freq = f;
            Ok(rule)
        }
        None => Err(invalid(format!("recurrence rule `{}` has no usable `FREQ`", text.trim()))),
    };
    (rule, skipped)
}

fn strip_rrule_prefix(s: &str) -> Option<&str> {
    s.get(..6).filter(|p| p.eq_ignore_ascii_case("RRULE:")).and_then(|_| s.get(6..))
}

/// Reads one `NAME=value` part into `rule`.
fn read_part(part: &str, rule: &mut RRule, seen: &mut Vec<String>, freq: &mut Option<Frequency>) -> Result<()> {
    let Some((name, value)) = part.split_once('=') else {
        return Err(invalid(format!("recurrence rule part `{part}` has no `=`")));
    };
    let name = name.trim().to_ascii_uppercase();
    let value = value.trim();
    if name.starts_with("X-") {
        return Ok(());
    }
    if seen.contains(&name) {
        return Err(invalid(format!("recurrence rule part `{name}` is given twice")));
    }
    seen.push(name.clone());
    match name.as_str() {
        "FREQ" => *freq = Some(frequency(value)?),
        "INTERVAL" => {
            let n: u32 = number(&name, value, 1, i64::from(u32::MAX))?;
            rule.interval = n;
        }
        "COUNT" => rule.count = Some(number(&name, value, 0, i64::from(u32::MAX))?),
        "UNTIL" => {
            let v = parse_date_time_token(value, None, false)
                .ok_or_else(|| invalid(format!("`{value}` of `UNTIL` is not a valid date or date-time")))?;
            rule.until = Some(v);
        }
        "BYSECOND" => rule.by_second = list(&name, value, 0, 60)?,
        "BYMINUTE" => rule.by_minute = list(&name, value, 0, 59)?,
        "BYHOUR" => rule.by_hour = list(&name, value, 0, 23)?,
        "BYDAY" => rule.by_day = weekday_list(value)?,
        "BYMONTHDAY" => rule.by_month_day = signed_list(&name, value, 31)?,
        "BYYEARDAY" => rule.by_year_day = signed_list(&name, value, 366)?,
        "BYWEEKNO" => rule.by_week_no = signed_list(&name, value, 53)?,
        "BYMONTH" => rule.by_month = list(&name, value, 1, 12)?,
        "BYSETPOS" => rule.by_set_pos = signed_list(&name, value, 366)?,
        "WKST" => rule.week_start = weekday(value)?,
        "RSCALE" => {
            if !value.eq_ignore_ascii_case("GREGORIAN") {
                return Err(invalid(format!("calendar scale `{value}` of `RSCALE` is not supported")));
            }
            rule.rscale = true;
        }
        "SKIP" => {
            rule.skip = match value.to_ascii_uppercase().as_str() {
                "OMIT" => Skip::Omit,
                "BACKWARD" => Skip::Backward,
                "FORWARD" => Skip::Forward,
                _ => return Err(invalid(format!("`{value}` is not a valid `SKIP`"))),
            }
        }
        _ => return Err(invalid(format!("`{name}` is not a recurrence rule part"))),
    }
    Ok(())
}

fn frequency(value: &str) -> Result<Frequency> {
    Ok(match value.to_ascii_uppercase().as_str() {
        "SECONDLY" => Frequency::Secondly,
        "MINUTELY" => Frequency::Minutely,
        "HOURLY" => Frequency::Hourly,
        "DAILY" => Frequency::Daily,
        "WEEKLY" => Frequency::Weekly,
        "MONTHLY" => Frequency::Monthly,
        "YEARLY" => Frequency::Yearly,
        _ => return Err(invalid(format!("`{value}` is not a valid `FREQ`"))),
    })
}

fn number<T: TryFrom<i64>>(name: &str, value: &str, min: i64, max: i64) -> Result<T> {
    let v = value.trim();
    let digits = v.strip_prefix('+').unwrap_or(v);
    let n: Option<i64> = if !digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    };
    n.filter(|n| (min..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| invalid(format!("`{v}` of `{name}` is not a number from {min} to {max}")))
}

fn signed<T: TryFrom<i64>>(name: &str, value: &str, max: i64) -> Result<T> {
    let v = value.trim();
    let (neg, digits) = match v.as_bytes().first() {
        Some(b'-') => (true, v.get(1..).unwrap_or("")),
        Some(b'+') => (false, v.get(1..).unwrap_or("")),
        _ => (false, v),
    };
    let n: Option<i64> = if !digits.is_empty() && digits.len() <= 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    };
    n.filter(|n| (1..=max).contains(n))
        .map(|n| if neg { -n } else { n })
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| invalid(format!("`{v}` of `{name}` is not a number from 1 to {max} or -{max} to -1")))
}

fn items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn list(name: &str, value: &str, min: i64, max: i64) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = items(value).map(|v| number(name, v, min, max)).collect::<Result<_>>()?;
    finish(name, value, &mut out)?;
    Ok(out)
}

fn signed_list<T: TryFrom<i64> + Ord>(name: &str, value: &str, max: i64) -> Result<Vec<T>> {
    let mut out: Vec<T> = items(value).map(|v| signed(name, v, max)).collect::<Result<_>>()?;
    finish(name, value, &mut out)?;
    Ok(out)
}

fn finish<T: Ord>(name: &str, value: &str, out: &mut Vec<T>) -> Result<()> {
    if out.is_empty() {
        return Err(invalid(format!("`{value}` of `{name}` is empty")));
    }
    out.sort_unstable();
    out.dedup();
    Ok(())
}

fn weekday(value: &str) -> Result<Weekday> {
    let v = value.trim();
    Ok(match v.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return Err(invalid(format!("`{v}` is not a weekday (`MO` to `SU`)"))),
    })
}

fn weekday_list(value: &str) -> Result<Vec<WeekdayNum>> {
    let mut out: Vec<WeekdayNum> = Vec::new();
    for item in items(value) {
        let split = item.len().saturating_sub(2);
        let (ord, day) = (item.get(..split).unwrap_or(""), item.get(split..).unwrap_or(""));
        let weekday = weekday(day).map_err(|_| invalid(format!("`{item}` of `BYDAY` is not a valid weekday")))?;
        let ord = ord.trim();
        let ordinal = if ord.is_empty() { None } else { Some(signed::<i8>("BYDAY", ord, 53)?) };
        let wd = WeekdayNum { ordinal, weekday };
        if !out.contains(&wd) {
            out.push(wd);
        }
    }
    if out.is_empty() {
        return Err(invalid(format!("`{value}` of `BYDAY` is empty")));
    }
    Ok(out)
}

fn weekday_code(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

impl fmt::Display for WeekdayNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.ordinal {
            write!(f, "{n}")?;
        }
        f.write_str(weekday_code(self.weekday))
    }
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, name: &str, items: &[T]) -> fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    write!(f, ";{name}=")?;
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{v}")?;
    }
    Ok(())
}

/// Writes the rule in a canonical order: `RSCALE`, `FREQ`, `UNTIL`, `COUNT`,
/// `INTERVAL` (when not 1), the `BY` parts, `WKST` (when not Monday), `SKIP`.
impl fmt::Display for RRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rscale {
            f.write_str("RSCALE=GREGORIAN;")?;
        }
        write!(f, "FREQ={}", self.freq.as_str())?;
        if let Some(u) = &self.until {
            let text = match u {
                DateTimeValue::Zoned(t, _) => DateTimeValue::Floating(*t).to_ical_value(),
                other => other.to_ical_value(),
            };
            write!(f, ";UNTIL={text}")?;
        }
        if let Some(c) = self.count {
            write!(f, ";COUNT={c}")?;
        }
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        write_list(f, "BYSECOND", &self.by_second)?;
        write_list(f, "BYMINUTE", &self.by_minute)?;
        write_list(f, "BYHOUR", &self.by_hour)?;
        write_list(f, "BYDAY", &self.by_day)?;
        write_list(f, "BYMONTHDAY", &self.by_month_day)?;
        write_list(f, "BYYEARDAY", &self.by_year_day)?;
        write_list(f, "BYWEEKNO", &self.by_week_no)?;
        write_list(f, "BYMONTH", &self.by_month)?;
        write_list(f, "BYSETPOS", &self.by_set_pos)?;
        if self.week_start != Weekday::Mon {
            write!(f, ";WKST={}", weekday_code(self.week_start))?;
        }
        match self.skip {
            Skip::Omit => {}
            Skip::Backward => f.write_str(";SKIP=BACKWARD")?,
            Skip::Forward => f.write_str(";SKIP=FORWARD")?,
        }
        Ok(())
    }
}

impl std::str::FromStr for RRule {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<RRule> {
        parse(s)
    }
}
