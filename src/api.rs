//! Boundary functions: one per operation, written once. The CLI and the
//! WebAssembly module call these and nothing else (STYLE 5), so both give the
//! same answer for the same input.
//!
//! Each takes the message as bytes (raw iCalendar or a whole e-mail) and a
//! request with exactly the shape of the CLI's JSON / flags, and returns data.

use crate::error::{EngineError, ErrorCode, Result};
use crate::expand::{ExpandOptions, Expansion};
use crate::ical::{Component, ParseOptions, parse_calendar};
use crate::itip::{self, OutgoingMessage, PartStat, ProcessOutcome, ScheduleOptions};
use crate::message::{Envelope, InputLimits, read_message};
use crate::outcome::Ignored;
use crate::policy::{self, Context, Decision};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

/// The engine's version, as the CLI and the wasm package report it.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

fn parse_options(limits: &InputLimits) -> ParseOptions {
    // The calendars read here are only lent, never changed, so the lines
    // kept as read stay true to their properties.
    ParseOptions { max_bytes: limits.max_calendar_bytes, keep_raw: true, ..ParseOptions::default() }
}

/// Reads a message and its calendar; the calendar borrows from the envelope.
fn with_calendar<T>(bytes: &[u8], f: impl FnOnce(&Envelope, &Component<'_>) -> Result<T>) -> Result<T> {
    let envelope = read_message(bytes, &InputLimits::default())?;
    let calendar = read_calendar(&envelope)?;
    f(&envelope, &calendar)
}

/// The calendar part of a message read as the engine reads it for a
/// decision (its limits; lines kept as read for the stored copy, so the
/// calendar must only be lent, not changed).
pub fn read_calendar<'e>(envelope: &'e Envelope<'_>) -> Result<Component<'e>> {
    parse_calendar(&envelope.calendar, &parse_options(&InputLimits::default()))
}

fn read_ics(text: &str) -> Result<Component<'_>> {
    parse_calendar(text, &parse_options(&InputLimits::default()))
}

/// `decide`: what the diary does with a message (SPEC 3.3).
pub fn decide(message: &[u8], context: &Context) -> Result<Decision> {
    with_calendar(message, |envelope, calendar| policy::decide(envelope, calendar, context))
}

/// `decide` with the context given as JSON text (the CLI's form).
pub fn decide_json(message: &[u8], context_json: &str) -> Result<Decision> {
    let context = policy::parse_context(context_json)?;
    decide(message, &context)
}

/// The request of `itip process`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(default)]
pub struct ProcessRequest {
    /// The stored calendar object with the same `UID`, as iCalendar text.
    pub existing: Option<String>,
    /// The address the message came from (the e-mail's `From`). By default,
    /// the `From` of an e-mail; for raw iCalendar, no sender check.
    pub sender: Option<String>,
}

/// The result of `itip process`, as the CLI prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(untagged)]
pub enum ProcessResult {
    /// The new stored object, as iCalendar text.
    Stored {
        /// The calendar.
        ics: String,
    },
    /// The message changes nothing or is ignored.
    Ignored {
        /// Why.
        ignored: Ignored,
    },
    /// The stored object is deleted.
    Deleted {
        /// Always true.
        deleted: bool,
    },
}

/// `itip process`: an incoming iTIP message applied to the stored copy.
pub fn itip_process(message: &[u8], request: &ProcessRequest) -> Result<ProcessResult> {
    with_calendar(message, |envelope, calendar| {
        let existing = request.existing.as_deref().map(read_ics).transpose()?;
        let sender = request.sender.clone().or_else(|| envelope.from.clone());
        let outcome = itip::process(calendar, existing.as_ref(), sender.as_deref())?;
        Ok(match outcome {
            ProcessOutcome::Stored(cal) => ProcessResult::Stored { ics: cal.to_ics() },
            ProcessOutcome::Deleted => ProcessResult::Deleted { deleted: true },
            ProcessOutcome::Ignored(reason) => ProcessResult::Ignored { ignored: reason },
        })
    })
}

/// The request of `itip schedule`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(default)]
pub struct ScheduleRequest {
    /// The organizer's stored copy before the change (none: it is new).
    pub old: Option<String>,
    /// The copy after the change (none: it was deleted).
    pub new: Option<String>,
    /// The addresses of the user who made the change.
    pub user: Vec<String>,
    /// The current time (RFC 3339), written as `DTSTAMP`.
    pub now: Option<String>,
    /// Request a reply from attendees (`RSVP`); none: leave as written.
    pub rsvp: Option<bool>,
}

/// `itip schedule`: the messages to send after the organizer changed an object.
pub fn itip_schedule(request: &ScheduleRequest) -> Result<Vec<OutgoingMessage>> {
    let old = request.old.as_deref().map(read_ics).transpose()?;
    let new = request.new.as_deref().map(read_ics).transpose()?;
    let now = parse_instant_or_epoch(request.now.as_deref())?;
    itip::schedule(old.as_ref(), new.as_ref(), &request.user, &ScheduleOptions { now, rsvp: request.rsvp })
}

