//! The CRM's directory as stored: associates, companies, persons with their
//! addresses, resources, projects and sales; searches and lookups.

use super::{StoreResult, flag, fmt_instant, opt_text, set_column, text};
use crate::admin::ResourceAccount;
use crate::directory::{Associate, Company, Deal, Person, Resource};
use chrono::{DateTime, Utc};
use invitelink::policy::{self, RecordId};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

/// The most rows one search returns.
pub const MAX_LIST: i64 = 500;

/// `q` as a case-insensitive LIKE pattern for "contains".
fn pattern(q: Option<&str>) -> String {
    let q = q.unwrap_or_default().trim().to_lowercase();
    // Without LIKE's wildcards, nor `\`, the escape character of PostgreSQL's LIKE.
    let escaped: String = q.chars().filter(|c| !matches!(c, '%' | '_' | '\\')).collect();
    format!("%{escaped}%")
}

/// The rows of `sql` (a search, never from input: `$1` the pattern, `$2`
/// the limit) for the words `q`.
async fn search(conn: &mut AnyConnection, sql: &str, q: Option<&str>) -> StoreResult<Vec<AnyRow>> {
    Ok(sqlx::query(sql).bind(pattern(q)).bind(MAX_LIST).fetch_all(&mut *conn).await?)
}

/// An associate from a row with `id`, `name`, `email` and `role`.
pub(super) fn associate_from_row(row: &AnyRow) -> StoreResult<Associate> {
    Ok(Associate {
        id: text(row, "id")?,
        name: text(row, "name")?,
        email: text(row, "email")?,
        role: text(row, "role")?,
    })
}

/// Active associates whose name or e-mail address contains `q`.
pub async fn search_associates(conn: &mut AnyConnection, q: Option<&str>) -> StoreResult<Vec<Associate>> {
    let rows = search(
        conn,
        "SELECT id, name, email, role FROM associates WHERE (LOWER(name) LIKE $1 OR email LIKE $1) \
         AND disabled_at IS NULL ORDER BY name LIMIT $2",
        q,
    )
    .await?;
    rows.iter().map(associate_from_row).collect()
}

/// Companies whose name or domain contains `q`.
pub async fn search_companies(conn: &mut AnyConnection, q: Option<&str>) -> StoreResult<Vec<Company>> {
    let rows = search(
        conn,
        "SELECT id, name, domain, ours FROM companies WHERE LOWER(name) LIKE $1 OR LOWER(COALESCE(domain, '')) LIKE $1 \
         ORDER BY name LIMIT $2",
        q,
    )
    .await?;
    rows.iter().map(company_from_row).collect()
}

/// A company from a row with `id`, `name`, `domain` and `ours`.
pub(super) fn company_from_row(row: &AnyRow) -> StoreResult<Company> {
    Ok(Company {
        id: text(row, "id")?,
        name: text(row, "name")?,
        domain: opt_text(row, "domain")?,
        ours: flag(row, "ours")?,
    })
}

/// The e-mail addresses of a person, the one to write to first.
pub async fn person_emails(conn: &mut AnyConnection, person_id: &str) -> StoreResult<Vec<String>> {
    let rows = sqlx::query("SELECT email FROM person_emails WHERE person_id = $1 ORDER BY position, email")
        .bind(person_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| text(r, "email")).collect()
}

const PERSON_SELECT: &str = "SELECT p.id, p.name, p.title, p.phone, p.company_id, c.name AS company_name \
     FROM persons p LEFT JOIN companies c ON c.id = p.company_id";

async fn person_from_row(conn: &mut AnyConnection, row: &AnyRow) -> StoreResult<Person> {
    let id = text(row, "id")?;
    let emails = person_emails(conn, &id).await?;
    Ok(Person {
        id,
        name: text(row, "name")?,
        title: opt_text(row, "title")?,
        company_id: opt_text(row, "company_id")?,
        company_name: opt_text(row, "company_name")?,
        emails,
        phone: opt_text(row, "phone")?,
    })
}

