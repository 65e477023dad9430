//! A focused, lossless reader for iCalendar text (RFC 5545 section 3.1).
//!
//! Unfolding, CRLF or LF, an optional BOM, lower-case names, quoted parameter
//! values. The text is borrowed from the input wherever it lies within one
//! physical line: a line that needs no unfolding is borrowed whole; a folded
//! line whose name and parameters end on its first physical line is read
//! from that line, its value joined; in any other folded line only a piece
//! that spans a fold is copied (from one unfolded buffer reused for every
//! line). A content line is split in one pass straight into its
//! [`Param`]s. The reader is iterative (no recursion) and bounded by
//! [`ParseOptions`].

use super::value::has_ascii_between;
#[cfg(target_feature = "sse2")]
use super::value::lanes_equal;
use super::{Component, Param, Property};
use crate::error::{EngineError, ErrorCode, Result};
use std::borrow::Cow;

/// Limits of the reader, and what it keeps.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of components accepted.
    pub max_depth: usize,
    /// Keep each content line that writing gives back octet for octet in
    /// [`Property::raw`], for the stored copy to copy (a little more work
    /// while reading, much less while writing the copy).
    pub keep_raw: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { max_bytes: 1024 * 1024, max_depth: 16, keep_raw: false }
    }
}

/// Reads every top-level component of `text` (usually one `VCALENDAR`).
pub fn parse_components<'a>(text: &'a str, opts: &ParseOptions) -> Result<Vec<Component<'a>>> {
    if text.len() > opts.max_bytes {
        return Err(EngineError::new(
            ErrorCode::TooLarge,
            format!("the calendar is {} bytes, more than the limit of {} bytes", text.len(), opts.max_bytes),
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut top: Vec<Component<'a>> = Vec::new();
    let mut stack: Vec<Component<'a>> = Vec::new();
    let mut lines = LogicalLines { rest: text, line: 0 };
    // Where each physical piece of the current folded line starts in its
    // unfolded text, and that piece in the input (reused across lines).
    let mut spans: Vec<(usize, &'a str)> = Vec::new();
    // The unfolded text of the current folded line (reused across lines).
    let mut unfolded = String::new();
    // The continuation lines of the current folded line, each without its
    // fold marker and line break (reused across lines).
    let mut pieces: Vec<&'a str> = Vec::new();
    while let Some(LogicalLine { line_no, first, folded, raw, folds }) = lines.next_line(&mut pieces) {
        // The line as read is kept when writing the property gives it back.
        let keep = |(mut prop, plain): (Property<'a>, bool)| {
            if opts.keep_raw && writes_back(&prop, plain, folds) {
                prop.raw = Some(raw);
            }
            prop
        };
        let read = match folded.then_some(pieces.as_slice()) {
            None => {
                if is_blank(first) {
                    continue;
                }
                split_borrowed(first, line_no).map(keep).ok_or(Cow::Borrowed(first))
            }
            Some(pieces) => match memchr::memchr(b':', first.as_bytes()).and_then(|_| split_borrowed(first, line_no)) {
                // The name and parameters end on the first physical line (a
                // long text or address folded in its value): they are read
                // from it as they stand, only the value is joined. Reading
                // is left to right, so the unfolded line reads the same.
                Some((mut prop, plain)) => {
                    prop.value = Cow::Owned(join_folded(&prop.value, pieces));
                    Ok(keep((prop, plain)))
                }
                None => {
                    unfold(first, pieces, &mut spans, &mut unfolded);
                    if is_blank(&unfolded) {
                        continue;
                    }
                    split_folded(&unfolded, &spans, line_no).map(keep).ok_or_else(|| Cow::Owned(unfolded.clone()))
                }
            },
        };
        let prop = match read {
            Ok(prop) => prop,
            Err(text) => {
                // A line without `:` is text that lost its folding (seen in
                // exports that wrote raw newlines into DESCRIPTION): join it to
                // the previous property's value, as a lenient reader must.
                let Some(last) = stack.last_mut().and_then(|c| c.properties.last_mut()) else {
                    return Err(EngineError::at(
                        ErrorCode::ParseError,
                        line_no,
                        "expected a content line `NAME:value`",
                    ));
                };
                if !is_text_valued(&last.name) {
                    // A stray line after a date, a rule or an address is not
                    // part of it: joining it would spoil a usable value
                    // (docs/decision.md, "Damaged input"). It is dropped.
                    continue;
                }
                let mut value = std::mem::take(&mut last.value).into_owned();
                value.push_str("\\n");
                value.push_str(&text);
                last.value = Cow::Owned(value);
                last.raw = None;
                continue;
            }
        };
        if prop.name == "BEGIN" {
            if stack.len() >= opts.max_depth {
                return Err(EngineError::at(
                    ErrorCode::ParseError,
                    line_no,
                    format!("components are nested more than {} deep", opts.max_depth),
                ));
            }
            let name = upper(prop.value);
            if name.is_empty() {
                return Err(EngineError::at(ErrorCode::ParseError, line_no, "`BEGIN` without a component name"));
            }
            // Room for the usual number of lines: an event with its
            // attendees has dozens, the other components a handful.
            let room = if name == "VEVENT" { 32 } else { 8 };
            stack.push(Component { name, properties: Vec::with_capacity(room), components: Vec::new(), line: line_no });
        } else if prop.name == "END" {
            let Some(done) = stack.pop() else {
                return Err(EngineError::at(
                    ErrorCode::ParseError,
                    line_no,
                    format!("`END:{}` without a matching `BEGIN`", prop.value),
                ));
            };
            // The outermost `END` closes the object whatever it names
            // (`END:VCALENDARD` is seen in the wild); inside, names must match.
            if !stack.is_empty() && !done.name.eq_ignore_ascii_case(prop.value.trim()) {
                return Err(EngineError::at(
                    ErrorCode::ParseError,
                    line_no,
                    format!("`END:{}` closes `BEGIN:{}` of line {}", prop.value, done.name, done.line),
                ));
            }
            match stack.last_mut() {
                Some(parent) => parent.components.push(done),
                None => top.push(done),
            }
        } else {
            match stack.last_mut() {
                Some(c) => c.properties.push(prop),
                // Text after the last `END:VCALENDAR` (a trailing comment
                // some feeds append) belongs to no object: skip it.
                None if !top.is_empty() => {}
                None => {
                    return Err(EngineError::at(
                        ErrorCode::ParseError,
                        line_no,
                        format!("property `{}` outside of any component", prop.name),
                    ));
                }
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(EngineError::at(
            ErrorCode::ParseError,
            lines.line.max(1),
            format!("`BEGIN:{}` of line {} is never closed", open.name, open.line),
        ));
    }
    if top.is_empty() {
        return Err(EngineError::at(ErrorCode::ParseError, 1, "no `BEGIN:VCALENDAR` found"));
    }
    Ok(top)
}

/// Reads `text` as one calendar. Several `VCALENDAR` objects in one text are
/// merged into the first (as some exports concatenate them).
pub fn parse_calendar<'a>(text: &'a str, opts: &ParseOptions) -> Result<Component<'a>> {
    let mut all = parse_components(text, opts)?.into_iter();
    let Some(mut first) = all.next() else {
        return Err(EngineError::at(ErrorCode::ParseError, 1, "no `BEGIN:VCALENDAR` found"));
    };
    if !first.is("VCALENDAR") {
        return Err(EngineError::at(
            ErrorCode::ParseError,
            first.line,
            format!("expected `BEGIN:VCALENDAR`, found `BEGIN:{}`", first.name),
        ));
    }
    for more in all {
        if more.is("VCALENDAR") {
            first.components.extend(more.components);
        }
    }
    Ok(first)
}

/// Whether a line holds only white space (the first byte is enough to tell
/// for nearly every line).
fn is_blank(s: &str) -> bool {
    s.chars().next().is_none_or(char::is_whitespace) && s.trim().is_empty()
}

/// Whether writing `prop` may give back its line as read: `plain` when its
/// name and parameters are written as they stand ([`scan`]), `folds` when
/// its physical lines are those the writer makes ([`LogicalLines`]). (Its
/// value is looked at when it is written, the one step left: a CR or NUL
/// in it is changed by the writer.)
fn writes_back(prop: &Property<'_>, plain: bool, folds: bool) -> bool {
    plain && folds && prop.name != "BEGIN" && prop.name != "END"
}

/// The physical lines of a text, grouped into logical (folded) lines.
struct LogicalLines<'a> {
    rest: &'a str,
    /// Number of physical lines consumed so far.
    line: u32,
}

impl<'a> LogicalLines<'a> {
    /// The next logical line; `pieces` receives its continuation lines,
    /// each without its fold marker and line break.
    fn next_line(&mut self, pieces: &mut Vec<&'a str>) -> Option<LogicalLine<'a>> {
        pieces.clear();
        if self.rest.is_empty() {
            return None;
        }
        let begin = self.rest;
        let (first, after) = split_physical(self.rest);
        self.line += 1;
        let line_no = self.line;
        let mut folds = ends_with_crlf(self.rest, first, after);
        self.rest = after;
        let whole = |rest: &str| begin.get(..begin.len() - rest.len()).unwrap_or("");
        if !starts_folded(self.rest) {
            folds &= first.len() <= 75;
            return Some(LogicalLine { line_no, first, folded: false, raw: whole(self.rest), folds });
        }
        // The writer folds a line only past its budget (75 octets on the
        // first physical line, 74 after the space on the others), at the
        // last character that fits.
        let (mut budget, mut last) = (75, first.len());
        // Bounded: each turn consumes at least the fold marker.
        while starts_folded(self.rest) {
            let (next, after) = split_physical(self.rest);
            let piece = next.get(1..).unwrap_or_default();
            let width = match piece.as_bytes().first() {
                Some(&b) if b >= 0xF0 => 4,
                Some(&b) if b >= 0xE0 => 3,
                Some(&b) if b >= 0xC0 => 2,
                _ => 1,
            };
            folds &= next.starts_with(' ')
                && !piece.is_empty()
                && ends_with_crlf(self.rest, next, after)
                && last <= budget
                && last + width > budget;
            (budget, last) = (74, piece.len());
            pieces.push(piece);
            self.line += 1;
            self.rest = after;
        }
        folds &= last <= budget;
        Some(LogicalLine { line_no, first, folded: true, raw: whole(self.rest), folds })
    }
}

/// One logical line of [`LogicalLines`].
struct LogicalLine<'a> {
    /// The number of its first physical line.
    line_no: u32,
    /// Its first physical line, without its line break.
    first: &'a str,
    /// Whether it is folded (its continuation lines are in the `pieces` of
    /// [`LogicalLines::next_line`]).
    folded: bool,
    /// The whole logical line as it stands in the input, breaks included.
    raw: &'a str,
    /// Whether its physical lines end with CRLF and are folded where and
    /// as the writer folds.
    folds: bool,
}

/// Whether the physical line `line` split off `from` (leaving `after`)
/// ended with CRLF.
fn ends_with_crlf(from: &str, line: &str, after: &str) -> bool {
    from.len() - after.len() == line.len() + 2
}

fn starts_folded(s: &str) -> bool {
    matches!(s.as_bytes().first(), Some(b' ' | b'\t'))
}

/// Splits off one physical line, without its CRLF or LF.
fn split_physical(s: &str) -> (&str, &str) {
    match find_line_feed(s.as_bytes()) {
        Some(i) => {
            let line = s.get(..i).unwrap_or("");
            let line = line.strip_suffix('\r').unwrap_or(line);
            (line, s.get(i + 1..).unwrap_or(""))
        }
        None => (s.strip_suffix('\r').unwrap_or(s), ""),
    }
}

/// The first line feed of `b`. Nearly every line of a calendar is at most
/// 75 octets and its line break: the first 80 octets are compared sixteen
/// at a time, as masks of bits, cheaper than setting up a search for each
/// short line; a longer line is searched on from there.
#[cfg(target_feature = "sse2")]
#[inline]
fn find_line_feed(b: &[u8]) -> Option<usize> {
    let Some(head) = b.first_chunk::<80>() else {
        return memchr::memchr(b'\n', b);
    };
    let mut sixteens = head.chunks_exact(16);
    let mask = |sixteen: &[u8]| {
        let octets: [u8; 16] = sixteen.try_into().unwrap_or_default();
        u64::from(lanes_equal(wide::u8x16::new(octets), b'\n'))
    };
    let first = sixteens.by_ref().take(4).enumerate().fold(0, |m, (k, sixteen)| m | (mask(sixteen) << (16 * k)));
    if first != 0 {
        return Some(first.trailing_zeros() as usize);
    }
    let fifth = sixteens.next().map_or(0, mask);
    if fifth != 0 {
        return Some(64 + fifth.trailing_zeros() as usize);
    }
    memchr::memchr(b'\n', b.get(80..).unwrap_or_default()).map(|i| 80 + i)
}

/// The first line feed of `b` (where the target has no SSE2, memchr's own
/// search for it).
#[cfg(not(target_feature = "sse2"))]
#[inline]
fn find_line_feed(b: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', b)
}

/// Unfolds `first` and its continuation lines `pieces` into `owned`.
/// `spans` receives, for each physical piece, where it starts in the result
/// and its text in the input.
fn unfold<'a>(first: &'a str, pieces: &[&'a str], spans: &mut Vec<(usize, &'a str)>, owned: &mut String) {
    spans.clear();
    owned.clear();
    spans.push((0, first));
    owned.push_str(first);
    for &piece in pieces {
        spans.push((owned.len(), piece));
        owned.push_str(piece);
    }
}

/// `head` followed by the continuation lines `pieces`, in one allocation.
fn join_folded(head: &str, pieces: &[&str]) -> String {
    let mut out = String::with_capacity(head.len() + pieces.iter().map(|p| p.len()).sum::<usize>());
    out.push_str(head);
    for piece in pieces {
        out.push_str(piece);
    }
    out
}

fn upper(s: Cow<'_, str>) -> Cow<'_, str> {
    // The usual name: printable ASCII at both ends (so nothing to trim) and
    // already upper-case.
    let b = s.as_bytes();
    let plain_ends = b.first().is_some_and(u8::is_ascii_graphic) && b.last().is_some_and(u8::is_ascii_graphic);
    if plain_ends && !has_ascii_between(b, b'a', b'z') {
        return s;
    }
    let t = s.trim();
    if t.len() == s.len() && !t.bytes().any(|b| b.is_ascii_lowercase()) {
        return s;
    }
    Cow::Owned(t.to_ascii_uppercase())
}

/// A piece of a content line met by [`scan`], as a byte range.
enum Piece {
    /// A parameter name, and whether it holds a lower-case letter.
    ParamName(usize, usize, bool),
    /// A value (unquoted) of the parameter named last.
    ParamValue(usize, usize),
}

/// Whether a property's value is free text (RFC 5545 3.3.11), where a line
/// that lost its folding can only be more of the same text: the text
/// properties of RFC 5545 and 7986, and `X-` and unknown names.
fn is_text_valued(name: &str) -> bool {
    const STRUCTURED: &[&str] = &[
        "DTSTART",
        "DTEND",
        "DUE",
        "DTSTAMP",
        "CREATED",
        "LAST-MODIFIED",
        "RECURRENCE-ID",
        "EXDATE",
        "RDATE",
        "RRULE",
        "EXRULE",
        "DURATION",
        "TRIGGER",
        "ORGANIZER",
        "ATTENDEE",
        "UID",
        "SEQUENCE",
        "STATUS",
        "TRANSP",
        "CLASS",
        "PRIORITY",
        "METHOD",
        "VERSION",
        "CALSCALE",
        "TZID",
        "TZOFFSETFROM",
        "TZOFFSETTO",
        "FREEBUSY",
        "GEO",
        "PERCENT-COMPLETE",
        "COMPLETED",
        "REPEAT",
        "ACTION",
        "URL",
        "TZURL",
        "REQUEST-STATUS",
        "ATTACH",
    ];
    !STRUCTURED.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// What a byte of a property's name or parameters is to [`scan`], looked
/// up in one step (a chain of comparisons per byte was most of the walk).
const NAME_END: u16 = 1; // `=`, `:`, `;`
const VALUE_END: u16 = 2; // `,`, `:`, `;`
const LOWER: u16 = 4; // `a` to `z`
const CONTROL: u16 = 8; // an ASCII control character
const UNQUOTABLE: u16 = 16; // DQUOTE, CR, NUL: not written back as read unquoted
const SPECIAL: u16 = 32; // `:`, `;`, `,`: a value holding one is quoted
const BREAK: u16 = 64; // CR, LF, NUL: a quoted value holding one is changed
const QUOTE: u16 = 128; // DQUOTE: the end of a quoted value
const PROPERTY_END: u16 = 256; // `:`, `;`: the end of a property's name

static BYTE_CLASS: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut k = 0;
        if matches!(b, b'=' | b':' | b';') {
            k |= NAME_END;
        }
        if matches!(b, b',' | b':' | b';') {
            k |= VALUE_END | SPECIAL;
        }
        if b.is_ascii_lowercase() {
            k |= LOWER;
        }
        if b.is_ascii_control() {
            k |= CONTROL;
        }
        if matches!(b, b'"' | b'\r' | 0) {
            k |= UNQUOTABLE;
        }
        if matches!(b, b'\r' | b'\n' | 0) {
            k |= BREAK;
        }
        if b == b'"' {
            k |= QUOTE;
        }
        if matches!(b, b':' | b';') {
            k |= PROPERTY_END;
        }
        // Evaluated while compiling: an index out of bounds fails the build.
        #[allow(clippy::indexing_slicing)]
        {
            table[c] = k;
        }
        c += 1;
    }
    table
};

/// The bytes of `b` before the first whose class has a bit of `end`, and
/// the classes of those bytes together.
fn run_until(b: &[u8], end: u16) -> (usize, u16) {
    let mut seen = 0;
    let len = b
        .iter()
        .position(|&c| {
            let k = BYTE_CLASS.get(usize::from(c)).copied().unwrap_or_default();
            if k & end != 0 {
                return true;
            }
            seen |= k;
            false
        })
        .unwrap_or(b.len());
    (len, seen)
}

/// Walks a content line `NAME *(";" param) ":" value`, calling `each` for
/// every named parameter and each of its values. Returns where the name
/// ends and the value starts, and whether the parameters are written back
/// as they stand but for their names' case (every parameter named and with
/// `=`, a value quoted exactly when it holds `:`, `;` or `,`, and none
/// holding a DQUOTE, CR or NUL); `None` when the line has no `:` or an
/// empty name.
fn scan(s: &str, mut each: impl FnMut(Piece)) -> Option<Scanned> {
    let b = s.as_bytes();
    let (mut i, seen) = run_until(b, PROPERTY_END);
    let name_lower = seen & LOWER != 0;
    // A name that is only white space is no name, and a name holding a
    // control character (NUL, a lone CR) is none either: written back without
    // it, `\0END` would become a structural `END`. Neither is a content line.
    if i >= b.len() || seen & CONTROL != 0 || s.get(..i).is_none_or(|n| n.chars().all(char::is_whitespace)) {
        return None;
    }
    let name = i;
    let mut plain = true;
    while b.get(i) == Some(&b';') {
        i += 1;
        let pstart = i;
        let (len, seen) = run_until(b.get(i..).unwrap_or_default(), NAME_END);
        i += len;
        // A parameter without a name (or only white space) is dropped, with its
        // values; so is one whose name holds a control character, as for a
        // property's name: read back, such a name would not be the same name.
        let named = seen & CONTROL == 0 && s.get(pstart..i).is_some_and(|n| !n.chars().all(char::is_whitespace));
        plain &= named;
        if named {
            each(Piece::ParamName(pstart, i, seen & LOWER != 0));
        }
        if b.get(i) != Some(&b'=') {
            // `P` without `=` reads as `P=` (one empty value), as it is written back.
            if named {
                each(Piece::ParamValue(i, i));
            }
            plain = false;
            continue;
        }
        i += 1;
        loop {
            if b.get(i) == Some(&b'"') {
                // A quoted value may hold `,`, `:` and `;`.
                let vstart = i + 1;
                let (close, seen) = run_until(b.get(vstart..)?, QUOTE);
                if vstart + close >= b.len() {
                    return None;
                }
                plain &= seen & SPECIAL != 0 && seen & BREAK == 0;
                if named {
                    each(Piece::ParamValue(vstart, vstart + close));
                }
                i = vstart + close + 1;
            } else {
                let vstart = i;
                let (len, seen) = run_until(b.get(i..).unwrap_or_default(), VALUE_END);
                i += len;
                plain &= seen & UNQUOTABLE == 0;
                if named {
                    each(Piece::ParamValue(vstart, i));
                }
            }
            if b.get(i) == Some(&b',') {
                i += 1;
            } else {
                break;
            }
        }
    }
    if b.get(i) != Some(&b':') {
        return None;
    }
    Some(Scanned { name_end: name, value_at: i + 1, plain, name_lower })
}

/// What [`scan`] found of a content line.
struct Scanned {
    /// The end of the property's name.
    name_end: usize,
    /// The start of the value.
    value_at: usize,
    /// Whether the parameters are written back as they stand.
    plain: bool,
    /// Whether the property's name holds a lower-case letter.
    name_lower: bool,
}

/// A name upper-cased ([`upper`]), and whether it was left as it stood
/// (then it is written back as it stands); `lower` is whether [`scan`] saw
/// a lower-case letter in it: a name without one needs only its ends
/// looked at.
fn upper_name(s: Cow<'_, str>, lower: bool) -> (Cow<'_, str>, bool) {
    let b = s.as_bytes();
    if !lower && b.first().is_some_and(u8::is_ascii_graphic) && b.last().is_some_and(u8::is_ascii_graphic) {
        return (s, true);
    }
    let before = s.as_ptr();
    let name = upper(s);
    let kept = name.as_ptr() == before;
    (name, kept)
}

/// Room for the parameters of a content line: an address line
/// (`ATTENDEE`, `ORGANIZER`) usually has five to seven, and growing the list
/// there was a tenth of the parser's work; other lines have few or none.
fn params_hint(s: &str) -> usize {
    let b = s.as_bytes();
    let is = |name: &[u8]| b.get(..name.len()).is_some_and(|h| h.eq_ignore_ascii_case(name));
    if is(b"ATTENDEE;") || is(b"ORGANIZER;") { 8 } else { 0 }
}

/// Splits a line that needed no unfolding: every piece is borrowed. With
/// the property, whether its name and parameters are written as read.
fn split_borrowed(s: &str, line_no: u32) -> Option<(Property<'_>, bool)> {
    split_into(s, line_no, |a, z| Cow::Borrowed(s.get(a..z).unwrap_or("")))
}

/// Splits an unfolded line whose physical pieces are `spans`: a piece of
/// the content line within one physical line is borrowed from the input, a
/// piece across a fold is copied from `whole`. `None` when it is not a
/// content line. With the property, as [`split_borrowed`].
fn split_folded<'a>(whole: &str, spans: &[(usize, &'a str)], line_no: u32) -> Option<(Property<'a>, bool)> {
    let first = spans.first().map_or("", |&(_, text)| text);
    split_into(whole, line_no, |a, z| {
        // Most pieces lie on the first physical line: no search for those.
        if z <= first.len() {
            return Cow::Borrowed(first.get(a..z).unwrap_or(""));
        }
        let at = spans.partition_point(|(start, _)| *start <= a).saturating_sub(1);
        if let Some((start, text)) = spans.get(at)
            && z.saturating_sub(*start) <= text.len()
        {
            return Cow::Borrowed(text.get(a.saturating_sub(*start)..z.saturating_sub(*start)).unwrap_or(""));
        }
        Cow::Owned(whole.get(a..z).unwrap_or("").to_owned())
    })
}

