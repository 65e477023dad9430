//! The engine's input rebuilt from what an Outlook item shows, for the task
//! pane when Outlook cannot hand over the whole message (no
//! `getAsFileAsync` below Mailbox 1.14, e.g. Outlook on mobile) or the
//! message has no calendar part (Outlook to Outlook).
//!
//! A meeting item becomes a minimal iCalendar object (RFC 5545): subject,
//! organizer, attendees, time and place; no recurrence, no time zone and no
//! `UID` from the organizer, which the pane tells the user. The `UID` is
//! derived from the organizer's address and the subject without Outlook's
//! "Canceled:"/"Updated:" prefixes, so a cancellation rebuilt later finds
//! the appointment its request created. Any other item becomes a minimal
//! e-mail (RFC 5322) to archive: its headers and its text.
//!
//! Pure and clock-free: the caller gives "now" for an item without a
//! creation time.

use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::{Component, Property};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The `PRODID` of a rebuilt calendar.
pub const PRODID: &str = "-//invitelink//Outlook add-in//EN";

/// A person as the add-in reads one from the item (`emailAddress`,
/// `displayName`).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct ItemPerson {
    /// The address, as Outlook gives it.
    #[serde(default)]
    pub email: Option<String>,
    /// The display name, when there is one.
    #[serde(default)]
    pub name: Option<String>,
}

/// The properties of an Outlook item the add-in reads (`host.describe`).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct OutlookItem {
    /// `request`, `cancel`, `accepted`, `declined`, `tentative`,
    /// `appointment`, `organizer`; none for an ordinary e-mail.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    /// RFC 3339 instants.
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub organizer: Option<ItemPerson>,
    #[serde(default)]
    pub from: Option<ItemPerson>,
    #[serde(default)]
    pub to: Vec<ItemPerson>,
    #[serde(default)]
    pub cc: Vec<ItemPerson>,
    #[serde(default)]
    pub required: Vec<ItemPerson>,
    #[serde(default)]
    pub optional: Vec<ItemPerson>,
    /// `Message-ID`, for the e-mail.
    #[serde(default)]
    pub message_id: Option<String>,
}

/// What to rebuild: the item, the user who reads it, "now" (used when the
/// item has no creation time) and, for an e-mail, its text body.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct RebuildRequest {
    pub item: OutlookItem,
    #[serde(default)]
    pub user: ItemPerson,
    pub now: String,
    #[serde(default)]
    pub body: Option<String>,
}

fn invalid(message: impl Into<String>) -> EngineError {
    EngineError::new(ErrorCode::InvalidContext, message)
}

fn instant(field: &str, value: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| invalid(format!("`{field}` is not an RFC 3339 instant (`{value}`): {e}")))
}

/// `20261203T090000Z`.
fn utc(d: DateTime<Utc>) -> String {
    d.format("%Y%m%dT%H%M%SZ").to_string()
}

/// An address for `mailto:`: lower-case, nothing that could end the line or
/// the value.
fn address(p: &ItemPerson) -> String {
    p.email
        .as_deref()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '"' | '<' | '>' | ';' | ':' | ','))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A display name for a `CN` parameter: no DQUOTE or control character, at
/// most 200 characters.
fn display_name(p: &ItemPerson) -> Option<String> {
    let name: String =
        p.name.as_deref().unwrap_or_default().chars().filter(|c| *c != '"' && !c.is_control()).take(200).collect();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// TEXT (RFC 5545 3.3.11): line breaks kept as `\n`, other controls but TAB
/// dropped.
fn text(s: &str) -> String {
    let clean: String = s
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n'))
        .collect();
    crate::ical::value::escape_text(&clean)
}

/// Outlook's meeting prefixes, longest first where one begins another.
const PREFIXES: &[&str] =
    &["canceled", "cancelled", "updated", "accepted", "declined", "tentative", "new time proposed", "fwd", "fw"];

/// The subject without Outlook's meeting prefixes ("Canceled: ",
/// "Updated: ", "FW: " ...; at most five).
pub fn base_subject(subject: &str) -> String {
    let mut s = subject;
    for _ in 0..5 {
        let t = s.trim_start();
        let rest = PREFIXES.iter().find_map(|p| {
            let head = t.get(..p.len())?;
            if !head.eq_ignore_ascii_case(p) {
                return None;
            }
            t.get(p.len()..)?.trim_start().strip_prefix(':')
        });
        match rest {
            Some(r) => s = r,
            None => break,
        }
    }
    s.trim().to_owned()
}

/// `outlook-<32 hex digits>@invitelink`: SHA-256 of the organizer's address
/// and the lower-cased base subject.
pub fn item_uid(organizer_address: &str, subject: &str) -> String {
    let digest = Sha256::digest(format!("{organizer_address}\n{}", base_subject(subject).to_lowercase()).as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("outlook-{hex}@invitelink")
}

fn person_line(name: &str, p: &ItemPerson) -> Property<'static> {
    let mut line = Property::new(name, format!("mailto:{}", address(p)));
    if let Some(cn) = display_name(p) {
        line.set_param("CN", cn);
    }
    line
}

fn attendee(p: &ItemPerson, partstat: &str, rsvp: bool) -> Property<'static> {
    let mut line = person_line("ATTENDEE", p);
    line.set_param("ROLE", "REQ-PARTICIPANT");
    line.set_param("PARTSTAT", partstat);
    if rsvp {
        line.set_param("RSVP", "TRUE");
    }
    line
}

