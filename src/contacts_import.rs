//! Reading contact files for the CRM's import: CSV and vCard.
//!
//! A file becomes [`Parsed`]: its format and character set, the CSV columns
//! with the field each is mapped to, and one [`Row`] per contact, each either
//! a [`Contact`] to import or a [`Refusal`] with a stable code and a reason.
//!
//! - CSV: UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order
//!   mark, or Windows-1252 (what Outlook writes on a western Windows); the
//!   delimiter is `,`, `;` or TAB, whichever the first line has most of; a
//!   first line of column names is recognised ([`Options::header`] overrides);
//!   the columns of Outlook's and Google's contact exports map by their names
//!   ([`field_of_column`]), others by their content, and the user may give the
//!   mapping ([`Options::mapping`]).
//! - vCard 2.1, 3.0 and 4.0 as Outlook, Google Contacts and Apple Contacts
//!   write them, read by the `calcard` library: folded lines, grouped
//!   properties (`item1.EMAIL`), `TYPE=` parameters, quoted-printable values
//!   of 2.1; photos and every other property are skipped.
//!
//! Architecture Invariant: this module does no I/O and knows no SQL: the
//! server decides duplicates against the store and writes. It never panics
//! and its work is bounded by [`MAX_FILE_BYTES`], [`MAX_ROWS`] and
//! [`MAX_COLUMNS`].

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;

/// The largest file read, in bytes.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
/// The most contacts (CSV records or vCards) in one file.
pub const MAX_ROWS: usize = 20_000;
/// The most CSV columns.
pub const MAX_COLUMNS: usize = 256;
/// The most e-mail addresses of one contact.
pub const MAX_EMAILS: usize = 20;
/// The longest name, company, title or phone number, in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// The longest e-mail address, in bytes (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// The format of a contact file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Comma-, semicolon- or TAB-separated values.
    Csv,
    /// vCard 2.1, 3.0 or 4.0 (`.vcf`).
    Vcard,
}

/// What a CSV column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Not imported.
    Ignore,
    /// The full name.
    Name,
    /// The given name.
    FirstName,
    /// A middle name.
    MiddleName,
    /// The family name.
    LastName,
    /// One or more e-mail addresses (Google separates several with ` ::: `).
    Email,
    /// The company's name.
    Company,
    /// The job title.
    Title,
    /// A telephone number (the first one given is kept).
    Phone,
}

/// How to read a file; every member is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Options {
    /// The format; found from the content when absent.
    #[serde(default)]
    pub format: Option<Format>,
    /// CSV: whether the first line names the columns; found when absent.
    #[serde(default)]
    pub header: Option<bool>,
    /// CSV: the field of each column, in order; columns beyond it are
    /// ignored. Found from the column names or the content when absent.
    #[serde(default)]
    pub mapping: Option<Vec<Field>>,
}

/// A CSV column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Column {
    /// Its name on the first line, or `Column N` without a header.
    pub name: String,
    /// What it is imported as.
    pub field: Field,
    /// The first non-empty value, as an example.
    pub example: Option<String>,
}

/// A contact read from a file, checked: at least one valid address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// Full name (the first address when the file gives none).
    pub name: String,
    /// E-mail addresses, lower-case, without repeats.
    pub emails: Vec<String>,
    /// The company's name.
    pub company: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Telephone number.
    pub phone: Option<String>,
}

/// Why a row is not imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The row has no e-mail address.
    NoEmail,
    /// An e-mail address is not one.
    InvalidEmail,
    /// More than [`MAX_EMAILS`] addresses.
    TooManyEmails,
    /// A value holds a control character (a line break in a name...).
    ControlCharacter,
    /// A value is longer than [`MAX_TEXT_CHARS`].
    TooLong,
    /// An address of the row is on an earlier row of the same file.
    DuplicateInFile,
    /// vCard: a line outside any card, or a card that does not end.
    UnreadableCard,
    /// The row's addresses belong to more than one known person (the server's check).
    Ambiguous,
}

