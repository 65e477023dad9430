//! The private calendar feed (docs/administration.md, "Calendar feed"): each
//! associate may have one URL, `/feeds/SECRET.ics`, that serves their CRM
//! diary as an iCalendar file (RFC 5545, `text/calendar`) for Outlook,
//! Google Calendar and Apple Calendar to subscribe to. The secret is 256
//! random bits of its own (not a sign-in token), shown once when the feed
//! is made and stored as its SHA-256; making a new feed replaces the old
//! one, revoking it deletes it: either way the old URL answers 404 at once.
//!
//! The feed holds the associate's own appointments (cancelled ones as
//! `STATUS:CANCELLED`, declined ones left out) and the invitations they
//! accepted, from a year back on; a series as one event with its rule and
//! time zone, the occurrences cancelled since as `EXDATE`s. It is the
//! read-only form of the synchronizer: nothing comes back from it.

use super::AppState;
use super::appointments::ical_utc;
use super::auth::{SignedIn, token_hash};
use super::error::{ApiError, ApiResult, Json};
use super::store::feeds::FeedAppointment;
use super::store::{self, fmt_instant, hex};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use invitelink::ical::value::escape_text;
use invitelink::ical::{Component, ParseOptions, Property, parse_calendar};
use invitelink::itip::{SeriesLines, vtimezone_id};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// How often subscribers are asked to fetch the feed again
/// (`REFRESH-INTERVAL`, RFC 7986 5.7, and Outlook's `X-PUBLISHED-TTL`).
pub const REFRESH: &str = "PT30M";

/// The most appointments of each kind one feed holds.
pub const MAX_EVENTS: i64 = 5000;

/// How far back the feed goes, in days.
pub const DAYS_BACK: i64 = 366;

/// The signed-in user's feed, without its URL (shown once, when made).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedStatus {
    /// Whether the user has a feed.
    pub active: bool,
    /// When it was made.
    pub created_at: Option<String>,
    /// When a subscriber last fetched it.
    pub last_fetched_at: Option<String>,
}

/// A new feed, with its URL (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct NewFeed {
    /// The feed's path on this server (`/feeds/SECRET.ics`); prefix the
    /// server's origin for the URL to subscribe to.
    pub path: String,
    /// When it was made.
    pub created_at: String,
}

/// The signed-in user's feed.
#[utoipa::path(get, path = "/api/me/feed", tag = "feed", security(("bearer" = [])),
    responses((status = 200, body = FeedStatus), (status = 401, body = super::error::ErrorBody)))]
pub async fn status(State(state): State<AppState>, session: SignedIn) -> ApiResult<Json<FeedStatus>> {
    let mut conn = state.store.read().await?;
    Ok(Json(match store::feeds::of(&mut conn, &session.user.id).await? {
        Some((created_at, last_fetched_at)) => {
            FeedStatus { active: true, created_at: Some(created_at), last_fetched_at }
        }
        None => FeedStatus { active: false, created_at: None, last_fetched_at: None },
    }))
}

/// Makes the signed-in user's feed, replacing (and so revoking) any earlier
/// one; the answer holds its URL's path, shown this once.
#[utoipa::path(post, path = "/api/me/feed", tag = "feed", security(("bearer" = [])),
    responses((status = 201, body = NewFeed), (status = 401, body = super::error::ErrorBody)))]
pub async fn create(State(state): State<AppState>, session: SignedIn) -> ApiResult<(StatusCode, Json<NewFeed>)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    let secret = hex(&bytes);
    let created_at = fmt_instant(store::now());
    let mut tx = state.store.write().await?;
    store::feeds::replace(tx.conn(), &session.user.id, &token_hash(&secret), &created_at).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(NewFeed { path: format!("/feeds/{secret}.ics"), created_at })))
}

/// Revokes the signed-in user's feed: its URL answers 404 from now on.
#[utoipa::path(delete, path = "/api/me/feed", tag = "feed", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::ErrorBody)))]
pub async fn revoke(State(state): State<AppState>, session: SignedIn) -> ApiResult<StatusCode> {
    let mut tx = state.store.write().await?;
    store::feeds::revoke(tx.conn(), &session.user.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn no_feed() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such calendar feed")
}

/// The feed itself (no token: the secret in the URL is the credential):
/// `text/calendar` with an `ETag`; `If-None-Match` with the current one
/// answers 304. An unknown or revoked feed, or a disabled associate's,
/// answers 404.
#[utoipa::path(get, path = "/feeds/{file}", tag = "feed", params(("file" = String, Path, description = "SECRET.ics")),
    responses((status = 200, content_type = "text/calendar", description = "the diary, RFC 5545"),
        (status = 304, description = "not modified since the ETag given"),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn serve(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    let secret = file.strip_suffix(".ics").unwrap_or(&file);
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(no_feed());
    }
    let (owner, name) = {
        let mut conn = state.store.read().await?;
        store::feeds::owner(&mut conn, &token_hash(secret)).await?.ok_or_else(no_feed)?
    };
    let body = {
        let mut conn = state.store.read().await?;
        calendar(&mut conn, &owner, &name).await?
    };
    let tag = format!("\"{}\"", hex(Sha256::digest(body.as_bytes()).get(..16).unwrap_or_default()));
    // Fetches are recorded at most once a minute, so that polling does not write each time.
    let now = store::now();
    let mut tx = state.store.write().await?;
    store::feeds::fetched(tx.conn(), &owner, now).await?;
    tx.commit().await?;
    let matches =
        headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
            |t| {
                let t = t.trim();
                t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag
            },
        );
    let etag = HeaderValue::from_str(&tag).map_err(ApiError::internal)?;
    let cache = HeaderValue::from_static("private, no-cache");
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, cache)]).into_response());
    }
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8")),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response())
}

