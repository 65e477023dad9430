//! Writing: the engine's `Component::to_ics` beside the `icalendar` crate's
//! `Calendar` `Display`, each writing the tree it read from the same file,
//! and how much of the input each one writes back.

use crate::corpus::Dataset;
use crate::measure::Case;
use invitelink::ical::{Component, parse_calendar};

/// The trees of every file both can read, read once outside the timing.
pub struct Trees<'a> {
    ours: Vec<Component<'a>>,
    theirs: Vec<icalendar::Calendar>,
    /// Bytes of the files read.
    pub bytes: usize,
    /// Files read by both.
    pub files: usize,
}

/// Reads every file of `d` with both parsers, keeping those both accept.
pub fn trees(d: &Dataset) -> Trees<'_> {
    let mut t = Trees { ours: Vec::new(), theirs: Vec::new(), bytes: 0, files: 0 };
    for m in &d.messages {
        let unfolded = icalendar::parser::unfold(&m.text);
        let theirs = icalendar::parser::read_calendar(&unfolded).map(icalendar::Calendar::from);
        if let (Ok(ours), Ok(theirs)) = (parse_calendar(&m.text, &crate::parsers::unlimited()), theirs) {
            t.ours.push(ours);
            t.theirs.push(theirs);
            t.bytes += m.text.len();
            t.files += 1;
        }
    }
    t
}

/// Content lines of `text` after unfolding.
fn content_lines(text: &str) -> usize {
    text.split('\n').filter(|l| !l.trim().is_empty() && !l.starts_with([' ', '\t'])).count()
}

/// What each writer gives back: (our output equals the input's tree when
/// read again, on how many files; content lines written by ours, by
/// `icalendar`, in the input).
pub fn fidelity(d: &Dataset, t: &Trees<'_>) -> (usize, usize, usize, usize) {
    let mut same = 0;
    let (mut ours_lines, mut theirs_lines, mut input_lines) = (0, 0, 0);
    let read: Vec<&str> = d
        .messages
        .iter()
        .filter(|m| {
            let unfolded = icalendar::parser::unfold(&m.text);
            icalendar::parser::read_calendar(&unfolded).is_ok()
                && parse_calendar(&m.text, &crate::parsers::unlimited()).is_ok()
        })
        .map(|m| m.text.as_str())
        .collect();
    for ((input, ours), theirs) in read.iter().zip(&t.ours).zip(&t.theirs) {
        let written = ours.to_ics();
        if parse_calendar(&written, &crate::parsers::unlimited()).is_ok_and(|again| &again == ours) {
            same += 1;
        }
        ours_lines += content_lines(&written);
        theirs_lines += content_lines(&theirs.to_string());
        input_lines += content_lines(input);
    }
    (same, ours_lines, theirs_lines, input_lines)
}

/// The two writers as cases; units: input MB, files.
pub fn cases<'t>(t: &'t Trees<'_>) -> Vec<Case<'t>> {
    let units = vec![t.bytes as f64 / 1e6, t.files as f64];
    vec![
        Case {
            name: "invitelink Component::to_ics".into(),
            run: Box::new(move || t.ours.iter().map(|c| c.to_ics().len()).sum()),
            units: units.clone(),
        },
        Case {
            name: "icalendar 0.17 Calendar to_string".into(),
            run: Box::new(move || t.theirs.iter().map(|c| c.to_string().len()).sum()),
            units,
        },
    ]
}