impl RefusalCode {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::NoEmail => "no_email",
            RefusalCode::InvalidEmail => "invalid_email",
            RefusalCode::TooManyEmails => "too_many_emails",
            RefusalCode::ControlCharacter => "control_character",
            RefusalCode::TooLong => "too_long",
            RefusalCode::DuplicateInFile => "duplicate_in_file",
            RefusalCode::UnreadableCard => "unreadable_card",
            RefusalCode::Ambiguous => "ambiguous",
        }
    }
}

/// A row that is not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refusal {
    /// Stable code.
    pub code: RefusalCode,
    /// A message for a person, in lower case without a final period.
    pub message: String,
}

/// One contact of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Its position among the file's contacts, from 1.
    pub row: usize,
    /// The line of the file where it starts, from 1.
    pub line: u64,
    /// What was read (name and addresses as given, for the report).
    pub read: Contact,
    /// The contact, or why it is refused.
    pub outcome: Result<Contact, Refusal>,
}

/// A file read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// Its format.
    pub format: Format,
    /// Its character set: `utf-8`, `utf-16` or `windows-1252`.
    pub encoding: &'static str,
    /// CSV: whether the first line named the columns.
    pub header: bool,
    /// CSV: the columns and their fields (empty for vCard).
    pub columns: Vec<Column>,
    /// The contacts, in file order.
    pub rows: Vec<Row>,
}

/// Why a whole file cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge(usize),
    /// More than [`MAX_ROWS`] contacts.
    TooManyRows,
    /// More than [`MAX_COLUMNS`] columns.
    TooManyColumns(usize),
    /// Nothing in it.
    Empty,
    /// The mapping names more columns than the file has.
    BadMapping(String),
    /// The CSV reader stopped (a message with the line).
    Unreadable(String),
}

impl ImportError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::TooLarge(_) => "too_large",
            ImportError::TooManyRows => "too_many_rows",
            ImportError::TooManyColumns(_) => "too_many_columns",
            ImportError::Empty => "empty_file",
            ImportError::BadMapping(_) => "bad_mapping",
            ImportError::Unreadable(_) => "unreadable_file",
        }
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::TooLarge(n) => {
                write!(f, "the file has {n} bytes; the import reads files of {MAX_FILE_BYTES} bytes at most")
            }
            ImportError::TooManyRows => {
                write!(f, "the file has more than {MAX_ROWS} contacts; split it and import the parts one by one")
            }
            ImportError::TooManyColumns(n) => {
                write!(f, "the file has {n} columns; the import reads {MAX_COLUMNS} at most")
            }
            ImportError::Empty => write!(f, "the file holds no contact"),
            ImportError::BadMapping(m) | ImportError::Unreadable(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Reads `bytes` as a contact file.
pub fn parse(bytes: &[u8], options: &Options) -> Result<Parsed, ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge(bytes.len()));
    }
    let (text, encoding) = decode(bytes);
    let format = options.format.unwrap_or_else(|| detect(&text));
    let mut parsed = match format {
        Format::Csv => read_csv(&text, options)?,
        Format::Vcard => read_vcards(&text)?,
    };
    parsed.encoding = encoding;
    refuse_repeats(&mut parsed.rows);
    Ok(parsed)
}

/// The text of `bytes` and its character set: UTF-8 (a byte-order mark
/// dropped), UTF-16 with a byte-order mark, else Windows-1252, which reads
/// any byte (and is what Outlook and Excel write on western Windows).
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, &'static str) {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let rest = bytes.get(bom..).unwrap_or_default();
        let (text, _) = encoding.decode_without_bom_handling(rest);
        let name = if encoding == encoding_rs::UTF_8 { "utf-8" } else { "utf-16" };
        return (text, name);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text), "utf-8"),
        Err(_) => (encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0, "windows-1252"),
    }
}

/// vCard when the first non-blank line is `BEGIN:VCARD`, else CSV.
fn detect(text: &str) -> Format {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    if first.len() >= 11 && first.get(..11).is_some_and(|s| s.eq_ignore_ascii_case("BEGIN:VCARD")) {
        Format::Vcard
    } else {
        Format::Csv
    }
}

