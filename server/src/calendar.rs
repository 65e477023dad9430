//! The diary as the web client's calendar draws it: like `GET /api/diary`,
//! but with every state a person needs to see, each told apart: declined
//! and cancelled appointments and invitations too, whether the organizer
//! moved it, and whether a booked resource is in conflict.

use super::AppState;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, Json, Query};
use super::invitations::DiaryQuery;
use super::store::{self, fmt_instant, parse_instant};
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

/// One entry of the calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarEntry {
    /// `appointment` (own), `invitation` (I am invited) or `assignment`
    /// (delegated to me, not answered yet).
    pub kind: String,
    /// The appointment (follow-up).
    pub appointment_id: String,
    /// My invitation or assignment, for those kinds.
    pub invitation_id: Option<String>,
    /// The occurrence of a series.
    pub recurrence_id: Option<String>,
    /// Title.
    pub title: String,
    /// Location.
    pub location: String,
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// End, RFC 3339 UTC.
    pub end: String,
    /// For an appointment its status (`booked`, `tentative`, `accepted`,
    /// `declined`, `cancelled`); for an invitation or assignment my
    /// invitation status (`not_seen`, `seen`, `moved`, `moved_seen`,
    /// `accepted`, `declined`, `cancelled`, `assigned`).
    pub status: String,
    /// The organizer moved it after it was accepted (e-mail appointments).
    pub moved: bool,
    /// A resource of the follow-up is booked twice at overlapping times.
    pub conflict: bool,
    /// `crm`, `email` or `archive`.
    pub origin: String,
    /// The owner's (organizer's) name, for invitations and assignments.
    pub owner_name: Option<String>,
}

/// The signed-in user's calendar over `[from, until)` (at most 366 days):
/// own appointments in every status (a series by its occurrences), and the
/// follow-ups they are invited to or assigned, in every invitation status.
#[utoipa::path(get, path = "/api/calendar", tag = "invitations", params(DiaryQuery), security(("bearer" = [])),
    responses((status = 200, body = [CalendarEntry]), (status = 401, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn calendar(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<DiaryQuery>,
) -> ApiResult<Json<Vec<CalendarEntry>>> {
    let from = parse_instant("from", &q.from)?;
    let until = parse_instant("until", &q.until)?;
    if until <= from || until - from > chrono::Duration::days(366) {
        return Err(ApiError::invalid("`until` must be after `from`, at most 366 days later"));
    }
    let (from, until) = (fmt_instant(from), fmt_instant(until));
    let mut conn = state.store.read().await?;
    let mut out = store::invitations::calendar(&mut conn, &user.id, &from, &until).await?;
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.appointment_id.cmp(&b.appointment_id)));
    Ok(Json(out))
}