/// The iCalendar status of a stored appointment status.
fn ical_status(status: &str) -> &'static str {
    match status {
        "tentative" => "TENTATIVE",
        "cancelled" => "CANCELLED",
        _ => "CONFIRMED",
    }
}

/// The diary of `owner` (named `name`) as an iCalendar object.
pub async fn calendar(conn: &mut AnyConnection, owner: &str, name: &str) -> ApiResult<String> {
    let since = fmt_instant(store::now() - chrono::Duration::days(DAYS_BACK));
    let (own, accepted) = store::feeds::appointments(conn, owner, &since, MAX_EVENTS).await?;
    let mut cal = Component::new("VCALENDAR");
    let title = escape_text(&format!("{name} · CRM diary"));
    for (k, v) in [
        ("VERSION", "2.0".to_owned()),
        ("PRODID", "-//invitelink//CRM diary feed//EN".to_owned()),
        ("CALSCALE", "GREGORIAN".to_owned()),
        ("METHOD", "PUBLISH".to_owned()),
        ("NAME", title.clone()),
        ("X-WR-CALNAME", title),
        ("X-PUBLISHED-TTL", REFRESH.to_owned()),
    ] {
        cal.properties.push(Property::new(k, v));
    }
    let mut refresh = Property::new("REFRESH-INTERVAL", REFRESH);
    refresh.set_param("VALUE", "DURATION");
    cal.properties.push(refresh);
    let mut zones: Vec<Component<'static>> = Vec::new();
    let mut events = Vec::with_capacity(own.len() + accepted.len());
    for row in own.iter().chain(accepted.iter()) {
        let cancelled_occurrences: Vec<String> =
            if row.recurring { store::feeds::cancelled_occurrences(conn, &row.id).await? } else { Vec::new() };
        events.push(event(row, &cancelled_occurrences, &mut zones)?);
    }
    cal.components.extend(zones);
    cal.components.extend(events);
    Ok(cal.to_ics())
}

/// The time and rule lines of the master event of a stored iCalendar
/// source, with the time zones they name (the snapshot's
/// [`invitelink::itip::SchedulingObject::series_lines`]); `None` when it has
/// none to give.
fn source_times(ics: &str, uid: &str) -> Option<SeriesLines> {
    let cal = parse_calendar(ics, &ParseOptions::default()).ok()?;
    let object = invitelink::itip::SchedulingObject::read(&cal).ok().filter(|o| o.uid == uid)?;
    object.series_lines()
}

/// One VEVENT for a stored appointment row; its time zones go to `zones`.
fn event(
    row: &FeedAppointment,
    cancelled_occurrences: &[String],
    zones: &mut Vec<Component<'static>>,
) -> ApiResult<Component<'static>> {
    let uid = row.uid.clone();
    let mut ev = Component::new("VEVENT");
    ev.properties.push(Property::new("UID", uid.clone()));
    ev.properties.push(Property::new("DTSTAMP", ical_utc(store::stored_instant(&row.updated_at))));
    ev.properties.push(Property::new("SEQUENCE", row.ical_sequence.to_string()));
    let recurring = row.recurring;
    let from_source = row.ics.as_deref().and_then(|ics| source_times(ics, &uid));
    // A series always keeps its rule and zone; a single appointment takes
    // its source's times only when they name a zone (else UTC from the
    // columns). The stored source is rewritten whenever the appointment
    // changes (the organizer's update, or the CRM's own copy on a
    // reschedule), so its times are the appointment's.
    match from_source.filter(|source| recurring || !source.zones.is_empty()) {
        Some(SeriesLines { lines, zones: tz }) => {
            ev.properties.extend(lines);
            for z in tz {
                let id = vtimezone_id(&z);
                if !zones.iter().any(|k| vtimezone_id(k) == id) {
                    zones.push(z);
                }
            }
            for r in cancelled_occurrences {
                ev.properties.push(Property::new("EXDATE", ical_utc(store::stored_instant(r))));
            }
        }
        None if row.all_day => {
            let start = store::stored_instant(&row.start);
            let end = store::stored_instant(&row.end);
            for (name, t) in [("DTSTART", start), ("DTEND", end)] {
                let mut p = Property::new(name, t.format("%Y%m%d").to_string());
                p.set_param("VALUE", "DATE");
                ev.properties.push(p);
            }
        }
        None => {
            ev.properties.push(Property::new("DTSTART", ical_utc(store::stored_instant(&row.start))));
            ev.properties.push(Property::new("DTEND", ical_utc(store::stored_instant(&row.end))));
        }
    }
    ev.properties.push(Property::new("SUMMARY", escape_text(&row.title)));
    if !row.location.is_empty() {
        ev.properties.push(Property::new("LOCATION", escape_text(&row.location)));
    }
    ev.properties.push(Property::new("STATUS", ical_status(&row.status)));
    if let Some(email) = &row.organizer_email {
        let mut organizer = Property::new("ORGANIZER", format!("mailto:{email}"));
        if let Some(name) = &row.organizer_name {
            organizer.set_param("CN", name.clone());
        }
        ev.properties.push(organizer);
    }
    Ok(ev)
}