/// The field of a column named `name` in Outlook's or Google's contact
/// export (English headers; the older and the current Google layouts), or
/// a common plain name (`Email`, `Company`...); `Ignore` otherwise.
///
/// Outlook's `Title` is the courtesy title (Mr., Dr.): ignored; its job
/// title is `Job Title`.
pub fn field_of_column(name: &str) -> Field {
    let n: String =
        name.trim().trim_start_matches('\u{feff}').to_lowercase().chars().filter(|c| !matches!(c, '"')).collect();
    let n = n.trim();
    let compact: String = n.chars().filter(|c| c.is_alphanumeric()).collect();
    // Google: `E-mail 1 - Value`, `Phone 2 - Value`, `Organization 1 - Name`.
    if let Some((head, tail)) = n.split_once(" - ") {
        let head: String = head.chars().filter(|c| c.is_alphabetic()).collect();
        return match (head.as_str(), tail.trim()) {
            ("email", "value") => Field::Email,
            ("phone", "value") => Field::Phone,
            ("organization", "name") => Field::Company,
            ("organization", "title") => Field::Title,
            _ => Field::Ignore,
        };
    }
    match compact.as_str() {
        "name" | "fullname" | "displayname" | "contactname" => Field::Name,
        "firstname" | "givenname" | "forename" => Field::FirstName,
        "middlename" | "additionalname" => Field::MiddleName,
        "lastname" | "familyname" | "surname" => Field::LastName,
        "email" | "emailaddress" | "email1" | "emailaddress1" | "email2address" | "email3address" | "email2"
        | "email3" | "mail" => Field::Email,
        "company" | "companyname" | "organization" | "organisation" | "organizationname" | "organisationname" => {
            Field::Company
        }
        "jobtitle" | "organizationtitle" | "position" | "role" => Field::Title,
        "businessphone" | "mobilephone" | "phone" | "telephone" | "primaryphone" | "companymainphone" | "homephone"
        | "phonenumber" | "mobile" => Field::Phone,
        _ => Field::Ignore,
    }
}

/// The delimiter the first line has most of: `,`, `;` or TAB.
fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or_default();
    let count = |c: char| first.chars().filter(|x| *x == c).count();
    let (comma, semicolon, tab) = (count(','), count(';'), count('\t'));
    if tab > comma && tab > semicolon {
        b'\t'
    } else if semicolon > comma {
        b';'
    } else {
        b','
    }
}

fn looks_like_address(cell: &str) -> bool {
    let t = cell.trim();
    t.contains('@') && !t.contains(' ')
}

fn read_csv(text: &str, options: &Options) -> Result<Parsed, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(text.as_bytes());
    let mut records: Vec<(u64, Vec<String>)> = Vec::new();
    let mut record = csv::StringRecord::new();
    let (mut counted, mut lines_before) = (0usize, 0u64);
    loop {
        let start = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                return Err(ImportError::Unreadable(format!("the CSV file cannot be read at line {line}: {e}")));
            }
        }
        if record.len() > MAX_COLUMNS {
            return Err(ImportError::TooManyColumns(record.len()));
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if records.len() > MAX_ROWS {
            return Err(ImportError::TooManyRows);
        }
        // The reader's own line count skips line breaks inside quoted
        // values (Outlook's multi-line addresses): count them from the start.
        // The reader stops between a CR and its LF: the record starts after both.
        let mut offset = usize::try_from(start).unwrap_or(usize::MAX);
        while matches!(text.as_bytes().get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        let seen = text.as_bytes().get(counted..offset).unwrap_or_default();
        lines_before += u64::try_from(memchr::memchr_iter(b'\n', seen).count()).unwrap_or(u64::MAX);
        counted = counted.max(offset);
        let line = lines_before + 1;
        records.push((line, record.iter().map(str::to_owned).collect()));
    }
    let Some((_, first)) = records.first() else { return Err(ImportError::Empty) };
    let named: Vec<Field> = first.iter().map(|c| field_of_column(c)).collect();
    let header = options.header.unwrap_or_else(|| {
        named.iter().any(|f| *f != Field::Ignore)
            || (!first.iter().any(|c| looks_like_address(c))
                && records.get(1).is_some_and(|(_, r)| r.iter().any(|c| looks_like_address(c))))
    });
    let body = if header { records.get(1..).unwrap_or_default() } else { records.as_slice() };
    if body.len() > MAX_ROWS {
        return Err(ImportError::TooManyRows);
    }
    let width = records.iter().map(|(_, r)| r.len()).max().unwrap_or_default();
    let names: Vec<String> = (0..width)
        .map(|i| match (header, first.get(i)) {
            (true, Some(name)) if !name.trim().is_empty() => name.trim().trim_start_matches('\u{feff}').to_owned(),
            _ => format!("Column {}", i + 1),
        })
        .collect();
    let fields: Vec<Field> = match &options.mapping {
        Some(mapping) => {
            if mapping.len() > width {
                return Err(ImportError::BadMapping(format!(
                    "the mapping names {} columns; the file has {width}",
                    mapping.len()
                )));
            }
            (0..width).map(|i| mapping.get(i).copied().unwrap_or(Field::Ignore)).collect()
        }
        None if header => (0..width).map(|i| named.get(i).copied().unwrap_or(Field::Ignore)).collect(),
        None => guess_fields(body, width),
    };
    let columns = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| Column {
            name,
            field: fields.get(i).copied().unwrap_or(Field::Ignore),
            example: body
                .iter()
                .filter_map(|(_, r)| r.get(i))
                .map(|c| c.trim())
                .find(|c| !c.is_empty())
                .map(|c| c.chars().take(60).collect()),
        })
        .collect();
    let rows = body
        .iter()
        .enumerate()
        .map(|(i, (line, cells))| {
            let mut draft = Draft::default();
            for (cell, field) in cells.iter().zip(&fields) {
                draft.take(*field, cell);
            }
            draft.into_row(i + 1, *line)
        })
        .collect();
    Ok(Parsed { format: Format::Csv, encoding: "utf-8", header, columns, rows })
}

