//! A focused, lossless reader for iCalendar text (RFC 5545 section 3.1).
//!
//! Unfolding, CRLF or LF, an optional BOM, lower-case names, quoted parameter
//! values. Lines that need no unfolding are borrowed from the input, so
//! reading allocates little more than the tree itself. The reader is
//! iterative (no recursion) and bounded by [`ParseOptions`].

use super::{Component, Param, Property};
use crate::error::{EngineError, ErrorCode, Result};
use std::borrow::Cow;

/// Limits of the reader.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of components accepted.
    pub max_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { max_bytes: 1024 * 1024, max_depth: 16 }
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
    while let Some((line_no, line)) = lines.next_line() {
        if line.as_str().trim().is_empty() {
            continue;
        }
        let prop = match split_content_line(line.as_str()) {
            Some(pieces) => make_property(line, &pieces, line_no),
            None => {
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
                let mut value = std::mem::take(&mut last.value).into_owned();
                value.push_str("\\n");
                value.push_str(line.as_str());
                last.value = Cow::Owned(value);
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
            stack.push(Component { name, properties: Vec::new(), components: Vec::new(), line: line_no });
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

/// The text of one unfolded line: borrowed when it needed no unfolding.
enum LineText<'a> {
    Borrowed(&'a str),
    Owned(String),
}

impl LineText<'_> {
    fn as_str(&self) -> &str {
        match self {
            LineText::Borrowed(s) => s,
            LineText::Owned(s) => s,
        }
    }
}

struct LogicalLines<'a> {
    rest: &'a str,
    /// Number of physical lines consumed so far.
    line: u32,
}

impl<'a> LogicalLines<'a> {
    /// The next unfolded line and the number of its first physical line.
    fn next_line(&mut self) -> Option<(u32, LineText<'a>)> {
        if self.rest.is_empty() {
            return None;
        }
        let (first, after) = split_physical(self.rest);
        self.line += 1;
        let start = self.line;
        self.rest = after;
        if !starts_folded(self.rest) {
            return Some((start, LineText::Borrowed(first)));
        }
        let mut owned = String::with_capacity(first.len() + 80);
        owned.push_str(first);
        while starts_folded(self.rest) {
            let (next, after) = split_physical(self.rest);
            self.line += 1;
            self.rest = after;
            owned.push_str(next.get(1..).unwrap_or(""));
        }
        Some((start, LineText::Owned(owned)))
    }
}

fn starts_folded(s: &str) -> bool {
    matches!(s.as_bytes().first(), Some(b' ' | b'\t'))
}

/// Splits off one physical line, without its CRLF or LF.
fn split_physical(s: &str) -> (&str, &str) {
    match s.find('\n') {
        Some(i) => {
            let line = s.get(..i).unwrap_or("");
            let line = line.strip_suffix('\r').unwrap_or(line);
            (line, s.get(i + 1..).unwrap_or(""))
        }
        None => (s.strip_suffix('\r').unwrap_or(s), ""),
    }
}

fn upper<'a>(s: Cow<'a, str>) -> Cow<'a, str> {
    let t = s.trim();
    if t.len() == s.len() && !t.bytes().any(|b| b.is_ascii_lowercase()) {
        return s;
    }
    Cow::Owned(t.to_ascii_uppercase())
}

/// A byte range of a content line.
type Span = (usize, usize);

/// Slices of a content line, as byte ranges.
struct Pieces {
    name: (usize, usize),
    params: Vec<(Span, Vec<Span>)>,
    value: usize,
}

fn split_content_line(s: &str) -> Option<Pieces> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b.get(i).is_some_and(|c| *c != b';' && *c != b':') {
        i += 1;
    }
    if i == 0 || i >= b.len() {
        return None;
    }
    let name = (0, i);
    let mut params = Vec::new();
    while b.get(i) == Some(&b';') {
        i += 1;
        let pstart = i;
        while b.get(i).is_some_and(|c| *c != b'=' && *c != b':' && *c != b';') {
            i += 1;
        }
        let pname = (pstart, i);
        let mut values = Vec::new();
        if b.get(i) == Some(&b'=') {
            i += 1;
            loop {
                if b.get(i) == Some(&b'"') {
                    let vstart = i + 1;
                    let close = s.get(vstart..)?.find('"')?;
                    values.push((vstart, vstart + close));
                    i = vstart + close + 1;
                } else {
                    let vstart = i;
                    while b.get(i).is_some_and(|c| *c != b',' && *c != b':' && *c != b';') {
                        i += 1;
                    }
                    values.push((vstart, i));
                }
                if b.get(i) == Some(&b',') {
                    i += 1;
                } else {
                    break;
                }
            }
        }
        if pname.0 < pname.1 {
            params.push((pname, values));
        }
    }
    if b.get(i) != Some(&b':') {
        return None;
    }
    Some(Pieces { name, params, value: i + 1 })
}

fn make_property<'a>(line: LineText<'a>, pieces: &Pieces, line_no: u32) -> Property<'a> {
    let prop = match line {
        LineText::Borrowed(s) => build(s, pieces, |r| Cow::Borrowed(s.get(r.0..r.1).unwrap_or(""))),
        LineText::Owned(s) => build(&s, pieces, |r| Cow::Owned(s.get(r.0..r.1).unwrap_or("").to_owned())),
    };
    Property { line: line_no, ..prop }
}

fn build<'a, F>(s: &str, p: &Pieces, mut slice: F) -> Property<'a>
where
    F: FnMut((usize, usize)) -> Cow<'a, str>,
{
    let params = p
        .params
        .iter()
        .map(|(n, vs)| Param { name: upper(slice(*n)), values: vs.iter().map(|v| slice(*v)).collect() })
        .collect();
    Property { name: upper(slice(p.name)), params, value: slice((p.value, s.len())), line: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_folded_lines_params_and_keeps_unknowns() {
        let text = "\u{feff}BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nsummary;x-foo=\"a;b\",c:Hello\r\n  world\r\nX-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\nEND:VEVENT\nEND:VCALENDAR\n";
        let cal = parse_calendar(text, &ParseOptions::default()).unwrap();
        let ev = cal.children("VEVENT").next().unwrap();
        let s = ev.prop("SUMMARY").unwrap();
        assert_eq!(s.value, "Hello world");
        assert_eq!(s.line, 3);
        assert_eq!(s.params[0].name, "X-FOO");
        assert_eq!(s.params[0].values, vec!["a;b", "c"]);
        assert_eq!(ev.value("X-MICROSOFT-CDO-BUSYSTATUS"), Some("TENTATIVE"));
    }

    #[test]
    fn reports_the_line_of_a_broken_structure() {
        let err = parse_calendar("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VTODO\nEND:VCALENDAR\n", &ParseOptions::default())
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ParseError);
        assert_eq!(err.line, Some(3));
    }
}
