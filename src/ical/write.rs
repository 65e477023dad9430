//! Writing iCalendar text: CRLF line ends, folding at 75 octets (RFC 5545 3.1)
//! on character boundaries, parameter values quoted where they must be.

use super::{Component, Property};

/// Appends `comp` and its sub-components to `out`.
pub fn write_component(comp: &Component<'_>, out: &mut String) {
    // Iterative walk: (component, next child index); no recursion on input depth.
    out.push_str("BEGIN:");
    out.push_str(&comp.name);
    out.push_str("\r\n");
    for p in &comp.properties {
        write_property(p, out);
    }
    let mut stack: Vec<(&Component<'_>, usize)> = vec![(comp, 0)];
    while let Some((c, i)) = stack.pop() {
        if let Some(child) = c.components.get(i) {
            stack.push((c, i + 1));
            out.push_str("BEGIN:");
            out.push_str(&child.name);
            out.push_str("\r\n");
            for p in &child.properties {
                write_property(p, out);
            }
            stack.push((child, 0));
        } else {
            out.push_str("END:");
            out.push_str(&c.name);
            out.push_str("\r\n");
        }
    }
}

/// Appends one property as a folded content line.
pub fn write_property(p: &Property<'_>, out: &mut String) {
    let mut line = String::with_capacity(p.name.len() + p.value.len() + 16);
    line.push_str(&p.name);
    for param in &p.params {
        line.push(';');
        line.push_str(&param.name);
        line.push('=');
        for (i, v) in param.values.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            if v.contains([':', ';', ',']) {
                line.push('"');
                line.push_str(&v.replace('"', "'"));
                line.push('"');
            } else {
                line.push_str(v);
            }
        }
    }
    line.push(':');
    line.push_str(&p.value);
    fold_line_into(&line, out);
}

/// Appends `line` folded at 75 octets, never inside a UTF-8 character, with CRLF.
pub fn fold_line_into(line: &str, out: &mut String) {
    if line.len() <= 75 {
        out.push_str(line);
        out.push_str("\r\n");
        return;
    }
    let mut budget = 75;
    let mut start = 0;
    for (i, ch) in line.char_indices() {
        if i - start + ch.len_utf8() > budget {
            out.push_str(line.get(start..i).unwrap_or(""));
            out.push_str("\r\n ");
            start = i;
            budget = 74;
        }
    }
    out.push_str(line.get(start..).unwrap_or(""));
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
}
