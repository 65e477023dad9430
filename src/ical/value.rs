//! Typed readings of property values: dates and date-times (RFC 5545 3.3.4,
//! 3.3.5), durations (3.3.6), periods (3.3.9), TEXT (3.3.11), cal-addresses
//! (3.3.3).

use super::Property;
use crate::error::{EngineError, ErrorCode, Result};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use std::borrow::Cow;
use wide::u8x16;

/// A `DATE` or `DATE-TIME` value with its time-zone form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DateTimeValue {
    /// `VALUE=DATE`: an all-day date.
    Date(NaiveDate),
    /// A local time with no zone (floating).
    Floating(NaiveDateTime),
    /// A UTC time (`Z` suffix).
    Utc(NaiveDateTime),
    /// A local time in the zone named by `TZID`.
    Zoned(NaiveDateTime, String),
}

impl DateTimeValue {
    /// Whether the value is an all-day date.
    pub fn is_date(&self) -> bool {
        matches!(self, DateTimeValue::Date(_))
    }

    /// The wall-clock time (midnight for a date).
    pub fn local(&self) -> NaiveDateTime {
        match self {
            DateTimeValue::Date(d) => d.and_time(NaiveTime::MIN),
            DateTimeValue::Floating(t) | DateTimeValue::Utc(t) | DateTimeValue::Zoned(t, _) => *t,
        }
    }

    /// The `TZID`, when the value has one.
    pub fn tzid(&self) -> Option<&str> {
        match self {
            DateTimeValue::Zoned(_, z) => Some(z),
            _ => None,
        }
    }

    /// The same form (date, floating, UTC or the same zone) at another wall time.
    pub fn with_local(&self, local: NaiveDateTime) -> DateTimeValue {
        match self {
            DateTimeValue::Date(_) => DateTimeValue::Date(local.date()),
            DateTimeValue::Floating(_) => DateTimeValue::Floating(local),
            DateTimeValue::Utc(_) => DateTimeValue::Utc(local),
            DateTimeValue::Zoned(_, z) => DateTimeValue::Zoned(local, z.clone()),
        }
    }

    /// The value as written in iCalendar (`20261203`, `20261203T090000`, `...Z`).
    pub fn to_ical_value(&self) -> String {
        match self {
            DateTimeValue::Date(d) => d.format("%Y%m%d").to_string(),
            DateTimeValue::Floating(t) | DateTimeValue::Zoned(t, _) => t.format("%Y%m%dT%H%M%S").to_string(),
            DateTimeValue::Utc(t) => t.format("%Y%m%dT%H%M%SZ").to_string(),
        }
    }

    /// A property `name` holding this value, with `VALUE=DATE` or `TZID` as needed.
    pub fn to_property(&self, name: &str) -> Property<'static> {
        let mut p = Property::new(name, self.to_ical_value());
        match self {
            DateTimeValue::Date(_) => p.set_param("VALUE", "DATE"),
            DateTimeValue::Zoned(_, z) => p.set_param("TZID", z.clone()),
            _ => {}
        }
        p
    }
}

fn invalid(prop: &Property<'_>, what: &str) -> EngineError {
    EngineError::at(
        ErrorCode::InvalidValue,
        prop.line.max(1),
        format!("`{}` of `{}` is not a valid {}", prop.value, prop.name, what),
    )
}

/// Reads a date (`YYYYMMDD`) from the start of `s`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() < 8 || !s.is_char_boundary(8) {
        return None;
    }
    let y: i32 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(4..6)?.parse().ok()?;
    let d: u32 = s.get(6..8)?.parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Reads one date or date-time token; `tzid` is the property's `TZID`.
/// Returns `None` when the token is malformed.
pub fn parse_date_time_token(token: &str, tzid: Option<&str>, date_only: bool) -> Option<DateTimeValue> {
    let t = token.trim();
    let date = parse_date(t)?;
    let rest = t.get(8..)?;
    if rest.is_empty() {
        return Some(DateTimeValue::Date(date));
    }
    if date_only {
        // VALUE=DATE with a time part: keep the date, as lenient readers do.
        return Some(DateTimeValue::Date(date));
    }
    let rest = rest.strip_prefix(['T', 't'])?;
    let (hms, utc) = match rest.strip_suffix(['Z', 'z']) {
        Some(h) => (h, true),
        None => (rest, false),
    };
    if hms.len() != 6 || !hms.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: u32 = hms.get(0..2)?.parse().ok()?;
    let mi: u32 = hms.get(2..4)?.parse().ok()?;
    let mut s: u32 = hms.get(4..6)?.parse().ok()?;
    if s == 60 {
        s = 59; // leap second: RFC 5545 allows 60; clamp
    }
    let time = NaiveTime::from_hms_opt(h, mi, s)?;
    let local = date.and_time(time);
    Some(match (utc, tzid) {
        (true, _) => DateTimeValue::Utc(local),
        (false, Some(z)) if !z.trim().is_empty() => DateTimeValue::Zoned(local, z.to_owned()),
        (false, _) => DateTimeValue::Floating(local),
    })
}

