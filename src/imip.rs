//! Outgoing iMIP (RFC 6047): an iTIP message wrapped in an e-mail.
//!
//! [`compose`] writes the whole message (RFC 5322 headers, MIME body) as
//! text ready for SMTP: a `multipart/mixed` holding a `multipart/alternative`
//! (`text/plain`, `text/html`, and the `text/calendar; method=...` part that
//! calendar clients act on, RFC 6047 2.4) followed by the same calendar as an
//! `invite.ics` attachment, which Outlook expects and other clients show as a
//! file.
//!
//! The output depends on the inputs only: the `Date` is given, the
//! `Message-ID` and the MIME boundaries are digests of the inputs, so the
//! same mail composed twice is the same text byte for byte.
//!
//! Architecture Invariant: this module is pure (no I/O, no clock) and builds
//! for WebAssembly; sending is `mail::smtp`'s work, behind the `server`
//! feature.

use crate::error::{EngineError, ErrorCode, Result};
use chrono::NaiveDateTime;

/// The longest line a message may have, without CRLF (RFC 5322 2.1.1).
const MAX_LINE: usize = 998;

/// Characters per line of base64 bodies (RFC 2045 6.8).
const BASE64_LINE: usize = 76;

/// The longest encoded word this module writes: 64 characters, so that a
/// header name and one word fit a 76-character line (RFC 2047 2 allows 75 per
/// word and asks for lines of at most 76).
const MAX_ENCODED_WORD: usize = 64;

/// The file name of the calendar attachment.
pub const ATTACHMENT_NAME: &str = "invite.ics";

/// Everything an outgoing invitation, update, cancellation or reply e-mail is
/// made of.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingMail {
    /// The sender's address (`From`), without `mailto:`.
    pub from: String,
    /// The sender's display name.
    pub from_name: Option<String>,
    /// The recipient's address (`To`), without `mailto:`.
    pub to: String,
    /// The recipient's display name.
    pub to_name: Option<String>,
    /// Where answers go (`Reply-To`): the CRM inbox when the "request for
    /// reply" preference is on.
    pub reply_to: Option<String>,
    /// The subject line.
    pub subject: String,
    /// The text people read; the HTML part is the same text, escaped.
    pub text_body: String,
    /// The iTIP method (`REQUEST`, `REPLY`, `CANCEL`, ...), written as the
    /// calendar part's `method=` parameter (RFC 6047 2.4).
    pub method: String,
    /// The calendar: a `VCALENDAR` whose `METHOD` is `method`.
    pub ics: String,
    /// The domain of the `Message-ID` (empty: the domain of `from`).
    pub message_id_domain: String,
    /// The `Date` of the message, UTC.
    pub date: NaiveDateTime,
}

