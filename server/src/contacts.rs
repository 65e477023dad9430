//! Contacts and companies: adding and editing persons (several e-mail
//! addresses each, every one of which identifies them when an invitation
//! arrives, see `inbox::contacts_of`) and companies, and importing contact
//! files ([`invitelink::contacts_import`] reads them) with a preview, duplicates
//! found by e-mail address, and a report of the rows refused.
//!
//! Who may do what (docs/contacts-import.md): the directory is the whole
//! company's, so every signed-in user reads it, adds persons and companies
//! and edits them; deleting one, and importing (which writes thousands of
//! rows and may overwrite what colleagues entered), are an administrator's.
//!
//! Architecture Invariant: an import writes in one transaction: every row
//! accepted, or nothing.

use super::AppState;
use super::auth::CurrentUser;
use super::directory::{Company, Person, exists, find_person};
use super::error::{ApiError, ApiResult, Json};
use super::store::{self, new_id};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use invitelink::contacts_import::{
    self as reader, Column, Contact, Field, Format, ImportError, Parsed, Refusal, RefusalCode,
};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The largest body of the import endpoints: a file of
/// [`reader::MAX_FILE_BYTES`] in base64, and the options.
pub const IMPORT_BODY_BYTES: usize = reader::MAX_FILE_BYTES / 3 * 4 + 64 * 1024;

/// A person as the forms send it (create and replace).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonChange {
    /// Full name.
    pub name: String,
    /// E-mail addresses (at least one, at most 20); each identifies the person.
    pub emails: Vec<String>,
    /// Job title.
    #[serde(default)]
    pub title: Option<String>,
    /// The person's company.
    #[serde(default)]
    pub company_id: Option<String>,
    /// Telephone number.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A person's values once checked.
#[derive(Debug)]
pub struct CheckedPerson {
    /// Name, trimmed.
    pub name: String,
    /// Addresses, lower-case, without repeats.
    pub emails: Vec<String>,
    /// Title, when not blank.
    pub title: Option<String>,
    /// Phone, when not blank.
    pub phone: Option<String>,
}

/// The checks of a person's values: 400 `control_character` for a control
/// character, 422 `invalid_input` for anything else.
pub fn check_person(
    name: &str,
    emails: &[String],
    title: Option<&str>,
    phone: Option<&str>,
) -> ApiResult<CheckedPerson> {
    super::input::text("name", name)?;
    for (field, value) in [("title", title), ("phone", phone)] {
        if let Some(v) = value {
            super::input::text(field, v)?;
        }
    }
    for e in emails {
        super::input::address("emails", e)?;
    }
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > reader::MAX_TEXT_CHARS {
        return Err(ApiError::invalid("`name` must have 1 to 200 characters"));
    }
    let mut out: Vec<String> = Vec::new();
    for e in emails {
        if e.trim().is_empty() {
            continue;
        }
        let Some(address) = reader::normalize_address(e) else {
            return Err(ApiError::invalid(format!("`{e}` is not an e-mail address")));
        };
        if !out.contains(&address) {
            out.push(address);
        }
    }
    if out.is_empty() {
        return Err(ApiError::invalid("give at least one e-mail address"));
    }
    if out.len() > reader::MAX_EMAILS {
        return Err(ApiError::invalid(format!("a person has {} e-mail addresses at most", reader::MAX_EMAILS)));
    }
    let tidy = |field: &str, v: Option<&str>| -> ApiResult<Option<String>> {
        let v = v.map(str::trim).filter(|s| !s.is_empty());
        if v.is_some_and(|s| s.chars().count() > reader::MAX_TEXT_CHARS) {
            return Err(ApiError::invalid(format!("`{field}` has 200 characters at most")));
        }
        Ok(v.map(str::to_owned))
    };
    Ok(CheckedPerson { name, emails: out, title: tidy("title", title)?, phone: tidy("phone", phone)? })
}

/// 409 when one of `emails` belongs to a person other than `except`.
pub async fn check_addresses_free(conn: &mut AnyConnection, emails: &[String], except: Option<&str>) -> ApiResult<()> {
    for address in emails {
        for owner in store::contacts::owners_of(conn, address).await? {
            if Some(owner.as_str()) != except {
                return Err(ApiError::conflict(format!("`{address}` is already registered")));
            }
        }
    }
    Ok(())
}