/// The minimal iCalendar object for a meeting item, as the user received
/// it: `REQUEST` (or `CANCEL`) from the organizer, or the `REPLY` an
/// attendee's answer carries. Refused without a start time.
pub fn calendar_from_item(request: &RebuildRequest) -> Result<String> {
    let item = &request.item;
    let start = match item.start.as_deref() {
        Some(s) if !s.trim().is_empty() => instant("item.start", s)?,
        _ => return Err(invalid("the item has no start time, so no meeting can be built from it")),
    };
    let end = match item.end.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(e) => instant("item.end", e)?.max(start),
        None => start,
    };
    let stamp = match item.created.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(c) => instant("item.created", c)?,
        None => instant("now", &request.now)?,
    };
    let kind = item.kind.as_deref().unwrap_or_default();
    let is_reply = matches!(kind, "accepted" | "declined" | "tentative");
    let me = &request.user;
    let organizer = if is_reply { me } else { item.organizer.as_ref().or(item.from.as_ref()).unwrap_or(me) };
    let method = match kind {
        "cancel" => "CANCEL",
        _ if is_reply => "REPLY",
        _ => "REQUEST",
    };
    let subject = item.subject.as_deref().unwrap_or_default();
    let base = base_subject(subject);

    let mut event = Component::new("VEVENT");
    let props = &mut event.properties;
    props.push(Property::new("UID", item_uid(&address(organizer), subject)));
    props.push(Property::new("DTSTAMP", utc(stamp)));
    props.push(Property::new("SEQUENCE", "0"));
    props.push(Property::new("DTSTART", utc(start)));
    props.push(Property::new("DTEND", utc(end)));
    props.push(Property::new("SUMMARY", text(if base.is_empty() { subject } else { &base })));
    if let Some(location) = item.location.as_deref().filter(|l| !l.is_empty()) {
        props.push(Property::new("LOCATION", text(location)));
    }
    if method == "CANCEL" {
        props.push(Property::new("STATUS", "CANCELLED"));
    }
    props.push(person_line("ORGANIZER", organizer));
    if is_reply {
        let partstat = match kind {
            "accepted" => "ACCEPTED",
            "declined" => "DECLINED",
            _ => "TENTATIVE",
        };
        if let Some(from) = &item.from {
            props.push(attendee(from, partstat, false));
        }
    } else {
        let mine = address(me);
        let mut seen = vec![address(organizer)];
        let invited = std::iter::once(me).chain(&item.to).chain(&item.cc).chain(&item.required).chain(&item.optional);
        for p in invited {
            let a = address(p);
            if a.is_empty() || seen.contains(&a) {
                continue;
            }
            props.push(attendee(p, "NEEDS-ACTION", a == mine));
            seen.push(a);
        }
    }

    let mut calendar = Component::new("VCALENDAR");
    calendar.properties.push(Property::new("PRODID", PRODID));
    calendar.properties.push(Property::new("VERSION", "2.0"));
    calendar.properties.push(Property::new("METHOD", method));
    calendar.components.push(event);
    Ok(calendar.to_ics())
}