/// Reads a single-valued `DATE` / `DATE-TIME` property (`DTSTART`, `DTEND`,
/// `RECURRENCE-ID`, `DUE`, ...).
pub fn parse_date_time(prop: &Property<'_>) -> Result<DateTimeValue> {
    let date_only = prop.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    parse_date_time_token(&prop.value, prop.param("TZID"), date_only).ok_or_else(|| invalid(prop, "date or date-time"))
}

/// One value of an `RDATE` / `EXDATE` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateOrPeriod {
    /// A date or date-time.
    At(DateTimeValue),
    /// `VALUE=PERIOD`: a start with an explicit end or duration.
    Period(DateTimeValue, PeriodEnd),
}

/// The end of a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodEnd {
    /// An explicit end.
    End(DateTimeValue),
    /// A duration from the start.
    Duration(TimeDelta),
}

/// Reads a multi-valued `RDATE` / `EXDATE` property. Empty tokens are skipped.
pub fn parse_date_list(prop: &Property<'_>) -> Result<Vec<DateOrPeriod>> {
    let (list, mut skipped) = parse_date_list_lenient(prop);
    match skipped.drain(..).next() {
        Some(first) => Err(first),
        None => Ok(list),
    }
}

/// [`parse_date_list`] for damaged input (`docs/decision.md`, "Damaged
/// input"): each value that cannot be read (an impossible date, a
/// malformed period, junk) is skipped and reported with the property's
/// line, the others kept. A `DATE` among `DATE-TIME`s is read as the date
/// it is.
pub fn parse_date_list_lenient(prop: &Property<'_>) -> (Vec<DateOrPeriod>, Vec<EngineError>) {
    let date_only = prop.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    let tzid = prop.param("TZID");
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for token in prop.value.split(',') {
        let token = token.trim();
        if token.is_empty() {
            continue;
        }
        match date_list_item(token, tzid, date_only) {
            Some(item) => out.push(item),
            None => skipped.push(EngineError::at(
                ErrorCode::InvalidValue,
                prop.line.max(1),
                format!("`{token}` of `{}` is not a valid date, date-time or period", prop.name),
            )),
        }
    }
    (out, skipped)
}

fn date_list_item(token: &str, tzid: Option<&str>, date_only: bool) -> Option<DateOrPeriod> {
    if let Some((a, b)) = token.split_once('/') {
        let start = parse_date_time_token(a, tzid, false)?;
        let end = if b.starts_with(['P', 'p', '+', '-']) {
            PeriodEnd::Duration(parse_duration(b)?)
        } else {
            PeriodEnd::End(parse_date_time_token(b, tzid, false)?)
        };
        return Some(DateOrPeriod::Period(start, end));
    }
    parse_date_time_token(token, tzid, date_only).map(DateOrPeriod::At)
}

/// Reads a duration (`P1W`, `-PT15M`, `P1DT2H30M`). `None` when malformed.
pub fn parse_duration(s: &str) -> Option<TimeDelta> {
    let s = s.trim();
    let (neg, s) = match s.as_bytes().first()? {
        b'-' => (true, s.get(1..)?),
        b'+' => (false, s.get(1..)?),
        _ => (false, s),
    };
    let s = s.strip_prefix(['P', 'p'])?;
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    let mut in_time = false;
    let mut any = false;
    for c in s.chars() {
        match c.to_ascii_uppercase() {
            '0'..='9' => {
                let d = i64::from(c.to_digit(10)?);
                num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add(d)?);
            }
            'T' => in_time = true,
            unit => {
                let n = num.take()?;
                let secs = match (unit, in_time) {
                    ('W', false) => 7 * 86_400,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return None,
                };
                total = total.checked_add(n.checked_mul(secs)?)?;
                any = true;
            }
        }
    }
    if num.is_some() || !any {
        return None;
    }
    // Bound: durations beyond 100 years are malformed for our purposes.
    if total > 100 * 366 * 86_400 {
        return None;
    }
    TimeDelta::try_seconds(if neg { -total } else { total })
}

