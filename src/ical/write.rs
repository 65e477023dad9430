//! Writing iCalendar text: CRLF line ends, folding at 75 octets (RFC 5545 3.1)
//! on character boundaries, parameter values quoted where they must be.
//!
//! Architecture Invariant: the writer never emits a raw line break (nor a
//! NUL) inside a name, a value or a parameter, whatever the tree holds: a
//! value's line break is written as the TEXT escape `\n` (RFC 5545 3.3.11),
//! a parameter's as `^n` (RFC 6868), so text from a message or a user can
//! never start a property of its own.

use super::{Component, Property};
use std::borrow::Cow;

/// `text` without raw line breaks or NULs: each CRLF, CR or LF becomes
/// `line_break`, a NUL is dropped. Borrowed when there is nothing to change.
fn without_breaks<'t>(text: &'t str, line_break: &str) -> Cow<'t, str> {
    // Names and parameter values are short: a plain loop is cheaper there
    // than setting up the vector search.
    let clean = if text.len() < 32 {
        !text.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
    } else {
        memchr::memchr3(b'\r', b'\n', 0, text.as_bytes()).is_none()
    };
    if clean {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str(line_break);
            }
            '\n' => out.push_str(line_break),
            '\0' => {}
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

/// Appends `comp` and its sub-components to `out`.
pub fn write_component(comp: &Component<'_>, out: &mut String) {
    write_component_with(comp, out, &mut String::new(), false);
}

/// [`write_component`] with a buffer for the lines to fold, reused;
/// `splice`: see [`write_property_with`].
fn write_component_with(comp: &Component<'_>, out: &mut String, line: &mut String, splice: bool) {
    walk(comp, |step| match step {
        Step::Begin(c) => {
            out.push_str("BEGIN:");
            out.push_str(&c.name);
            out.push_str("\r\n");
            for p in &c.properties {
                write_property_with(p, out, line, splice);
            }
        }
        Step::End(c) => {
            out.push_str("END:");
            out.push_str(&c.name);
            out.push_str("\r\n");
        }
    });
}

/// A step of [`walk`].
enum Step<'c, 'a> {
    /// A component starts (its properties come here).
    Begin(&'c Component<'a>),
    /// A component ends, after its sub-components.
    End(&'c Component<'a>),
}