/// The fields of a file without a header: the columns of addresses are
/// `Email`, the first other column with text is `Name`.
fn guess_fields(body: &[(u64, Vec<String>)], width: usize) -> Vec<Field> {
    let sample = body.get(..body.len().min(50)).unwrap_or_default();
    let mut fields = vec![Field::Ignore; width];
    let mut named = false;
    for (i, field) in fields.iter_mut().enumerate() {
        let cells: Vec<&str> =
            sample.iter().filter_map(|(_, r)| r.get(i)).map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
        if cells.is_empty() {
            continue;
        }
        let addresses = cells.iter().filter(|c| looks_like_address(c)).count();
        if addresses * 2 > cells.len() {
            *field = Field::Email;
        } else if !named {
            *field = Field::Name;
            named = true;
        }
    }
    fields
}

/// A contact as read, before its checks.
#[derive(Default)]
struct Draft {
    name: String,
    first: Vec<String>,
    emails: Vec<String>,
    company: Option<String>,
    title: Option<String>,
    phone: Option<String>,
    refusal: Option<Refusal>,
}

impl Draft {
    fn take(&mut self, field: Field, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        let keep = |slot: &mut Option<String>| {
            if slot.is_none() {
                *slot = Some(value.to_owned());
            }
        };
        match field {
            Field::Ignore => {}
            Field::Name => {
                if self.name.is_empty() {
                    self.name = value.to_owned();
                }
            }
            Field::FirstName | Field::MiddleName | Field::LastName => self.first.push(value.to_owned()),
            Field::Email => {
                for part in value.split(":::") {
                    let part = part.trim();
                    if !part.is_empty() {
                        self.emails.push(part.to_owned());
                    }
                }
            }
            Field::Company => keep(&mut self.company),
            Field::Title => keep(&mut self.title),
            Field::Phone => keep(&mut self.phone),
        }
    }

    fn into_row(self, row: usize, line: u64) -> Row {
        let name = if self.name.is_empty() { self.first.join(" ") } else { self.name };
        let read = Contact {
            name: name.clone(),
            emails: self.emails.clone(),
            company: self.company.clone(),
            title: self.title.clone(),
            phone: self.phone.clone(),
        };
        let outcome = match self.refusal {
            Some(r) => Err(r),
            None => check(name, &self.emails, self.company, self.title, self.phone),
        };
        Row { row, line, read, outcome }
    }
}

fn refused(code: RefusalCode, message: String) -> Refusal {
    Refusal { code, message }
}

