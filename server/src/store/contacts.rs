//! Persons and companies as the contact forms and the import change them:
//! addresses, edits, deletions (when nothing links to them), new companies.

use super::{StoreResult, int, text};
use sqlx::AnyConnection;

/// The persons registered with `address`.
pub async fn owners_of(conn: &mut AnyConnection, address: &str) -> StoreResult<Vec<String>> {
    let rows =
        sqlx::query("SELECT person_id FROM person_emails WHERE email = $1").bind(address).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| text(r, "person_id")).collect()
}

/// Registers `emails` for `person`, in order, the first at `first`.
pub async fn insert_addresses(
    conn: &mut AnyConnection,
    person: &str,
    emails: &[String],
    first: i64,
) -> StoreResult<()> {
    for (position, address) in (first..).zip(emails) {
        sqlx::query("INSERT INTO person_emails (person_id, email, position) VALUES ($1, $2, $3)")
            .bind(person)
            .bind(address)
            .bind(position)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Replaces the addresses of `person` by `emails`, in order.
pub async fn replace_addresses(conn: &mut AnyConnection, person: &str, emails: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM person_emails WHERE person_id = $1").bind(person).execute(&mut *conn).await?;
    insert_addresses(conn, person, emails, 0).await
}

/// Writes the name, title, company and phone of the person `id`. With
/// `keep_missing` (an import), a field given as `None` keeps its value;
/// else it is cleared.
pub async fn update_person(
    conn: &mut AnyConnection,
    id: &str,
    name: &str,
    (title, company_id, phone): (Option<&str>, Option<&str>, Option<&str>),
    keep_missing: bool,
) -> StoreResult<()> {
    let sql = if keep_missing {
        "UPDATE persons SET name = $1, title = COALESCE($2, title), company_id = COALESCE($3, company_id), \
         phone = COALESCE($4, phone) WHERE id = $5"
    } else {
        "UPDATE persons SET name = $1, title = $2, company_id = $3, phone = $4 WHERE id = $5"
    };
    sqlx::query(sql).bind(name).bind(title).bind(company_id).bind(phone).bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// How many rows of `checks` (counting queries over `$1`) point at `id`.
async fn count_links(conn: &mut AnyConnection, checks: &[&str], id: &str) -> StoreResult<i64> {
    let mut total = 0;
    for sql in checks {
        let row = sqlx::query(sql).bind(id).fetch_one(&mut *conn).await?;
        total += int(&row, "n")?;
    }
    Ok(total)
}

/// How many follow-ups, participations and archived items link to the person `id`.
pub async fn person_links(conn: &mut AnyConnection, id: &str) -> StoreResult<i64> {
    count_links(
        conn,
        &[
            "SELECT COUNT(*) AS n FROM appointments WHERE person_id = $1",
            "SELECT COUNT(*) AS n FROM participants WHERE person_id = $1",
            "SELECT COUNT(*) AS n FROM archive_links WHERE link_kind = 'person' AND link_id = $1",
        ],
        id,
    )
    .await
}

/// How many persons, projects, sales, follow-ups and archived items link to
/// the company `id`.
pub async fn company_links(conn: &mut AnyConnection, id: &str) -> StoreResult<i64> {
    count_links(
        conn,
        &[
            "SELECT COUNT(*) AS n FROM persons WHERE company_id = $1",
            "SELECT COUNT(*) AS n FROM projects WHERE company_id = $1",
            "SELECT COUNT(*) AS n FROM sales WHERE company_id = $1",
            "SELECT COUNT(*) AS n FROM appointments WHERE company_id = $1",
            "SELECT COUNT(*) AS n FROM archive_links WHERE link_kind = 'company' AND link_id = $1",
        ],
        id,
    )
    .await
}

/// Deletes the person `id` and their addresses.
pub async fn delete_person(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM person_emails WHERE person_id = $1").bind(id).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM persons WHERE id = $1").bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// The company named `name` (any case).
pub async fn company_named(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<String>> {
    let row = sqlx::query("SELECT id FROM companies WHERE LOWER(name) = $1")
        .bind(name.to_lowercase())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| text(&r, "id")).transpose()
}

/// One company, or `None`.
pub async fn find_company(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<crate::directory::Company>> {
    let row = sqlx::query("SELECT id, name, domain, ours FROM companies WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(super::directory::company_from_row).transpose()
}

/// Stores a new company (not ours).
pub async fn insert_company(conn: &mut AnyConnection, id: &str, name: &str, domain: Option<&str>) -> StoreResult<()> {
    sqlx::query("INSERT INTO companies (id, name, domain, ours) VALUES ($1, $2, $3, 0)")
        .bind(id)
        .bind(name)
        .bind(domain)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Renames the company `id` and sets its domain.
pub async fn update_company(conn: &mut AnyConnection, id: &str, name: &str, domain: Option<&str>) -> StoreResult<()> {
    sqlx::query("UPDATE companies SET name = $1, domain = $2 WHERE id = $3")
        .bind(name)
        .bind(domain)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes the company `id`.
pub async fn delete_company(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM companies WHERE id = $1").bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// Every registered address and its person: (address, person id).
pub async fn all_addresses(conn: &mut AnyConnection) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT email, person_id FROM person_emails").fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((text(r, "email")?, text(r, "person_id")?))).collect()
}

/// Every person: (id, name).
pub async fn all_persons(conn: &mut AnyConnection) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT id, name FROM persons").fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((text(r, "id")?, text(r, "name")?))).collect()
}

/// Every company: (id, name).
pub async fn all_companies(conn: &mut AnyConnection) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT id, name FROM companies").fetch_all(&mut *conn).await?;
    rows.iter().map(|r| Ok((text(r, "id")?, text(r, "name")?))).collect()
}
