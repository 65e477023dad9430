//! Archiving an e-mail or a meeting (raw `.eml` or `.ics`) to the CRM,
//! linked to persons, companies, projects and sales; link suggestions from the
//! message's addresses; and the Activities of a person's contact card.

use super::AppState;
use super::appointments::{self, Appointment};
use super::auth::CurrentUser;
use super::directory;
use super::error::{ApiError, ApiResult, Json, Query};
use super::inbox::raw_of;
use super::store::{self, engine_instant, fmt_instant};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use invitelink::error::ErrorCode;
use invitelink::ical::value::email_of;
use invitelink::ical::{ParseOptions, parse_calendar};
use invitelink::itip::SchedulingObject;
use invitelink::message::{InputLimits, read_message};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::{IntoParams, ToSchema};

/// A link of an archived item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Link {
    /// `person`, `company`, `project` or `sale`.
    pub kind: String,
    /// The record's id.
    pub id: String,
}

/// What to archive.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ArchiveRequest {
    /// The raw `.eml` or `.ics` text.
    pub message: Option<String>,
    /// The raw message, base64 (for 8-bit e-mails).
    pub message_base64: Option<String>,
    /// Records to link it to.
    #[serde(default)]
    pub links: Vec<Link>,
}

/// An archived e-mail or meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArchivedItem {
    /// Id.
    pub id: String,
    /// `email` or `meeting`.
    pub kind: String,
    /// Subject (or the meeting's title).
    pub subject: String,
    /// Sender's address.
    pub from_email: Option<String>,
    /// `Message-ID`.
    pub message_id: Option<String>,
    /// The appointment created or updated from a meeting.
    pub appointment_id: Option<String>,
    /// Links.
    pub links: Vec<Link>,
    /// Archived at.
    pub created_at: String,
}

fn table_of(kind: &str) -> Option<&'static str> {
    match kind {
        "person" => Some("persons"),
        "company" => Some("companies"),
        "project" => Some("projects"),
        "sale" => Some("sales"),
        _ => None,
    }
}

/// Creates or updates the user's appointment for an archived meeting.
async fn meeting_appointment(
    conn: &mut AnyConnection,
    user: &CurrentUser,
    calendar_text: &str,
    links: &[Link],
) -> ApiResult<Option<(String, String)>> {
    let calendar = parse_calendar(calendar_text, &ParseOptions::default())?;
    // The engine's one reading of the meeting; a calendar that is no
    // scheduling object (no event, no `UID`) is archived as a plain e-mail.
    let Ok(object) = SchedulingObject::read(&calendar) else { return Ok(None) };
    let Some(main) = object.main() else { return Ok(None) };
    let (Some(start), Some(end), all_day) = object.span(main) else { return Ok(None) };
    let (start, end) = (engine_instant(&start), engine_instant(&end));
    let uid = object.uid.clone();
    // Read as the inbox reads them (the snapshot's text: unescaped, trimmed).
    let title = main.text("SUMMARY").unwrap_or_default();
    let location = main.text("LOCATION").unwrap_or_default();
    let sequence = main.sequence.unwrap_or(0);
    let organizer = object.organizer.as_ref();
    let recurring = object.recurring;
    let cancelled = main.is_cancelled();
    let link = |kind: &str| links.iter().find(|l| l.kind == kind).map(|l| l.id.clone());
    let now = fmt_instant(store::now());
    let existing = store::appointments::find_by_uid(conn, &user.id, &uid).await?;
    let mut a = existing.clone().unwrap_or_else(|| Appointment {
        start: start.clone(),
        end: end.clone(),
        all_day,
        status: appointments::status::ACCEPTED.to_owned(),
        recurring,
        sequence,
        ..Appointment::new(store::new_id(), &user.id, "archive", uid.clone(), &now)
    });
    if existing.is_none() || sequence >= a.sequence {
        a.title = title;
        a.location = location;
        a.start = start;
        a.end = end;
        a.all_day = all_day;
        a.recurring = recurring;
        a.sequence = sequence;
        if a.origin != "crm" {
            a.ics = Some(calendar_text.to_owned());
            a.organizer_email = organizer.map(|o| o.email.to_string()).filter(|e| !e.is_empty());
            a.organizer_name = organizer.and_then(|o| o.name.as_deref().map(str::to_owned));
        }
        if cancelled {
            a.status = appointments::status::CANCELLED.to_owned();
        }
    }
    a.person_id = link("person").or(a.person_id);
    a.company_id = link("company").or(a.company_id);
    a.project_id = link("project").or(a.project_id);
    a.sale_id = link("sale").or(a.sale_id);
    if a.company_id.is_none()
        && let Some(pid) = &a.person_id
        && let Some(p) = directory::find_person(conn, pid).await?
    {
        a.company_id = p.company_id;
    }
    a.updated_at = now;
    if existing.is_some() {
        store::appointments::update(conn, &a).await?;
    } else {
        store::appointments::insert(conn, &a).await?;
    }
    Ok(Some((a.id, a.title)))
}

