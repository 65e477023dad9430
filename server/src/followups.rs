//! Follow-ups organized in the CRM (SPEC 4): creation with associates,
//! resources and persons, rescheduling, deletion, and assignment to another
//! associate.
//!
//! - Associates get an invitation (`not_seen`).
//! - Resources are accepted at once; a resource booked twice at overlapping
//!   times is marked `conflict`.
//! - When a resource or an invited associate is not free, the follow-up
//!   carries `first_available`: the first time at which all of them are.
//! - Persons and bare addresses get an e-mail `REQUEST` written by the
//!   engine, queued in the outbox, with `RSVP` and `Reply-To` as the
//!   "request reply" preference says.

use super::AppState;
use super::appointments::{self, Appointment, Participant, blank_participant, invitation, status};
use super::auth::CurrentUser;
use super::availability::{self, Attendance};
use super::directory;
use super::engine;
use super::error::{ApiError, ApiResult, Json};
use super::outbox::{NewMessage, OutboxMessage};
use super::preferences;
use super::store::{self, WriteTx, fmt_instant, parse_instant, stored_instant};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// The most participants of each kind on one follow-up.
pub const MAX_PARTICIPANTS: usize = 100;

/// The longest description, in characters.
pub const MAX_DESCRIPTION: usize = 5000;

/// A follow-up with its participants.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUp {
    /// The appointment.
    #[serde(flatten)]
    pub appointment: Appointment,
    /// Everyone and everything taking part.
    pub participants: Vec<Participant>,
    /// E-mail messages this request queued.
    pub outbox: Vec<OutboxMessage>,
}

/// A new follow-up.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewFollowUp {
    /// The owner (default: the signed-in user; only administrators may name
    /// someone else).
    pub owner_id: Option<String>,
    /// Title.
    pub title: String,
    /// Start (RFC 3339).
    pub start: String,
    /// End (RFC 3339), after the start.
    pub end: String,
    /// Location.
    #[serde(default)]
    pub location: Option<String>,
    /// Description (lines allowed; at most 5000 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Associates to invite.
    #[serde(default)]
    pub associates: Vec<String>,
    /// Resources to book.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Persons (contacts) to invite by e-mail.
    #[serde(default)]
    pub persons: Vec<String>,
    /// Bare e-mail addresses to invite.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Linked person.
    pub person_id: Option<String>,
    /// Linked company.
    pub company_id: Option<String>,
    /// Linked project.
    pub project_id: Option<String>,
    /// Linked sale.
    pub sale_id: Option<String>,
}

/// A new time (and optionally place) for a follow-up.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Reschedule {
    /// New start (RFC 3339).
    pub start: String,
    /// New end (RFC 3339).
    pub end: String,
    /// New location (unchanged when left out).
    pub location: Option<String>,
    /// New description (unchanged when left out). A new description alone
    /// sends the update to external attendees but asks no one to answer
    /// again.
    pub description: Option<String>,
}

/// Participants to add to a follow-up (the kinds of [`NewFollowUp`]).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewParticipants {
    /// Associates to invite.
    #[serde(default)]
    pub associates: Vec<String>,
    /// Resources to book.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Persons (contacts) to invite by e-mail.
    #[serde(default)]
    pub persons: Vec<String>,
    /// Bare e-mail addresses to invite.
    #[serde(default)]
    pub emails: Vec<String>,
}

/// The associate to assign a follow-up to.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Assign {
    /// Associate id.
    pub associate_id: String,
}

fn times(start: &str, end: &str) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let start = parse_instant("start", start)?;
    let end = parse_instant("end", end)?;
    if end <= start {
        return Err(ApiError::invalid("`end` must be after `start`"));
    }
    if end - start > chrono::Duration::days(31) {
        return Err(ApiError::invalid("a follow-up must not last more than 31 days"));
    }
    Ok((start, end))
}