/// A minimal e-mail (RFC 5322) for archiving an item whose whole message
/// the host cannot give: the headers the item shows and its text body.
pub fn email_from_item(request: &RebuildRequest) -> Result<String> {
    let item = &request.item;
    let date = match item.created.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(c) => instant("item.created", c)?,
        None => instant("now", &request.now)?,
    };
    let mailbox = |p: &ItemPerson| crate::imip::mailbox(display_name(p).as_deref(), &address(p));
    let list = |people: &[ItemPerson]| people.iter().map(mailbox).collect::<Vec<_>>().join(", ");
    let mut out = String::new();
    if let Some(from) = &item.from {
        crate::imip::header(&mut out, "From", &mailbox(from));
    }
    if !item.to.is_empty() {
        crate::imip::header(&mut out, "To", &list(&item.to));
    }
    if !item.cc.is_empty() {
        crate::imip::header(&mut out, "Cc", &list(&item.cc));
    }
    crate::imip::header(&mut out, "Subject", &crate::imip::unstructured(&one_line(item.subject.as_deref())));
    crate::imip::header(&mut out, "Date", &date.to_rfc2822().replace("GMT", "+0000"));
    let message_id = one_line(item.message_id.as_deref());
    if !message_id.is_empty() {
        crate::imip::header(&mut out, "Message-ID", &message_id);
    }
    crate::imip::header(&mut out, "MIME-Version", "1.0");
    crate::imip::header(&mut out, "Content-Type", "text/plain; charset=utf-8");
    crate::imip::header(&mut out, "Content-Transfer-Encoding", "8bit");
    out.push_str("\r\n");
    let body = request.body.as_deref().unwrap_or_default().replace("\r\n", "\n");
    out.push_str(&body.replace('\n', "\r\n"));
    out.push_str("\r\n");
    Ok(out)
}