/// Writes `mail` as an RFC 5322 message with CRLF line ends, ready to send.
///
/// Display names and subjects that are not ASCII are written as RFC 2047
/// encoded words; the text parts are 7bit when they are short-lined ASCII
/// and base64 otherwise; the calendar part is 7bit when it is ASCII with
/// CRLF line ends (as the engine writes it) and base64 otherwise, so it
/// arrives byte for byte.
///
/// Errors: [`ErrorCode::InvalidValue`] when an address is not a plain ASCII
/// `local@domain`, the method is not a token, or a header value holds a line
/// break (which would let a value write headers of its own).
pub fn compose(mail: &OutgoingMail) -> Result<String> {
    let from = checked_address("from", &mail.from)?;
    let to = checked_address("to", &mail.to)?;
    let reply_to = mail.reply_to.as_deref().map(|r| checked_address("reply_to", r)).transpose()?;
    let method = mail.method.trim().to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(invalid(format!("`{}` is not an iTIP method", mail.method)));
    }
    let from_name = mail.from_name.as_deref().map(|n| checked_text("from_name", n)).transpose()?;
    let to_name = mail.to_name.as_deref().map(|n| checked_text("to_name", n)).transpose()?;
    let subject = checked_text("subject", &mail.subject)?;
    let domain = match mail.message_id_domain.trim() {
        "" => from.rsplit_once('@').map(|(_, d)| d).unwrap_or("invalid"),
        d => d,
    };
    if !domain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
        return Err(invalid(format!("`{domain}` is not a domain for the message id")));
    }

    let digest = Digest::of(&[
        from.as_bytes(),
        to.as_bytes(),
        reply_to.unwrap_or("").as_bytes(),
        subject.as_bytes(),
        method.as_bytes(),
        mail.ics.as_bytes(),
        mail.text_body.as_bytes(),
        mail.date.format("%Y%m%dT%H%M%S").to_string().as_bytes(),
    ]);
    let mixed = format!("=_mixed_{digest}");
    let alternative = format!("=_alt_{digest}");

    let mut out = String::with_capacity(mail.ics.len() * 3 + mail.text_body.len() * 3 + 2048);
    header(&mut out, "From", &mailbox(from_name, from));
    header(&mut out, "To", &mailbox(to_name, to));
    if let Some(r) = reply_to {
        header(&mut out, "Reply-To", &format!("<{r}>"));
    }
    header(&mut out, "Subject", &unstructured(subject));
    header(&mut out, "Date", &mail.date.format("%a, %d %b %Y %H:%M:%S +0000").to_string());
    header(&mut out, "Message-ID", &format!("<{digest}@{domain}>"));
    header(&mut out, "MIME-Version", "1.0");
    header(&mut out, "Content-Type", &format!("multipart/mixed; boundary=\"{mixed}\""));
    out.push_str("\r\n");
    out.push_str("This is a multi-part message in MIME format.\r\n");

    delimiter(&mut out, &mixed);
    header(&mut out, "Content-Type", &format!("multipart/alternative; boundary=\"{alternative}\""));
    out.push_str("\r\n");

    let text = normalize_line_ends(&mail.text_body);
    delimiter(&mut out, &alternative);
    part(&mut out, "text/plain; charset=UTF-8", None, text.as_bytes(), &[&mixed, &alternative]);

    delimiter(&mut out, &alternative);
    let html = html_of(&text);
    part(&mut out, "text/html; charset=UTF-8", None, html.as_bytes(), &[&mixed, &alternative]);

    delimiter(&mut out, &alternative);
    let calendar_type = format!("text/calendar; method={method}; charset=UTF-8");
    part(&mut out, &calendar_type, None, mail.ics.as_bytes(), &[&mixed, &alternative]);
    close(&mut out, &alternative);

    delimiter(&mut out, &mixed);
    let attachment_type = format!("application/ics; name=\"{ATTACHMENT_NAME}\"");
    let disposition = format!("attachment; filename=\"{ATTACHMENT_NAME}\"");
    part(&mut out, &attachment_type, Some(&disposition), mail.ics.as_bytes(), &[]);
    close(&mut out, &mixed);
    Ok(out)
}

/// A short text body for a message of `method` about `subject`, for callers
/// that have no text of their own.
pub fn default_text_body(method: &str, subject: &str) -> String {
    let what = match method.trim().to_ascii_uppercase().as_str() {
        "REQUEST" => "You are invited to",
        "CANCEL" => "This meeting has been cancelled:",
        "REPLY" => "An answer to the invitation to",
        "COUNTER" => "A new time is proposed for",
        "DECLINECOUNTER" => "The proposed new time was declined for",
        "REFRESH" => "An up-to-date copy is asked for",
        _ => "A calendar message about",
    };
    format!("{what} \"{subject}\".\r\n\r\nThe attached calendar file holds the details.\r\n")
}

fn invalid(message: String) -> EngineError {
    EngineError::new(ErrorCode::InvalidValue, message)
}

/// `mailto:` stripped and trimmed; a plain ASCII `local@domain` without
/// spaces, angle brackets or controls.
fn checked_address<'a>(field: &str, address: &'a str) -> Result<&'a str> {
    let a = address.trim();
    let a = match a.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => a.get(7..).unwrap_or(""),
        _ => a,
    };
    let ok = a.len() <= 254
        && a.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'(' | b')' | b',' | b';' | b'"'))
        && a.split_once('@').is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'));
    if ok { Ok(a) } else { Err(invalid(format!("`{address}` is not an e-mail address for `{field}`"))) }
}

