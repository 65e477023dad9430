//! The CRM's directory: associates, companies, persons (contacts), resources,
//! projects and sales; listing and search. Every signed-in user may read it.

use super::AppState;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, Json, Query};
use super::store::{StoreResult, flag, opt_text, text};
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::{IntoParams, ToSchema};

/// The most rows one listing returns.
pub const MAX_LIST: i64 = 500;

/// Search parameters of the listings.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Case-insensitive part of a name (or e-mail address).
    pub q: Option<String>,
}

fn pattern(q: &Option<String>) -> String {
    let q = q.as_deref().unwrap_or_default().trim().to_lowercase();
    // Without LIKE's wildcards, nor `\`, the escape character of PostgreSQL's LIKE.
    let escaped: String = q.chars().filter(|c| !matches!(c, '%' | '_' | '\\')).collect();
    format!("%{escaped}%")
}

/// A user of the CRM.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Associate {
    /// Id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// `user` or `admin`.
    pub role: String,
}

/// A company.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Company {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail domain, when known.
    pub domain: Option<String>,
    /// Whether this is our own company.
    pub ours: bool,
}

/// A contact person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Person {
    /// Id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// The person's company.
    pub company_id: Option<String>,
    /// The company's name.
    pub company_name: Option<String>,
    /// E-mail addresses, lower-case; each identifies the person when an
    /// invitation or a reply arrives from it.
    pub emails: Vec<String>,
    /// Telephone number.
    pub phone: Option<String>,
}

/// A room or a piece of equipment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resource {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `room` or `equipment`.
    pub kind: String,
}

/// A project or a sale of a company.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deal {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The company.
    pub company_id: Option<String>,
    /// `open`, or `closed` / `won` / `lost`.
    pub status: String,
}

/// Active associates whose name or e-mail address contains `q` (disabled
/// ones: `GET /api/admin/associates`).
#[utoipa::path(get, path = "/api/associates", tag = "directory", params(Search), security(("bearer" = [])),
    responses((status = 200, body = [Associate]), (status = 401, body = super::error::ErrorBody)))]
pub async fn associates(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(search): Query<Search>,
) -> ApiResult<Json<Vec<Associate>>> {
    let mut conn = state.store.read().await?;
    let rows = sqlx::query(
        "SELECT id, name, email, role FROM associates WHERE (LOWER(name) LIKE $1 OR email LIKE $1) \
         AND disabled_at IS NULL ORDER BY name LIMIT $2",
    )
    .bind(pattern(&search.q))
    .bind(MAX_LIST)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(Associate {
            id: text(&row, "id")?,
            name: text(&row, "name")?,
            email: text(&row, "email")?,
            role: text(&row, "role")?,
        });
    }
    Ok(Json(out))
}

/// Companies whose name or domain contains `q`.
#[utoipa::path(get, path = "/api/companies", tag = "directory", params(Search), security(("bearer" = [])),
    responses((status = 200, body = [Company]), (status = 401, body = super::error::ErrorBody)))]
pub async fn companies(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(search): Query<Search>,
) -> ApiResult<Json<Vec<Company>>> {
    let mut conn = state.store.read().await?;
    let rows = sqlx::query(
        "SELECT id, name, domain, ours FROM companies WHERE LOWER(name) LIKE $1 OR LOWER(COALESCE(domain, '')) LIKE $1 \
         ORDER BY name LIMIT $2",
    )
    .bind(pattern(&search.q))
    .bind(MAX_LIST)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(Company {
            id: text(&row, "id")?,
            name: text(&row, "name")?,
            domain: opt_text(&row, "domain")?,
            ours: flag(&row, "ours")?,
        });
    }
    Ok(Json(out))
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

async fn person_from_row(conn: &mut AnyConnection, row: &sqlx::any::AnyRow) -> StoreResult<Person> {
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
#[utoipa::path(get, path = "/api/persons", tag = "directory", params(Search), security(("bearer" = [])),
    responses((status = 200, body = [Person]), (status = 401, body = super::error::ErrorBody)))]
pub async fn persons(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(search): Query<Search>,
) -> ApiResult<Json<Vec<Person>>> {
    let mut conn = state.store.read().await?;
    let rows = sqlx::query(&format!(
        "{PERSON_SELECT} WHERE LOWER(p.name) LIKE $1 OR LOWER(COALESCE(c.name, '')) LIKE $1 \
         OR p.id IN (SELECT person_id FROM person_emails WHERE email LIKE $1) ORDER BY p.name LIMIT $2"
    ))
    .bind(pattern(&search.q))
    .bind(MAX_LIST)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(person_from_row(&mut conn, row).await?);
    }
    Ok(Json(out))
}

/// The persons listing is also called "contacts" in the CRM.
#[utoipa::path(get, path = "/api/contacts", tag = "directory", params(Search), security(("bearer" = [])),
    responses((status = 200, body = [Person]), (status = 401, body = super::error::ErrorBody)))]
pub async fn contacts(
    state: State<AppState>,
    user: CurrentUser,
    search: Query<Search>,
) -> ApiResult<Json<Vec<Person>>> {
    persons(state, user, search).await
}

/// One person.
#[utoipa::path(get, path = "/api/persons/{id}", tag = "directory", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Person), (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn person(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Person>> {
    let mut conn = state.store.read().await?;
    find_person(&mut conn, &id).await?.map(Json).ok_or_else(|| ApiError::not_found("person", &id))
}

