//! The CRM's directory: associates, companies, persons (contacts), resources,
//! projects and sales; listing and search. Every signed-in user may read it.

use super::AppState;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, Json, Query};
use super::store;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The lookups the other handlers use, from the directory's store.
pub use super::store::directory::{
    MAX_LIST, associate_by_email, associate_by_id, exists, find_person, person_by_email,
};

/// Search parameters of the listings.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Case-insensitive part of a name (or e-mail address).
    pub q: Option<String>,
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
    Ok(Json(store::directory::search_associates(&mut conn, search.q.as_deref()).await?))
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
    Ok(Json(store::directory::search_companies(&mut conn, search.q.as_deref()).await?))
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
    Ok(Json(store::directory::search_persons(&mut conn, search.q.as_deref()).await?))
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
    Ok(Json(store::directory::search_resources(&mut conn, search.q.as_deref()).await?))
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
    Ok(Json(store::directory::search_deals(&mut conn, "projects", search.q.as_deref()).await?))
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
    Ok(Json(store::directory::search_deals(&mut conn, "sales", search.q.as_deref()).await?))
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
    let id = store::new_id();
    let (title, phone) = (checked.title.as_deref(), checked.phone.as_deref());
    store::directory::insert_person(conn, &id, req.company_id.as_deref(), name, title, phone).await?;
    store::contacts::insert_addresses(conn, &id, emails, 0).await?;
    let person = find_person(conn, &id).await?.ok_or_else(|| ApiError::internal("the new person is gone"))?;
    tx.commit().await?;
    Ok((axum::http::StatusCode::CREATED, Json(person)))
}
