//! The IANA time-zone database in a compact table, for the WebAssembly
//! build: the same transitions and offsets as chrono-tz's table (generated
//! from it by `cargo xtask gen-tz-data`), about a tenth of its size, read
//! with the same algorithm. The native build uses chrono-tz itself;
//! `tests/tz.rs` checks that both give the same answers for every zone.
//!
//! A zone is a copyable handle ([`Tz`]); its record is decoded from
//! `iana_zones.bin` the first time it is used and kept.

use super::iana_names::ZONES;
use chrono::{FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

pub use super::iana_names::TZDB_VERSION;

/// The records (see the layout in `xtask/src/tz_data.rs`).
static DATA: &[u8] = include_bytes!("iana_zones.bin");

/// A zone of the IANA database: an index into the sorted names.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tz(u16);

/// A name the database does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownZone;

impl Tz {
    /// The zone's IANA name, as written in the database.
    pub fn name(self) -> &'static str {
        ZONES.get(usize::from(self.0)).map_or("UTC", |z| z.0)
    }

    /// Every zone of the database, links included, sorted by name.
    pub fn all() -> impl Iterator<Item = Tz> {
        (0..ZONES.len()).filter_map(|i| u16::try_from(i).ok()).map(Tz)
    }

    /// The transitions of the zone: each instant (UTC seconds) with the
    /// offset (seconds east of UTC) in force from then on.
    pub fn transitions(self) -> &'static [(i64, i32)] {
        &self.spans().rest
    }

    /// The offset (seconds east of UTC) in force before the first transition.
    pub fn initial_offset(self) -> i32 {
        self.spans().first
    }

    /// The stretch of wall time around `local` in which every wall time
    /// has the one offset of `local` (no fold, no gap): its bounds in local
    /// seconds, begin inclusive, end exclusive, and the offset. `None` when
    /// `local` is itself in a fold or a gap.
    pub fn single_offset_span(self, local: NaiveDateTime) -> Option<(i64, i64, i32)> {
        let t = local.and_utc().timestamp();
        let spans = self.spans();
        let i = binary_search(0, spans.len(), |i| spans.local_span(i).cmp(t)).ok()?;
        let here = spans.local_span(i);
        let mut begin = here.begin.unwrap_or(i64::MIN);
        let mut end = here.end.unwrap_or(i64::MAX);
        // Where a neighbour's wall times overlap this span's, they are a fold.
        if let Some(previous_end) = i.checked_sub(1).and_then(|p| spans.local_span(p).end) {
            begin = begin.max(previous_end);
        }
        if let Some(next_begin) = (i + 1 < spans.len()).then(|| spans.local_span(i + 1).begin).flatten() {
            end = end.min(next_begin);
        }
        (begin <= t && t < end).then_some((begin, end, spans.offset(i)))
    }

    fn spans(self) -> &'static Spans {
        static EMPTY: Spans = Spans { first: 0, rest: Vec::new() };
        let record = ZONES.get(usize::from(self.0)).map_or(usize::MAX, |z| usize::from(z.1));
        records().get(record).map_or(&EMPTY, |cell| cell.get_or_init(|| decode(record).unwrap_or_default()))
    }
}

impl FromStr for Tz {
    type Err = UnknownZone;

    /// The zone of an exact (case-sensitive) IANA name, as chrono-tz reads it.
    fn from_str(name: &str) -> Result<Tz, UnknownZone> {
        let at = ZONES.binary_search_by(|z| z.0.cmp(name)).map_err(|_| UnknownZone)?;
        u16::try_from(at).map(Tz).map_err(|_| UnknownZone)
    }
}

impl fmt::Debug for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The offset of a zone at some instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TzOffset {
    tz: Tz,
    seconds: i32,
}

impl Offset for TzOffset {
    fn fix(&self) -> FixedOffset {
        FixedOffset::east_opt(self.seconds).unwrap_or(Utc.fix())
    }
}

impl fmt::Debug for TzOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.fix())
    }
}

impl fmt::Display for TzOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.fix())
    }
}

/// A zone's data: the offset (seconds east of UTC) before the first
/// transition, then each transition (UTC seconds) with the offset from then on.
#[derive(Debug, Default)]
struct Spans {
    first: i32,
    rest: Vec<(i64, i32)>,
}

/// One cell per record, filled on first use.
fn records() -> &'static [OnceLock<Spans>] {
    static RECORDS: OnceLock<Vec<OnceLock<Spans>>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        let count = Reader { data: DATA, at: 0 }.varint().unwrap_or(0);
        (0..count).map(|_| OnceLock::new()).collect()
    })
}

/// Reads varints and bytes from the table.
struct Reader {
    data: &'static [u8],
    at: usize,
}

impl Reader {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(value);
            }
        }
        None
    }

    fn signed(&mut self) -> Option<i64> {
        let n = self.varint()?;
        Some((n >> 1) as i64 ^ -((n & 1) as i64))
    }
}

