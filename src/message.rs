//! The input boundary: a message is raw iCalendar text or a whole e-mail
//! (RFC 5322 / MIME) carrying an iMIP part (RFC 6047).

use crate::error::{EngineError, ErrorCode, Result};
use mailparse::{MailHeaderMap, ParsedMail};

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
pub struct Envelope {
    /// The calendar text (UTF-8, transfer encoding undone).
    pub calendar: String,
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

/// `bytes` as text: valid UTF-8 as it is (checked by the standard library's
/// fast validator), anything else with U+FFFD for each invalid sequence.
fn utf8_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Whether `bytes` is raw iCalendar (rather than an e-mail).
pub fn looks_like_icalendar(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    b.get(start..start + 15).is_some_and(|h| h.eq_ignore_ascii_case(b"BEGIN:VCALENDAR"))
}

/// Reads a message: raw iCalendar or an e-mail with a calendar part.
pub fn read_message(bytes: &[u8], limits: &InputLimits) -> Result<Envelope> {
    if looks_like_icalendar(bytes) {
        if bytes.len() > limits.max_calendar_bytes {
            return Err(too_large("calendar", bytes.len(), limits.max_calendar_bytes));
        }
        return Ok(Envelope { calendar: utf8_text(bytes), ..Envelope::default() });
    }
    if bytes.len() > limits.max_email_bytes {
        return Err(too_large("e-mail", bytes.len(), limits.max_email_bytes));
    }
    let mail = mailparse::parse_mail(bytes)
        .map_err(|e| EngineError::at(ErrorCode::ParseError, 1, format!("the e-mail cannot be read: {e}")))?;
    let (from, from_name) = address_header(&mail, "From");
    let (sender, _) = address_header(&mail, "Sender");
    let header = |name: &str| mail.headers.get_first_value(name).map(|v| v.trim().to_owned());
    let (calendar, content_method) = find_calendar(&mail, limits)?.ok_or_else(|| {
        EngineError::new(ErrorCode::NoCalendarPart, "the e-mail has no `text/calendar` part and no `.ics` attachment")
    })?;
    Ok(Envelope {
        calendar,
        content_method,
        from,
        from_name,
        sender,
        message_id: header("Message-ID"),
        subject: header("Subject"),
        is_email: true,
    })
}

fn too_large(what: &str, len: usize, max: usize) -> EngineError {
    EngineError::new(ErrorCode::TooLarge, format!("the {what} is {len} bytes, more than the limit of {max} bytes"))
}

fn address_header(mail: &ParsedMail<'_>, name: &str) -> (Option<String>, Option<String>) {
    let Some(h) = mail.headers.get_first_header(name) else {
        return (None, None);
    };
    let Ok(list) = mailparse::addrparse_header(h) else {
        return (None, None);
    };
    for a in list.iter() {
        match a {
            mailparse::MailAddr::Single(s) => {
                return (Some(s.addr.trim().to_lowercase()), s.display_name.clone());
            }
            mailparse::MailAddr::Group(g) => {
                if let Some(s) = g.addrs.first() {
                    return (Some(s.addr.trim().to_lowercase()), s.display_name.clone());
                }
            }
        }
    }
    (None, None)
}

/// The first calendar part, depth first: `text/calendar` preferred over an
/// `application/ics` attachment or a part whose file name ends in `.ics`.
fn find_calendar(mail: &ParsedMail<'_>, limits: &InputLimits) -> Result<Option<(String, Option<String>)>> {
    let mut best: Option<(u8, &ParsedMail<'_>)> = None;
    let mut stack = vec![mail];
    while let Some(part) = stack.pop() {
        stack.extend(part.subparts.iter().rev());
        let mime = part.ctype.mimetype.to_ascii_lowercase();
        let named_ics =
            part.ctype.params.get("name").map(|n| n.to_ascii_lowercase().ends_with(".ics")).unwrap_or(false)
                || part
                    .get_content_disposition()
                    .params
                    .get("filename")
                    .is_some_and(|n| n.to_ascii_lowercase().ends_with(".ics"));
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
    let raw = part
        .get_body_raw()
        .map_err(|e| EngineError::new(ErrorCode::ParseError, format!("the calendar part cannot be decoded: {e}")))?;
    if raw.len() > limits.max_calendar_bytes {
        return Err(too_large("calendar part", raw.len(), limits.max_calendar_bytes));
    }
    let text = match part.get_body() {
        Ok(t) if !t.contains('\u{fffd}') || raw.is_empty() => t,
        _ => utf8_text(&raw),
    };
    let method = part.ctype.params.get("method").map(|m| m.trim().to_ascii_uppercase());
    Ok(Some((text, method)))
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