/// One person, or `None`.
pub async fn find_person(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<Person>> {
    let row = sqlx::query(&format!("{PERSON_SELECT} WHERE p.id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    match row {
        Some(row) => Ok(Some(person_from_row(conn, &row).await?)),
        None => Ok(None),
    }
}

/// Persons whose name, company or e-mail address contains `q`.
pub async fn search_persons(conn: &mut AnyConnection, q: Option<&str>) -> StoreResult<Vec<Person>> {
    let sql = format!(
        "{PERSON_SELECT} WHERE LOWER(p.name) LIKE $1 OR LOWER(COALESCE(c.name, '')) LIKE $1 \
         OR p.id IN (SELECT person_id FROM person_emails WHERE email LIKE $1) ORDER BY p.name LIMIT $2"
    );
    let rows = search(conn, &sql, q).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(person_from_row(conn, row).await?);
    }
    Ok(out)
}

/// Resources in use whose name contains `q`.
pub async fn search_resources(conn: &mut AnyConnection, q: Option<&str>) -> StoreResult<Vec<Resource>> {
    let rows = search(
        conn,
        "SELECT id, name, kind FROM resources WHERE LOWER(name) LIKE $1 AND retired_at IS NULL ORDER BY name LIMIT $2",
        q,
    )
    .await?;
    rows.iter()
        .map(|row| Ok(Resource { id: text(row, "id")?, name: text(row, "name")?, kind: text(row, "kind")? }))
        .collect()
}

/// The name of the resource `id` when it is in use (not retired).
pub async fn resource_in_use(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<String>> {
    let row = sqlx::query("SELECT name FROM resources WHERE id = $1 AND retired_at IS NULL")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| text(&r, "name")).transpose()
}

/// The deals of `table` (`projects` or `sales`, never from input) whose
/// name contains `q`.
pub async fn search_deals(conn: &mut AnyConnection, table: &str, q: Option<&str>) -> StoreResult<Vec<Deal>> {
    let sql =
        format!("SELECT id, name, company_id, status FROM {table} WHERE LOWER(name) LIKE $1 ORDER BY name LIMIT $2");
    let rows = search(conn, &sql, q).await?;
    rows.iter()
        .map(|row| {
            Ok(Deal {
                id: text(row, "id")?,
                name: text(row, "name")?,
                company_id: opt_text(row, "company_id")?,
                status: text(row, "status")?,
            })
        })
        .collect()
}

/// The person (and their company) registered with `email`, when exactly one is.
pub async fn person_by_email(conn: &mut AnyConnection, email: &str) -> StoreResult<Option<Person>> {
    let rows = sqlx::query("SELECT DISTINCT person_id FROM person_emails WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_all(&mut *conn)
        .await?;
    if rows.len() != 1 {
        return Ok(None);
    }
    let Some(row) = rows.first() else { return Ok(None) };
    let id = text(row, "person_id")?;
    find_person(conn, &id).await
}

/// The associate whose address is `email`.
pub async fn associate_by_email(conn: &mut AnyConnection, email: &str) -> StoreResult<Option<Associate>> {
    let row = sqlx::query("SELECT id, name, email, role FROM associates WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(associate_from_row).transpose()
}

/// The associate with `id`.
pub async fn associate_by_id(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<Associate>> {
    let row = sqlx::query("SELECT id, name, email, role FROM associates WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(associate_from_row).transpose()
}

/// Whether a row with `id` exists in `table` (one of the directory tables,
/// never from input).
pub async fn exists(conn: &mut AnyConnection, table: &str, id: &str) -> StoreResult<bool> {
    let sql = format!("SELECT id FROM {table} WHERE id = $1");
    Ok(sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.is_some())
}

/// Stores a new person `id` (without addresses: the contacts' store adds them).
pub async fn insert_person(
    conn: &mut AnyConnection,
    id: &str,
    company_id: Option<&str>,
    name: &str,
    title: Option<&str>,
    phone: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO persons (id, company_id, name, title, phone) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(company_id)
        .bind(name)
        .bind(title)
        .bind(phone)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `$1, $2, ...` for `n` parameters.
fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The registered contacts with any of `addresses` (lower-case), as the
/// engine's context names them.
pub async fn contacts_with(conn: &mut AnyConnection, addresses: &[String]) -> StoreResult<Vec<policy::Contact>> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT e.email, p.id, p.name, c.name AS company_name FROM person_emails e JOIN persons p ON p.id = e.person_id \
         LEFT JOIN companies c ON c.id = p.company_id WHERE e.email IN ({})",
        placeholders(addresses.len())
    );
    let mut query = sqlx::query(&sql);
    for a in addresses {
        query = query.bind(a);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            Ok(policy::Contact {
                email: text(row, "email")?,
                person_id: Some(RecordId::Text(text(row, "id")?)),
                name: Some(text(row, "name")?),
                company: opt_text(row, "company_name")?,
            })
        })
        .collect()
}

/// The associates with any of `addresses` (lower-case), as the engine's
/// context names them.
pub async fn associates_with(conn: &mut AnyConnection, addresses: &[String]) -> StoreResult<Vec<policy::Associate>> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT id, name, email FROM associates WHERE email IN ({})", placeholders(addresses.len()));
    let mut query = sqlx::query(&sql);
    for a in addresses {
        query = query.bind(a);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            Ok(policy::Associate {
                email: text(row, "email")?,
                associate_id: Some(RecordId::Text(text(row, "id")?)),
                name: Some(text(row, "name")?),
            })
        })
        .collect()
}

fn resource_account_of(row: &AnyRow) -> StoreResult<ResourceAccount> {
    let retired_at = opt_text(row, "retired_at")?;
    Ok(ResourceAccount {
        id: text(row, "id")?,
        name: text(row, "name")?,
        kind: text(row, "kind")?,
        active: retired_at.is_none(),
        retired_at,
    })
}

/// The resource `id`, retired or not.
pub async fn resource(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<ResourceAccount>> {
    let row = sqlx::query("SELECT id, name, kind, retired_at FROM resources WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(resource_account_of).transpose()
}

/// Every resource, retired ones too, by name.
pub async fn all_resources(conn: &mut AnyConnection) -> StoreResult<Vec<ResourceAccount>> {
    let rows =
        sqlx::query("SELECT id, name, kind, retired_at FROM resources ORDER BY name, id").fetch_all(&mut *conn).await?;
    rows.iter().map(resource_account_of).collect()
}

/// Stores a new resource (`room` or `equipment`).
pub async fn insert_resource(conn: &mut AnyConnection, id: &str, name: &str, kind: &str) -> StoreResult<()> {
    sqlx::query("INSERT INTO resources (id, name, kind) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(name)
        .bind(kind)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Renames the resource `id`.
pub async fn rename_resource(conn: &mut AnyConnection, id: &str, name: &str) -> StoreResult<()> {
    set_column(conn, "resources", "name", id, Some(name)).await
}

/// Retires the resource `id` at `at`; `None` brings it back.
pub async fn retire_resource(conn: &mut AnyConnection, id: &str, at: Option<DateTime<Utc>>) -> StoreResult<()> {
    set_column(conn, "resources", "retired_at", id, at.map(fmt_instant).as_deref()).await
}