/// Writes a duration as RFC 5545 does (`PT1H`, `P1D`, `-PT15M`).
pub fn format_duration(d: TimeDelta) -> String {
    let mut secs = d.num_seconds();
    let mut out = String::new();
    if secs < 0 {
        out.push('-');
        secs = -secs;
    }
    out.push('P');
    let days = secs / 86_400;
    let rest = secs % 86_400;
    if days > 0 && days % 7 == 0 && rest == 0 {
        out.push_str(&format!("{}W", days / 7));
        return out;
    }
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if rest > 0 || days == 0 {
        out.push('T');
        let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 || (h == 0 && m == 0) {
            out.push_str(&format!("{s}S"));
        }
    }
    out
}

/// TEXT with its escapes resolved (`\\n`, `\\,`, `\\;`, `\\\\`).
pub fn unescape_text(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(c @ ('\\' | ';' | ',')) => out.push(c),
                // Not a TEXT escape (RFC 5545 3.3.11): keep it as written.
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// TEXT escaped for writing.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// The e-mail address of a cal-address (`mailto:Bob@Example.com` ->
/// `bob@example.com`): scheme dropped, trimmed, lower-cased. Addresses are
/// compared in this form everywhere (RFC 5546 leaves case to the server; the
/// CRM matches addresses case-insensitively).
pub fn email_of(cal_address: &str) -> String {
    email_cow(cal_address).into_owned()
}

/// `s.trim()`, answered without Unicode's white-space look-up for the usual
/// text, which neither starts nor ends with white space.
pub fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Shows `look` the octets of `b` sixteen at a time, with a mask of the
/// lanes that hold octets of `b` (bit `i` for lane `i`): the last sixteen
/// again where fewer are left, a text shorter than sixteen padded. Names
/// and addresses are short, and a loop over their octets cost more than the
/// rest of reading them.
#[inline]
fn each_sixteen(b: &[u8], mut look: impl FnMut(u8x16, u32)) {
    if b.len() < 16 {
        let mut padded = [0u8; 16];
        if let Some(head) = padded.get_mut(..b.len()) {
            head.copy_from_slice(b);
        }
        look(u8x16::new(padded), (1u32 << b.len()) - 1);
        return;
    }
    let mut chunks = b.chunks_exact(16);
    for chunk in chunks.by_ref() {
        look(u8x16::new(chunk.try_into().unwrap_or_default()), 0xFFFF);
    }
    if !chunks.remainder().is_empty()
        && let Some(last) = b.last_chunk::<16>()
    {
        look(u8x16::new(*last), 0xFFFF);
    }
}

/// The lanes of `x` holding the octet `b`, as a mask (bit `i` for lane `i`).
#[inline]
pub(crate) fn lanes_equal(x: u8x16, b: u8) -> u32 {
    x.simd_eq(u8x16::splat(b)).to_bitmask()
}

/// The lanes of `x` holding an octet from `lo` to `hi`, as a mask.
#[inline]
fn lanes_between(x: u8x16, lo: u8, hi: u8) -> u32 {
    (x.max(u8x16::splat(lo)).simd_eq(x) & x.min(u8x16::splat(hi)).simd_eq(x)).to_bitmask()
}

/// Whether `b` holds an octet from `lo` to `hi` (letters of one case, in
/// practice).
#[inline]
pub(crate) fn has_ascii_between(b: &[u8], lo: u8, hi: u8) -> bool {
    let mut found = 0;
    each_sixteen(b, |x, lanes| found |= lanes_between(x, lo, hi) & lanes);
    found != 0
}

/// [`email_of`], borrowed from `cal_address` when that is already the
/// address (lower case, no scheme to drop but `mailto:`, nothing encoded).
pub fn email_cow(cal_address: &str) -> Cow<'_, str> {
    let t = trim(cal_address);
    let (t, mailto) = match t.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => (t.get(7..).unwrap_or(""), true),
        _ => (t, false),
    };
    let t = trim(t);
    // Its upper-case letters, `%` signs and octets beyond ASCII, in one look.
    let (mut upper, mut percent, mut beyond) = (0, 0, 0);
    each_sixteen(t.as_bytes(), |x, lanes| {
        upper |= lanes_between(x, b'A', b'Z') & lanes;
        percent |= lanes_equal(x, b'%') & lanes;
        beyond |= x.to_bitmask() & lanes;
    });
    // RFC 6068: a mailto URI may percent-encode its address
    // (`mailto:anna%40crm.example`); compare and deliver the decoded one.
    if mailto && percent != 0 {
        return Cow::Owned(percent_decode(t).trim().to_lowercase());
    }
    // The same result for ASCII, without Unicode case tables.
    if beyond == 0 {
        if upper != 0 { Cow::Owned(t.to_ascii_lowercase()) } else { Cow::Borrowed(t) }
    } else {
        let lower = t.to_lowercase();
        if lower == t { Cow::Borrowed(t) } else { Cow::Owned(lower) }
    }
}