/// A header text without line breaks or other controls.
fn checked_text<'a>(field: &str, text: &'a str) -> Result<&'a str> {
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err(invalid(format!("`{field}` holds a line break or a control character")));
    }
    Ok(text.trim())
}

/// `Name <address>`, the name quoted or encoded as needed (RFC 5322 3.4).
pub(crate) fn mailbox(name: Option<&str>, address: &str) -> String {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => format!("<{address}>"),
        Some(n) if n.is_ascii() => {
            let mut q = String::with_capacity(n.len() + 2);
            q.push('"');
            for c in n.chars() {
                if c == '"' || c == '\\' {
                    q.push('\\');
                }
                q.push(c);
            }
            q.push('"');
            format!("{q} <{address}>")
        }
        Some(n) => format!("{} <{address}>", encoded_words(n)),
    }
}

/// An unstructured header value (RFC 5322 3.2.5): as it is when ASCII,
/// else encoded words.
pub(crate) fn unstructured(text: &str) -> String {
    if text.is_ascii() { text.to_owned() } else { encoded_words(text) }
}

/// `=?UTF-8?B?...?=` words (RFC 2047) of at most [`MAX_ENCODED_WORD`] characters each, split
/// between characters, separated by a space (a fold point).
fn encoded_words(text: &str) -> String {
    // 12 characters of `=?UTF-8?B??=`; 4 base64 characters per 3 bytes.
    let max_bytes = (MAX_ENCODED_WORD - 12) / 4 * 3;
    let mut words: Vec<String> = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > max_bytes && !chunk.is_empty() {
            words.push(format!("=?UTF-8?B?{}?=", crate::base64::encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", crate::base64::encode(chunk.as_bytes())));
    }
    words.join(" ")
}

/// Writes `Name: value`, folded before spaces so that lines stay within 78
/// characters where the value allows (RFC 5322 2.2.3).
pub(crate) fn header(out: &mut String, name: &str, value: &str) {
    let mut line_len = name.len() + 1;
    out.push_str(name);
    out.push(':');
    for (i, word) in value.split(' ').enumerate() {
        if i > 0 && line_len + 1 + word.len() > 78 && line_len > 1 {
            out.push_str("\r\n");
            line_len = 0;
        }
        out.push(' ');
        out.push_str(word);
        line_len += 1 + word.len();
    }
    out.push_str("\r\n");
}

fn delimiter(out: &mut String, boundary: &str) {
    out.push_str("\r\n--");
    out.push_str(boundary);
    out.push_str("\r\n");
}

fn close(out: &mut String, boundary: &str) {
    out.push_str("\r\n--");
    out.push_str(boundary);
    out.push_str("--\r\n");
}

/// One leaf part: headers, a blank line, the body. The body is 7bit when it
/// can travel as it is (ASCII, CRLF line ends, short lines, no boundary in
/// it), base64 otherwise.
fn part(out: &mut String, content_type: &str, disposition: Option<&str>, body: &[u8], boundaries: &[&str]) {
    header(out, "Content-Type", content_type);
    if let Some(d) = disposition {
        header(out, "Content-Disposition", d);
    }
    let text = std::str::from_utf8(body).ok().filter(|t| travels_as_7bit(t, boundaries));
    match (text, disposition) {
        (Some(t), None) => {
            header(out, "Content-Transfer-Encoding", "7bit");
            out.push_str("\r\n");
            out.push_str(t);
        }
        _ => {
            header(out, "Content-Transfer-Encoding", "base64");
            out.push_str("\r\n");
            let encoded = crate::base64::encode(body);
            let mut first = true;
            for line in encoded.as_bytes().chunks(BASE64_LINE) {
                if !first {
                    out.push_str("\r\n");
                }
                first = false;
                out.push_str(std::str::from_utf8(line).unwrap_or(""));
            }
        }
    }
}

/// Whether `text` can be written as it is: ASCII, CRLF line ends only, no
/// line over 998 characters, and no line that a reader would take for a
/// delimiter. (The CRLF before a delimiter belongs to the delimiter, RFC 2046
/// 5.1.1, so the body is read back exactly as written.)
fn travels_as_7bit(text: &str, boundaries: &[&str]) -> bool {
    if !text.is_ascii() {
        return false;
    }
    text.split("\r\n").all(|line| {
        line.len() <= MAX_LINE
            && !line.contains(['\r', '\n', '\0'])
            && !(line.starts_with("--") && boundaries.iter().any(|b| line.get(2..).is_some_and(|l| l.starts_with(b))))
    })
}

fn normalize_line_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            c => out.push(c),
        }
    }
    if !out.is_empty() && !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    out
}