/// Visits `comp` and its sub-components in writing order, iteratively: no
/// recursion on the input's depth.
fn walk<'c, 'a>(comp: &'c Component<'a>, mut visit: impl FnMut(Step<'c, 'a>)) {
    visit(Step::Begin(comp));
    let mut stack: Vec<(&Component<'_>, usize)> = vec![(comp, 0)];
    while let Some((c, i)) = stack.pop() {
        if let Some(child) = c.components.get(i) {
            stack.push((c, i + 1));
            visit(Step::Begin(child));
            stack.push((child, 0));
        } else {
            visit(Step::End(c));
        }
    }
}

/// About the length `comp` takes written (a little more when lines fold
/// often), so that the text is written into one allocation instead of
/// growing, and copied, several times.
pub fn written_len(comp: &Component<'_>) -> usize {
    let mut len = 0;
    walk(comp, |step| match step {
        Step::Begin(c) => {
            len += c.name.len() + 8;
            for p in &c.properties {
                len += match p.raw {
                    Some(raw) => raw.len(),
                    None => {
                        let params: usize = p
                            .params
                            .iter()
                            .map(|q| q.name.len() + 4 + q.values.iter().map(|v| v.len() + 1).sum::<usize>())
                            .sum();
                        let line = p.name.len() + 1 + p.value.len() + params;
                        // A fold adds three octets every 74 or so.
                        line + line / 72 * 3 + 2
                    }
                };
            }
        }
        Step::End(c) => len += c.name.len() + 6,
    });
    len
}

/// Appends `comp` with only the top-level properties and sub-components
/// that `keep_prop` and `keep_child` keep (each kept one whole). Lines the
/// reader kept ([`Property::raw`]) are copied as read: the stored copy of a
/// message is, line for line, what was received wherever that is what
/// writing would give.
pub fn write_filtered(
    comp: &Component<'_>,
    keep_prop: impl Fn(&Property<'_>) -> bool,
    mut keep_child: impl FnMut(&Component<'_>) -> bool,
    out: &mut String,
) {
    let mut line = String::new();
    out.push_str("BEGIN:");
    out.push_str(&comp.name);
    out.push_str("\r\n");
    for p in comp.properties.iter().filter(|p| keep_prop(p)) {
        write_property_with(p, out, &mut line, true);
    }
    for child in comp.components.iter().filter(|c| keep_child(c)) {
        write_component_with(child, out, &mut line, true);
    }
    out.push_str("END:");
    out.push_str(&comp.name);
    out.push_str("\r\n");
}

/// What a parameter value needs written: seen in one look at its octets,
/// since nearly every value is written as it is.
pub(crate) struct ParamShape {
    /// A CR, LF or NUL (written as `^n`, or dropped).
    pub breaks: bool,
    /// A DQUOTE (written as `'`).
    pub dquote: bool,
    /// A `:`, `;` or `,` (the value is quoted).
    pub special: bool,
}

impl ParamShape {
    pub fn of(v: &str) -> ParamShape {
        let mut shape = ParamShape { breaks: false, dquote: false, special: false };
        for b in v.bytes() {
            match b {
                b'\r' | b'\n' | 0 => shape.breaks = true,
                b'"' => shape.dquote = true,
                b':' | b';' | b',' => shape.special = true,
                _ => {}
            }
        }
        shape
    }
}

/// Appends one property as a folded content line. The unfolded line is
/// written first into `line`, a buffer the caller reuses, so that a line
/// to fold costs no allocation. With `splice`, a property read with its
/// line kept ([`Property::raw`]) is copied as read: the reader kept it only
/// when these steps give back the same octets (checked again here in debug
/// builds).
fn write_property_with(p: &Property<'_>, out: &mut String, line: &mut String, splice: bool) {
    // The reader checked all but the value: one with a CR or NUL is changed.
    if splice
        && let Some(raw) = p.raw
        && memchr::memchr2(b'\r', 0, p.value.as_bytes()).is_none()
    {
        out.push_str(raw);
        if cfg!(debug_assertions) {
            let mut again = String::new();
            write_property_with(p, &mut again, line, false);
            debug_assert_eq!(again, raw, "a kept line differs from its writing (changed after reading?)");
        }
        return;
    }
    line.clear();
    line.push_str(&without_breaks(&p.name, ""));
    for param in &p.params {
        line.push(';');
        line.push_str(&without_breaks(&param.name, ""));
        line.push('=');
        for (i, v) in param.values.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let shape = ParamShape::of(v);
            let mut v = if shape.breaks { without_breaks(v, "^n") } else { Cow::Borrowed(&**v) };
            // A parameter value cannot hold a DQUOTE (RFC 5545 3.1), quoted
            // or not: unquoted at the start it would open a quoted value.
            if shape.dquote {
                v = Cow::Owned(v.replace('"', "'"));
            }
            if shape.special {
                line.push('"');
                line.push_str(&v);
                line.push('"');
            } else {
                line.push_str(&v);
            }
        }
    }
    line.push(':');
    line.push_str(&without_breaks(&p.value, "\\n"));
    if line.len() <= 75 {
        out.push_str(line);
        out.push_str("\r\n");
    } else {
        fold_line_into(line, out);
    }
}

/// Appends `line` folded at 75 octets, never inside a UTF-8 character, with CRLF.
pub fn fold_line_into(line: &str, out: &mut String) {
    let mut rest = line;
    let mut budget = 75;
    while rest.len() > budget {
        // The longest head of at most `budget` octets that ends on a
        // character boundary (a UTF-8 character has at most 4 octets).
        let mut cut = budget;
        while cut > 0 && !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push_str(head);
        out.push_str("\r\n ");
        rest = tail;
        budget = 74;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::{ParseOptions, parse_calendar};

    #[test]
    fn folds_long_lines_and_reads_them_back() {
        let long = "ä".repeat(100);
        let mut cal = Component::new("VCALENDAR");
        let mut p = Property::new("SUMMARY", long.clone());
        p.set_param("CN", "Berg, Bob");
        cal.properties.push(p);
        let text = cal.to_ics();
        assert!(text.lines().all(|l| l.len() <= 76));
        let back = parse_calendar(&text, &ParseOptions::default()).unwrap();
        assert_eq!(back.value("SUMMARY"), Some(long.as_str()));
        assert_eq!(back.prop("SUMMARY").unwrap().param("CN"), Some("Berg, Bob"));
    }

    #[test]
    fn line_breaks_in_values_and_parameters_never_start_a_property() {
        let mut cal = Component::new("VCALENDAR");
        let mut p = Property::new("SUMMARY", "Lunch\r\nATTENDEE:mailto:eve@evil.example\rX\nY\0Z");
        p.set_param("CN", "Bob\r\nORGANIZER:mailto:eve@evil.example");
        cal.properties.push(p);
        cal.properties.push(Property::new("X-A\r\nB", "1"));
        let text = cal.to_ics();
        let back = parse_calendar(&text, &ParseOptions::default()).unwrap();
        assert_eq!(back.properties.len(), 2, "{text}");
        assert!(back.prop("ATTENDEE").is_none() && back.prop("ORGANIZER").is_none());
        let summary = back.prop("SUMMARY").unwrap();
        assert_eq!(summary.text(), "Lunch\nATTENDEE:mailto:eve@evil.example\nX\nYZ");
        assert_eq!(summary.param("CN"), Some("Bob^nORGANIZER:mailto:eve@evil.example"));
        assert!(!text.contains('\0'));
    }

    #[test]
    fn a_parameter_value_never_holds_a_dquote() {
        // `"mailto` written bare opened a quoted value when read back (found by the fuzzer).
        let mut cal = Component::new("VCALENDAR");
        let mut p = Property::new("ATTENDEE", "mailto:dan@x.org");
        p.set_param("DELEGATED-FROM", "\"mailto");
        p.set_param("CN", "Dan \"the man\", Dale");
        cal.properties.push(p);
        let text = cal.to_ics();
        assert!(text.contains("DELEGATED-FROM='mailto;CN=\"Dan 'the man', Dale\":mailto:dan@x.org"), "{text}");
        let back = parse_calendar(&text, &ParseOptions::default()).unwrap();
        assert_eq!(back.to_ics(), text);
    }
}