/// Replaces a person: name, addresses, title, company and phone.
#[utoipa::path(put, path = "/api/persons/{id}", tag = "directory", params(("id" = String, Path)),
    request_body = PersonChange, security(("bearer" = [])),
    responses((status = 200, body = Person), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn update_person(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<PersonChange>,
) -> ApiResult<Json<Person>> {
    let checked = check_person(&req.name, &req.emails, req.title.as_deref(), req.phone.as_deref())?;
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    if !exists(conn, "persons", &id).await? {
        return Err(ApiError::not_found("person", &id));
    }
    if let Some(cid) = &req.company_id
        && !exists(conn, "companies", cid).await?
    {
        return Err(ApiError::invalid(format!("`company_id`: no company with id `{cid}`")));
    }
    check_addresses_free(conn, &checked.emails, Some(&id)).await?;
    let (title, phone) = (checked.title.as_deref(), checked.phone.as_deref());
    store::contacts::update_person(conn, &id, &checked.name, (title, req.company_id.as_deref(), phone), false).await?;
    store::contacts::replace_addresses(conn, &id, &checked.emails).await?;
    let person = find_person(conn, &id).await?.ok_or_else(|| ApiError::internal("the person is gone"))?;
    tx.commit().await?;
    Ok(Json(person))
}

/// Deletes a person who takes part in nothing (administrators only): one
/// linked to follow-ups or archived e-mails is kept (409), their history
/// would lose its name.
#[utoipa::path(delete, path = "/api/persons/{id}", tag = "directory", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody)))]
pub async fn delete_person(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require_admin()?;
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    if !exists(conn, "persons", &id).await? {
        return Err(ApiError::not_found("person", &id));
    }
    if store::contacts::person_links(conn, &id).await? > 0 {
        return Err(ApiError::conflict("the person is linked to follow-ups or archived e-mails; edit them instead"));
    }
    store::contacts::delete_person(conn, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A company as the forms send it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CompanyChange {
    /// Name (unique, whatever the case).
    pub name: String,
    /// E-mail domain (`acme.example`), when known.
    #[serde(default)]
    pub domain: Option<String>,
}

fn check_company(req: &CompanyChange) -> ApiResult<(String, Option<String>)> {
    super::input::text("name", &req.name)?;
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > reader::MAX_TEXT_CHARS {
        return Err(ApiError::invalid("`name` must have 1 to 200 characters"));
    }
    let domain = match req.domain.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => {
            let d = d.trim_start_matches('@').to_lowercase();
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            };
            if d.len() > 253 || !d.contains('.') || !d.split('.').all(label_ok) {
                return Err(ApiError::invalid(format!("`domain`: `{}` is not a domain name", d.escape_debug())));
            }
            Some(d)
        }
    };
    Ok((name, domain))
}

/// One company.
#[utoipa::path(get, path = "/api/companies/{id}", tag = "directory", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Company), (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn company(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Company>> {
    let mut conn = state.store.read().await?;
    store::contacts::find_company(&mut conn, &id).await?.map(Json).ok_or_else(|| ApiError::not_found("company", &id))
}

/// Registers a company. Its name is unique, whatever the case (409).
#[utoipa::path(post, path = "/api/companies", tag = "directory", request_body = CompanyChange, security(("bearer" = [])),
    responses((status = 201, body = Company), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn create_company(
    State(state): State<AppState>,
    _user: CurrentUser,
    Json(req): Json<CompanyChange>,
) -> ApiResult<(StatusCode, Json<Company>)> {
    let (name, domain) = check_company(&req)?;
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    if store::contacts::company_named(conn, &name).await?.is_some() {
        return Err(ApiError::conflict(format!("a company named `{name}` exists")));
    }
    let id = new_id();
    store::contacts::insert_company(conn, &id, &name, domain.as_deref()).await?;
    let company =
        store::contacts::find_company(conn, &id).await?.ok_or_else(|| ApiError::internal("the new company is gone"))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(company)))
}

