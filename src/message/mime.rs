//! An e-mail's structure, read leniently for its calendar: header fields
//! (RFC 5322), MIME parts and transfer encodings (RFC 2045, 2046), encoded
//! words (RFC 2047) and parameter values (RFC 2231).
//!
//! Nothing here fails: a line that is not a header field is skipped, a
//! multipart without its closing delimiter ends at the end of the message,
//! a character that is not base64 is passed over. Nesting is bounded
//! ([`MAX_DEPTH`]); everything else is bounded by the message's size.

use super::charset;

/// How deep multiparts are read; a part nested deeper is read as a leaf.
pub(crate) const MAX_DEPTH: usize = 24;

/// One header field: its name and its raw value (folded, as sent).
#[derive(Debug, Clone, Copy)]
struct Field<'m> {
    name: &'m [u8],
    raw: &'m [u8],
}

/// A MIME part (the whole message is the outermost one).
#[derive(Debug)]
pub(crate) struct Part<'m> {
    fields: Vec<Field<'m>>,
    body: &'m [u8],
    /// Its `Content-Type` (`text/plain` when it has none).
    pub content_type: Parameterised,
    /// Its parts, for a multipart.
    pub subparts: Vec<Part<'m>>,
}

/// A header value with parameters (`Content-Type`, `Content-Disposition`).
#[derive(Debug, Default)]
pub(crate) struct Parameterised {
    /// The value before the first `;`, lower-cased (`text/calendar`).
    pub value: String,
    params: Vec<(String, String)>,
}

impl Parameterised {
    /// The value of parameter `name` (case-insensitive), decoded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl<'m> Part<'m> {
    /// Reads `bytes` as an e-mail.
    pub fn read(bytes: &'m [u8]) -> Part<'m> {
        Part::read_at(bytes, 0)
    }

    fn read_at(bytes: &'m [u8], depth: usize) -> Part<'m> {
        let (fields, body) = split_header(bytes);
        let content_type = fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(b"Content-Type"))
            .map(|f| parameterised(&unfold(f.raw)))
            .filter(|c| !c.value.is_empty())
            .unwrap_or_else(|| Parameterised { value: "text/plain".to_owned(), params: Vec::new() });
        let subparts = match content_type.param("boundary") {
            Some(boundary) if content_type.value.starts_with("multipart/") && depth < MAX_DEPTH => {
                multipart_bodies(body, boundary.as_bytes()).into_iter().map(|b| Part::read_at(b, depth + 1)).collect()
            }
            _ => Vec::new(),
        };
        Part { fields, body, content_type, subparts }
    }

    fn raw_field(&self, name: &str) -> Option<&'m [u8]> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name.as_bytes())).map(|f| f.raw)
    }

    /// The first field `name` as text: unfolded, encoded words decoded,
    /// trimmed.
    pub fn text(&self, name: &str) -> Option<String> {
        self.raw_field(name).map(|raw| decode_words(&unfold(raw)).trim().to_owned())
    }

    /// The first mailbox of address field `name` (`From`, `Sender`): its
    /// address as written and its display name, when it has one.
    pub fn mailbox(&self, name: &str) -> Option<(String, Option<String>)> {
        first_mailbox(&unfold(self.raw_field(name)?))
    }

    /// Every field `name` as its list of mailbox addresses (as written).
    pub fn address_lists(&self, name: &str) -> Vec<Vec<String>> {
        self.fields
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|f| mailboxes(&unfold(f.raw)).into_iter().map(|(address, _)| address).collect())
            .collect()
    }

    /// Its `Content-Disposition`.
    pub fn disposition(&self) -> Parameterised {
        self.raw_field("Content-Disposition").map(|raw| parameterised(&unfold(raw))).unwrap_or_default()
    }

    /// Its body with the transfer encoding (base64, quoted-printable)
    /// undone; as sent for any other.
    pub fn body(&self) -> Vec<u8> {
        let encoding = self.text("Content-Transfer-Encoding").unwrap_or_default();
        if encoding.eq_ignore_ascii_case("base64") {
            crate::base64::decode_lenient(self.body)
        } else if encoding.eq_ignore_ascii_case("quoted-printable") {
            quoted_printable(self.body)
        } else {
            self.body.to_vec()
        }
    }
}

