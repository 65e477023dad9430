//! Free/busy of associates and resources (the group view), resource
//! conflicts, and the first time at which everyone is free.
//!
//! An associate is busy during their own appointments (not cancelled or
//! declined) and their invitations: accepted ones as `busy`, pending ones as
//! `tentative`. A resource is busy during every booking of a follow-up that is
//! not cancelled. First available looks for the earliest slot of the given
//! length, on a quarter hour, Monday to Friday within the working hours of the
//! system preferences (08:00-16:00 UTC unless changed), at most 366 days ahead.

use super::AppState;
use super::auth::CurrentUser;
use super::directory;
use super::error::{ApiError, ApiResult, Json, Query};
use super::preferences::{self, Preferences};
pub use super::store::availability::{associate_busy, resource_busy};
use super::store::{self, fmt_instant, parse_instant, stored_instant};
use axum::extract::State;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::{IntoParams, ToSchema};

/// How far ahead first available looks, in days.
pub const SEARCH_DAYS: i64 = 366;
/// The longest free/busy range, in days.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A busy interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Busy {
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// End, RFC 3339 UTC.
    pub end: String,
    /// `busy`, or `tentative` for an invitation not accepted yet.
    pub status: String,
    /// The appointment that makes it busy.
    pub appointment_id: String,
}

#[derive(Debug, Clone, Copy)]
struct Interval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// The people and things whose time is looked at.
#[derive(Debug, Clone, Default)]
pub struct Attendance {
    /// Associate ids.
    pub associates: Vec<String>,
    /// Resource ids.
    pub resources: Vec<String>,
}

/// Every busy interval of `who` in `[from, until)`, merged and sorted.
async fn merged_busy(
    conn: &mut AnyConnection,
    who: &Attendance,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    exclude: Option<&str>,
) -> ApiResult<Vec<Interval>> {
    let mut all = Vec::new();
    for id in &who.associates {
        all.extend(associate_busy(conn, id, from, until, exclude).await?);
    }
    for id in &who.resources {
        all.extend(resource_busy(conn, id, from, until, exclude).await?);
    }
    let mut intervals: Vec<Interval> =
        all.iter().map(|b| Interval { start: stored_instant(&b.start), end: stored_instant(&b.end) }).collect();
    intervals.sort_by_key(|i| i.start);
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for i in intervals {
        match merged.last_mut() {
            Some(last) if i.start <= last.end => last.end = last.end.max(i.end),
            _ => merged.push(i),
        }
    }
    Ok(merged)
}

/// Whether anyone in `who` is busy at some time in `[start, end)`.
pub async fn anyone_busy(
    conn: &mut AnyConnection,
    who: &Attendance,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    exclude: Option<&str>,
) -> ApiResult<bool> {
    Ok(!merged_busy(conn, who, start, end, exclude).await?.is_empty())
}

fn round_up_quarter(t: DateTime<Utc>) -> DateTime<Utc> {
    let base = t.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(t);
    let over = i64::from(base.minute() % 15);
    let rounded = if over == 0 { base } else { base + Duration::minutes(15 - over) };
    if rounded < t { rounded + Duration::minutes(15) } else { rounded }
}

fn local_instant(prefs: &Preferences, date: NaiveDate, time: chrono::NaiveTime) -> DateTime<Utc> {
    let zone = prefs.zone();
    zone.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| date.and_time(time).and_utc())
}

/// The earliest start at or after `after` at which everyone in `who` is free
/// for `length`, within working hours; `None` when nothing fits within
/// [`SEARCH_DAYS`].
pub async fn first_available(
    conn: &mut AnyConnection,
    prefs: &Preferences,
    who: &Attendance,
    after: DateTime<Utc>,
    length: Duration,
    exclude: Option<&str>,
) -> ApiResult<Option<DateTime<Utc>>> {
    let (work_start, work_end) = prefs.working_hours();
    let horizon = after + Duration::days(SEARCH_DAYS);
    let busy = merged_busy(conn, who, after, horizon + length, exclude).await?;
    let zone = prefs.zone();
    let mut t = round_up_quarter(after);
    let mut next_busy = 0usize;
    // Each turn either returns, moves to the next day, or moves past one busy
    // interval: bounded by the days searched plus the intervals.
    let max_turns = busy.len() + usize::try_from(SEARCH_DAYS).unwrap_or(366) * 2 + 4;
    for _ in 0..max_turns {
        if t >= horizon {
            return Ok(None);
        }
        let local_date = t.with_timezone(&zone).date_naive();
        let day_start = local_instant(prefs, local_date, work_start);
        let day_end = local_instant(prefs, local_date, work_end);
        let weekend = matches!(local_date.weekday(), Weekday::Sat | Weekday::Sun);
        if weekend || t + length > day_end || length > day_end - day_start {
            let next = local_date.succ_opt().unwrap_or(local_date);
            t = local_instant(prefs, next, work_start);
            continue;
        }
        if t < day_start {
            t = day_start;
        }
        while busy.get(next_busy).is_some_and(|b| b.end <= t) {
            next_busy += 1;
        }
        match busy.get(next_busy) {
            Some(b) if b.start < t + length => t = round_up_quarter(b.end),
            _ => return Ok(Some(t)),
        }
    }
    Ok(None)
}

fn split_ids(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .take(100)
        .collect()
}

/// Parameters of the group view.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FreeBusyQuery {
    /// Associate ids, comma-separated.
    pub associates: Option<String>,
    /// Resource ids, comma-separated.
    pub resources: Option<String>,
    /// Start of the range (RFC 3339).
    pub from: String,
    /// End of the range (RFC 3339), at most 366 days after `from`.
    pub until: String,
}