/// `%XX` sequences decoded as UTF-8 (lossily); a `%` not followed by two
/// hex digits is kept as written.
fn percent_decode(text: &str) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(text)).into_owned()
}

/// `%XX` sequences decoded to bytes (RFC 3986 2.1; RFC 2231 parameter
/// values); a `%` not followed by two hex digits is kept as written.
pub(crate) fn percent_decode_bytes(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Whether two cal-addresses name the same mailbox.
pub fn same_address(a: &str, b: &str) -> bool {
    let (a, b) = (email_of(a), email_of(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_of_a_case_are_found_at_every_byte_value_and_place() {
        for (lo, hi) in [(b'a', b'z'), (b'A', b'Z')] {
            for len in 1..=19 {
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut b = vec![b'-'; len];
                        if let Some(c) = b.get_mut(at) {
                            *c = byte;
                        }
                        let want = (lo..=hi).contains(&byte);
                        assert_eq!(has_ascii_between(&b, lo, hi), want, "{b:?}");
                        // Beside a byte of a multi-byte character.
                        b.push(0xC3);
                        assert_eq!(has_ascii_between(&b, lo, hi), want, "{b:?}");
                    }
                }
            }
            assert!(!has_ascii_between(b"", lo, hi));
        }
    }

    #[test]
    fn an_address_is_read_as_the_plain_steps_read_it_whatever_its_length() {
        let plain = |a: &str| {
            let t = a.trim();
            let (t, mailto) = match t.get(..7) {
                Some(p) if p.eq_ignore_ascii_case("mailto:") => (t.get(7..).unwrap_or(""), true),
                _ => (t, false),
            };
            let t = t.trim();
            if mailto && t.contains('%') { percent_decode(t).trim().to_lowercase() } else { t.to_lowercase() }
        };
        for len in 0..40 {
            for at in 0..len {
                for c in ['A', 'Z', 'a', '%', '@', 'é', 'Ä', '\u{7f}'] {
                    let local: String = (0..len).map(|i| if i == at { c } else { 'x' }).collect();
                    for a in [local.clone(), format!("mailto:{local}"), format!("MAILTO:{local}%41")] {
                        assert_eq!(email_cow(&a), plain(&a), "{a:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_quick_trim_is_the_standard_one() {
        for s in ["", " ", "a", " a", "a ", "\u{a0}a", "a\u{2003}", "\u{1}a\u{1}", "a b", "\tmailto:x\r", "é", " é "]
        {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn addresses_compare_lower_cased_without_their_scheme() {
        assert_eq!(email_of(" MAILTO:Anna.Dahl@Example.NO "), "anna.dahl@example.no");
        assert_eq!(email_of("mailto:ÅSE@Bø.example"), "åse@bø.example");
        assert_eq!(email_of("mailto:anna%40crm.example"), "anna@crm.example");
        assert_eq!(email_of("urn:uuid:ABC"), "urn:uuid:abc");
    }

    #[test]
    fn durations_read_and_write() {
        assert_eq!(parse_duration("PT1H30M"), TimeDelta::try_seconds(5400));
        assert_eq!(parse_duration("-P1W"), TimeDelta::try_seconds(-7 * 86400));
        assert_eq!(parse_duration("PT10M "), TimeDelta::try_seconds(600));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT5"), None);
        assert_eq!(format_duration(TimeDelta::try_seconds(5400).unwrap()), "PT1H30M");
        assert_eq!(format_duration(TimeDelta::try_seconds(86400).unwrap()), "P1D");
    }

    #[test]
    fn addresses_compare_case_insensitively() {
        assert!(same_address("MAILTO:Bob@Example.com", "mailto:bob@example.com"));
        assert!(!same_address("", ""));
    }

    #[test]
    fn date_times_keep_their_form() {
        assert_eq!(
            parse_date_time_token("20261203T090000Z", Some("Europe/Oslo"), false),
            Some(DateTimeValue::Utc(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap().and_hms_opt(9, 0, 0).unwrap()))
        );
        assert!(parse_date_time_token("2004-12-25T::", None, false).is_none());
    }
}