/// The text as an HTML document: escaped, one paragraph per blank-line
/// separated block, line breaks kept.
fn html_of(text: &str) -> String {
    let mut out = String::from("<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"></head><body>\r\n");
    for para in text.split("\r\n\r\n").filter(|p| !p.trim().is_empty()) {
        out.push_str("<p>");
        for (i, line) in para.split("\r\n").enumerate() {
            if i > 0 {
                out.push_str("<br>\r\n");
            }
            out.push_str(&escape_html(line));
        }
        out.push_str("</p>\r\n");
    }
    out.push_str("</body></html>\r\n");
    out
}

/// Escapes the five characters that are markup in HTML text and attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A 128-bit digest of the inputs (two FNV-1a 64 lanes with different
/// offsets), written as 32 hex digits. It names the message and its MIME
/// boundaries; it is no security measure.
struct Digest(u64, u64);

impl Digest {
    fn of(fields: &[&[u8]]) -> Digest {
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut a: u64 = 0xcbf2_9ce4_8422_2325;
        let mut b: u64 = 0x6c62_272e_07bb_0142;
        for field in fields {
            // Length first, so that moving bytes between fields changes the digest.
            for byte in (field.len() as u64).to_le_bytes().iter().chain(field.iter()) {
                a = (a ^ u64::from(*byte)).wrapping_mul(PRIME);
                b = (b ^ u64::from(*byte)).wrapping_mul(PRIME).rotate_left(5);
            }
        }
        Digest(a, b)
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}{:016x}", self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::message::{InputLimits, read_message};

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
UID:u1@crm.example\r\nDTSTAMP:20261201T080000Z\r\nDTSTART:20261203T090000Z\r\nDTEND:20261203T100000Z\r\n\
SUMMARY:Review\r\nORGANIZER;CN=Ann:mailto:ann@crm.example\r\n\
ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@customer.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn mail() -> OutgoingMail {
        OutgoingMail {
            from: "ann@crm.example".into(),
            from_name: Some("Ann Andersen".into()),
            to: "mailto:bob@customer.example".into(),
            to_name: Some("Bob".into()),
            reply_to: Some("crm@crm.example".into()),
            subject: "Review".into(),
            text_body: "You are invited.\n\nSee <the> agenda & notes.".into(),
            method: "request".into(),
            ics: ICS.into(),
            message_id_domain: "crm.example".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn composes_a_message_our_reader_takes_back() {
        let text = compose(&mail()).unwrap();
        assert!(text.lines().all(|l| l.len() <= 998));
        assert!(!text.replace("\r\n", "").contains('\n'), "bare LF in {text}");
        assert!(text.contains("From: \"Ann Andersen\" <ann@crm.example>\r\n"));
        assert!(text.contains("To: \"Bob\" <bob@customer.example>\r\n"));
        assert!(text.contains("Reply-To: <crm@crm.example>\r\n"));
        assert!(text.contains("Date: Tue, 01 Dec 2026 08:00:00 +0000\r\n"));
        assert!(text.contains("Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n"));
        assert!(text.contains("Content-Type: application/ics; name=\"invite.ics\"\r\n"));
        assert!(text.contains("See &lt;the&gt; agenda &amp; notes."));
        let env = read_message(text.as_bytes(), &InputLimits::default()).unwrap();
        assert_eq!(env.calendar, ICS);
        assert_eq!(env.content_method.as_deref(), Some("REQUEST"));
        assert_eq!(env.from.as_deref(), Some("ann@crm.example"));
        assert_eq!(env.from_name.as_deref(), Some("Ann Andersen"));
        assert_eq!(env.subject.as_deref(), Some("Review"));
        assert!(env.message_id.unwrap().ends_with("@crm.example>"));
    }

    #[test]
    fn the_policy_takes_what_we_compose() {
        let text = compose(&mail()).unwrap();
        let ctx = crate::policy::parse_context(
            r#"{"mailbox": "bob@customer.example", "now": "2026-12-01T08:00:00Z",
                "contacts": [{"email": "ann@crm.example", "person_id": 7, "name": "Ann Andersen"}]}"#,
        )
        .unwrap();
        let decision = crate::api::decide(text.as_bytes(), &ctx).unwrap();
        assert_eq!(decision.kind, crate::policy::Kind::Invitation);
        assert_eq!(decision.uid, "u1@crm.example");
        assert_eq!(decision.method, "REQUEST");
    }

    #[test]
    fn the_same_inputs_give_the_same_text() {
        let a = compose(&mail()).unwrap();
        assert_eq!(a, compose(&mail()).unwrap());
        let mut other = mail();
        other.to = "carl@customer.example".into();
        let b = compose(&other).unwrap();
        let id = |t: &str| t.lines().find(|l| l.starts_with("Message-ID:")).unwrap().to_owned();
        assert_ne!(id(&a), id(&b));
    }

    #[test]
    fn non_ascii_names_and_subjects_are_encoded_words() {
        let mut m = mail();
        m.from_name = Some("Åse Ødegård".into());
        m.subject = "Møte om «budsjett» – ".repeat(5);
        m.ics = ICS.replace("SUMMARY:Review", "SUMMARY:Møte");
        let text = compose(&m).unwrap();
        assert!(text.is_ascii());
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(head.lines().all(|l| l.len() <= 78), "{head}");
        let env = read_message(text.as_bytes(), &InputLimits::default()).unwrap();
        assert_eq!(env.from_name.as_deref(), Some("Åse Ødegård"));
        assert_eq!(env.subject.as_deref(), Some(m.subject.trim()));
        assert_eq!(env.calendar, m.ics);
        assert!(text.contains(
            "Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\nContent-Transfer-Encoding: base64"
        ));
    }

    #[test]
    fn calendars_with_bare_line_feeds_or_boundaries_go_base64() {
        let mut m = mail();
        m.ics = ICS.replace("\r\n", "\n");
        let text = compose(&m).unwrap();
        let env = read_message(text.as_bytes(), &InputLimits::default()).unwrap();
        assert_eq!(env.calendar, m.ics);
        let digest_line = text.lines().find(|l| l.contains("boundary=\"=_alt_")).unwrap();
        let boundary = digest_line.split('"').nth(1).unwrap();
        assert!(!travels_as_7bit(&format!("A\r\n--{boundary}\r\n"), &[boundary]));
    }

    #[test]
    fn header_injection_is_refused() {
        let mut m = mail();
        m.subject = "hi\r\nBcc: eve@evil.example".into();
        assert_eq!(compose(&m).unwrap_err().code, ErrorCode::InvalidValue);
        let mut m = mail();
        m.to = "bob@customer.example>\r\nBcc: <eve@evil.example".into();
        assert_eq!(compose(&m).unwrap_err().code, ErrorCode::InvalidValue);
        let mut m = mail();
        m.method = "REQUEST\r\nX: y".into();
        assert_eq!(compose(&m).unwrap_err().code, ErrorCode::InvalidValue);
        let mut m = mail();
        m.from_name = Some("Ann\"><script>".into());
        let text = compose(&m).unwrap();
        assert!(text.contains("From: \"Ann\\\"><script>\" <ann@crm.example>"));
    }

    #[test]
    fn encoded_words_stay_short_and_split_between_characters() {
        let words = encoded_words(&"ø€𝄞".repeat(30));
        for w in words.split(' ') {
            assert!(w.len() <= MAX_ENCODED_WORD, "{w}");
        }
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(crate::base64::encode(i.as_bytes()), o);
        }
    }
}
