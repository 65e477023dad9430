//! The input boundary: a message is raw iCalendar text or a whole e-mail
//! (RFC 5322 / MIME) carrying an iMIP part (RFC 6047).

mod charset;
mod mime;
#[rustfmt::skip]
mod single_byte;

use crate::error::{EngineError, ErrorCode, Result};
use mime::Part;
use std::borrow::Cow;

/// Size limits of the input boundary (SPEC 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// Largest e-mail accepted, in bytes (default 10 MiB).
    pub max_email_bytes: usize,
    /// Largest calendar accepted, in bytes (default 1 MiB).
    pub max_calendar_bytes: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits { max_email_bytes: 10 * 1024 * 1024, max_calendar_bytes: 1024 * 1024 }
    }
}

/// What the input boundary found in a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope<'m> {
    /// The calendar text (UTF-8, transfer encoding undone): raw iCalendar
    /// that is valid UTF-8 is borrowed from the input, not copied.
    pub calendar: Cow<'m, str>,
    /// `method=` of the calendar part's content type, upper-cased.
    pub content_method: Option<String>,
    /// Address of the e-mail's `From`, lower-cased.
    pub from: Option<String>,
    /// Display name of the e-mail's `From`.
    pub from_name: Option<String>,
    /// Address of the e-mail's `Sender`, lower-cased.
    pub sender: Option<String>,
    /// The e-mail's `Message-ID`.
    pub message_id: Option<String>,
    /// The e-mail's `Subject`.
    pub subject: Option<String>,
    /// Whether the input was an e-mail (false: raw iCalendar).
    pub is_email: bool,
}

/// Whether `bytes` is raw iCalendar (rather than an e-mail).
pub fn looks_like_icalendar(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    b.get(start..start + 15).is_some_and(|h| h.eq_ignore_ascii_case(b"BEGIN:VCALENDAR"))
}

/// Reads a message: raw iCalendar or an e-mail with a calendar part.
pub fn read_message<'m>(bytes: &'m [u8], limits: &InputLimits) -> Result<Envelope<'m>> {
    if looks_like_icalendar(bytes) {
        if bytes.len() > limits.max_calendar_bytes {
            return Err(too_large("calendar", bytes.len(), limits.max_calendar_bytes));
        }
        return Ok(Envelope { calendar: charset::utf8_borrowed(bytes), ..Envelope::default() });
    }
    if bytes.len() > limits.max_email_bytes {
        return Err(too_large("e-mail", bytes.len(), limits.max_email_bytes));
    }
    let mail = Part::read(bytes);
    let (calendar, content_method) = find_calendar(&mail, limits)?.ok_or_else(|| {
        EngineError::new(ErrorCode::NoCalendarPart, "the e-mail has no `text/calendar` part and no `.ics` attachment")
    })?;
    Ok(Envelope { calendar: Cow::Owned(calendar), content_method, ..header_fields(&mail) })
}

/// The header fields of the e-mail `bytes` (`From`, `Sender`,
/// `Message-ID`, `Subject`) as [`read_message`] reads them, for an e-mail
/// that need not carry a calendar (the backend's archive): the calendar is
/// empty. An e-mail is always readable (the reader is lenient), so this
/// cannot fail.
pub fn read_headers(bytes: &[u8]) -> Envelope<'static> {
    header_fields(&Part::read(bytes))
}