/// `line` without its line ending (LF or CRLF).
fn without_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Lines of `bytes`: (start, end including the line ending).
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        pos = memchr::memchr(b'\n', bytes.get(start..).unwrap_or_default()).map_or(bytes.len(), |i| start + i + 1);
        Some((start, pos))
    })
}

/// The header fields of `bytes` and the body after the empty line.
fn split_header(bytes: &[u8]) -> (Vec<Field<'_>>, &[u8]) {
    let mut fields: Vec<Field<'_>> = Vec::new();
    // Where the last field's value starts, to extend it over folded lines.
    let mut last_start = None;
    for (start, end) in lines(bytes) {
        let line = without_eol(bytes.get(start..end).unwrap_or_default());
        if line.is_empty() {
            return (fields, bytes.get(end..).unwrap_or_default());
        }
        let content_end = start + line.len();
        if line.first().is_some_and(|c| *c == b' ' || *c == b'\t') {
            if let (Some(value_start), Some(last)) = (last_start, fields.last_mut()) {
                last.raw = bytes.get(value_start..content_end).unwrap_or_default();
            }
            continue;
        }
        // A line that is no field (an mbox `From ` line, junk) is skipped.
        last_start = None;
        if let Some(colon) = memchr::memchr(b':', line) {
            let name = line.get(..colon).unwrap_or_default().trim_ascii();
            if !name.is_empty() && !name.contains(&b' ') {
                let value_start = start + colon + 1;
                fields.push(Field { name, raw: bytes.get(value_start..content_end).unwrap_or_default() });
                last_start = Some(value_start);
            }
        }
    }
    (fields, &[])
}

/// A raw header value unfolded (line breaks removed) as text: UTF-8 when it
/// is (RFC 6532), else ISO-8859-1 byte for byte.
fn unfold(raw: &[u8]) -> String {
    let bytes: Vec<u8> = raw.iter().copied().filter(|c| *c != b'\r' && *c != b'\n').collect();
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => e.into_bytes().into_iter().map(char::from).collect(),
    }
}