/// Resources in use whose name contains `q` (retired ones: `GET /api/admin/resources`).
#[utoipa::path(get, path = "/api/resources", tag = "directory", params(Search), security(("bearer" = [])),
    responses((status = 200, body = [Resource]), (status = 401, body = super::error::ErrorBody)))]
pub async fn resources(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(search): Query<Search>,
) -> ApiResult<Json<Vec<Resource>>> {
    let mut conn = state.store.read().await?;
    let rows = sqlx::query(
        "SELECT id, name, kind FROM resources WHERE LOWER(name) LIKE $1 AND retired_at IS NULL ORDER BY name LIMIT $2",
    )
    .bind(pattern(&search.q))
    .bind(MAX_LIST)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(Resource { id: text(&row, "id")?, name: text(&row, "name")?, kind: text(&row, "kind")? });
    }
    Ok(Json(out))
}

async fn deals(conn: &mut AnyConnection, table: &str, q: &Option<String>) -> ApiResult<Vec<Deal>> {
    let sql =
        format!("SELECT id, name, company_id, status FROM {table} WHERE LOWER(name) LIKE $1 ORDER BY name LIMIT $2");
    let rows = sqlx::query(&sql).bind(pattern(q)).bind(MAX_LIST).fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(Deal {
            id: text(&row, "id")?,
            name: text(&row, "name")?,
            company_id: opt_text(&row, "company_id")?,
            status: text(&row, "status")?,
        });
    }
    Ok(out)
}

/// Projects whose name contains `q`.
#[utoipa::path(get, path = "/api/projects", tag = "directory", params(Search), security(("bearer" = [])),
    responses((status = 200, body = [Deal]), (status = 401, body = super::error::ErrorBody)))]
pub async fn projects(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(search): Query<Search>,
) -> ApiResult<Json<Vec<Deal>>> {
    let mut conn = state.store.read().await?;
    Ok(Json(deals(&mut conn, "projects", &search.q).await?))
}

/// Sales whose name contains `q`.
#[utoipa::path(get, path = "/api/sales", tag = "directory", params(Search), security(("bearer" = [])),
    responses((status = 200, body = [Deal]), (status = 401, body = super::error::ErrorBody)))]
pub async fn sales(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(search): Query<Search>,
) -> ApiResult<Json<Vec<Deal>>> {
    let mut conn = state.store.read().await?;
    Ok(Json(deals(&mut conn, "sales", &search.q).await?))
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
    match row {
        Some(row) => Ok(Some(Associate {
            id: text(&row, "id")?,
            name: text(&row, "name")?,
            email: text(&row, "email")?,
            role: text(&row, "role")?,
        })),
        None => Ok(None),
    }
}

/// The associate with `id`.
pub async fn associate_by_id(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<Associate>> {
    let row = sqlx::query("SELECT id, name, email, role FROM associates WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(Some(Associate {
            id: text(&row, "id")?,
            name: text(&row, "name")?,
            email: text(&row, "email")?,
            role: text(&row, "role")?,
        })),
        None => Ok(None),
    }
}

/// Whether a row with `id` exists in `table` (one of the directory tables).
pub async fn exists(conn: &mut AnyConnection, table: &str, id: &str) -> ApiResult<bool> {
    let sql = format!("SELECT id FROM {table} WHERE id = $1");
    Ok(sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?.is_some())
}

/// A new contact person.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPerson {
    /// Full name.
    pub name: String,
    /// E-mail addresses (at least one).
    pub emails: Vec<String>,
    /// Job title.
    pub title: Option<String>,
    /// The person's company.
    pub company_id: Option<String>,
    /// Telephone number.
    #[serde(default)]
    pub phone: Option<String>,
}

/// Registers a contact person (for example the sender a decision suggests
/// registering). An address can belong to one person only.
#[utoipa::path(post, path = "/api/persons", tag = "directory", request_body = NewPerson, security(("bearer" = [])),
    responses((status = 201, body = Person), (status = 401, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn create_person(
    State(state): State<AppState>,
    _user: CurrentUser,
    Json(req): Json<NewPerson>,
) -> ApiResult<(axum::http::StatusCode, Json<Person>)> {
    let checked = super::contacts::check_person(&req.name, &req.emails, req.title.as_deref(), req.phone.as_deref())?;
    let (name, emails) = (&checked.name, &checked.emails);
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    if let Some(cid) = &req.company_id
        && !exists(conn, "companies", cid).await?
    {
        return Err(ApiError::invalid(format!("`company_id`: no company with id `{cid}`")));
    }
    super::contacts::check_addresses_free(conn, emails, None).await?;
    let id = super::store::new_id();
    sqlx::query("INSERT INTO persons (id, company_id, name, title, phone) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(&req.company_id)
        .bind(name)
        .bind(&checked.title)
        .bind(&checked.phone)
        .execute(&mut *conn)
        .await?;
    super::contacts::insert_addresses(conn, &id, emails, 0).await?;
    let person = find_person(conn, &id).await?.ok_or_else(|| ApiError::internal("the new person is gone"))?;
    tx.commit().await?;
    Ok((axum::http::StatusCode::CREATED, Json(person)))
}
