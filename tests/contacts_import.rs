#![cfg(feature = "contacts-import")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The contacts import's reader on files written as Outlook, Google
//! Contacts and Apple Contacts export them (tests/data/contacts/), and its
//! limits.

use invitelink::contacts_import::*;

fn sample(name: &str) -> Parsed {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/contacts").join(name);
    parse(&std::fs::read(&path).unwrap(), &Options::default()).unwrap()
}

fn refused(p: &Parsed) -> Vec<(usize, RefusalCode)> {
    p.rows.iter().filter_map(|r| r.outcome.as_ref().err().map(|e| (r.row, e.code))).collect()
}

#[test]
fn outlook_csv_in_windows_1252() {
    let p = sample("outlook.csv");
    assert_eq!((p.format, p.encoding, p.header), (Format::Csv, "windows-1252", true));
    let c = ok(&p);
    assert_eq!(c.len(), 3, "{:?}", p.rows);
    assert_eq!(c[0].name, "Jürgen Sæther");
    assert_eq!(c[0].emails, ["jurgen.saether@nordkapp.example", "js@nordkapp-service.example"]);
    assert_eq!(c[0].company.as_deref(), Some("Nordkapp Maskin AS"));
    assert_eq!(c[0].title.as_deref(), Some("Innkjøpssjef"), "Outlook's `Title` is Mr./Ms., not the job title");
    assert_eq!(c[0].phone.as_deref(), Some("+47 77 60 00 00"));
    assert_eq!(c[1].name, "Zoë Dupré");
    assert_eq!(c[1].company.as_deref(), Some("Café Crème SARL"));
    // The Exchange-only address (X.500) is refused, with its line.
    assert_eq!(refused(&p), [(4, RefusalCode::InvalidEmail)]);
    let bad = p.rows.iter().find(|r| r.outcome.is_err()).unwrap();
    assert_eq!(bad.line, 6, "the multi-line address moves the lines");
    let fields: Vec<Field> = p.columns.iter().map(|c| c.field).collect();
    assert_eq!(fields.iter().filter(|f| **f == Field::Email).count(), 3);
}

#[test]
fn google_csv_current_and_older_layouts() {
    let p = sample("google.csv");
    assert_eq!((p.encoding, p.header), ("utf-8", true));
    let c = ok(&p);
    assert_eq!(c[0].name, "Ingrid Bergström");
    assert_eq!(
        c[0].emails,
        ["ingrid.bergstrom@nordlys.example", "ib@nordlys-labs.example", "ingrid.b@mail.example"],
        "` ::: ` separates addresses of one label"
    );
    assert_eq!(c[0].title.as_deref(), Some("Head of Procurement"));
    assert_eq!(c[1].name, "Mei Tanaka");
    // Reception has no address; the nameless ops desk is named by its address.
    assert_eq!(refused(&p), [(3, RefusalCode::NoEmail)]);
    assert_eq!(c[2].name, "ops@lagosfreight.example");
    let legacy = sample("google-legacy.csv");
    let c = ok(&legacy);
    assert_eq!(
        (c[0].name.as_str(), c[0].company.as_deref(), c[0].title.as_deref()),
        ("Ana Souza", Some("Rio Logística"), Some("CFO"))
    );
}

#[test]
fn outlook_vcard_2_1_with_quoted_printable() {
    let p = sample("outlook.vcf");
    assert_eq!(p.format, Format::Vcard);
    let c = ok(&p);
    assert_eq!(c.len(), 1, "{:?}", p.rows);
    assert_eq!(c[0].name, "Jürg Müller");
    assert_eq!(c[0].emails, ["juerg.mueller@helvetia-bau.example", "j.mueller@helvetia-bau.example"]);
    assert_eq!(c[0].company.as_deref(), Some("Helvetia Bau AG"));
    assert_eq!(c[0].title.as_deref(), Some("Einkäufer"));
    assert_eq!(c[0].phone.as_deref(), Some("+41 44 123 45 67"));
}

#[test]
fn google_vcard_with_item_groups_and_a_card_without_address() {
    let p = sample("google.vcf");
    let c = ok(&p);
    assert_eq!(c[0].name, "Ingrid Bergström");
    assert_eq!(
        c[0].emails,
        ["ingrid.bergstrom@nordlys.example", "ingrid.b@mail.example", "ib@nordlys-labs.example"],
        "item1.EMAIL counts"
    );
    assert_eq!(c[0].company.as_deref(), Some("Nordlys AB"));
    assert_eq!(refused(&p), [(2, RefusalCode::NoEmail)]);
    assert_eq!(p.rows[1].line, 14);
}

#[test]
fn apple_vcard_with_folded_lines_and_a_photo() {
    let p = sample("apple.vcf");
    let c = ok(&p);
    assert_eq!(c.len(), 1, "{:?}", p.rows);
    assert_eq!(c[0].name, "Chidi Okafor");
    assert_eq!(c[0].emails, ["chidi.okafor@lagosfreight.example", "c.okafor@lagosfreight.example"]);
    assert_eq!(c[0].company.as_deref(), Some("Lagos Freight Ltd"));
    assert_eq!(c[0].title.as_deref(), Some("Operations Director"));
}