fn header_fields(mail: &Part<'_>) -> Envelope<'static> {
    let address = |name: &str| match mail.mailbox(name) {
        Some((address, display)) => (Some(address.to_lowercase()), display),
        None => (None, None),
    };
    let (from, from_name) = address("From");
    let (sender, _) = address("Sender");
    Envelope {
        from,
        from_name,
        sender,
        message_id: mail.text("Message-ID"),
        subject: mail.text("Subject"),
        is_email: true,
        ..Envelope::default()
    }
}

/// The addresses of each `From` field of the e-mail `bytes` (lower-cased),
/// read as [`read_message`] reads the one it decides with (the first of the
/// first field): a backend that judges the sender's authentication must
/// judge the same `From` the engine names, never another reading of it. A
/// field with no address gives an empty list; raw iCalendar has none.
pub fn from_addresses(bytes: &[u8]) -> Vec<Vec<String>> {
    if looks_like_icalendar(bytes) {
        return Vec::new();
    }
    Part::read(bytes)
        .address_lists("From")
        .into_iter()
        .map(|list| list.into_iter().map(|a| a.to_lowercase()).collect())
        .collect()
}

fn too_large(what: &str, len: usize, max: usize) -> EngineError {
    EngineError::new(ErrorCode::TooLarge, format!("the {what} is {len} bytes, more than the limit of {max} bytes"))
}

/// The first calendar part, depth first: `text/calendar` preferred over an
/// `application/ics` attachment or a part whose file name ends in `.ics`.
fn find_calendar(mail: &Part<'_>, limits: &InputLimits) -> Result<Option<(String, Option<String>)>> {
    let mut best: Option<(u8, &Part<'_>)> = None;
    let mut stack = vec![mail];
    while let Some(part) = stack.pop() {
        stack.extend(part.subparts.iter().rev());
        let mime = part.content_type.value.as_str();
        let ends_in_ics = |name: Option<&str>| name.is_some_and(|n| n.to_ascii_lowercase().ends_with(".ics"));
        let named_ics =
            ends_in_ics(part.content_type.param("name")) || ends_in_ics(part.disposition().param("filename"));
        let rank = if mime == "text/calendar" {
            3
        } else if mime == "application/ics" || mime == "text/x-vcalendar" {
            2
        } else if named_ics && !mime.starts_with("multipart/") {
            1
        } else {
            0
        };
        if rank > best.map(|b| b.0).unwrap_or(0) {
            best = Some((rank, part));
        }
    }
    let Some((_, part)) = best else { return Ok(None) };
    let raw = part.body();
    if raw.len() > limits.max_calendar_bytes {
        return Err(too_large("calendar part", raw.len(), limits.max_calendar_bytes));
    }
    let method = part.content_type.param("method").map(|m| m.trim().to_ascii_uppercase());
    Ok(Some((calendar_text(&raw, part.content_type.param("charset")), method)))
}

/// A calendar part's bytes as text. A byte order mark decides; else the
/// part's `charset` when it names one other than UTF-8 or US-ASCII and the
/// bytes decode in it without error; else UTF-8, iCalendar's default (RFC
/// 5545 section 3.1.4), also for `us-ascii`, of which it is the superset
/// clients mean when they send 8-bit text under that label.
fn calendar_text(raw: &[u8], declared: Option<&str>) -> String {
    let (label, bytes) = if let Some(rest) = raw.strip_prefix(b"\xef\xbb\xbf") {
        (Some("utf-8"), rest)
    } else if let Some(rest) = raw.strip_prefix(b"\xfe\xff") {
        (Some("utf-16be"), rest)
    } else if let Some(rest) = raw.strip_prefix(b"\xff\xfe") {
        (Some("utf-16le"), rest)
    } else {
        (declared.map(str::trim), raw)
    };
    match label {
        Some(label) if !charset::is_utf8(label) && !label.eq_ignore_ascii_case("us-ascii") => {
            match charset::decode(label, bytes) {
                Some(text) if !text.contains('\u{fffd}') => text,
                _ => charset::utf8_lossy(bytes),
            }
        }
        _ => charset::utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_base64_calendar_part() {
        let ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n";
        let b64 = {
            // tiny base64 encoder for the test
            const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut out = String::new();
            for chunk in ics.as_bytes().chunks(3) {
                let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
                for i in 0..4 {
                    if i <= chunk.len() {
                        out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                    } else {
                        out.push('=');
                    }
                }
            }
            out
        };
        let mail = format!(
            "From: Bob Berg <Bob@Customer.example>\r\nSubject: hi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n"
        );
        let env = read_message(mail.as_bytes(), &InputLimits::default()).unwrap();
        assert_eq!(env.calendar, ics);
        assert_eq!(env.content_method.as_deref(), Some("REQUEST"));
        assert_eq!(env.from.as_deref(), Some("bob@customer.example"));
        assert!(env.is_email);
    }

    #[test]
    fn an_email_without_calendar_is_an_error() {
        let err = read_message(b"From: a@b.c\r\nSubject: x\r\n\r\nhello", &InputLimits::default()).unwrap_err();
        assert_eq!(err.code, ErrorCode::NoCalendarPart);
    }
}
