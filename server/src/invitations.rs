//! The Invitations list of an associate and its actions, the notifications
//! ("Invitation declined" until Got it), and the diary (SPEC 4).

use super::AppState;
use super::appointments::{self, Appointment, Participant, invitation};
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, Json, Query};
use super::store::{self, fmt_instant, parse_instant};
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One line of the Invitations list.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationItem {
    /// The invitation (participant) id, used by the actions.
    pub id: String,
    /// `invitation` or `assignment`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `incoming` (waiting for me) or `response` (an answer to my invitation
    /// or assignment).
    pub direction: String,
    /// The invitation status.
    pub status: String,
    /// A resource conflict on the follow-up.
    pub conflict: bool,
    /// The invited or assigned associate.
    pub associate_id: Option<String>,
    /// Their name.
    pub associate_name: Option<String>,
    /// The follow-up.
    pub appointment: Appointment,
}

/// Filter of the Invitations list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// "Show responses": only the answers to my invitations and assignments.
    pub responses: Option<bool>,
}

/// The signed-in user's Invitations list: invitations and assignments
/// waiting for them (new, seen, moved, and cancelled ones not yet seen), and
/// the answers to their own invitations and assignments not yet seen. An
/// accepted invitation leaves the list.
#[utoipa::path(get, path = "/api/invitations", tag = "invitations", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [InvitationItem]), (status = 401, body = super::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<InvitationItem>>> {
    let mut conn = state.store.read().await?;
    let mut out = Vec::new();
    if !q.responses.unwrap_or(false) {
        out.extend(store::invitations::incoming(&mut conn, &user.id).await?);
    }
    out.extend(store::invitations::responses(&mut conn, &user.id).await?);
    Ok(Json(out))
}

/// What an action did.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResult {
    /// The invitation as it is now.
    pub invitation: Participant,
    /// The follow-up as it is now.
    pub appointment: Appointment,
}

enum Act {
    Seen,
    Accept,
    Decline,
}

async fn act(state: &AppState, user: &CurrentUser, id: &str, act: Act) -> ApiResult<Json<InvitationResult>> {
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let p =
        store::appointments::find_participant(conn, id).await?.ok_or_else(|| ApiError::not_found("invitation", id))?;
    let mut a = store::appointments::get(conn, &p.appointment_id).await?;
    let mine = p.kind == "associate" && p.associate_id.as_deref() == Some(user.id.as_str());
    let responder_owner = a.owner_id == user.id || a.assigned_by.as_deref() == Some(user.id.as_str());
    match act {
        Act::Seen if !mine && responder_owner && matches!(p.status.as_str(), "accepted" | "declined") => {
            // The owner has seen the answer: it leaves their list.
            store::invitations::mark_response_seen(conn, id).await?;
        }
        _ if !mine => return Err(ApiError::forbidden("this invitation is not yours")),
        Act::Seen => {
            let next = match (p.role.as_str(), p.status.as_str()) {
                ("invitee", invitation::NOT_SEEN) => Some(invitation::SEEN),
                ("invitee", invitation::MOVED) => Some(invitation::MOVED_SEEN),
                ("assignee", invitation::ASSIGNED) => Some(invitation::SEEN),
                _ => None,
            };
            match next {
                Some(next) => store::appointments::set_participant_status(conn, id, next).await?,
                None if p.status == invitation::CANCELLED => {
                    store::invitations::mark_response_seen(conn, id).await?;
                }
                None => {}
            }
        }
        Act::Accept | Act::Decline => {
            let open = match p.role.as_str() {
                "assignee" => matches!(p.status.as_str(), "assigned" | "seen"),
                _ => {
                    invitation::PENDING.contains(&p.status.as_str())
                        || p.status == invitation::ACCEPTED
                        || p.status == invitation::DECLINED
                }
            };
            if !open || a.status == appointments::status::CANCELLED {
                return Err(ApiError::conflict(format!("the invitation cannot be answered: it is `{}`", p.status)));
            }
            let accept = matches!(act, Act::Accept);
            let next = if accept { invitation::ACCEPTED } else { invitation::DECLINED };
            store::appointments::set_participant_status(conn, id, next).await?;
            let now = fmt_instant(store::now());
            if p.role == "assignee" {
                let delegator = a.assigned_by.clone().unwrap_or_else(|| a.owner_id.clone());
                if accept {
                    a.owner_id = user.id.clone();
                    a.updated_at = now;
                    store::appointments::update(conn, &a).await?;
                    let message = format!("{} accepted the assignment of \"{}\"", user.name, a.title);
                    store::notifications::add(conn, &delegator, "assignment_accepted", Some(&a.id), Some(id), &message)
                        .await?;
                } else {
                    let message = format!("{} declined the assignment of \"{}\"", user.name, a.title);
                    store::notifications::add(conn, &delegator, "assignment_declined", Some(&a.id), Some(id), &message)
                        .await?;
                }
            } else if !accept {
                let message = format!("{} declined your invitation to \"{}\"", user.name, a.title);
                store::notifications::add(conn, &a.owner_id, "invitation_declined", Some(&a.id), Some(id), &message)
                    .await?;
            }
        }
    }
    let invitation =
        store::appointments::find_participant(conn, id).await?.ok_or_else(|| ApiError::not_found("invitation", id))?;
    let appointment = store::appointments::get(conn, &p.appointment_id).await?;
    tx.commit().await?;
    Ok(Json(InvitationResult { invitation, appointment }))
}