/// Splits the content line `line` into a property, taking the text of each
/// byte range from `piece`; with whether its name and parameters are
/// written as read ([`scan`], and names [`upper`] left as they were).
fn split_into<'a>(
    line: &str,
    line_no: u32,
    piece: impl Fn(usize, usize) -> Cow<'a, str>,
) -> Option<(Property<'a>, bool)> {
    let mut params: Vec<Param<'a>> = Vec::with_capacity(params_hint(line));
    let mut names_kept = true;
    let Scanned { name_end, value_at, plain, name_lower } = scan(line, |p| match p {
        Piece::ParamName(a, z, lower) => {
            let (name, kept) = upper_name(piece(a, z), lower);
            names_kept &= kept;
            params.push(Param { name, values: super::ParamValues::new() });
        }
        Piece::ParamValue(a, z) => {
            if let Some(p) = params.last_mut() {
                p.values.push(piece(a, z));
            }
        }
    })?;
    let (name, kept) = upper_name(piece(0, name_end), name_lower);
    let value = piece(value_at, line.len());
    Some((Property { name, params, value, line: line_no, raw: None }, plain && names_kept && kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_feeds_are_found_where_a_plain_search_finds_them() {
        // Texts around the 16-octet steps and the 80 octets compared at
        // once, with line feeds at every place.
        let mut texts: Vec<Vec<u8>> = Vec::new();
        for len in [0usize, 1, 15, 16, 63, 64, 65, 79, 80, 81, 96, 200] {
            texts.push(vec![b'x'; len]);
            texts.push(vec![b'\n'; len]);
            for at in 0..len {
                let mut t = vec![b'x'; len];
                if let Some(c) = t.get_mut(at) {
                    *c = b'\n';
                }
                texts.push(t.clone());
                if let Some(c) = t.get_mut(len - 1) {
                    *c = b'\n';
                }
                texts.push(t);
            }
        }
        texts.push(b"BEGIN:VCALENDAR\r\nA\n\n B\r\n\xc3\xa9\n".repeat(9));
        for t in &texts {
            for from in 0..=t.len() {
                let rest = t.get(from..).unwrap_or_default();
                assert_eq!(find_line_feed(rest), memchr::memchr(b'\n', rest), "{rest:?}");
            }
        }
    }

    #[test]
    fn reads_folded_lines_params_and_keeps_unknowns() {
        let text = "\u{feff}BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nsummary;x-foo=\"a;b\",c:Hello\r\n  world\r\nX-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\nEND:VEVENT\nEND:VCALENDAR\n";
        let cal = parse_calendar(text, &ParseOptions::default()).unwrap();
        let ev = cal.children("VEVENT").next().unwrap();
        let s = ev.prop("SUMMARY").unwrap();
        assert_eq!(s.value, "Hello world");
        assert_eq!(s.line, 3);
        assert_eq!(s.params[0].name, "X-FOO");
        assert_eq!(&s.params[0].values[..], ["a;b", "c"]);
        assert_eq!(ev.value("X-MICROSOFT-CDO-BUSYSTATUS"), Some("TENTATIVE"));
    }

    /// Every fold position of a few lines (in the name, a parameter, a
    /// quoted value holding `:`, the value) reads as the unfolded line.
    #[test]
    fn a_line_reads_the_same_wherever_it_is_folded() {
        let lines = [
            "ATTENDEE;CN=\"Berg: Bob\";ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:bob@acme.example",
            "DESCRIPTION;LANGUAGE=en:Agenda: one\\, two: three",
            "X-A;P=a,\"b:c\",d:v:w",
        ];
        for line in lines {
            let plain = format!("BEGIN:VCALENDAR\r\n{line}\r\nEND:VCALENDAR\r\n");
            let want = parse_calendar(&plain, &ParseOptions::default()).unwrap();
            for cut in 1..line.len() {
                let folded = format!("BEGIN:VCALENDAR\r\n{}\r\n {}\r\nEND:VCALENDAR\r\n", &line[..cut], &line[cut..]);
                let got = parse_calendar(&folded, &ParseOptions::default()).unwrap();
                assert_eq!(got.properties, want.properties, "cut at {cut}: {line}");
            }
        }
    }

    #[test]
    fn reports_the_line_of_a_broken_structure() {
        let err = parse_calendar("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VTODO\nEND:VCALENDAR\n", &ParseOptions::default())
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ParseError);
        assert_eq!(err.line, Some(3));
    }

    #[test]
    fn borrows_the_pieces_of_a_folded_line_that_lie_within_one_physical_line() {
        let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nATTENDEE;CN=\"Ann, Smith\";PART\n\tSTAT=ACCEPTED;ROLE=CHAIR:mailto:a\n @x.org\nDTSTART:20250101T100000Z\nEND:VEVENT\nEND:VCALENDAR\n";
        let cal = parse_calendar(text, &ParseOptions::default()).unwrap();
        let ev = cal.children("VEVENT").next().unwrap();
        let a = ev.prop("ATTENDEE").unwrap();
        assert_eq!(a.line, 3);
        assert!(matches!(a.name, Cow::Borrowed("ATTENDEE")));
        assert!(matches!(a.params[0].values[0], Cow::Borrowed("Ann, Smith")));
        assert!(matches!(a.params[1].name, Cow::Owned(ref n) if n == "PARTSTAT"));
        assert!(matches!(a.params[2].values[0], Cow::Borrowed("CHAIR")));
        assert_eq!(a.value, "mailto:a@x.org");
        assert_eq!(ev.prop("DTSTART").unwrap().line, 6);
    }

    #[test]
    fn joins_a_line_without_a_colon_to_the_previous_value() {
        let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDESCRIPTION:one\ntwo and\n  three\n\nEND:VEVENT\nEND:VCALENDAR\nX-COMMENT:trailing\n";
        let cal = parse_calendar(text, &ParseOptions::default()).unwrap();
        let ev = cal.children("VEVENT").next().unwrap();
        assert_eq!(ev.value("DESCRIPTION"), Some("one\\ntwo and three"));
        let err = parse_calendar("no colon here\n", &ParseOptions::default()).unwrap_err();
        assert_eq!((err.code, err.line), (ErrorCode::ParseError, Some(1)));
    }

    #[test]
    fn a_name_with_a_control_character_is_not_a_content_line() {
        // Written back without its NUL, the stray line would be a structural
        // `END:VEVENT` that was never there (found by the fuzzer).
        let text = "BEGIN:VCALENDAR\nVERSION:2.0\nX-NOTE:kept\n\0\0END:VEVENT\nEN\rD:VEVENT\nEND:VCALENDAR\n";
        let cal = parse_calendar(text, &ParseOptions::default()).unwrap();
        assert_eq!(cal.properties.len(), 2);
        let written = cal.to_ics();
        let again = parse_calendar(&written, &ParseOptions::default()).unwrap();
        assert_eq!(again.to_ics(), written);
        assert!(again.components.is_empty());
    }

    #[test]
    fn a_parameter_whose_name_holds_a_control_character_is_dropped() {
        // `CN\v\0` was written back as `CN\v`, which reads as `CN`: the
        // second writing differed from the first (found by the fuzzer).
        let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nATTENDEE;CN\u{b}\0\0=XYZ;ROLE=CHAIR;X-\u{1}=1:mailto:x@x.org\nEND:VEVENT\nEND:VCALENDAR\n";
        let cal = parse_calendar(text, &ParseOptions::default()).unwrap();
        let attendee = cal.children("VEVENT").next().unwrap().prop("ATTENDEE").unwrap();
        let names: Vec<&str> = attendee.params.iter().map(|p| p.name.as_ref()).collect();
        assert_eq!(names, ["ROLE"]);
        let written = cal.to_ics();
        assert_eq!(parse_calendar(&written, &ParseOptions::default()).unwrap().to_ics(), written);
    }

    #[test]
    fn the_outermost_end_closes_whatever_it_names_and_limits_hold() {
        let cal = parse_calendar("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDARD\n", &ParseOptions::default()).unwrap();
        assert_eq!(cal.value("VERSION"), Some("2.0"));
        let err = parse_calendar("BEGIN:VCALENDAR\nBEGIN:VEVENT\n", &ParseOptions::default()).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert_eq!(err.message, "`BEGIN:VEVENT` of line 2 is never closed");
        let deep = ParseOptions { max_depth: 1, ..ParseOptions::default() };
        let err = parse_calendar("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VEVENT\nEND:VCALENDAR\n", &deep).unwrap_err();
        assert_eq!(err.line, Some(2));
        let small = ParseOptions { max_bytes: 4, ..ParseOptions::default() };
        assert_eq!(parse_calendar("BEGIN:VCALENDAR\n", &small).unwrap_err().code, ErrorCode::TooLarge);
    }
}
