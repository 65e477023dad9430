//! The diary as the web client's calendar draws it: like `GET /api/diary`,
//! but with every state a person needs to see, each told apart: declined
//! and cancelled appointments and invitations too, whether the organizer
//! moved it, and whether a booked resource is in conflict.

use super::AppState;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, Json, Query};
use super::invitations::DiaryQuery;
use super::store::{self, fmt_instant, opt_text, parse_instant, text};
use axum::extract::State;
use serde::Serialize;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

/// The most entries of each kind one request answers.
pub const MAX_ENTRIES: i64 = 2000;

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

/// 1 when a resource of the appointment is double-booked: an integer on
/// both stores (a bare `EXISTS` is a BOOLEAN on PostgreSQL, an integer on SQLite).
const CONFLICT: &str = "CASE WHEN EXISTS (SELECT 1 FROM participants r WHERE r.appointment_id = a.id \
     AND r.kind = 'resource' AND r.conflict = 1) THEN 1 ELSE 0 END";

fn entry(row: &AnyRow, kind: &str, status: String, invitation_id: Option<String>) -> ApiResult<CalendarEntry> {
    Ok(CalendarEntry {
        kind: kind.to_owned(),
        appointment_id: text(row, "id")?,
        invitation_id,
        recurrence_id: opt_text(row, "recurrence_id")?,
        title: text(row, "title")?,
        location: text(row, "location")?,
        start: text(row, "start_at")?,
        end: text(row, "end_at")?,
        status,
        moved: store::flag(row, "moved")?,
        conflict: store::flag(row, "conflict")?,
        origin: text(row, "origin")?,
        owner_name: opt_text(row, "owner_name")?,
    })
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
    let mut out = Vec::new();
    let own = sqlx::query(&format!(
        "SELECT a.id, a.title, a.location, a.start_at, a.end_at, a.status, a.moved, a.origin, \
         NULL AS recurrence_id, NULL AS owner_name, {CONFLICT} AS conflict FROM appointments a \
         WHERE a.owner_id = $1 AND a.recurring = 0 AND a.start_at < $3 AND a.end_at > $2 \
         ORDER BY a.start_at LIMIT {MAX_ENTRIES}"
    ))
    .bind(&user.id)
    .bind(&from)
    .bind(&until)
    .fetch_all(&mut *conn)
    .await?;
    for row in &own {
        out.push(entry(row, "appointment", text(row, "status")?, None)?);
    }
    let series = sqlx::query(&format!(
        "SELECT a.id, a.title, a.location, o.start_at, o.end_at, a.status, o.status AS occurrence_status, a.moved, \
         a.origin, o.recurrence_id, NULL AS owner_name, {CONFLICT} AS conflict FROM occurrences o \
         JOIN appointments a ON a.id = o.appointment_id WHERE a.owner_id = $1 \
         AND o.start_at < $3 AND o.end_at > $2 ORDER BY o.start_at LIMIT {MAX_ENTRIES}"
    ))
    .bind(&user.id)
    .bind(&from)
    .bind(&until)
    .fetch_all(&mut *conn)
    .await?;
    for row in &series {
        let status = match text(row, "occurrence_status")?.as_str() {
            "cancelled" => "cancelled".to_owned(),
            _ => text(row, "status")?,
        };
        out.push(entry(row, "appointment", status, None)?);
    }
    let invited = sqlx::query(&format!(
        "SELECT a.id, a.title, a.location, a.start_at, a.end_at, a.moved, a.origin, NULL AS recurrence_id, \
         o.name AS owner_name, {CONFLICT} AS conflict, p.id AS p_id, p.role AS p_role, p.status AS p_status, \
         a.status AS a_status FROM participants p JOIN appointments a ON a.id = p.appointment_id \
         JOIN associates o ON o.id = a.owner_id \
         WHERE p.associate_id = $1 AND p.kind = 'associate' AND a.owner_id <> $1 \
         AND a.start_at < $3 AND a.end_at > $2 ORDER BY a.start_at LIMIT {MAX_ENTRIES}"
    ))
    .bind(&user.id)
    .bind(&from)
    .bind(&until)
    .fetch_all(&mut *conn)
    .await?;
    for row in &invited {
        let role = text(row, "p_role")?;
        let mut status = text(row, "p_status")?;
        if text(row, "a_status")? == "cancelled" {
            status = "cancelled".to_owned();
        }
        // An accepted assignment made me the owner: it is listed above.
        let kind = if role == "assignee" { "assignment" } else { "invitation" };
        out.push(entry(row, kind, status, Some(text(row, "p_id")?))?);
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.appointment_id.cmp(&b.appointment_id)));
    Ok(Json(out))
}