fn dedup(ids: &[String]) -> ApiResult<Vec<String>> {
    if ids.len() > MAX_PARTICIPANTS {
        return Err(ApiError::invalid(format!("at most {MAX_PARTICIPANTS} participants of each kind")));
    }
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        let id = id.trim().to_owned();
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

async fn check_link(conn: &mut AnyConnection, table: &str, field: &str, id: &Option<String>) -> ApiResult<()> {
    if let Some(id) = id
        && !directory::exists(conn, table, id).await?
    {
        return Err(ApiError::invalid(format!("`{field}`: no record with id `{id}`")));
    }
    Ok(())
}

/// Who may see a follow-up: its owner, its delegator, an invited or
/// assigned associate, and administrators.
pub async fn can_see(conn: &mut AnyConnection, user: &CurrentUser, a: &Appointment) -> ApiResult<bool> {
    if user.is_admin() || a.owner_id == user.id || a.assigned_by.as_deref() == Some(user.id.as_str()) {
        return Ok(true);
    }
    Ok(store::appointments::takes_part(conn, &a.id, &user.id).await?)
}

/// The follow-up `id` if `user` owns it: 404 when unknown, 403 when not theirs.
async fn owned(conn: &mut AnyConnection, user: &CurrentUser, id: &str) -> ApiResult<Appointment> {
    let a = store::appointments::get(conn, id).await?;
    if a.owner_id != user.id {
        return Err(ApiError::forbidden("only the owner of a follow-up can change it"));
    }
    if a.origin != "crm" {
        return Err(ApiError::conflict("this appointment was not organized in the CRM"));
    }
    Ok(a)
}

async fn view(conn: &mut AnyConnection, id: &str, outbox: Vec<OutboxMessage>) -> ApiResult<FollowUp> {
    let appointment = store::appointments::get(conn, id).await?;
    let participants = store::appointments::participants(conn, id).await?;
    Ok(FollowUp { appointment, participants, outbox })
}

/// Rechecks resources and, when a resource or an invited associate is not
/// free, stores the first time at which all of them are.
async fn plan(
    conn: &mut AnyConnection,
    a: &mut Appointment,
    participants: &[Participant],
    old_time: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> ApiResult<()> {
    let resource_conflict = availability::recheck_resources(conn, &a.id).await?;
    availability::recheck_neighbours(conn, &a.id, stored_instant(&a.start), stored_instant(&a.end)).await?;
    if let Some((from, until)) = old_time {
        availability::recheck_neighbours(conn, &a.id, from, until).await?;
    }
    let mut who = Attendance::default();
    who.associates.push(a.owner_id.clone());
    for p in participants {
        if p.status == invitation::CANCELLED || p.status == invitation::DECLINED {
            continue;
        }
        match (p.kind.as_str(), p.role.as_str()) {
            ("associate", "invitee") => who.associates.extend(p.associate_id.clone()),
            ("resource", _) => who.resources.extend(p.resource_id.clone()),
            _ => {}
        }
    }
    let start = stored_instant(&a.start);
    let end = stored_instant(&a.end);
    let busy = resource_conflict || availability::anyone_busy(conn, &who, start, end, Some(&a.id)).await?;
    a.first_available = if busy {
        let prefs = preferences::load(conn).await?;
        availability::first_available(conn, &prefs, &who, start, end - start, Some(&a.id)).await?.map(fmt_instant)
    } else {
        None
    };
    Ok(store::appointments::set_first_available(conn, &a.id, a.first_available.as_deref()).await?)
}

fn subject(method: &str, title: &str, sequence: i64) -> String {
    match method {
        "CANCEL" => format!("Cancelled: {title}"),
        "REQUEST" if sequence > 0 => format!("Updated invitation: {title}"),
        "REQUEST" => format!("Invitation: {title}"),
        _ => title.to_owned(),
    }
}

/// Rewrites the organizer's copy of `a` from the store, asks the engine what
/// to send to external attendees for the change from `old`, queues it, and
/// stores the new copy. `deleted`: the follow-up is gone (send `CANCEL`s).
/// `removed`: addresses of external attendees just taken off (they get the
/// engine's `CANCEL` too).
async fn sync_external(
    conn: &mut AnyConnection,
    a: &mut Appointment,
    old: Option<String>,
    deleted: bool,
    removed: &[String],
) -> ApiResult<Vec<OutboxMessage>> {
    let participants = store::appointments::participants(conn, &a.id).await?;
    let prefs = preferences::load(conn).await?;
    let now = store::now();
    let new_ics = appointments::organizer_copy(a, &participants, prefs.request_reply, now);
    let external: Vec<String> = participants
        .iter()
        .filter(|p| p.kind == "person" || p.kind == "email")
        .filter_map(|p| p.email.clone())
        .chain(removed.iter().cloned())
        .collect();
    let owner_email = a.organizer_email.clone().unwrap_or_default();
    let new = if deleted { None } else { Some(new_ics.as_str()) };
    let messages = engine::schedule(old.as_deref(), new, std::slice::from_ref(&owner_email), now, prefs.request_reply)?;
    let mut queued = Vec::new();
    for m in messages {
        let recipient = invitelink::ical::value::email_of(&m.recipient);
        if !external.iter().any(|e| invitelink::ical::value::same_address(e, &recipient)) {
            continue;
        }
        let reply_to = (prefs.request_reply && m.method == "REQUEST").then(|| prefs.crm_inbox.clone());
        queued.push(
            store::outbox::queue(
                conn,
                NewMessage {
                    appointment_id: Some(a.id.clone()),
                    associate_id: Some(a.owner_id.clone()),
                    subject: subject(&m.method, &a.title, a.sequence),
                    method: m.method,
                    sender: if m.sender.is_empty() {
                        owner_email.clone()
                    } else {
                        invitelink::ical::value::email_of(&m.sender)
                    },
                    recipient,
                    reply_to,
                    ics: m.ics,
                },
            )
            .await?,
        );
    }
    a.ics = Some(new_ics);
    a.dtstamp = Some(fmt_instant(now));
    store::appointments::set_organizer_copy(conn, &a.id, a.ics.as_deref(), a.dtstamp.as_deref()).await?;
    Ok(queued)
}

/// The participants `associates`, `resources`, `persons` and `emails` of
/// follow-up `id` would be, checked against the directory (the owner is not
/// invited to their own follow-up). Nothing is stored.
async fn new_participants(
    conn: &mut AnyConnection,
    id: &str,
    owner_id: &str,
    associates: &[String],
    resources: &[String],
    persons: &[String],
    emails: &[String],
) -> ApiResult<Vec<Participant>> {
    let mut participants = Vec::new();
    for aid in associates.iter().filter(|aid| *aid != owner_id) {
        let invitee = directory::associate_by_id(conn, aid)
            .await?
            .ok_or_else(|| ApiError::invalid(format!("`associates`: no associate with id `{aid}`")))?;
        let mut p = blank_participant(id, "associate", invitation::NOT_SEEN);
        p.associate_id = Some(invitee.id);
        p.email = Some(invitee.email);
        p.name = Some(invitee.name);
        participants.push(p);
    }
    for rid in resources {
        let name = store::directory::resource_in_use(conn, rid)
            .await?
            .ok_or_else(|| ApiError::invalid(format!("`resources`: no resource in use with id `{rid}`")))?;
        let mut p = blank_participant(id, "resource", invitation::ACCEPTED);
        p.resource_id = Some(rid.clone());
        p.name = Some(name);
        participants.push(p);
    }
    for pid in persons {
        let person = directory::find_person(conn, pid)
            .await?
            .ok_or_else(|| ApiError::invalid(format!("`persons`: no person with id `{pid}`")))?;
        let mut p = blank_participant(id, "person", invitation::NEEDS_ACTION);
        p.person_id = Some(person.id);
        p.email = person.emails.first().cloned();
        p.name = Some(person.name);
        participants.push(p);
    }
    for email in emails {
        let address = invitelink::ical::value::email_of(email);
        if !address.contains('@') || address.len() > 254 {
            return Err(ApiError::invalid(format!("`emails`: `{email}` is not an e-mail address")));
        }
        let mut p = blank_participant(id, "email", invitation::NEEDS_ACTION);
        if let Some(person) = directory::person_by_email(conn, &address).await? {
            p.kind = "person".to_owned();
            p.person_id = Some(person.id);
            p.name = Some(person.name);
        }
        p.email = Some(address);
        participants.push(p);
    }
    Ok(participants)
}

/// Creates a follow-up.
#[utoipa::path(post, path = "/api/followups", tag = "followups", request_body = NewFollowUp,
    security(("bearer" = [])),
    responses((status = 201, body = FollowUp), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<NewFollowUp>,
) -> ApiResult<(StatusCode, Json<FollowUp>)> {
    super::input::text("title", &req.title)?;
    if let Some(location) = &req.location {
        super::input::text("location", location)?;
    }
    for e in &req.emails {
        super::input::address("emails", e)?;
    }
    let description =
        super::input::long_text("description", req.description.as_deref().unwrap_or_default(), MAX_DESCRIPTION)?;
    let title = req.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 500 {
        return Err(ApiError::invalid("`title` must have 1 to 500 characters"));
    }
    let (start, end) = times(&req.start, &req.end)?;
    let owner_id = req.owner_id.clone().unwrap_or_else(|| user.id.clone());
    if owner_id != user.id && !user.is_admin() {
        return Err(ApiError::forbidden("only administrators can create follow-ups for someone else"));
    }
    let associates = dedup(&req.associates)?;
    let resources = dedup(&req.resources)?;
    let persons = dedup(&req.persons)?;
    let emails = dedup(&req.emails)?;
    let mut tx: WriteTx = state.store.write().await?;
    let conn = tx.conn();
    let owner = directory::associate_by_id(conn, &owner_id)
        .await?
        .ok_or_else(|| ApiError::invalid(format!("`owner_id`: no associate with id `{owner_id}`")))?;
    check_link(conn, "persons", "person_id", &req.person_id).await?;
    check_link(conn, "companies", "company_id", &req.company_id).await?;
    check_link(conn, "projects", "project_id", &req.project_id).await?;
    check_link(conn, "sales", "sale_id", &req.sale_id).await?;
    let now = fmt_instant(store::now());
    let id = store::new_id();
    let mut a = Appointment {
        title,
        location: req.location.clone().unwrap_or_default().trim().to_owned(),
        description,
        start: fmt_instant(start),
        end: fmt_instant(end),
        status: status::BOOKED.to_owned(),
        organizer_email: Some(owner.email.clone()),
        organizer_name: Some(owner.name.clone()),
        person_id: req.person_id.clone().or_else(|| persons.first().cloned()),
        company_id: req.company_id.clone(),
        project_id: req.project_id.clone(),
        sale_id: req.sale_id.clone(),
        ..Appointment::new(id.clone(), &owner.id, "crm", format!("{id}@invitelink"), &now)
    };
    if a.company_id.is_none()
        && let Some(pid) = &a.person_id
        && let Some(p) = directory::find_person(conn, pid).await?
    {
        a.company_id = p.company_id;
    }
    store::appointments::insert(conn, &a).await?;
    let participants = new_participants(conn, &id, &owner.id, &associates, &resources, &persons, &emails).await?;
    for p in &participants {
        store::appointments::insert_participant(conn, p).await?;
    }
    plan(conn, &mut a, &participants, None).await?;
    let queued = sync_external(conn, &mut a, None, false, &[]).await?;
    let view = view(conn, &id, queued).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One follow-up, for its owner, delegator, participants and administrators.
#[utoipa::path(get, path = "/api/followups/{id}", tag = "followups", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = FollowUp), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<FollowUp>> {
    let mut conn = state.store.read().await?;
    let a = store::appointments::get(&mut conn, &id).await?;
    if !can_see(&mut conn, &user, &a).await? {
        return Err(ApiError::forbidden("this follow-up is not yours"));
    }
    Ok(Json(view(&mut conn, &id, Vec::new()).await?))
}

/// Moves a follow-up (owner only). Associates who had seen or answered the
/// invitation get `moved`; those who had not stay `not_seen`; resources are
/// checked again; external attendees get an updated `REQUEST` (`SEQUENCE`
/// bumped) and their answers are asked for again.
#[utoipa::path(post, path = "/api/followups/{id}/reschedule", tag = "followups", params(("id" = String, Path)),
    request_body = Reschedule, security(("bearer" = [])),
    responses((status = 200, body = FollowUp), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn reschedule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<Reschedule>,
) -> ApiResult<Json<FollowUp>> {
    let (start, end) = times(&req.start, &req.end)?;
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let mut a = owned(conn, &user, &id).await?;
    if a.status == status::CANCELLED {
        return Err(ApiError::conflict("the follow-up was deleted"));
    }
    let old = a.ics.clone();
    let old_time = (stored_instant(&a.start), stored_instant(&a.end));
    if let Some(location) = &req.location {
        super::input::text("location", location)?;
    }
    let location = req.location.map(|l| l.trim().to_owned()).unwrap_or_else(|| a.location.clone());
    if let Some(description) = &req.description {
        a.description = super::input::long_text("description", description, MAX_DESCRIPTION)?;
    }
    let changed = fmt_instant(start) != a.start || fmt_instant(end) != a.end || location != a.location;
    if changed {
        a.sequence += 1;
    }
    a.start = fmt_instant(start);
    a.end = fmt_instant(end);
    a.location = location;
    a.updated_at = fmt_instant(store::now());
    store::appointments::update(conn, &a).await?;
    let participants = store::appointments::participants(conn, &id).await?;
    if changed {
        for p in &participants {
            let next = match (p.kind.as_str(), p.status.as_str()) {
                (_, invitation::CANCELLED) => continue,
                ("associate", invitation::NOT_SEEN) if p.role == "invitee" => continue,
                ("associate", invitation::ASSIGNED) => continue,
                ("associate", _) if p.role == "invitee" => invitation::MOVED,
                ("person" | "email", _) => invitation::NEEDS_ACTION,
                _ => continue,
            };
            store::appointments::set_participant_status(conn, &p.id, next).await?;
        }
    }
    let participants = store::appointments::participants(conn, &id).await?;
    plan(conn, &mut a, &participants, Some(old_time)).await?;
    let queued = sync_external(conn, &mut a, old, false, &[]).await?;
    let view = view(conn, &id, queued).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Whether `a` and `b` are the same participant: the same associate
/// (invited), resource or person, or the same e-mail address.
fn same_participant(a: &Participant, b: &Participant) -> bool {
    let same = |x: &Option<String>, y: &Option<String>| x.is_some() && x == y;
    match (a.kind.as_str(), b.kind.as_str()) {
        ("associate", "associate") => a.role == b.role && same(&a.associate_id, &b.associate_id),
        ("resource", "resource") => same(&a.resource_id, &b.resource_id),
        ("person" | "email", "person" | "email") => {
            same(&a.person_id, &b.person_id)
                || matches!((&a.email, &b.email), (Some(x), Some(y)) if invitelink::ical::value::same_address(x, y))
        }
        _ => false,
    }
}

/// Adds participants to a follow-up (owner only): associates get an
/// invitation (`not_seen`; one taken off earlier is invited again),
/// resources are booked and checked, persons and addresses get the
/// `REQUEST`. Participants already there are left as they are.
#[utoipa::path(post, path = "/api/followups/{id}/participants", tag = "followups", params(("id" = String, Path)),
    request_body = NewParticipants, security(("bearer" = [])),
    responses((status = 200, body = FollowUp), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn add_participants(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<NewParticipants>,
) -> ApiResult<Json<FollowUp>> {
    for e in &req.emails {
        super::input::address("emails", e)?;
    }
    let associates = dedup(&req.associates)?;
    let resources = dedup(&req.resources)?;
    let persons = dedup(&req.persons)?;
    let emails = dedup(&req.emails)?;
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let mut a = owned(conn, &user, &id).await?;
    if a.status == status::CANCELLED {
        return Err(ApiError::conflict("the follow-up was deleted"));
    }
    let old = a.ics.clone();
    let existing = store::appointments::participants(conn, &id).await?;
    let owner_id = a.owner_id.clone();
    let mut added = false;
    for p in new_participants(conn, &id, &owner_id, &associates, &resources, &persons, &emails).await? {
        match existing.iter().find(|e| same_participant(e, &p)) {
            Some(e) if e.kind == "associate" && e.status == invitation::CANCELLED => {
                store::appointments::set_participant_status(conn, &e.id, invitation::NOT_SEEN).await?;
                added = true;
            }
            Some(_) => {}
            None => {
                store::appointments::insert_participant(conn, &p).await?;
                added = true;
            }
        }
    }
    if !added {
        return Ok(Json(view(conn, &id, Vec::new()).await?));
    }
    a.updated_at = fmt_instant(store::now());
    store::appointments::update(conn, &a).await?;
    let participants = store::appointments::participants(conn, &id).await?;
    plan(conn, &mut a, &participants, None).await?;
    let queued = sync_external(conn, &mut a, old, false, &[]).await?;
    let view = view(conn, &id, queued).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Takes a participant off a follow-up (owner only): an associate's
/// invitation becomes `cancelled` (it shows in their list until opened), a
/// resource is released, a person or address gets a `CANCEL`. An assignment
/// is answered or reassigned instead (409).
#[utoipa::path(delete, path = "/api/followups/{id}/participants/{participant_id}", tag = "followups",
    params(("id" = String, Path), ("participant_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = FollowUp), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody)))]
pub async fn remove_participant(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, participant_id)): Path<(String, String)>,
) -> ApiResult<Json<FollowUp>> {
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let mut a = owned(conn, &user, &id).await?;
    if a.status == status::CANCELLED {
        return Err(ApiError::conflict("the follow-up was deleted"));
    }
    let p = store::appointments::find_participant(conn, &participant_id)
        .await?
        .filter(|p| p.appointment_id == id)
        .ok_or_else(|| ApiError::not_found("participant", &participant_id))?;
    if p.role != "invitee" {
        return Err(ApiError::conflict("an assignment is answered or reassigned, not removed"));
    }
    let old = a.ics.clone();
    let mut removed = Vec::new();
    if p.kind == "associate" {
        store::appointments::set_participant_status(conn, &p.id, invitation::CANCELLED).await?;
    } else {
        store::appointments::delete_participant(conn, &p.id).await?;
        if p.kind == "person" || p.kind == "email" {
            removed.extend(p.email.clone());
        }
    }
    a.updated_at = fmt_instant(store::now());
    store::appointments::update(conn, &a).await?;
    let participants = store::appointments::participants(conn, &id).await?;
    plan(conn, &mut a, &participants, None).await?;
    let queued = sync_external(conn, &mut a, old, false, &removed).await?;
    let view = view(conn, &id, queued).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Deletes a follow-up (owner only): its invitations become `cancelled`,
/// resources are released, and external attendees get a `CANCEL`.
#[utoipa::path(delete, path = "/api/followups/{id}", tag = "followups", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = FollowUp), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<FollowUp>> {
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let mut a = owned(conn, &user, &id).await?;
    if a.status == status::CANCELLED {
        return Ok(Json(view(conn, &id, Vec::new()).await?));
    }
    let old = a.ics.clone();
    a.status = status::CANCELLED.to_owned();
    a.sequence += 1;
    a.updated_at = fmt_instant(store::now());
    store::appointments::update(conn, &a).await?;
    let queued = sync_external(conn, &mut a, old, true, &[]).await?;
    for p in store::appointments::participants(conn, &id).await? {
        if p.kind == "associate" || p.kind == "resource" {
            store::appointments::set_participant_status(conn, &p.id, invitation::CANCELLED).await?;
        }
    }
    availability::recheck_neighbours(conn, &id, stored_instant(&a.start), stored_instant(&a.end)).await?;
    let view = view(conn, &id, queued).await?;
    tx.commit().await?;
    Ok(Json(view))
}

async fn add_assignee(conn: &mut AnyConnection, a: &mut Appointment, user: &CurrentUser, to: &str) -> ApiResult<()> {
    if to == a.owner_id {
        return Err(ApiError::invalid("a follow-up cannot be assigned to its owner"));
    }
    let assignee = directory::associate_by_id(conn, to)
        .await?
        .ok_or_else(|| ApiError::invalid(format!("no associate with id `{to}`")))?;
    if store::appointments::assignment_pending(conn, &a.id).await? {
        return Err(ApiError::conflict("the follow-up is already assigned and waiting for an answer"));
    }
    let mut p = blank_participant(&a.id, "associate", invitation::ASSIGNED);
    p.role = "assignee".to_owned();
    p.associate_id = Some(assignee.id);
    p.email = Some(assignee.email);
    p.name = Some(assignee.name);
    store::appointments::insert_participant(conn, &p).await?;
    a.assigned_by = Some(user.id.clone());
    a.updated_at = fmt_instant(store::now());
    Ok(store::appointments::update(conn, a).await?)
}

/// Delegates a follow-up to another associate (owner only). The assignee
/// sees it in their Invitations list and accepts (becoming the owner) or
/// declines.
#[utoipa::path(post, path = "/api/followups/{id}/assign", tag = "followups", params(("id" = String, Path)),
    request_body = Assign, security(("bearer" = [])),
    responses((status = 200, body = FollowUp), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<Assign>,
) -> ApiResult<Json<FollowUp>> {
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let mut a = owned(conn, &user, &id).await?;
    if a.status == status::CANCELLED {
        return Err(ApiError::conflict("the follow-up was deleted"));
    }
    add_assignee(conn, &mut a, &user, req.associate_id.trim()).await?;
    let view = view(conn, &id, Vec::new()).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Assigns a follow-up whose assignment was declined to someone else (the
/// delegator only); the declined answer leaves the delegator's list.
#[utoipa::path(post, path = "/api/followups/{id}/reassign", tag = "followups", params(("id" = String, Path)),
    request_body = Assign, security(("bearer" = [])),
    responses((status = 200, body = FollowUp), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn reassign(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<Assign>,
) -> ApiResult<Json<FollowUp>> {
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let mut a = owned(conn, &user, &id).await?;
    if !store::appointments::see_declined_assignments(conn, &id).await? {
        return Err(ApiError::conflict("there is no declined assignment to reassign"));
    }
    add_assignee(conn, &mut a, &user, req.associate_id.trim()).await?;
    let view = view(conn, &id, Vec::new()).await?;
    tx.commit().await?;
    Ok(Json(view))
}