/// The busy intervals of one associate or resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct Schedule {
    /// Associate or resource id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Busy intervals, sorted by start.
    pub busy: Vec<Busy>,
}

/// The group view.
#[derive(Debug, Serialize, ToSchema)]
pub struct FreeBusy {
    /// Start of the range.
    pub from: String,
    /// End of the range.
    pub until: String,
    /// One schedule per associate asked for.
    pub associates: Vec<Schedule>,
    /// One schedule per resource asked for.
    pub resources: Vec<Schedule>,
}

fn range(from: &str, until: &str) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let from = parse_instant("from", from)?;
    let until = parse_instant("until", until)?;
    if until <= from {
        return Err(ApiError::invalid("`until` must be after `from`"));
    }
    if until - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(ApiError::invalid(format!("the range must not be longer than {MAX_RANGE_DAYS} days")));
    }
    Ok((from, until))
}

/// Free/busy of several associates and resources over a range (group view).
/// Only times and statuses are shown, never titles.
#[utoipa::path(get, path = "/api/freebusy", tag = "availability", params(FreeBusyQuery), security(("bearer" = [])),
    responses((status = 200, body = FreeBusy), (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn freebusy(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(q): Query<FreeBusyQuery>,
) -> ApiResult<Json<FreeBusy>> {
    let (from, until) = range(&q.from, &q.until)?;
    let mut conn = state.store.read().await?;
    let mut associates = Vec::new();
    for id in split_ids(&q.associates) {
        let a =
            directory::associate_by_id(&mut conn, &id).await?.ok_or_else(|| ApiError::not_found("associate", &id))?;
        let busy = associate_busy(&mut conn, &id, from, until, None).await?;
        associates.push(Schedule { id, name: a.name, busy });
    }
    let mut resources = Vec::new();
    for id in split_ids(&q.resources) {
        let name = store::availability::resource_name(&mut conn, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("resource", &id))?;
        let busy = resource_busy(&mut conn, &id, from, until, None).await?;
        resources.push(Schedule { id, name, busy });
    }
    Ok(Json(FreeBusy { from: fmt_instant(from), until: fmt_instant(until), associates, resources }))
}

/// Parameters of first available.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FirstAvailableQuery {
    /// Associate ids, comma-separated.
    pub associates: Option<String>,
    /// Resource ids, comma-separated.
    pub resources: Option<String>,
    /// Earliest start (RFC 3339); default now.
    pub after: Option<String>,
    /// Length in minutes (default 60).
    pub duration: Option<i64>,
    /// An appointment to leave out (the one being moved).
    pub exclude: Option<String>,
}

/// A free slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct Slot {
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// End, RFC 3339 UTC.
    pub end: String,
}

/// The first time at which every associate and resource is free.
#[utoipa::path(get, path = "/api/first-available", tag = "availability", params(FirstAvailableQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Slot), (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn first_available_slot(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(q): Query<FirstAvailableQuery>,
) -> ApiResult<Json<Slot>> {
    let after = match &q.after {
        Some(s) => parse_instant("after", s)?,
        None => store::now(),
    };
    let minutes = q.duration.unwrap_or(60);
    if !(1..=24 * 60).contains(&minutes) {
        return Err(ApiError::invalid("`duration` must be between 1 and 1440 minutes"));
    }
    let length = Duration::minutes(minutes);
    let who = Attendance { associates: split_ids(&q.associates), resources: split_ids(&q.resources) };
    let mut conn = state.store.read().await?;
    for id in &who.associates {
        if !directory::exists(&mut conn, "associates", id).await? {
            return Err(ApiError::not_found("associate", id));
        }
    }
    for id in &who.resources {
        if !directory::exists(&mut conn, "resources", id).await? {
            return Err(ApiError::not_found("resource", id));
        }
    }
    let prefs = preferences::load(&mut conn).await?;
    match first_available(&mut conn, &prefs, &who, after, length, q.exclude.as_deref()).await? {
        Some(start) => Ok(Json(Slot { start: fmt_instant(start), end: fmt_instant(start + length) })),
        None => Err(ApiError::conflict(format!("no free time within {SEARCH_DAYS} days"))),
    }
}

/// Marks each resource booking of `appointment_id` that overlaps another
/// booking of the same resource as a conflict (and clears the others).
/// Returns whether any conflict remains.
pub async fn recheck_resources(conn: &mut AnyConnection, appointment_id: &str) -> ApiResult<bool> {
    let mut any = false;
    for booking in store::availability::resource_bookings(conn, appointment_id).await? {
        let (start, end) = (stored_instant(&booking.start), stored_instant(&booking.end));
        let conflict = !resource_busy(conn, &booking.resource_id, start, end, Some(appointment_id)).await?.is_empty();
        any |= conflict;
        store::availability::set_conflict(conn, &booking.participant_id, conflict).await?;
    }
    Ok(any)
}

/// Rechecks every booking of the resources of `appointment_id` that overlaps
/// `[from, until)` (the appointment's old or new time), so that both sides of
/// a double booking show the conflict, and neither does once it is gone.
pub async fn recheck_neighbours(
    conn: &mut AnyConnection,
    appointment_id: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> ApiResult<()> {
    let mut others: Vec<String> = Vec::new();
    for resource in store::availability::resources_of(conn, appointment_id).await? {
        for b in resource_busy(conn, &resource, from, until, Some(appointment_id)).await? {
            if !others.contains(&b.appointment_id) {
                others.push(b.appointment_id);
            }
        }
    }
    for other in others {
        recheck_resources(conn, &other).await?;
    }
    Ok(())
}