/// Archives an e-mail or a meeting, linked to records. A meeting (a message
/// with a calendar part, or an `.ics`) also creates or updates its
/// appointment in the user's diary.
#[utoipa::path(post, path = "/api/archive", tag = "archive", request_body = ArchiveRequest,
    security(("bearer" = [])),
    responses((status = 201, body = ArchivedItem), (status = 401, body = super::error::ErrorBody),
        (status = 413, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<ArchiveRequest>,
) -> ApiResult<(StatusCode, Json<ArchivedItem>)> {
    let raw = raw_of(&req.message, &req.message_base64)?;
    let limits = InputLimits::default();
    if raw.len() > limits.max_email_bytes {
        return Err(ApiError::too_large(format!("the message is larger than {} bytes", limits.max_email_bytes)));
    }
    if req.links.len() > 50 {
        return Err(ApiError::invalid("at most 50 links"));
    }
    let envelope = match read_message(&raw, &limits) {
        Ok(e) => Some(e),
        Err(e) if e.code == ErrorCode::NoCalendarPart => None,
        Err(e) => return Err(e.into()),
    };
    let (mut subject, from_email, message_id) = match &envelope {
        Some(e) => (e.subject.clone().unwrap_or_default(), e.from.clone(), e.message_id.clone()),
        None => {
            // No meeting in it: its header fields as the engine reads them.
            let e = invitelink::message::read_headers(&raw);
            (e.subject.unwrap_or_default(), e.from, e.message_id)
        }
    };
    let mut tx = state.store.write().await?;
    let conn = tx.conn();
    let mut links: Vec<Link> = Vec::new();
    for l in &req.links {
        let table = table_of(&l.kind).ok_or_else(|| {
            ApiError::invalid(format!("a link's `kind` is `person`, `company`, `project` or `sale`, not `{}`", l.kind))
        })?;
        if !directory::exists(conn, table, &l.id).await? {
            return Err(ApiError::invalid(format!("no {} with id `{}`", l.kind, l.id)));
        }
        if !links.contains(l) {
            links.push(l.clone());
        }
    }
    let mut kind = "email";
    let mut appointment_id = None;
    if let Some(e) = &envelope
        && let Some((id, title)) = meeting_appointment(conn, &user, &e.calendar, &links).await?
    {
        kind = "meeting";
        appointment_id = Some(id);
        if subject.is_empty() {
            subject = title;
        }
    }
    let (raw_text, encoding) = match String::from_utf8(raw) {
        Ok(t) => (t, "utf8"),
        Err(e) => (invitelink::base64::encode(e.as_bytes()), "base64"),
    };
    let item = ArchivedItem {
        id: store::new_id(),
        kind: kind.to_owned(),
        subject,
        from_email,
        message_id,
        appointment_id,
        links,
        created_at: fmt_instant(store::now()),
    };
    store::archive::insert(conn, &item, &user.id, &raw_text, encoding).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// The items the signed-in user archived, newest first.
#[utoipa::path(get, path = "/api/archive", tag = "archive", security(("bearer" = [])),
    responses((status = 200, body = [ArchivedItem]), (status = 401, body = super::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Vec<ArchivedItem>>> {
    let mut conn = state.store.read().await?;
    Ok(Json(store::archive::list(&mut conn, &user.id).await?))
}

/// The addresses of a message.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// E-mail addresses from the message (`From`, `To`, `Cc`, organizer,
    /// attendees), comma-separated.
    pub addresses: String,
}

/// A suggested link.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    /// `person`, `company`, `project` or `sale`.
    pub kind: String,
    /// The record's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Why it is suggested.
    pub reason: String,
}

/// Link suggestions, likeliest first: the persons registered with the
/// message's addresses, then their companies (and companies whose domain
/// matches an address), then the open projects and sales of those companies.
#[utoipa::path(get, path = "/api/archive/suggestions", tag = "archive", params(SuggestionQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [Suggestion]), (status = 401, body = super::error::ErrorBody)))]
pub async fn suggestions(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(q): Query<SuggestionQuery>,
) -> ApiResult<Json<Vec<Suggestion>>> {
    let mut conn = state.store.read().await?;
    let addresses: Vec<String> =
        q.addresses.split(',').map(email_of).filter(|a| a.contains('@')).take(directory::MAX_LIST as usize).collect();
    let mut persons = Vec::new();
    let mut companies: Vec<(String, String, String)> = Vec::new();
    for address in &addresses {
        for person in store::archive::persons_with_address(&mut conn, address).await? {
            if persons.iter().any(|s: &Suggestion| s.id == person.id) {
                continue;
            }
            if let (Some(cid), Some(cname)) = (person.company_id, person.company_name)
                && !companies.iter().any(|c| c.0 == cid)
            {
                companies.push((cid, cname, format!("company of {}", person.name)));
            }
            persons.push(Suggestion {
                kind: "person".to_owned(),
                name: person.name,
                reason: format!("registered with {address}"),
                id: person.id,
            });
        }
    }
    for address in &addresses {
        let Some(domain) = address.rsplit('@').next() else { continue };
        for (id, name) in store::archive::companies_with_domain(&mut conn, domain).await? {
            if !companies.iter().any(|c| c.0 == id) {
                companies.push((id, name, format!("e-mail domain {domain}")));
            }
        }
    }
    let mut out = persons;
    let mut deals = Vec::new();
    for (cid, cname, reason) in &companies {
        out.push(Suggestion {
            kind: "company".to_owned(),
            id: cid.clone(),
            name: cname.clone(),
            reason: reason.clone(),
        });
        for (table, kind) in [("projects", "project"), ("sales", "sale")] {
            for (id, name) in store::archive::open_deals(&mut conn, table, cid).await? {
                deals.push(Suggestion { kind: kind.to_owned(), id, name, reason: format!("open {kind} of {cname}") });
            }
        }
    }
    deals.sort_by_key(|d| d.kind != "project");
    out.extend(deals);
    Ok(Json(out))
}

/// One activity on a contact card.
#[derive(Debug, Serialize, ToSchema)]
pub struct Activity {
    /// `appointment` or `archived`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The appointment or archived item.
    pub id: String,
    /// Title or subject.
    pub title: String,
    /// Start of the appointment, or when the item was archived.
    pub start: String,
    /// End of the appointment.
    pub end: Option<String>,
    /// Appointment status, or the archived item's kind.
    pub status: String,
    /// The associate whose diary holds it, or who archived it.
    pub associate_id: String,
    /// The person's own status as a participant, when they take part.
    pub participant_status: Option<String>,
    /// The caller may not see this appointment's details: it is shown as the
    /// group view shows it (`title` empty, `status` `busy`, `tentative` or
    /// `cancelled`, no `participant_status`).
    pub private: bool,
}

/// The Activities of a person's contact card: follow-ups they take part in
/// or are linked to, and archived items linked to them; newest first.
///
/// An appointment's details are shown to its owner, its delegator, the
/// associates invited or assigned to it, and administrators; to others it
/// is `private`, shown as the group view shows it. Archived items are
/// listed for the associate who archived them and for administrators only.
#[utoipa::path(get, path = "/api/persons/{id}/activities", tag = "directory", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = [Activity]), (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn activities(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Activity>>> {
    let mut conn = state.store.read().await?;
    if !directory::exists(&mut conn, "persons", &id).await? {
        return Err(ApiError::not_found("person", &id));
    }
    let mut out = Vec::new();
    for a in store::archive::appointments_of_person(&mut conn, &id, &user.id).await? {
        let visible = user.is_admin() || a.visible;
        let status = a.status;
        let (title, status, participant_status) = if visible {
            (a.title, status, a.participant_status)
        } else {
            let shown = match status.as_str() {
                appointments::status::TENTATIVE | appointments::status::CANCELLED => status,
                _ => "busy".to_owned(),
            };
            (String::new(), shown, None)
        };
        out.push(Activity {
            kind: "appointment".to_owned(),
            id: a.id,
            title,
            start: a.start,
            end: Some(a.end),
            status,
            associate_id: a.owner_id,
            participant_status,
            private: !visible,
        });
    }
    let of = if user.is_admin() { None } else { Some(user.id.as_str()) };
    out.extend(store::archive::archived_for_person(&mut conn, &id, of).await?);
    out.sort_by(|a, b| b.start.cmp(&a.start));
    Ok(Json(out))
}