/// An e-mail address as stored: `mailto:` dropped, lower-case; `None` when
/// it is not one (no single `@` with text on both sides, spaces, control
/// characters, angle brackets, too long).
pub fn normalize_address(raw: &str) -> Option<String> {
    let t = raw.trim();
    let t = match t.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => t.get(7..).unwrap_or_default(),
        _ => t,
    };
    let address = t.to_lowercase();
    let (local, domain) = address.split_once('@')?;
    let bad =
        |c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '@' | '"' | '(' | ')');
    if local.is_empty()
        || domain.is_empty()
        || address.len() > MAX_EMAIL_BYTES
        || local.chars().any(bad)
        || domain.chars().any(bad)
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return None;
    }
    Some(address)
}

fn text_problem(field: &str, value: &str) -> Option<Refusal> {
    if let Some(c) = value.chars().find(|c| c.is_control() || *c == '\u{2028}' || *c == '\u{2029}') {
        return Some(refused(
            RefusalCode::ControlCharacter,
            format!("the {field} holds a control character (U+{:04X})", u32::from(c)),
        ));
    }
    let n = value.chars().count();
    if n > MAX_TEXT_CHARS {
        return Some(refused(
            RefusalCode::TooLong,
            format!("the {field} has {n} characters; {MAX_TEXT_CHARS} at most"),
        ));
    }
    None
}

fn shown(value: &str) -> String {
    let short: String = value.chars().take(80).collect();
    short.escape_debug().to_string()
}

/// The checks of one contact: addresses valid and not repeated, at least
/// one, texts without control characters and not too long; a missing name
/// is the first address.
pub fn check(
    name: String,
    emails: &[String],
    company: Option<String>,
    title: Option<String>,
    phone: Option<String>,
) -> Result<Contact, Refusal> {
    let mut addresses: Vec<String> = Vec::new();
    for raw in emails {
        match normalize_address(raw) {
            Some(a) => {
                if !addresses.contains(&a) {
                    addresses.push(a);
                }
            }
            None => {
                return Err(refused(RefusalCode::InvalidEmail, format!("`{}` is not an e-mail address", shown(raw))));
            }
        }
    }
    if addresses.is_empty() {
        return Err(refused(RefusalCode::NoEmail, "the row has no e-mail address".to_owned()));
    }
    if addresses.len() > MAX_EMAILS {
        return Err(refused(
            RefusalCode::TooManyEmails,
            format!("the row has {} e-mail addresses; {MAX_EMAILS} at most", addresses.len()),
        ));
    }
    let name = match name.trim() {
        "" => addresses.first().cloned().unwrap_or_default(),
        n => n.to_owned(),
    };
    let tidy = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (company, title, phone) = (tidy(company), tidy(title), tidy(phone));
    for (field, value) in
        [("name", Some(&name)), ("company", company.as_ref()), ("title", title.as_ref()), ("phone", phone.as_ref())]
    {
        if let Some(problem) = value.and_then(|v| text_problem(field, v)) {
            return Err(problem);
        }
    }
    Ok(Contact { name, emails: addresses, company, title, phone })
}

/// Refuses a row whose address is on an earlier (imported) row.
fn refuse_repeats(rows: &mut [Row]) {
    let mut seen: HashMap<String, u64> = HashMap::new();
    for row in rows.iter_mut() {
        let Ok(contact) = &row.outcome else { continue };
        if let Some((address, line)) = contact.emails.iter().find_map(|a| seen.get(a).map(|l| (a.clone(), *l))) {
            row.outcome =
                Err(refused(RefusalCode::DuplicateInFile, format!("`{address}` is also on line {line} of the file")));
            continue;
        }
        for a in &contact.emails {
            seen.insert(a.clone(), row.line);
        }
    }
}

/// The line (from 1) of every `BEGIN:VCARD`, in order.
fn card_lines(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.get(..11).is_some_and(|s| s.eq_ignore_ascii_case("BEGIN:VCARD")) {
            out.push(u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1));
        }
    }
    out
}