#[test]
fn vcard_4_0() {
    let p = sample("contacts-4.0.vcf");
    let c = ok(&p);
    assert_eq!(c[0].name, "Mei Tanaka");
    assert_eq!(c[0].emails, ["mei.tanaka@sakura-trading.example", "mei@home.example"]);
    assert_eq!(c[0].phone.as_deref(), Some("+81-3-5555-0100"));
}

#[test]
fn a_repeated_address_is_refused_on_its_second_row() {
    let p = parse(b"Name,Email\nA,a@x.example\nB,b@x.example\nA again,A@X.example\n", &Options::default()).unwrap();
    assert_eq!(refused(&p), [(3, RefusalCode::DuplicateInFile)]);
}

#[test]
fn the_mapping_given_wins() {
    let opts = Options { header: Some(false), mapping: Some(vec![Field::Email, Field::Name]), ..Options::default() };
    let p = parse(b"x@y.example,Xavier\n", &opts).unwrap();
    assert_eq!(ok(&p)[0].name, "Xavier");
}

#[test]
fn garbage_never_panics() {
    for input in [
        &b"BEGIN:VCARD\r\nFN:x"[..],
        b"BEGIN:VCARD\nEND:VCARD\n",
        b"\"unterminated,quote\n",
        b"\xff\xfe\x00",
        b"BEGIN:VCARD\nEMAIL:a@b.c\nEND:VCARD\nnoise\n",
    ] {
        let _ = parse(input, &Options::default());
    }
}

fn ok(p: &Parsed) -> Vec<&Contact> {
    p.rows.iter().filter_map(|r| r.outcome.as_ref().ok()).collect()
}

#[test]
fn outlook_and_google_columns_map_by_name() {
    assert_eq!(field_of_column("E-mail Address"), Field::Email);
    assert_eq!(field_of_column("E-mail 2 Address"), Field::Email);
    assert_eq!(field_of_column("E-mail Display Name"), Field::Ignore);
    assert_eq!(field_of_column("Job Title"), Field::Title);
    assert_eq!(field_of_column("Title"), Field::Ignore);
    assert_eq!(field_of_column("E-mail 1 - Value"), Field::Email);
    assert_eq!(field_of_column("E-mail 1 - Type"), Field::Ignore);
    assert_eq!(field_of_column("Organization 1 - Name"), Field::Company);
    assert_eq!(field_of_column("Organization Name"), Field::Company);
    assert_eq!(field_of_column("Given Name"), Field::FirstName);
    assert_eq!(field_of_column("Phone 1 - Value"), Field::Phone);
}

#[test]
fn headerless_csv_is_mapped_by_content() {
    let p = parse(b"Ada Larsen;ada@x.example\nBob Berg;bob@y.example\n", &Options::default()).unwrap();
    assert!(!p.header);
    assert_eq!(p.columns.iter().map(|c| c.field).collect::<Vec<_>>(), [Field::Name, Field::Email]);
    assert_eq!(ok(&p).len(), 2);
}

#[test]
fn windows_1252_is_read() {
    let p = parse(b"Name,Email\nJ\xf8rgen S\xe6ther,j@x.example\n", &Options::default()).unwrap();
    assert_eq!(p.encoding, "windows-1252");
    assert_eq!(ok(&p)[0].name, "Jørgen Sæther");
}

#[test]
fn addresses_are_checked() {
    assert_eq!(normalize_address(" MAILTO:Bob@Acme.Example "), Some("bob@acme.example".to_owned()));
    for bad in ["bob", "bob@", "@x", "a b@x", "a@x..y", "a@b@c", "<a@b>"] {
        assert_eq!(normalize_address(bad), None, "{bad}");
    }
}

#[test]
fn limits_are_errors_not_panics() {
    let wide = vec!["x"; MAX_COLUMNS + 1].join(",");
    assert_eq!(parse(wide.as_bytes(), &Options::default()).unwrap_err().code(), "too_many_columns");
    let mut many = String::from("Name,Email\n");
    for i in 0..=MAX_ROWS {
        many.push_str(&format!("P{i},p{i}@x.example\n"));
    }
    assert_eq!(parse(many.as_bytes(), &Options::default()).unwrap_err().code(), "too_many_rows");
    assert_eq!(parse(b"", &Options::default()).unwrap_err().code(), "empty_file");
    assert_eq!(parse(b"\n\n,,\n", &Options::default()).unwrap_err().code(), "empty_file");
    let big = vec![b'a'; MAX_FILE_BYTES + 1];
    assert_eq!(parse(&big, &Options::default()).unwrap_err().code(), "too_large");
    let mapping = Options { mapping: Some(vec![Field::Email; 3]), ..Options::default() };
    assert_eq!(parse(b"a@x.example\n", &mapping).unwrap_err().code(), "bad_mapping");
}