/// `text` with its RFC 2047 encoded words (`=?charset?B|Q?...?=`) decoded;
/// white space between two encoded words goes, as the RFC says. A word
/// that does not decode stays as written.
fn decode_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut after_word = false;
    while let Some(at) = rest.find("=?") {
        let (before, from) = rest.split_at(at);
        match encoded_word(from) {
            Some((word, len)) => {
                if !(after_word && before.chars().all(|c| c == ' ' || c == '\t')) {
                    out.push_str(before);
                }
                out.push_str(&word);
                rest = from.get(len..).unwrap_or_default();
                after_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = from.get(2..).unwrap_or_default();
                after_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The encoded word at the start of `text` and its length in `text`.
fn encoded_word(text: &str) -> Option<(String, usize)> {
    let inner = text.strip_prefix("=?")?;
    let (label_written, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let payload = inner.get(..end)?;
    if label_written.is_empty() || label_written.contains(char::is_whitespace) || payload.contains(char::is_whitespace)
    {
        return None;
    }
    // RFC 2231 section 5: `charset*language`.
    let label = label_written.split('*').next().unwrap_or(label_written);
    let bytes = if encoding.eq_ignore_ascii_case("B") {
        crate::base64::decode(payload)?
    } else if encoding.eq_ignore_ascii_case("Q") {
        q_decode(payload.as_bytes())
    } else {
        return None;
    };
    let word = charset::decode(label, &bytes).unwrap_or_else(|| charset::utf8_lossy(&bytes));
    Some((word, "=?".len() + label_written.len() + 1 + encoding.len() + 1 + end + "?=".len()))
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The "Q" encoding of RFC 2047: `_` is a space, `=XX` a byte.
fn q_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&c) = text.get(i) {
        match c {
            b'_' => out.push(b' '),
            b'=' => match (text.get(i + 1).copied().and_then(hex), text.get(i + 2).copied().and_then(hex)) {
                (Some(h), Some(l)) => {
                    out.push((h << 4) | l);
                    i += 2;
                }
                _ => out.push(b'='),
            },
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Quoted-printable (RFC 2045 section 6.7), leniently: `=XX` is a byte, `=`
/// at the end of a line (after optional white space) joins the lines, any
/// other `=` stays as it is.
fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while let Some(&c) = body.get(i) {
        if c != b'=' {
            out.push(c);
            i += 1;
            continue;
        }
        if let (Some(h), Some(l)) = (body.get(i + 1).copied().and_then(hex), body.get(i + 2).copied().and_then(hex)) {
            out.push((h << 4) | l);
            i += 3;
            continue;
        }
        let rest = body.get(i + 1..).unwrap_or_default();
        let blank = rest.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
        let after = rest.get(blank..).unwrap_or_default();
        if after.starts_with(b"\r\n") {
            i += 1 + blank + 2;
        } else if after.starts_with(b"\n") || after.is_empty() {
            i += 1 + blank + after.len().min(1);
        } else {
            out.push(b'=');
            i += 1;
        }
    }
    out
}

/// Splits `text` at `;` outside quoted strings.
fn split_params(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(text.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(text.get(start..).unwrap_or_default());
    out
}

/// A quoted string's content (backslash escapes undone), or `text` trimmed.
fn unquote(text: &str) -> String {
    let text = text.trim();
    let Some(inner) = text.strip_prefix('"') else { return text.to_owned() };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '"' => break,
            _ => out.push(c),
        }
    }
    out
}

/// Reads `value; name=value; ...`: RFC 2231 continuations (`name*0`,
/// `name*1*`) joined and extended values (`name*=charset''text`) decoded;
/// a plain value may hold encoded words, as Outlook writes file names.
fn parameterised(text: &str) -> Parameterised {
    let mut pieces = split_params(text).into_iter();
    let value = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
    let mut plain: Vec<(String, String)> = Vec::new();
    // (name, section, extended, raw value)
    let mut sections: Vec<(String, u32, bool, String)> = Vec::new();
    for piece in pieces {
        let Some((key, raw)) = piece.split_once('=') else { continue };
        let key = key.trim().to_ascii_lowercase();
        let raw = unquote(raw);
        match key.split_once('*') {
            None => plain.push((key, decode_words(&raw))),
            Some((name, rest)) => {
                let extended = rest.ends_with('*') || rest.is_empty();
                let section = rest.trim_end_matches('*').parse::<u32>().unwrap_or(0);
                sections.push((name.to_owned(), section, extended, raw));
            }
        }
    }
    sections.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut params = Vec::with_capacity(plain.len() + sections.len());
    let mut i = 0;
    while let Some((name, ..)) = sections.get(i) {
        let same: Vec<&(String, u32, bool, String)> = sections.iter().skip(i).take_while(|s| &s.0 == name).collect();
        i += same.len();
        let mut label: Option<String> = None;
        let mut bytes = Vec::new();
        for (n, (_, _, extended, raw)) in same.iter().enumerate() {
            if !extended {
                bytes.extend_from_slice(raw.as_bytes());
                continue;
            }
            let mut text = raw.as_str();
            if n == 0 {
                let mut parts = raw.splitn(3, '\'');
                if let (Some(cs), Some(_language), Some(rest)) = (parts.next(), parts.next(), parts.next()) {
                    label = Some(cs.to_owned()).filter(|cs| !cs.is_empty());
                    text = rest;
                }
            }
            bytes.extend(crate::ical::value::percent_decode_bytes(text));
        }
        let decoded =
            label.and_then(|label| charset::decode(&label, &bytes)).unwrap_or_else(|| charset::utf8_lossy(&bytes));
        params.push((name.clone(), decoded));
    }
    // A plain `name=` given beside a `name*` loses to the extended one.
    for (name, v) in plain {
        if !params.iter().any(|(k, _)| *k == name) {
            params.push((name, v));
        }
    }
    Parameterised { value, params }
}

/// The bodies of a multipart's parts: the text between `--boundary` lines,
/// up to `--boundary--` (or the end when it is missing). The line break
/// before a delimiter belongs to the delimiter (RFC 2046 section 5.1.1).
fn multipart_bodies<'m>(body: &'m [u8], boundary: &[u8]) -> Vec<&'m [u8]> {
    let mut parts = Vec::new();
    let mut open: Option<usize> = None;
    for (start, end) in lines(body) {
        let line = without_eol(body.get(start..end).unwrap_or_default());
        let Some(after) = line.strip_prefix(b"--").and_then(|l| l.strip_prefix(boundary)) else { continue };
        let close = after.starts_with(b"--");
        if !close && !after.iter().all(|c| *c == b' ' || *c == b'\t') {
            continue;
        }
        if let Some(from) = open {
            let mut to = start;
            if to > from && body.get(to - 1) == Some(&b'\n') {
                to -= 1;
                if to > from && body.get(to - 1) == Some(&b'\r') {
                    to -= 1;
                }
            }
            parts.push(body.get(from..to).unwrap_or_default());
        }
        if close {
            return parts;
        }
        open = Some(end);
    }
    if let Some(from) = open {
        parts.push(body.get(from..).unwrap_or_default());
    }
    parts
}

/// The first mailbox of an address list (RFC 5322 section 3.4, leniently):
/// the address in `<...>` with the phrase before it as display name, or a
/// bare address; groups are entered, comments skipped.
fn first_mailbox(text: &str) -> Option<(String, Option<String>)> {
    let mut found = None;
    each_mailbox(text, |m| {
        found = Some(m);
        false
    });
    found
}

/// Every mailbox of an address list, read as [`first_mailbox`] reads the first.
fn mailboxes(text: &str) -> Vec<(String, Option<String>)> {
    let mut all = Vec::new();
    each_mailbox(text, |m| {
        all.push(m);
        true
    });
    all
}

/// Calls `found` with each mailbox of the list `text` while it returns true.
fn each_mailbox(text: &str, mut found: impl FnMut((String, Option<String>)) -> bool) {
    let mut phrase = String::new();
    let mut angle: Option<String> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(q) = chars.next() {
                    match q {
                        '\\' => phrase.extend(chars.next()),
                        '"' => break,
                        _ => phrase.push(q),
                    }
                }
            }
            '(' => {
                let mut depth = 1;
                while let Some(q) = chars.next() {
                    match q {
                        '\\' => {
                            chars.next();
                        }
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            '<' => {
                let mut addr = String::new();
                for q in chars.by_ref() {
                    if q == '>' {
                        break;
                    }
                    addr.push(q);
                }
                angle = Some(addr);
            }
            ':' if angle.is_none() => phrase.clear(),
            ',' | ';' => {
                if let Some(m) = mailbox(&phrase, angle.as_deref())
                    && !found(m)
                {
                    return;
                }
                phrase.clear();
                angle = None;
            }
            _ => phrase.push(c),
        }
    }
    if let Some(m) = mailbox(&phrase, angle.as_deref()) {
        found(m);
    }
}

fn mailbox(phrase: &str, angle: Option<&str>) -> Option<(String, Option<String>)> {
    match angle {
        Some(addr) => {
            // An obsolete route (`<@relay:bob@example.com>`) is dropped.
            let addr = addr.trim();
            let addr = addr.strip_prefix('@').and_then(|a| a.split_once(':')).map_or(addr, |(_, a)| a).trim();
            let name = decode_words(phrase.trim());
            let name = name.trim();
            (!addr.is_empty()).then(|| (addr.to_owned(), (!name.is_empty()).then(|| name.to_owned())))
        }
        None => {
            let bare = phrase.trim();
            (!bare.is_empty() && !bare.contains(char::is_whitespace)).then(|| (bare.to_owned(), None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_unfold_and_decode() {
        let mail = Part::read(
            b"From rfc822 Mon Jan  1 00:00:00 2026\nSubject: =?UTF-8?Q?Caf=C3=A9_plan?=\r\n =?ISO-8859-1?B?5Q==?= done\r\nX-Empty:\r\n\r\nbody",
        );
        assert_eq!(mail.text("subject").as_deref(), Some("Café planå done"));
        assert_eq!(mail.text("X-Empty").as_deref(), Some(""));
        assert_eq!(mail.body, b"body");
        assert_eq!(mail.content_type.value, "text/plain");
        assert_eq!(decode_words("=?bogus?X?abc?= and =?utf-8?q?a?="), "=?bogus?X?abc?= and a");
        assert_eq!(decode_words("=?utf-8*en?q?a?= =?utf-8?q?b?= c"), "ab c");
        assert_eq!(Part::read(b"Subject: Gr\xfc\xdfe\n\n").text("Subject").as_deref(), Some("Grüße"));
        assert_eq!(Part::read("Subject: Grüße\n\n".as_bytes()).text("Subject").as_deref(), Some("Grüße"));
    }

    #[test]
    fn mailboxes_of_address_fields() {
        type Mailbox<'t> = Option<(&'t str, Option<&'t str>)>;
        let cases: [(&str, Mailbox<'_>); 8] = [
            ("\"Berg, Bob\" <Bob@Customer.example>", Some(("Bob@Customer.example", Some("Berg, Bob")))),
            ("Bob Berg <bob@x.example>, ann@y.example", Some(("bob@x.example", Some("Bob Berg")))),
            ("bob@x.example (Bob Berg)", Some(("bob@x.example", None))),
            ("Team: ann@y.example, bob@x.example;", Some(("ann@y.example", None))),
            ("undisclosed-recipients:;, =?utf-8?B?w4VzYQ==?= <asa@z.example>", Some(("asa@z.example", Some("Åsa")))),
            ("<@relay.example:carl@w.example>", Some(("carl@w.example", None))),
            ("Nobody <>", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = first_mailbox(text);
            assert_eq!(got.as_ref().map(|(a, n)| (a.as_str(), n.as_deref())), want, "{text}");
        }
        let all = mailboxes("Team: \"Berg, Bob\" <bob@x.example>, (c@evil.example) ann@y.example;, eve@z.example");
        let all: Vec<&str> = all.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(all, ["bob@x.example", "ann@y.example", "eve@z.example"]);
    }

    #[test]
    fn parameters() {
        let p = parameterised("Text/Calendar; method=REQUEST; charset=\"utf-8\"; name=\"a \\\"b\\\";c.ics\"");
        assert_eq!(p.value, "text/calendar");
        assert_eq!(p.param("METHOD"), Some("REQUEST"));
        assert_eq!(p.param("charset"), Some("utf-8"));
        assert_eq!(p.param("name"), Some("a \"b\";c.ics"));
        let p = parameterised("attachment; filename*0*=UTF-8''M%C3%B6te; filename*1=\".ics\"; filename=old.txt");
        assert_eq!(p.param("filename"), Some("Möte.ics"));
        let p = parameterised("attachment; filename=\"=?utf-8?B?TcO2dGUuaWNz?=\"");
        assert_eq!(p.param("filename"), Some("Möte.ics"));
    }

    #[test]
    fn multiparts_and_transfer_encodings() {
        let mail = Part::read(
            b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\nplain\r\n--b2\r\nContent-Type: text/calendar\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nA=3DB=\r\nC =\r\n\r\n--b2--\r\n--b1  \r\nContent-Transfer-Encoding: BASE64\r\n\r\naGVs\r\nbG8*=\r\n--b1--\r\nepilogue",
        );
        assert_eq!(mail.subparts.len(), 2);
        let inner = &mail.subparts[0];
        assert_eq!(inner.subparts.len(), 2);
        assert_eq!(inner.subparts[0].body(), b"plain");
        assert_eq!(inner.subparts[1].content_type.value, "text/calendar");
        assert_eq!(inner.subparts[1].body(), b"A=BC ");
        assert_eq!(mail.subparts[1].body(), b"hello");
        // No closing delimiter: the last part runs to the end.
        let open = Part::read(b"Content-Type: multipart/mixed; boundary=x\n\n--x\n\nfirst\n--x\n\nsecond\n");
        assert_eq!(open.subparts.iter().map(Part::body).collect::<Vec<_>>(), [b"first".to_vec(), b"second\n".to_vec()]);
        assert_eq!(quoted_printable(b"a=zz= \nb=4"), b"a=zzb=4");
    }

    #[test]
    fn nesting_is_bounded() {
        let mut mail = String::new();
        for level in 0..(MAX_DEPTH * 4) {
            mail.push_str(&format!("Content-Type: multipart/mixed; boundary=z{level}\n\n--z{level}\n"));
        }
        let mut part = Part::read(mail.as_bytes());
        let mut depth = 0;
        while let Some(next) = part.subparts.pop() {
            part = next;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH);
    }
}