/// Marks an invitation or assignment as opened (`not_seen` -> `seen`,
/// `moved` -> `moved_seen`; a cancelled one leaves the list). For the owner,
/// marks an answer to their invitation as seen (it leaves their list).
#[utoipa::path(post, path = "/api/invitations/{id}/seen", tag = "invitations", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = InvitationResult), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn seen(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<InvitationResult>> {
    act(&state, &user, &id, Act::Seen).await
}

/// Accepts an invitation (it leaves the list and shows in the diary), or an
/// assignment (the user becomes the owner).
#[utoipa::path(post, path = "/api/invitations/{id}/accept", tag = "invitations", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = InvitationResult), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<InvitationResult>> {
    act(&state, &user, &id, Act::Accept).await
}

/// Declines an invitation (the owner is notified until Got it) or an
/// assignment (the delegator sees it declined and can reassign).
#[utoipa::path(post, path = "/api/invitations/{id}/decline", tag = "invitations", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = InvitationResult), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody)))]
pub async fn decline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<InvitationResult>> {
    act(&state, &user, &id, Act::Decline).await
}

/// A notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    /// Id.
    pub id: String,
    /// `invitation_declined`, `assignment_declined`, `assignment_accepted`,
    /// `appointment_moved`, `appointment_cancelled`, `refresh_requested`,
    /// `counter_declined`, `counter_proposal`.
    pub what: String,
    /// The appointment concerned.
    pub appointment_id: Option<String>,
    /// A sentence for the user.
    pub message: String,
    /// Created at.
    pub created_at: String,
    /// When the user pressed Got it.
    pub got_it_at: Option<String>,
}

/// Filter of the notifications.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Also those already acknowledged.
    pub all: Option<bool>,
}

/// The signed-in user's notifications not acknowledged yet (all with `all=true`).
#[utoipa::path(get, path = "/api/notifications", tag = "invitations", params(NotificationQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [Notification]), (status = 401, body = super::error::ErrorBody)))]
pub async fn notifications(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<NotificationQuery>,
) -> ApiResult<Json<Vec<Notification>>> {
    let mut conn = state.store.read().await?;
    Ok(Json(store::notifications::list(&mut conn, &user.id, q.all.unwrap_or(false)).await?))
}

/// "Got it": the notification is acknowledged and leaves the list.
#[utoipa::path(post, path = "/api/notifications/{id}/got-it", tag = "invitations", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Notification), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn got_it(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Notification>> {
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let owner =
        store::notifications::owner(conn, &id).await?.ok_or_else(|| ApiError::not_found("notification", &id))?;
    if owner != user.id {
        return Err(ApiError::forbidden("this notification is not yours"));
    }
    let n = store::notifications::got_it(conn, &id, store::now()).await?;
    tx.commit().await?;
    Ok(Json(n))
}

/// The range of the diary.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiaryQuery {
    /// Start (RFC 3339).
    pub from: String,
    /// End (RFC 3339), at most 366 days after `from`.
    pub until: String,
}

/// One entry of the diary.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiaryEntry {
    /// `appointment` (own or accepted) or `invitation` (pending).
    pub kind: String,
    /// The appointment.
    pub appointment_id: String,
    /// The invitation, for an invited associate.
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
    /// Appointment status, or the invitation status for an invitation.
    pub status: String,
}

/// The signed-in user's diary: their own appointments (not cancelled or
/// declined; a series by its occurrences), accepted invitations, and pending
/// invitations at their time.
#[utoipa::path(get, path = "/api/diary", tag = "invitations", params(DiaryQuery), security(("bearer" = [])),
    responses((status = 200, body = [DiaryEntry]), (status = 401, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn diary(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<DiaryQuery>,
) -> ApiResult<Json<Vec<DiaryEntry>>> {
    let from = parse_instant("from", &q.from)?;
    let until = parse_instant("until", &q.until)?;
    if until <= from || until - from > chrono::Duration::days(366) {
        return Err(ApiError::invalid("`until` must be after `from`, at most 366 days later"));
    }
    let (from, until) = (fmt_instant(from), fmt_instant(until));
    let mut conn = state.store.read().await?;
    let mut out = store::invitations::diary(&mut conn, &user.id, &from, &until).await?;
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.appointment_id.cmp(&b.appointment_id)));
    Ok(Json(out))
}
