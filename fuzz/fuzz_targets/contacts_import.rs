//! The contacts import's reader: any bytes as CSV (with and without a
//! header and a mapping) and as vCard. It never panics, and what it reads
//! stays within its limits.
#![no_main]

use invitelink::contacts_import::{Field, Format, MAX_EMAILS, MAX_ROWS, MAX_TEXT_CHARS, Options, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let first = data.first().copied().unwrap_or_default();
    let mapping = [Field::Name, Field::Email, Field::Company, Field::Title, Field::Phone, Field::FirstName];
    let options = [
        Options::default(),
        Options { format: Some(Format::Csv), header: Some(first & 1 == 1), ..Options::default() },
        Options {
            format: Some(Format::Csv),
            header: Some(false),
            mapping: Some(mapping.iter().copied().take(usize::from(first % 3)).collect()),
        },
        Options { format: Some(Format::Vcard), ..Options::default() },
    ];
    for opts in &options {
        let Ok(parsed) = parse(data, opts) else { continue };
        assert!(parsed.rows.len() <= MAX_ROWS);
        for row in &parsed.rows {
            if let Ok(c) = &row.outcome {
                assert!(!c.emails.is_empty() && c.emails.len() <= MAX_EMAILS);
                assert!(c.name.chars().count() <= MAX_TEXT_CHARS);
                assert!(c.emails.iter().all(|e| e.contains('@') && !e.chars().any(char::is_whitespace)));
            }
        }
    }
});
