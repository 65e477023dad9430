//! Archiving an e-mail or a meeting (raw `.eml` or `.ics`) to the CRM,
//! linked to persons, companies, projects and sales; link suggestions from the
//! message's addresses; and the Activities of a person's contact card.

use super::AppState;
use super::appointments::{self, Appointment};
use super::auth::CurrentUser;
use super::directory;
use super::error::{ApiError, ApiResult, Json, Query};
use super::inbox::raw_of;
use super::store::{self, engine_instant, fmt_instant, opt_text, text};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use invitelink::error::ErrorCode;
use invitelink::ical::value::email_of;
use invitelink::ical::{ParseOptions, parse_calendar};
use invitelink::itip::SchedulingObject;
use invitelink::message::{InputLimits, read_message};
use mailparse::MailHeaderMap;
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
    let title = main.event.prop("SUMMARY").map(|p| p.text()).unwrap_or_default();
    let location = main.event.prop("LOCATION").map(|p| p.text()).unwrap_or_default();
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
            a.organizer_email = organizer.map(|o| o.email.clone()).filter(|e| !e.is_empty());
            a.organizer_name = organizer.and_then(|o| o.name.clone());
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
            let mail = mailparse::parse_mail(&raw)
                .map_err(|e| ApiError::invalid(format!("the e-mail cannot be read: {e}")))?;
            let header = |n: &str| mail.headers.get_first_value(n).map(|v| v.trim().to_owned());
            let from = header("From").and_then(|f| {
                mailparse::addrparse(&f).ok().and_then(|l| match l.iter().next() {
                    Some(mailparse::MailAddr::Single(s)) => Some(s.addr.to_lowercase()),
                    _ => None,
                })
            });
            (header("Subject").unwrap_or_default(), from, header("Message-ID"))
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
    let id = store::new_id();
    let created_at = fmt_instant(store::now());
    sqlx::query(
        "INSERT INTO archived_items (id, associate_id, kind, subject, from_email, message_id, raw, raw_encoding, \
         appointment_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&user.id)
    .bind(kind)
    .bind(&subject)
    .bind(&from_email)
    .bind(&message_id)
    .bind(&raw_text)
    .bind(encoding)
    .bind(&appointment_id)
    .bind(&created_at)
    .execute(&mut *conn)
    .await?;
    for l in &links {
        sqlx::query("INSERT INTO archive_links (item_id, link_kind, link_id) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(&l.kind)
            .bind(&l.id)
            .execute(&mut *conn)
            .await?;
    }
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(ArchivedItem {
            id,
            kind: kind.to_owned(),
            subject,
            from_email,
            message_id,
            appointment_id,
            links,
            created_at,
        }),
    ))
}

async fn item_links(conn: &mut AnyConnection, id: &str) -> ApiResult<Vec<Link>> {
    let rows =
        sqlx::query("SELECT link_kind, link_id FROM archive_links WHERE item_id = $1 ORDER BY link_kind, link_id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter().map(|r| Ok(Link { kind: text(r, "link_kind")?, id: text(r, "link_id")? })).collect()
}

async fn items_from_rows(conn: &mut AnyConnection, rows: Vec<sqlx::any::AnyRow>) -> ApiResult<Vec<ArchivedItem>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id = text(&row, "id")?;
        let links = item_links(conn, &id).await?;
        out.push(ArchivedItem {
            id,
            kind: text(&row, "kind")?,
            subject: text(&row, "subject")?,
            from_email: opt_text(&row, "from_email")?,
            message_id: opt_text(&row, "message_id")?,
            appointment_id: opt_text(&row, "appointment_id")?,
            links,
            created_at: text(&row, "created_at")?,
        });
    }
    Ok(out)
}

