//! The parsers compared, each behind the same shape: read one text, return a
//! small count of what was read (`Err` when the parser rejected the text).
//!
//! Each competitor is called the way its documentation shows:
//! - `ical`: `IcalParser::new(reader)` iterated to the end (one item per
//!   `VCALENDAR`); it reads from a `BufRead`, here the bytes in memory.
//! - `calcard`: `Parser::new(text)` and `entry()` until `Entry::Eof`.
//! - `icalendar`: `parser::unfold(text)` then `parser::read_calendar(&unfolded)`.
//! - the ceiling: counting the line feeds with `memchr`, no parsing at all.

use invitelink::ical::{ParseOptions, parse_calendar};

/// A parser under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    /// A plain byte scan: `memchr` counting `\n`.
    LineScan,
    /// `invitelink::ical::parse_calendar`.
    Ours,
    /// The `ical` crate's `IcalParser`.
    IcalCrate,
    /// Stalwart's `calcard` crate.
    Calcard,
    /// The `icalendar` crate's `parser` module (`unfold` + `read_calendar`).
    Icalendar,
}

impl Parser {
    /// Every parser, the scan first.
    pub const ALL: [Parser; 5] =
        [Parser::LineScan, Parser::Ours, Parser::IcalCrate, Parser::Calcard, Parser::Icalendar];

    /// The other projects' parsers.
    pub const OTHERS: [Parser; 3] = [Parser::IcalCrate, Parser::Calcard, Parser::Icalendar];

    /// The name in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Parser::LineScan => "memchr line count (ceiling)",
            Parser::Ours => "invitelink ical::parse_calendar",
            Parser::IcalCrate => "ical 0.11 IcalParser",
            Parser::Calcard => "calcard 0.3 Parser",
            Parser::Icalendar => "icalendar 0.17 unfold+read_calendar",
        }
    }

    /// Reads `text`, returning a count of what was read.
    pub fn read(self, text: &str) -> Result<usize, String> {
        match self {
            Parser::LineScan => Ok(memchr::memchr_iter(b'\n', text.as_bytes()).count()),
            Parser::Ours => ours(text),
            Parser::IcalCrate => ical_crate(text),
            Parser::Calcard => calcard(text),
            Parser::Icalendar => icalendar(text),
        }
    }
}

/// The reader's own limits lifted: the large file is 32 MB.
pub fn unlimited() -> ParseOptions {
    ParseOptions { max_bytes: usize::MAX, ..ParseOptions::default() }
}

fn ours(text: &str) -> Result<usize, String> {
    let cal = parse_calendar(text, &unlimited()).map_err(|e| e.to_string())?;
    Ok(cal.properties.len() + cal.components.len())
}

fn ical_crate(text: &str) -> Result<usize, String> {
    let mut n = 0;
    for cal in ical::IcalParser::new(text.as_bytes()) {
        let cal = cal.map_err(|e| e.to_string())?;
        n += cal.events.len() + cal.timezones.len() + cal.properties.len();
    }
    Ok(n)
}

fn calcard(text: &str) -> Result<usize, String> {
    let mut parser = calcard::Parser::new(text);
    let mut n = 0;
    // Bounded: every entry consumes input; a 32 MB text has far fewer lines.
    for _ in 0..10_000_000 {
        match parser.entry() {
            calcard::Entry::ICalendar(cal) => n += cal.components.len(),
            calcard::Entry::Eof => return Ok(n),
            calcard::Entry::VCard(_) => n += 1,
            other => return Err(format!("{other:?}").chars().take(200).collect()),
        }
    }
    Ok(n)
}

fn icalendar(text: &str) -> Result<usize, String> {
    let unfolded = icalendar::parser::unfold(text);
    let cal = icalendar::parser::read_calendar(&unfolded).map_err(|e| e.chars().take(200).collect::<String>())?;
    Ok(cal.components.len() + cal.properties.len())
}