/// The request of `itip reply`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct ReplyRequest {
    /// The attendee who answers.
    pub attendee: String,
    /// `ACCEPTED`, `TENTATIVE` or `DECLINED`.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "\"ACCEPTED\" | \"TENTATIVE\" | \"DECLINED\""))]
    pub partstat: PartStat,
    /// The current time (RFC 3339), written as `DTSTAMP`.
    #[serde(default)]
    pub now: Option<String>,
}

/// `itip reply`: the `REPLY` an attendee sends.
pub fn itip_reply(invitation: &[u8], request: &ReplyRequest) -> Result<String> {
    let now = parse_instant_or_epoch(request.now.as_deref())?;
    if !matches!(request.partstat, PartStat::Accepted | PartStat::Tentative | PartStat::Declined) {
        return Err(EngineError::new(
            ErrorCode::InvalidValue,
            format!("an answer is `ACCEPTED`, `TENTATIVE` or `DECLINED`, not `{}`", request.partstat.as_str()),
        ));
    }
    with_calendar(invitation, |_, calendar| {
        Ok(itip::reply(calendar, &request.attendee, request.partstat.clone(), now)?.to_ics())
    })
}

/// The request of `expand`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(default)]
pub struct ExpandRequest {
    /// Start of the window (RFC 3339 instant or date), inclusive.
    pub from: Option<String>,
    /// End of the window, exclusive.
    pub until: Option<String>,
    /// Most instances per series (default 1,000).
    pub max_instances: Option<usize>,
    /// Longest window in days (default 730).
    pub horizon_days: Option<i64>,
}

/// `expand`: every occurrence in the window.
pub fn expand(message: &[u8], request: &ExpandRequest) -> Result<Expansion> {
    let mut opts = ExpandOptions {
        from: request.from.as_deref().map(parse_instant).transpose()?,
        until: request.until.as_deref().map(parse_instant).transpose()?,
        ..ExpandOptions::default()
    };
    if let Some(n) = request.max_instances {
        opts.max_instances = n;
    }
    if let Some(d) = request.horizon_days {
        opts.horizon = chrono::TimeDelta::try_days(d.clamp(1, 36_600)).unwrap_or(opts.horizon);
    }
    with_calendar(message, |_, calendar| crate::expand::expand(calendar, &opts))
}

/// Reads an RFC 3339 instant (`2026-12-03T09:00:00Z`, offsets allowed) or a
/// date (`2026-12-03`, midnight UTC) as a UTC wall time.
pub fn parse_instant(s: &str) -> Result<NaiveDateTime> {
    let t = s.trim();
    let read = chrono::DateTime::parse_from_rfc3339(t)
        .map(|dt| dt.naive_utc())
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN)))
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"));
    let Ok(instant) = read else {
        return Err(EngineError::new(ErrorCode::InvalidValue, format!("`{t}` is not an RFC 3339 instant or a date")));
    };
    // The years iCalendar can write; far outside them, window arithmetic
    // would leave the range of dates.
    if !(0..=9999).contains(&chrono::Datelike::year(&instant)) {
        return Err(EngineError::new(ErrorCode::InvalidValue, format!("`{t}` is outside the years 0000 to 9999")));
    }
    Ok(instant)
}

fn parse_instant_or_epoch(s: Option<&str>) -> Result<NaiveDateTime> {
    match s {
        Some(s) => parse_instant(s),
        None => Ok(chrono::DateTime::UNIX_EPOCH.naive_utc()),
    }
}

/// `decide` with the context `check` uses when none is given: the file's
/// organizer is a registered contact and its first attendee is the mailbox.
pub fn decide_with_default_context(message: &[u8]) -> Result<Decision> {
    with_calendar(message, |envelope, calendar| {
        // Read once, for the context and the decision: a calendar that is no
        // scheduling object gets the error `decide` would give.
        let object = crate::itip::SchedulingObject::read_message(calendar, envelope.content_method.as_deref())?;
        let context = default_context(envelope, &object)?;
        policy::decide_object(envelope, &object, &context)
    })
}

fn default_context(envelope: &Envelope, object: &crate::itip::SchedulingObject<'_, '_>) -> Result<Context> {
    let organizer = object.organizer.as_ref();
    let organizer_email = organizer.map(|o| o.email.to_string()).or_else(|| envelope.from.clone()).unwrap_or_default();
    let organizer_name =
        organizer.and_then(|o| o.name.as_deref().map(str::to_owned)).unwrap_or_else(|| organizer_email.clone());
    let mailbox = object
        .attendees()
        .iter()
        .map(|a| a.email.to_string())
        .find(|a| *a != organizer_email)
        .unwrap_or_else(|| "mailbox@invalid".to_owned());
    let json = serde_json::json!({
        "mailbox": mailbox,
        "contacts": [{"email": organizer_email, "person_id": 1, "name": organizer_name}],
    });
    policy::parse_context(&json.to_string())
}