fn read_vcards(text: &str) -> Result<Parsed, ImportError> {
    use calcard::{Entry, Parser};
    let begins = card_lines(text);
    if begins.len() > MAX_ROWS {
        return Err(ImportError::TooManyRows);
    }
    let mut parser = Parser::new(text);
    let mut rows: Vec<Row> = Vec::new();
    let mut cards = 0usize;
    // Each entry consumes input; the bound is a second guard.
    for _ in 0..(MAX_ROWS.saturating_mul(4)) {
        let line = begins.get(cards).copied().unwrap_or_default();
        match parser.entry() {
            Entry::Eof => break,
            Entry::VCard(card) => {
                cards += 1;
                let draft = draft_of_card(&card);
                rows.push(draft.into_row(rows.len() + 1, line));
            }
            Entry::InvalidLine(text) => {
                if text.trim().is_empty() {
                    continue;
                }
                let read = Contact::default();
                let why = refused(
                    RefusalCode::UnreadableCard,
                    format!("`{}` is not part of a vCard (BEGIN:VCARD ... END:VCARD)", shown(&text)),
                );
                rows.push(Row { row: rows.len() + 1, line: 0, read, outcome: Err(why) });
            }
            Entry::UnterminatedComponent(_) | Entry::UnexpectedComponentEnd { .. } => {
                cards += 1;
                let why = refused(RefusalCode::UnreadableCard, "the vCard has no END:VCARD".to_owned());
                rows.push(Row { row: rows.len() + 1, line, read: Contact::default(), outcome: Err(why) });
            }
            Entry::ICalendar(_) => {
                let why = refused(RefusalCode::UnreadableCard, "an iCalendar object is not a contact".to_owned());
                rows.push(Row { row: rows.len() + 1, line, read: Contact::default(), outcome: Err(why) });
            }
            Entry::TooManyComponents => return Err(ImportError::TooManyRows),
            _ => {
                let why =
                    refused(RefusalCode::UnreadableCard, "the file holds something that is not a vCard".to_owned());
                rows.push(Row { row: rows.len() + 1, line, read: Contact::default(), outcome: Err(why) });
            }
        }
        if rows.len() > MAX_ROWS {
            return Err(ImportError::TooManyRows);
        }
    }
    if rows.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(Parsed { format: Format::Vcard, encoding: "utf-8", header: false, columns: Vec::new(), rows })
}

/// The text of a value (`Text`, or the components of a structured one).
fn value_text(values: &[calcard::vcard::VCardValue]) -> Vec<String> {
    use calcard::vcard::VCardValue;
    let mut out = Vec::new();
    for v in values {
        match v {
            VCardValue::Text(t) => out.push(t.clone()),
            VCardValue::Component(parts) => out.push(parts.join(" ")),
            _ => {}
        }
    }
    out
}

fn first_text(values: &[calcard::vcard::VCardValue]) -> Option<String> {
    value_text(values).into_iter().map(|t| t.trim().to_owned()).find(|t| !t.is_empty())
}

fn draft_of_card(card: &calcard::vcard::VCard) -> Draft {
    use calcard::vcard::VCardProperty as P;
    let mut draft = Draft::default();
    let mut structured: Option<String> = None;
    for entry in &card.entries {
        match &entry.name {
            P::Fn => {
                if let Some(t) = first_text(&entry.values) {
                    draft.take(Field::Name, &t);
                }
            }
            P::N => {
                // N: family; given; additional; prefix; suffix.
                let parts = value_text(&entry.values);
                let pick = |i: usize| parts.get(i).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
                let name: Vec<String> = [pick(1), pick(2), pick(0)].into_iter().flatten().collect();
                if structured.is_none() && !name.is_empty() {
                    structured = Some(name.join(" "));
                }
            }
            P::Email => {
                for t in value_text(&entry.values) {
                    draft.take(Field::Email, &t);
                }
            }
            P::Org => {
                if let Some(t) = value_text(&entry.values).into_iter().next() {
                    draft.take(Field::Company, &t);
                }
            }
            P::Title => {
                if let Some(t) = first_text(&entry.values) {
                    draft.take(Field::Title, &t);
                }
            }
            P::Tel => {
                if let Some(t) = first_text(&entry.values) {
                    let t = t.strip_prefix("tel:").unwrap_or(&t).to_owned();
                    draft.take(Field::Phone, &t);
                }
            }
            _ => {}
        }
    }
    if draft.name.is_empty()
        && let Some(n) = structured
    {
        draft.name = n;
    }
    draft
}
