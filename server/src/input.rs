//! Checks on text the API stores and later writes into iCalendar files and
//! e-mail headers: names, titles, locations and e-mail addresses must not
//! carry control characters, which could end a header or a content line
//! early and start another (header injection).
//!
//! A refused value is a 400 with the stable code `control_character`.

use super::error::{ApiError, ApiResult};

/// Whether `c` is refused in a name, title or location: every control
/// character (C0, DEL, C1) but TAB, and the Unicode line and paragraph
/// separators.
fn refused_in_text(c: char) -> bool {
    (c.is_control() && c != '\t') || c == '\u{2028}' || c == '\u{2029}'
}

/// Whether `c` is refused in an e-mail address: every control character,
/// TAB included, and the Unicode line and paragraph separators.
fn refused_in_address(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

fn refuse(field: &str, value: &str, c: char) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::BAD_REQUEST,
        CONTROL_CHARACTER,
        format!("`{field}` must not contain control characters (U+{:04X} in `{}`)", u32::from(c), value.escape_debug()),
    )
}

/// The error code of a refused value.
pub const CONTROL_CHARACTER: &str = "control_character";

/// 400 `control_character` when the name, title or location `value` of
/// `field` holds a control character other than TAB.
pub fn text(field: &str, value: &str) -> ApiResult<()> {
    match value.chars().find(|c| refused_in_text(*c)) {
        Some(c) => Err(refuse(field, value, c)),
        None => Ok(()),
    }
}

/// A description as stored: line ends made LF, the text trimmed. 400
/// `control_character` for any other control character than LF and TAB
/// (iCalendar escapes both), 422 when longer than `max` characters.
pub fn long_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let value = value.replace("\r\n", "\n").replace('\r', "\n");
    if let Some(c) = value.chars().find(|c| *c != '\n' && refused_in_text(*c)) {
        return Err(refuse(field, &value, c));
    }
    let value = value.trim().to_owned();
    if value.chars().count() > max {
        return Err(ApiError::invalid(format!("`{field}` has at most {max} characters")));
    }
    Ok(value)
}

/// 400 `control_character` when the e-mail address `value` of `field` holds
/// a control character (TAB included).
pub fn address(field: &str, value: &str) -> ApiResult<()> {
    match value.chars().find(|c| refused_in_address(*c)) {
        Some(c) => Err(refuse(field, value, c)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn control_characters_are_refused() {
        assert!(text("name", "Ada Larsen").is_ok());
        assert!(text("title", "Plan\tB").is_ok());
        assert!(text("name", "Åsa Ødegård, 東京").is_ok());
        for bad in ["a\r\nBcc: x@y", "a\nb", "a\0b", "a\u{1b}b", "a\u{7f}b", "a\u{85}b", "a\u{2028}b"] {
            assert_eq!(text("name", bad).unwrap_err().code, CONTROL_CHARACTER, "{bad:?}");
        }
        assert!(address("emails", "bob@acme.example").is_ok());
        assert_eq!(address("emails", "bob@acme.example\t").unwrap_err().code, CONTROL_CHARACTER);
        assert_eq!(address("emails", "bob@acme.example\r\nBcc: eve@x").unwrap_err().status.as_u16(), 400);
    }

    #[test]
    fn descriptions_keep_lines_and_refuse_other_controls() {
        assert_eq!(
            long_text("description", " Agenda:\r\n1.\tPrices\r2. Dates \n", 100).unwrap(),
            "Agenda:\n1.\tPrices\n2. Dates"
        );
        for bad in ["a\0b", "a\u{1b}b", "a\u{85}b", "a\u{2028}b"] {
            assert_eq!(long_text("description", bad, 100).unwrap_err().code, CONTROL_CHARACTER, "{bad:?}");
        }
        assert_eq!(long_text("description", "abc", 2).unwrap_err().status.as_u16(), 422);
    }
}