/// A header value on one line: runs of controls become one space.
fn one_line(s: Option<&str>) -> String {
    let mut out = String::new();
    let mut in_control = false;
    for c in s.unwrap_or_default().chars() {
        if c.is_control() {
            if !in_control {
                out.push(' ');
            }
            in_control = true;
        } else {
            out.push(c);
            in_control = false;
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn person(email: &str, name: &str) -> ItemPerson {
        ItemPerson { email: Some(email.to_owned()), name: (!name.is_empty()).then(|| name.to_owned()) }
    }

    fn request(kind: &str, subject: &str) -> RebuildRequest {
        RebuildRequest {
            item: OutlookItem {
                kind: Some(kind.to_owned()),
                subject: Some(subject.to_owned()),
                location: Some("Acme plant; gate 2".to_owned()),
                start: Some("2026-12-08T12:00:00.000Z".to_owned()),
                end: Some("2026-12-08T13:30:00.000Z".to_owned()),
                created: Some("2026-12-01T08:00:00.000Z".to_owned()),
                organizer: Some(person("Bob@Acme.example", "Bob \"the boss\" Berg")),
                from: Some(person("bob@acme.example", "Bob Berg")),
                to: vec![person("ben@ourcompany.example", "Ben Holm"), person("bob@acme.example", "")],
                cc: vec![person("carol@acme.example", "")],
                ..OutlookItem::default()
            },
            user: person("ben@ourcompany.example", "Ben Holm"),
            now: "2026-12-05T00:00:00Z".to_owned(),
            body: None,
        }
    }

    #[test]
    fn the_base_subject_drops_outlooks_prefixes() {
        assert_eq!(base_subject("Canceled: Updated: Site visit"), "Site visit");
        assert_eq!(base_subject("  FW : Fwd: Budget"), "Budget");
        assert_eq!(base_subject("New Time Proposed: Review"), "Review");
        assert_eq!(base_subject("Fwdx: Review"), "Fwdx: Review");
        assert_eq!(base_subject("Updates: weekly"), "Updates: weekly");
    }

    #[test]
    fn the_uid_is_the_same_for_a_request_and_its_later_cancellation() {
        let uid = item_uid("bob@acme.example", "Site visit");
        assert_eq!(uid, item_uid("bob@acme.example", "Canceled: SITE VISIT"));
        assert_ne!(uid, item_uid("carol@acme.example", "Site visit"));
        // The rule the add-in used before, kept so that meetings rebuilt
        // then are still found: SHA-256 of "address\nsubject", 16 bytes.
        assert_eq!(uid, "outlook-41247fa3a1d89f6b60a3877e43e1bb09@invitelink");
    }

    #[test]
    fn a_request_is_rebuilt_and_read_back_as_a_meeting_request() {
        let ics = calendar_from_item(&request("request", "Updated: Site visit")).unwrap().replace("\r\n ", "");
        assert!(ics.contains("METHOD:REQUEST\r\n"), "{ics}");
        assert!(ics.contains("SUMMARY:Site visit\r\n"), "{ics}");
        assert!(ics.contains("LOCATION:Acme plant\\; gate 2\r\n"), "{ics}");
        assert!(ics.contains("DTSTART:20261208T120000Z\r\n") && ics.contains("DTEND:20261208T133000Z\r\n"));
        assert!(ics.contains("DTSTAMP:20261201T080000Z\r\n"));
        assert!(ics.contains(&format!("UID:{}\r\n", item_uid("bob@acme.example", "Site visit"))));
        assert!(ics.contains("ORGANIZER;CN=Bob the boss Berg:mailto:bob@acme.example"), "{ics}");
        // The user first, asked to answer; the organizer not as an attendee.
        let attendees: Vec<&str> = ics.lines().filter(|l| l.starts_with("ATTENDEE")).collect();
        assert_eq!(attendees.len(), 2, "{ics}");
        assert!(attendees[0].contains("RSVP=TRUE") && attendees[0].ends_with("mailto:ben@ourcompany.example"));
        assert!(attendees[1].ends_with("mailto:carol@acme.example") && !attendees[1].contains("RSVP"));
        // The engine reads it back as a meeting request.
        let calendar = crate::ical::parse_calendar(&ics, &crate::ical::ParseOptions::default()).unwrap();
        assert_eq!(calendar.value("METHOD"), Some("REQUEST"));
    }

    #[test]
    fn a_cancellation_and_a_reply_take_their_method_and_organizer() {
        let ics = calendar_from_item(&request("cancel", "Canceled: Site visit")).unwrap().replace("\r\n ", "");
        assert!(ics.contains("METHOD:CANCEL\r\n") && ics.contains("STATUS:CANCELLED\r\n"));
        assert!(ics.contains(&format!("UID:{}\r\n", item_uid("bob@acme.example", "Site visit"))));
        let ics = calendar_from_item(&request("declined", "Declined: Site visit")).unwrap().replace("\r\n ", "");
        assert!(ics.contains("METHOD:REPLY\r\n"));
        assert!(ics.contains("ORGANIZER;CN=Ben Holm:mailto:ben@ourcompany.example"), "{ics}");
        assert!(ics.contains("PARTSTAT=DECLINED:mailto:bob@acme.example"), "{ics}");
    }

    #[test]
    fn what_an_attacker_writes_in_a_name_or_subject_stays_in_its_value() {
        let mut r = request("request", "Site visit\r\nATTENDEE:mailto:eve@evil.example");
        r.item.to.push(person("eve@evil.example\r\nORGANIZER:mailto:eve@evil.example", "Eve\r\nX:\""));
        let ics = calendar_from_item(&r).unwrap();
        let calendar = crate::ical::parse_calendar(&ics, &crate::ical::ParseOptions::default()).unwrap();
        let event = calendar.children("VEVENT").next().unwrap();
        assert_eq!(event.props("ORGANIZER").count(), 1);
        assert!(event.props("ATTENDEE").all(|a| !a.value.contains('\n')));
        assert_eq!(event.value("SUMMARY").map(|s| s.contains("\\n")), Some(true));
        assert!(!ics.lines().any(|l| l.starts_with("ATTENDEE:mailto:eve")));
    }

    #[test]
    fn an_item_without_a_start_or_with_a_bad_time_is_refused() {
        let mut r = request("request", "x");
        r.item.start = None;
        assert_eq!(calendar_from_item(&r).unwrap_err().code, ErrorCode::InvalidContext);
        r.item.start = Some("tomorrow".to_owned());
        assert_eq!(calendar_from_item(&r).unwrap_err().code, ErrorCode::InvalidContext);
        // An end before the start is the start.
        let mut r = request("request", "x");
        r.item.end = Some("2026-12-08T11:00:00Z".to_owned());
        assert!(calendar_from_item(&r).unwrap().contains("DTEND:20261208T120000Z"));
        // No creation time: "now" as given.
        let mut r = request("request", "x");
        r.item.created = None;
        assert!(calendar_from_item(&r).unwrap().contains("DTSTAMP:20261205T000000Z"));
    }

    #[test]
    fn an_email_is_rebuilt_with_its_headers_and_text() {
        let mut r = request("", "Prisliste for året\r\nBcc: eve@evil.example");
        r.item.kind = None;
        r.item.message_id = Some("<price-1@acme.example>".to_owned());
        r.body = Some("Here it is.\nBob".to_owned());
        let eml = email_from_item(&r).unwrap();
        assert!(eml.starts_with("From: \"Bob Berg\" <bob@acme.example>\r\n"), "{eml}");
        assert!(eml.contains("To: \"Ben Holm\" <ben@ourcompany.example>, <bob@acme.example>\r\n"), "{eml}");
        assert!(eml.contains("Subject: =?UTF-8?B?"), "{eml}");
        assert!(!eml.contains("\nBcc"), "{eml}");
        assert!(eml.contains("Date: Tue, 1 Dec 2026 08:00:00 +0000\r\n"), "{eml}");
        assert!(eml.contains("Message-ID: <price-1@acme.example>\r\n"));
        assert!(eml.ends_with("\r\n\r\nHere it is.\r\nBob\r\n"), "{eml}");
        let read = crate::message::read_message(eml.as_bytes(), &crate::message::InputLimits::default());
        assert!(read.is_ok() || read.is_err_and(|e| e.code == ErrorCode::NoCalendarPart));
    }
}