fn decode(record: usize) -> Option<Spans> {
    let mut r = Reader { data: DATA, at: 0 };
    let count = usize::try_from(r.varint()?).ok()?;
    let index = r.at;
    let body = index.checked_add(count.checked_mul(4)?)?;
    let at = index.checked_add(record.checked_mul(4)?)?;
    let offset: [u8; 4] = DATA.get(at..at.checked_add(4)?)?.try_into().ok()?;
    r.at = body.checked_add(usize::try_from(u32::from_le_bytes(offset)).ok()?)?;
    let offsets: Vec<i32> =
        (0..r.varint()?).map(|_| r.signed().and_then(|o| i32::try_from(o).ok())).collect::<Option<_>>()?;
    let transitions = r.varint()?;
    let mut rest = Vec::with_capacity(usize::try_from(transitions).ok()?);
    let mut previous: Option<i64> = None;
    for _ in 0..transitions {
        let instant = match previous {
            None => r.signed()?,
            Some(p) => {
                let step = r.varint()?;
                let step = if step & 1 == 0 { (step >> 1).checked_mul(60)? } else { step >> 1 };
                p.checked_add(i64::try_from(step).ok()?)?
            }
        };
        let offset = *offsets.get(usize::from(r.byte()?))?;
        rest.push((instant, offset));
        previous = Some(instant);
    }
    Some(Spans { first: *offsets.first()?, rest })
}

/// A span of time, begin inclusive, end exclusive; open at either end.
struct Span {
    begin: Option<i64>,
    end: Option<i64>,
}

impl Span {
    fn contains(&self, x: i64) -> bool {
        self.begin.is_none_or(|a| a <= x) && self.end.is_none_or(|b| x < b)
    }

    fn cmp(&self, x: i64) -> Ordering {
        match (self.begin, self.end) {
            (Some(a), _) if a > x => Ordering::Greater,
            (_, Some(b)) if b <= x => Ordering::Less,
            _ => Ordering::Equal,
        }
    }
}

impl Spans {
    fn len(&self) -> usize {
        1 + self.rest.len()
    }

    fn offset(&self, index: usize) -> i32 {
        match index.checked_sub(1) {
            None => self.first,
            Some(i) => self.rest.get(i).map_or(self.first, |t| t.1),
        }
    }

    fn instant(&self, index: usize) -> Option<i64> {
        self.rest.get(index).map(|t| t.0)
    }

    fn utc_span(&self, index: usize) -> Span {
        Span { begin: index.checked_sub(1).and_then(|i| self.instant(i)), end: self.instant(index) }
    }

    fn local_span(&self, index: usize) -> Span {
        let begin = index.checked_sub(1).and_then(|i| self.instant(i)).map(|t| t + i64::from(self.offset(index)));
        let end = self.instant(index).map(|t| t + i64::from(self.offset(index)));
        Span { begin, end }
    }
}

/// chrono-tz's binary search: `Ok` with an index where `f` is `Equal`, or
/// `Err` with where it would be.
fn binary_search(mut start: usize, mut end: usize, f: impl Fn(usize) -> Ordering) -> Result<usize, usize> {
    loop {
        let mid = start + (end - start) / 2;
        if mid == end {
            return Err(start);
        }
        match f(mid) {
            Ordering::Less => start = mid + 1,
            Ordering::Greater => end = mid,
            Ordering::Equal => return Ok(mid),
        }
    }
}

impl TimeZone for Tz {
    type Offset = TzOffset;

    fn from_offset(offset: &TzOffset) -> Tz {
        offset.tz
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> LocalResult<TzOffset> {
        // As chrono-tz: one offset in force on that day, the earliest known.
        let earliest = self.offset_from_local_datetime(&local.and_time(NaiveTime::MIN));
        let latest = self.offset_from_local_datetime(&local.and_hms_opt(23, 59, 59).unwrap_or_default());
        match (earliest, latest) {
            (result @ LocalResult::Single(_), _) | (_, result @ LocalResult::Single(_)) => result,
            (LocalResult::Ambiguous(offset, _), _) | (_, LocalResult::Ambiguous(offset, _)) => {
                LocalResult::Single(offset)
            }
            (LocalResult::None, LocalResult::None) => LocalResult::None,
        }
    }

    /// The offsets of a wall time: chrono-tz's algorithm on the same data,
    /// so gaps and folds come out the same.
    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> LocalResult<TzOffset> {
        let timestamp = local.and_utc().timestamp();
        let spans = self.spans();
        let at = |i: usize| TzOffset { tz: *self, seconds: spans.offset(i) };
        let len = spans.len();
        match binary_search(0, len, |i| spans.local_span(i).cmp(timestamp)) {
            Ok(0) if len == 1 => LocalResult::Single(at(0)),
            Ok(0) if spans.local_span(1).contains(timestamp) => LocalResult::Ambiguous(at(0), at(1)),
            Ok(0) => LocalResult::Single(at(0)),
            Ok(i) if spans.local_span(i - 1).contains(timestamp) => LocalResult::Ambiguous(at(i - 1), at(i)),
            Ok(i) if i == len - 1 => LocalResult::Single(at(i)),
            Ok(i) if spans.local_span(i + 1).contains(timestamp) => LocalResult::Ambiguous(at(i), at(i + 1)),
            Ok(i) => LocalResult::Single(at(i)),
            Err(_) => LocalResult::None,
        }
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> TzOffset {
        self.offset_from_utc_datetime(&utc.and_time(NaiveTime::MIN))
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> TzOffset {
        let timestamp = utc.and_utc().timestamp();
        let spans = self.spans();
        let index = binary_search(0, spans.len(), |i| spans.utc_span(i).cmp(timestamp)).unwrap_or(0);
        TzOffset { tz: *self, seconds: spans.offset(index) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_decodes() {
        for tz in Tz::all() {
            let spans = tz.spans();
            assert!(spans.rest.windows(2).all(|w| w[0].0 < w[1].0), "{tz}");
        }
        assert_eq!("Europe/Oslo".parse::<Tz>().map(Tz::name), Ok("Europe/Oslo"));
        assert_eq!("europe/oslo".parse::<Tz>(), Err(UnknownZone));
    }
}