/// Renames a company or changes its domain. Our own company is the
/// administrators' (403 for others).
#[utoipa::path(put, path = "/api/companies/{id}", tag = "directory", params(("id" = String, Path)),
    request_body = CompanyChange, security(("bearer" = [])),
    responses((status = 200, body = Company), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn update_company(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<CompanyChange>,
) -> ApiResult<Json<Company>> {
    let (name, domain) = check_company(&req)?;
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let existing =
        store::contacts::find_company(conn, &id).await?.ok_or_else(|| ApiError::not_found("company", &id))?;
    if existing.ours {
        user.require_admin()?;
    }
    if store::contacts::company_named(conn, &name).await?.is_some_and(|other| other != id) {
        return Err(ApiError::conflict(format!("a company named `{name}` exists")));
    }
    store::contacts::update_company(conn, &id, &name, domain.as_deref()).await?;
    let company =
        store::contacts::find_company(conn, &id).await?.ok_or_else(|| ApiError::internal("the company is gone"))?;
    tx.commit().await?;
    Ok(Json(company))
}

/// Deletes a company nothing points at (administrators only): one with
/// persons, projects, sales, follow-ups or archived e-mails is kept (409);
/// our own company is never deleted.
#[utoipa::path(delete, path = "/api/companies/{id}", tag = "directory", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody)))]
pub async fn delete_company(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require_admin()?;
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let existing =
        store::contacts::find_company(conn, &id).await?.ok_or_else(|| ApiError::not_found("company", &id))?;
    if existing.ours {
        return Err(ApiError::conflict("our own company is not deleted"));
    }
    if store::contacts::company_links(conn, &id).await? > 0 {
        return Err(ApiError::conflict("the company has persons, projects, sales or follow-ups; edit it instead"));
    }
    store::contacts::delete_company(conn, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- import

/// What to do with a row whose address belongs to a known person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateChoice {
    /// Leave the known person as they are.
    #[default]
    Skip,
    /// Give the known person the row's name, its title, company and phone
    /// when it has them, and its other addresses.
    Update,
    /// Register a second person with the same address; the address then
    /// identifies neither of them in invitations (it is ambiguous).
    Create,
}

/// The choice for one row, overriding `on_duplicate`.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
pub struct RowChoice {
    /// The row (`row` of the preview).
    pub row: usize,
    /// The choice.
    pub choice: DuplicateChoice,
}

/// A contact file to preview or import.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportRequest {
    /// The file, base64 (standard alphabet), at most 8 MiB once decoded.
    pub content: String,
    /// `csv` or `vcard`; found from the content when absent.
    #[serde(default)]
    pub format: Option<Format>,
    /// CSV: whether the first line names the columns; found when absent.
    #[serde(default)]
    pub header: Option<bool>,
    /// CSV: the field of each column; found when absent.
    #[serde(default)]
    pub mapping: Option<Vec<Field>>,
    /// Import: what to do with duplicates (default `skip`).
    #[serde(default)]
    pub on_duplicate: DuplicateChoice,
    /// Import: choices for single rows.
    #[serde(default)]
    pub choices: Vec<RowChoice>,
}

/// What the import does with a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// A new person.
    New,
    /// An address belongs to a known person.
    Duplicate,
    /// Not imported (see `refusal`).
    Refused,
}

/// The known person a duplicate row matches.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct KnownPerson {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// One row of a preview or report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ImportRow {
    /// Its position among the file's contacts, from 1.
    pub row: usize,
    /// The line of the file where it starts (0: not known).
    pub line: u64,
    /// What the import does with it.
    pub status: RowStatus,
    /// The contact (as read, for a refused row).
    pub contact: Contact,
    /// For a duplicate: the known person.
    pub existing: Option<KnownPerson>,
    /// For a refused row: why.
    pub refusal: Option<Refusal>,
}

/// The most rows listed in an answer (the counts cover every row).
pub const MAX_LISTED: usize = 2000;

/// What an import would do; nothing is written.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportPreview {
    /// The format read.
    pub format: Format,
    /// Its character set (`utf-8`, `utf-16`, `windows-1252`).
    pub encoding: String,
    /// CSV: whether the first line named the columns.
    pub header: bool,
    /// CSV: the columns and what each is imported as.
    pub columns: Vec<Column>,
    /// Contacts in the file.
    pub total: usize,
    /// Rows that would be new persons.
    pub new: usize,
    /// Rows whose address belongs to a known person.
    pub duplicates: usize,
    /// Rows refused.
    pub refused: usize,
    /// The refused rows and duplicates first, then new ones, in file
    /// order within each, at most [`MAX_LISTED`].
    pub rows: Vec<ImportRow>,
    /// Whether `rows` leaves some out.
    pub truncated: bool,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// Contacts in the file.
    pub total: usize,
    /// Persons registered.
    pub created: usize,
    /// Known persons updated.
    pub updated: usize,
    /// Duplicates left as they were.
    pub skipped: usize,
    /// Rows refused.
    pub refused: usize,
    /// Companies registered for the rows' company names.
    pub companies_created: usize,
    /// The refused rows and why, at most [`MAX_LISTED`].
    pub refusals: Vec<ImportRow>,
}

fn import_error(e: ImportError) -> ApiError {
    match e {
        ImportError::TooLarge(_) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.code(), e.to_string()),
        _ => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()),
    }
}

