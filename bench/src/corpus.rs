//! The inputs: every `.ics` file of a folder, read into memory once, and the
//! realistic decision context of each message.

use invitelink::ical::value::email_of;
use invitelink::ical::{Component, parse_calendar};
use invitelink::policy::{Contact, Context, RecordId};
use std::path::{Path, PathBuf};

/// One message: its text and the context a CRM would give with it.
pub struct Message {
    /// File name, for error reports.
    pub name: String,
    /// The bytes, known to be UTF-8.
    pub text: String,
    /// Organizer registered as a contact, first attendee as the mailbox.
    pub context: Context,
}

/// A named set of inputs.
#[derive(Default)]
pub struct Dataset {
    /// Name in the tables.
    pub name: String,
    /// The messages.
    pub messages: Vec<Message>,
    /// Files skipped (not UTF-8, unreadable).
    pub skipped: usize,
}

impl Dataset {
    /// Total bytes.
    pub fn bytes(&self) -> usize {
        self.messages.iter().map(|m| m.text.len()).sum()
    }
}

fn collect(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, depth + 1, out);
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("ics")) {
            out.push(p);
        }
    }
}

/// Every `.ics` file under `dir` (sorted), or the one file `dir` names;
/// with the decision context of each when `contexts`.
pub fn load(name: &str, dir: &Path, contexts: bool) -> Dataset {
    let mut paths = Vec::new();
    if dir.is_file() {
        paths.push(dir.to_path_buf());
    } else {
        collect(dir, 0, &mut paths);
    }
    let mut messages = Vec::new();
    let mut skipped = 0;
    for (i, p) in paths.iter().enumerate() {
        match std::fs::read(p).ok().and_then(|b| String::from_utf8(b).ok()) {
            Some(text) => {
                let context = if contexts { context_for(&text, i) } else { Context::for_mailbox("user@example.com") };
                messages.push(Message { name: p.display().to_string(), text, context });
            }
            None => skipped += 1,
        }
    }
    Dataset { name: name.to_owned(), messages, skipped }
}

fn first_with<'c, 'a>(c: &'c Component<'a>, prop: &str) -> Option<&'c Component<'a>> {
    if c.prop(prop).is_some() {
        return Some(c);
    }
    c.components.iter().find_map(|k| first_with(k, prop))
}

/// The context of a decision as a CRM would send it: the organizer is a
/// registered contact, the receiving mailbox is the first attendee.
fn context_for(text: &str, index: usize) -> Context {
    let cal = parse_calendar(text, &crate::parsers::unlimited()).ok();
    let event = cal.as_ref().and_then(|c| first_with(c, "ORGANIZER"));
    let organizer = event.and_then(|e| e.prop("ORGANIZER")).map(|p| email_of(&p.value));
    let attendee = event.and_then(|e| e.prop("ATTENDEE")).map(|p| email_of(&p.value));
    let mut ctx = Context::for_mailbox(attendee.as_deref().unwrap_or("user@example.com"));
    ctx.now = chrono::NaiveDate::from_ymd_opt(2025, 10, 1).and_then(|d| d.and_hms_opt(9, 0, 0));
    if let Some(email) = organizer {
        ctx.contacts.push(Contact {
            email,
            person_id: Some(RecordId::Number(1000 + index as i64)),
            name: Some("Contact".into()),
            company: Some("Company".into()),
        });
    }
    ctx
}
