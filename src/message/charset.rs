//! Text in a named character encoding: the labels and decoders of the
//! WHATWG Encoding Standard, which e-mail clients follow.
//!
//! Natively the decoders are encoding_rs's. In the WebAssembly build they
//! are the host's `TextDecoder`, which implements the same standard, so the
//! module carries no encoding tables (see docs/benchmarks.md); UTF-8 and
//! the single-byte encodings (from tables generated from encoding_rs,
//! `single_byte.rs`: Node's `TextDecoder` reads windows-1252 as ISO-8859-1
//! and differs on a few bytes of five others) and `x-user-defined` are
//! decoded here on both sides.

use super::single_byte;
use std::borrow::Cow;

/// The labels of UTF-8 (Encoding Standard, section 4.2).
const UTF8_LABELS: [&str; 6] =
    ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"];

/// Whether `label` names UTF-8.
pub(crate) fn is_utf8(label: &str) -> bool {
    let label = label.trim_matches(is_label_space);
    UTF8_LABELS.iter().any(|l| l.eq_ignore_ascii_case(label))
}

/// The white space the standard trims around a label.
fn is_label_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

/// `bytes` as UTF-8, each invalid sequence replaced by U+FFFD.
pub(crate) fn utf8_lossy(bytes: &[u8]) -> String {
    utf8_borrowed(bytes).into_owned()
}

/// `bytes` as UTF-8, borrowed when valid (checked with SIMD, about four
/// times fewer instructions than the standard library's validator, itself
/// many times faster than the lossy decoder's walk), else with U+FFFD for
/// each invalid sequence.
pub(crate) fn utf8_borrowed(bytes: &[u8]) -> Cow<'_, str> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// `bytes` decoded from the encoding labelled `label` (a byte order mark
/// is kept as U+FEFF, not taken as a hint); `None` when the label names no
/// encoding (or the standard's "replacement" encoding).
pub(crate) fn decode(label: &str, bytes: &[u8]) -> Option<String> {
    if is_utf8(label) {
        return Some(utf8_lossy(bytes));
    }
    let (name, decoder) = host::lookup(label.trim_matches(is_label_space))?;
    if name == "utf-8" {
        return Some(utf8_lossy(bytes));
    }
    if name == "x-user-defined" {
        // Encoding Standard, section 14.5: ASCII as is, each other byte to
        // U+F780 + (byte - 0x80).
        return Some(
            bytes.iter().map(|&b| if b < 0x80 { char::from(b) } else { high_char(0xF700 + u16::from(b)) }).collect(),
        );
    }
    if let Some((_, high)) = single_byte::TABLES.iter().find(|(n, _)| *n == name) {
        return Some(
            bytes
                .iter()
                .map(|&b| match b.checked_sub(0x80) {
                    None => char::from(b),
                    Some(i) => high.get(usize::from(i)).map_or('\u{fffd}', |&u| high_char(u)),
                })
                .collect(),
        );
    }
    host::decode(&decoder?, bytes)
}

fn high_char(unit: u16) -> char {
    char::from_u32(u32::from(unit)).unwrap_or('\u{fffd}')
}

#[cfg(not(target_arch = "wasm32"))]
mod host {
    pub(super) type Decoder = &'static encoding_rs::Encoding;

    /// The lower-cased name of the encoding `label` names, with its decoder.
    pub(super) fn lookup(label: &str) -> Option<(String, Option<Decoder>)> {
        let encoding = encoding_rs::Encoding::for_label_no_replacement(label.as_bytes())?;
        Some((encoding.name().to_ascii_lowercase(), Some(encoding)))
    }

    pub(super) fn decode(encoding: &Decoder, bytes: &[u8]) -> Option<String> {
        Some(encoding.decode_without_bom_handling(bytes).0.into_owned())
    }
}

#[cfg(target_arch = "wasm32")]
mod host {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        pub(super) type TextDecoder;

        #[wasm_bindgen(constructor, catch)]
        fn new(label: &str, options: &js_sys::Object) -> Result<TextDecoder, JsValue>;

        #[wasm_bindgen(method, getter)]
        fn encoding(this: &TextDecoder) -> String;

        #[wasm_bindgen(method, catch, js_name = decode)]
        fn decode_bytes(this: &TextDecoder, bytes: &[u8]) -> Result<String, JsValue>;
    }

    pub(super) type Decoder = TextDecoder;

    /// The lower-cased name of the encoding `label` names, with the host's
    /// decoder for it. Node's `TextDecoder` refuses the two encodings whose
    /// only label is their name; those are decoded from our own tables.
    pub(super) fn lookup(label: &str) -> Option<(String, Option<Decoder>)> {
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &JsValue::from_str("ignoreBOM"), &JsValue::TRUE).ok()?;
        match TextDecoder::new(label, &options) {
            Ok(d) => Some((d.encoding().to_ascii_lowercase(), Some(d))),
            Err(_) => ["x-user-defined", "iso-8859-16"]
                .into_iter()
                .find(|name| name.eq_ignore_ascii_case(label))
                .map(|name| (name.to_owned(), None)),
        }
    }

    pub(super) fn decode(decoder: &Decoder, bytes: &[u8]) -> Option<String> {
        decoder.decode_bytes(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_decoders_follow_the_encoding_standard() {
        assert_eq!(decode(" UTF8 ", b"caf\xc3\xa9").as_deref(), Some("café"));
        assert_eq!(decode("iso-8859-1", b"caf\xe9\x80").as_deref(), Some("café€"), "ISO-8859-1 is windows-1252");
        assert_eq!(decode("us-ascii", b"\x93q\x94").as_deref(), Some("\u{201c}q\u{201d}"));
        assert_eq!(decode("x-user-defined", b"a\x80\xff").as_deref(), Some("a\u{f780}\u{f7ff}"));
        assert_eq!(decode("utf-16le", b"\xff\xfea\x00").as_deref(), Some("\u{feff}a"), "a BOM is kept");
        assert_eq!(decode("iso-2022-kr", b"x"), None, "the replacement encoding is refused");
        assert_eq!(decode("no-such-charset", b"x"), None);
        assert_eq!(decode("utf-8", b"a\xffb").as_deref(), Some("a\u{fffd}b"));
        assert_eq!(decode("latin1", b"\x96").as_deref(), Some("\u{2013}"));
    }

    #[test]
    fn the_single_byte_tables_are_encoding_rs_on_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(single_byte::TABLES.len(), 28);
        for (name, _) in single_byte::TABLES {
            let encoding = encoding_rs::Encoding::for_label(name.as_bytes()).unwrap();
            assert_eq!(decode(name, &all).unwrap(), encoding.decode_without_bom_handling(&all).0, "{name}");
        }
    }
}