/// Reads the file of `req`.
pub fn read_request(req: &ImportRequest) -> ApiResult<Parsed> {
    let content: String = req.content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = invitelink::base64::decode(&content)
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "bad_base64", "`content` is not base64"))?;
    let options = reader::Options { format: req.format, header: req.header, mapping: req.mapping.clone() };
    reader::parse(&bytes, &options).map_err(import_error)
}

/// The directory as the import needs it: who has which address, persons'
/// names, companies by lower-case name.
struct Known {
    owners: HashMap<String, Vec<String>>,
    /// How many addresses each person has (the next address's position).
    counts: HashMap<String, i64>,
    names: HashMap<String, String>,
    companies: HashMap<String, String>,
}

impl Known {
    async fn load(conn: &mut AnyConnection) -> ApiResult<Known> {
        let mut owners: HashMap<String, Vec<String>> = HashMap::new();
        let mut counts: HashMap<String, i64> = HashMap::new();
        for (address, person) in store::contacts::all_addresses(conn).await? {
            *counts.entry(person.clone()).or_default() += 1;
            owners.entry(address).or_default().push(person);
        }
        let names: HashMap<String, String> = store::contacts::all_persons(conn).await?.into_iter().collect();
        let mut companies = HashMap::new();
        for (id, name) in store::contacts::all_companies(conn).await? {
            companies.entry(name.to_lowercase()).or_insert(id);
        }
        Ok(Known { owners, counts, names, companies })
    }