/// The items the signed-in user archived, newest first.
#[utoipa::path(get, path = "/api/archive", tag = "archive", security(("bearer" = [])),
    responses((status = 200, body = [ArchivedItem]), (status = 401, body = super::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Vec<ArchivedItem>>> {
    let mut conn = state.store.read().await?;
    let rows = sqlx::query(
        "SELECT id, kind, subject, from_email, message_id, appointment_id, created_at FROM archived_items \
         WHERE associate_id = $1 ORDER BY created_at DESC, id LIMIT 500",
    )
    .bind(&user.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Json(items_from_rows(&mut conn, rows).await?))
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
        let rows = sqlx::query(
            "SELECT p.id, p.name, p.company_id, c.name AS company_name FROM person_emails e JOIN persons p \
             ON p.id = e.person_id LEFT JOIN companies c ON c.id = p.company_id WHERE e.email = $1 ORDER BY p.name",
        )
        .bind(address)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let id = text(&row, "id")?;
            if persons.iter().any(|s: &Suggestion| s.id == id) {
                continue;
            }
            if let (Some(cid), Some(cname)) = (opt_text(&row, "company_id")?, opt_text(&row, "company_name")?)
                && !companies.iter().any(|c| c.0 == cid)
            {
                companies.push((cid, cname.clone(), format!("company of {}", text(&row, "name")?)));
            }
            persons.push(Suggestion {
                kind: "person".to_owned(),
                name: text(&row, "name")?,
                reason: format!("registered with {address}"),
                id,
            });
        }
    }
    for address in &addresses {
        let Some(domain) = address.rsplit('@').next() else { continue };
        let rows = sqlx::query("SELECT id, name FROM companies WHERE LOWER(domain) = $1 AND ours = 0")
            .bind(domain)
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            let id = text(&row, "id")?;
            if !companies.iter().any(|c| c.0 == id) {
                companies.push((id, text(&row, "name")?, format!("e-mail domain {domain}")));
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
            let rows = sqlx::query(&format!(
                "SELECT id, name FROM {table} WHERE company_id = $1 AND status = 'open' ORDER BY name LIMIT 50"
            ))
            .bind(cid)
            .fetch_all(&mut *conn)
            .await?;
            for row in rows {
                deals.push(Suggestion {
                    kind: kind.to_owned(),
                    id: text(&row, "id")?,
                    name: text(&row, "name")?,
                    reason: format!("open {kind} of {cname}"),
                });
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
    let rows = sqlx::query(
        "SELECT a.id, a.title, a.start_at, a.end_at, a.status, a.owner_id, \
         (SELECT MAX(p.status) FROM participants p WHERE p.appointment_id = a.id AND p.person_id = $1) AS participant_status, \
         CASE WHEN a.owner_id = $2 OR a.assigned_by = $2 OR EXISTS (SELECT 1 FROM participants q \
         WHERE q.appointment_id = a.id AND q.associate_id = $2) THEN 1 ELSE 0 END AS visible \
         FROM appointments a WHERE a.person_id = $1 \
         OR a.id IN (SELECT appointment_id FROM participants WHERE person_id = $1) ORDER BY a.start_at DESC LIMIT 500",
    )
    .bind(&id)
    .bind(&user.id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        let visible = user.is_admin() || store::flag(&row, "visible")?;
        let status = text(&row, "status")?;
        let (title, status, participant_status) = if visible {
            (text(&row, "title")?, status, opt_text(&row, "participant_status")?)
        } else {
            let shown = match status.as_str() {
                appointments::status::TENTATIVE | appointments::status::CANCELLED => status,
                _ => "busy".to_owned(),
            };
            (String::new(), shown, None)
        };
        out.push(Activity {
            kind: "appointment".to_owned(),
            id: text(&row, "id")?,
            title,
            start: text(&row, "start_at")?,
            end: Some(text(&row, "end_at")?),
            status,
            associate_id: text(&row, "owner_id")?,
            participant_status,
            private: !visible,
        });
    }
    let rows = sqlx::query(
        "SELECT i.id, i.subject, i.created_at, i.kind, i.associate_id FROM archived_items i JOIN archive_links l \
         ON l.item_id = i.id WHERE l.link_kind = 'person' AND l.link_id = $1 AND (i.associate_id = $2 OR $3 = 1) \
         ORDER BY i.created_at DESC LIMIT 500",
    )
    .bind(&id)
    .bind(&user.id)
    .bind(store::bit(user.is_admin()))
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        out.push(Activity {
            kind: "archived".to_owned(),
            id: text(&row, "id")?,
            title: text(&row, "subject")?,
            start: text(&row, "created_at")?,
            end: None,
            status: text(&row, "kind")?,
            associate_id: text(&row, "associate_id")?,
            participant_status: None,
            private: false,
        });
    }
    out.sort_by(|a, b| b.start.cmp(&a.start));
    Ok(Json(out))
}