    /// The known persons with any of `contact`'s addresses.
    fn matches(&self, contact: &Contact) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for a in &contact.emails {
            for id in self.owners.get(a).into_iter().flatten() {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
        ids
    }
}

/// A row as the import sees it.
enum Plan {
    New(Contact),
    Duplicate(Contact, String),
    Refused(Contact, Refusal),
}

fn plan(known: &Known, row: &reader::Row) -> Plan {
    match &row.outcome {
        Err(refusal) => Plan::Refused(row.read.clone(), refusal.clone()),
        Ok(contact) => {
            let ids = known.matches(contact);
            match ids.as_slice() {
                [] => Plan::New(contact.clone()),
                [id] => Plan::Duplicate(contact.clone(), id.clone()),
                _ => Plan::Refused(
                    contact.clone(),
                    Refusal {
                        code: RefusalCode::Ambiguous,
                        message: format!("the row's addresses belong to {} different persons", ids.len()),
                    },
                ),
            }
        }
    }
}

fn listed(known: &Known, row: &reader::Row, plan: &Plan) -> ImportRow {
    let (status, contact, existing, refusal) = match plan {
        Plan::New(c) => (RowStatus::New, c.clone(), None, None),
        Plan::Duplicate(c, id) => (
            RowStatus::Duplicate,
            c.clone(),
            Some(KnownPerson { id: id.clone(), name: known.names.get(id).cloned().unwrap_or_default() }),
            None,
        ),
        Plan::Refused(c, r) => (RowStatus::Refused, c.clone(), None, Some(r.clone())),
    };
    ImportRow { row: row.row, line: row.line, status, contact, existing, refusal }
}

/// What importing `parsed` would do against the store as it is.
pub async fn preview(conn: &mut AnyConnection, parsed: &Parsed) -> ApiResult<ImportPreview> {
    let known = Known::load(conn).await?;
    let (mut new, mut duplicates, mut refused) = (0, 0, 0);
    let mut attention = Vec::new();
    let mut fresh = Vec::new();
    for row in &parsed.rows {
        let p = plan(&known, row);
        match &p {
            Plan::New(_) => {
                new += 1;
                if fresh.len() < MAX_LISTED {
                    fresh.push(listed(&known, row, &p));
                }
            }
            Plan::Duplicate(..) | Plan::Refused(..) => {
                if matches!(p, Plan::Duplicate(..)) {
                    duplicates += 1;
                } else {
                    refused += 1;
                }
                if attention.len() < MAX_LISTED {
                    attention.push(listed(&known, row, &p));
                }
            }
        }
    }
    let mut rows = attention;
    let room = MAX_LISTED.saturating_sub(rows.len());
    rows.extend(fresh.into_iter().take(room));
    let truncated = rows.len() < parsed.rows.len();
    Ok(ImportPreview {
        format: parsed.format,
        encoding: parsed.encoding.to_owned(),
        header: parsed.header,
        columns: parsed.columns.clone(),
        total: parsed.rows.len(),
        new,
        duplicates,
        refused,
        rows,
        truncated,
    })
}

async fn company_for(
    conn: &mut AnyConnection,
    known: &mut Known,
    name: Option<&str>,
    created: &mut usize,
) -> ApiResult<Option<String>> {
    let Some(name) = name else { return Ok(None) };
    let key = name.to_lowercase();
    if let Some(id) = known.companies.get(&key) {
        return Ok(Some(id.clone()));
    }
    let id = new_id();
    store::contacts::insert_company(conn, &id, name, None).await?;
    known.companies.insert(key, id.clone());
    *created += 1;
    Ok(Some(id))
}

async fn add_address(conn: &mut AnyConnection, known: &mut Known, person: &str, address: &str) -> ApiResult<()> {
    let owners = known.owners.entry(address.to_owned()).or_default();
    if owners.iter().any(|o| o == person) {
        return Ok(());
    }
    owners.push(person.to_owned());
    let count = known.counts.entry(person.to_owned()).or_default();
    let position = *count;
    *count += 1;
    Ok(store::contacts::insert_addresses(conn, person, &[address.to_owned()], position).await?)
}

/// Imports `parsed` on `conn` (the caller's write transaction): new rows
/// become persons, duplicates are skipped, updated or created as `choice`
/// says for their row, refused rows are reported.
pub async fn import(
    conn: &mut AnyConnection,
    parsed: &Parsed,
    choice: &(dyn Fn(usize) -> DuplicateChoice + Sync),
) -> ApiResult<ImportReport> {
    let mut known = Known::load(conn).await?;
    let mut report = ImportReport {
        total: parsed.rows.len(),
        created: 0,
        updated: 0,
        skipped: 0,
        refused: 0,
        companies_created: 0,
        refusals: Vec::new(),
    };
    for row in &parsed.rows {
        let p = plan(&known, row);
        let (contact, existing) = match &p {
            Plan::Refused(..) => {
                report.refused += 1;
                if report.refusals.len() < MAX_LISTED {
                    report.refusals.push(listed(&known, row, &p));
                }
                continue;
            }
            Plan::New(c) => (c, None),
            Plan::Duplicate(c, id) => match choice(row.row) {
                DuplicateChoice::Skip => {
                    report.skipped += 1;
                    continue;
                }
                DuplicateChoice::Create => (c, None),
                DuplicateChoice::Update => (c, Some(id.clone())),
            },
        };
        let company = company_for(conn, &mut known, contact.company.as_deref(), &mut report.companies_created).await?;
        let id = match existing {
            Some(id) => {
                let (title, phone) = (contact.title.as_deref(), contact.phone.as_deref());
                let fields = (title, company.as_deref(), phone);
                store::contacts::update_person(conn, &id, &contact.name, fields, true).await?;
                report.updated += 1;
                id
            }
            None => {
                let id = new_id();
                let (title, phone) = (contact.title.as_deref(), contact.phone.as_deref());
                store::directory::insert_person(conn, &id, company.as_deref(), &contact.name, title, phone).await?;
                report.created += 1;
                id
            }
        };
        known.names.insert(id.clone(), contact.name.clone());
        for address in &contact.emails {
            add_address(conn, &mut known, &id, address).await?;
        }
    }
    Ok(report)
}

/// What importing a contact file would do: the columns and their mapping,
/// the duplicates (by e-mail address) and the rows refused and why. Nothing
/// is written. Administrators only.
#[utoipa::path(post, path = "/api/contacts/import/preview", tag = "directory", request_body = ImportRequest,
    security(("bearer" = [])),
    responses((status = 200, body = ImportPreview), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 413, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn import_preview(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<ImportRequest>,
) -> ApiResult<Json<ImportPreview>> {
    user.require_admin()?;
    let parsed = read_request(&req)?;
    let mut conn = state.store.read().await?;
    Ok(Json(preview(&mut conn, &parsed).await?))
}

/// Imports a contact file in one transaction: every accepted row is
/// written, or none. Duplicates follow `on_duplicate` and `choices`.
/// Administrators only.
#[utoipa::path(post, path = "/api/contacts/import", tag = "directory", request_body = ImportRequest,
    security(("bearer" = [])),
    responses((status = 200, body = ImportReport), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 413, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn import_commit(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<ImportRequest>,
) -> ApiResult<Json<ImportReport>> {
    user.require_admin()?;
    let parsed = read_request(&req)?;
    let choices: HashMap<usize, DuplicateChoice> = req.choices.iter().map(|c| (c.row, c.choice)).collect();
    let default = req.on_duplicate;
    let choice = |row: usize| choices.get(&row).copied().unwrap_or(default);
    let mut tx = state.store.write().await?;
    let report = import(tx.conn(), &parsed, &choice).await?;
    tx.commit().await?;
    Ok(Json(report))
}
