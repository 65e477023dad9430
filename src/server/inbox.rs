//! The inbox: a raw e-mail (or `.ics`) for a mailbox goes through the
//! engine's decision, and the decision's effects are applied to the store in
//! one transaction. The backend builds the context from the store (contacts
//! and associates named in the message, the stored appointment with the
//! message's `UID`, preferences, settings) and applies effects as written; it
//! never re-derives a rule.
//!
//! The same message twice changes nothing: every applied message is recorded
//! by mailbox and key (its `Message-ID`, else a digest of its calendar), in
//! the same transaction as its effects.

use super::AppState;
use super::appointments::{self, Appointment, blank_participant, invitation};
use super::auth::CurrentUser;
use super::directory::{self, Associate};
use super::error::{ApiError, ApiResult, Json, Query, RawBody};
use super::invitations::add_notification;
use super::outbox::{self, NewMessage, OutboxMessage};
use super::preferences::{self, Preferences};
use super::store::{self, fmt_instant, hex, text};
use crate::ical::value::email_of;
use crate::ical::{Component, ParseOptions, parse_calendar};
use crate::itip::SchedulingObject;
use crate::mail::Judgement;
use crate::message::{Envelope, InputLimits, read_message};
use crate::policy::{self, Decision, Effect, RecordId};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use utoipa::{IntoParams, ToSchema};

/// The most addresses of one message looked up in the CRM.
pub const MAX_ADDRESSES: usize = 500;

/// Which mailbox a message arrived in.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// The receiving mailbox (default: the signed-in user's address). Only
    /// administrators may name another associate's mailbox or the CRM inbox.
    pub mailbox: Option<String>,
}

/// An answer to a message (a button of the inbox or task pane).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActionRequest {
    /// The raw message: e-mail or iCalendar text.
    pub message: Option<String>,
    /// The raw message, base64 (for 8-bit e-mails).
    pub message_base64: Option<String>,
    /// The receiving mailbox (as for `POST /api/inbox`).
    pub mailbox: Option<String>,
    /// The answer.
    pub action: ActionBody,
}

/// The button pressed.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
pub struct ActionBody {
    /// `accept`, `tentative`, `decline` or `accept_all`.
    #[serde(rename = "type")]
    pub kind: ActionKind,
    /// Send the `REPLY` to the organizer (default true).
    #[serde(default = "yes")]
    pub notify: bool,
}

fn yes() -> bool {
    true
}

/// The buttons.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Accept.
    Accept,
    /// Tentative.
    Tentative,
    /// Decline.
    Decline,
    /// Accept every occurrence of a series.
    AcceptAll,
}

/// What the inbox did with a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxResult {
    /// The engine's decision (see the decision JSON of the engine's contract).
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
    /// The message had been applied before: nothing changed.
    pub duplicate: bool,
    /// The appointment the message concerns, when the diary has one.
    pub appointment_id: Option<String>,
    /// Messages queued by this request (the `REPLY` of an answer).
    pub outbox: Vec<OutboxMessage>,
    /// The message's key in `processed_messages` (for the log only).
    #[serde(skip)]
    pub message_key: String,
}

/// Writes the one log record of a message taken in by `mailbox` (`via` the
/// API or a poller) and counts it: its key, the decision's kind, effects and
/// ignored reason. Never the message itself.
pub(crate) fn taken_in(via: &'static str, mailbox: &str, result: &InboxResult) {
    let d = &result.decision;
    let kind = d.get("kind").and_then(serde_json::Value::as_str).unwrap_or("unknown");
    let ignored = d.get("ignored").and_then(serde_json::Value::as_str);
    let effects: Vec<&str> = d
        .get("effects")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(|e| e.get("type").and_then(serde_json::Value::as_str)).collect())
        .unwrap_or_default();
    let outcome = match (result.duplicate, ignored) {
        (true, _) => "duplicate",
        (false, Some(_)) => "ignored",
        (false, None) => "applied",
    };
    tracing::info!(
        target: "invitelink::inbox",
        message_key = %result.message_key,
        mailbox,
        via,
        outcome,
        kind,
        effects = %effects.join(","),
        ignored = ignored.unwrap_or(""),
        appointment_id = result.appointment_id.as_deref().unwrap_or(""),
        "message taken in"
    );
    super::metrics::message_taken(via, mailbox, outcome, ignored.unwrap_or(""));
}

/// Logs and counts a message `mailbox` refused with `code` (4xx).
pub(crate) fn refused(via: &'static str, mailbox: &str, code: &str) {
    tracing::info!(target: "invitelink::inbox", mailbox, via, outcome = "rejected", code, "message refused");
    super::metrics::message_taken(via, mailbox, "rejected", code);
}

/// The engine's decision on a message read once ([`Read`]), timed.
fn decide_timed(read: &Read<'_, '_>, ctx: &policy::Context) -> crate::Result<Decision> {
    let object = read.object.as_ref().map_err(Clone::clone)?;
    let started = std::time::Instant::now();
    let decision = crate::policy::decide_object(read.envelope, object, ctx);
    super::metrics::decision_took(started.elapsed());
    decision
}

/// Where a message is applied.
struct Target {
    /// The address given to the engine as `mailbox`.
    mailbox: String,
    /// The associate whose diary changes.
    owner: Option<Associate>,
    /// The stored appointment with the message's `UID`.
    existing: Option<Appointment>,
    /// Recorded with processed messages.
    mailbox_key: String,
}

/// `user` is `None` for the system (the mail poller): any mailbox, which
/// must then be named.
async fn resolve_target(
    conn: &mut AnyConnection,
    user: Option<&CurrentUser>,
    mailbox: Option<&str>,
    prefs: &Preferences,
    uid: &str,
) -> ApiResult<Target> {
    let named = mailbox.map(email_of).filter(|m| !m.is_empty());
    let mailbox = match (named, user) {
        (Some(m), _) => m,
        (None, Some(user)) => user.email.clone(),
        (None, None) => return Err(ApiError::invalid("name the mailbox the message arrived in")),
    };
    if let Some(user) = user
        && mailbox != user.email
        && !user.is_admin()
    {
        return Err(ApiError::forbidden("only administrators may deliver to another mailbox"));
    }
    if let Some(owner) = directory::associate_by_email(conn, &mailbox).await? {
        let existing = appointments::find_by_uid(conn, &owner.id, uid).await?;
        return Ok(Target { mailbox: mailbox.clone(), owner: Some(owner), existing, mailbox_key: mailbox });
    }
    if mailbox == prefs.crm_inbox {
        // The CRM inbox receives the answers to follow-ups organized in the
        // CRM: they are decided for the follow-up's owner.
        let existing = appointments::find_crm_by_uid(conn, uid).await?;
        let owner = match &existing {
            Some(a) => directory::associate_by_id(conn, &a.owner_id).await?,
            None => None,
        };
        let as_mailbox = owner.as_ref().map(|o| o.email.clone()).unwrap_or_else(|| mailbox.clone());
        return Ok(Target { mailbox: as_mailbox, owner, existing, mailbox_key: mailbox });
    }
    Err(ApiError::invalid(format!("`{mailbox}` is not the mailbox of an associate nor the CRM inbox")))
}

/// A message read once: its envelope, and its meeting as the engine reads
/// it, which gives the `UID`, the addresses to look up and the decision.
struct Read<'c, 'a> {
    envelope: &'c Envelope,
    /// The scheduling snapshot, or why the calendar is none (the decision
    /// is then that error).
    object: crate::Result<SchedulingObject<'c, 'a>>,
}

impl<'c, 'a> Read<'c, 'a> {
    fn new(envelope: &'c Envelope, calendar: &'c Component<'a>) -> Self {
        Read { envelope, object: SchedulingObject::read_message(calendar, envelope.content_method.as_deref()) }
    }

    /// The `UID` of the meeting (empty when it cannot be read).
    fn uid(&self) -> String {
        self.object.as_ref().map(|o| o.uid.clone()).unwrap_or_default()
    }
}

/// Every address named in the message: `From`, `Sender`, organizers,
/// attendees, their `EMAIL` and `SENT-BY` (as the engine reads them; a
/// calendar it cannot read is refused by `decide` anyway).
fn addresses_of(read: &Read<'_, '_>) -> Vec<String> {
    let envelope = read.envelope;
    let mut out: Vec<String> = Vec::new();
    let mut push = |a: &str| {
        let a = email_of(a);
        if a.contains('@') && !out.contains(&a) && out.len() < MAX_ADDRESSES {
            out.push(a);
        }
    };
    for a in [envelope.from.as_deref(), envelope.sender.as_deref()].into_iter().flatten() {
        push(a);
    }
    let object = read.object.as_ref().ok();
    let lines = object.iter().flat_map(|o| o.instances.iter()).flat_map(|i| i.organizer.iter().chain(&i.attendees));
    for line in lines {
        for a in [Some(&line.email), line.alt_email.as_ref(), line.sent_by.as_ref()].into_iter().flatten() {
            push(a);
        }
    }
    out
}

async fn context(
    conn: &mut AnyConnection,
    target: &Target,
    read: &Read<'_, '_>,
    prefs: &Preferences,
    action: Option<ActionBody>,
) -> ApiResult<policy::Context> {
    let mut ctx = policy::Context::for_mailbox(&target.mailbox);
    ctx.now = Some(store::now().naive_utc());
    ctx.preferences = policy::Preferences {
        incoming: prefs.incoming,
        request_reply: prefs.request_reply,
        synchronizer: prefs.synchronizer,
    };
    if let Some(owner) = &target.owner {
        let (import_tentative, synchronizer) = preferences::load_user(conn, &owner.id).await?;
        ctx.user = policy::UserSettings { import_tentative, synchronizer };
    }
    // Every address of the message in two queries: its contacts, then its
    // associates, each listed in the order of the addresses.
    let addresses = addresses_of(read);
    let contacts = contacts_of(conn, &addresses).await?;
    let associates = associates_of(conn, &addresses).await?;
    for address in &addresses {
        for c in contacts.iter().filter(|c| c.email.eq_ignore_ascii_case(address)) {
            ctx.contacts.push(policy::Contact { email: address.clone(), ..c.clone() });
        }
        for a in associates.iter().filter(|a| a.email.eq_ignore_ascii_case(address)) {
            ctx.associates.push(policy::Associate { email: address.clone(), ..a.clone() });
        }
    }
    ctx.existing = target.existing.as_ref().and_then(|a| a.ics.clone());
    ctx.action = action.map(|a| policy::Action {
        kind: match a.kind {
            ActionKind::Accept => policy::ActionType::Accept,
            ActionKind::Tentative => policy::ActionType::Tentative,
            ActionKind::Decline => policy::ActionType::Decline,
            ActionKind::AcceptAll => policy::ActionType::AcceptAll,
        },
        notify: a.notify,
    });
    Ok(ctx)
}

/// `$1, $2, ...` for `n` parameters.
fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The registered contacts with any of `addresses` (lower-case).
async fn contacts_of(conn: &mut AnyConnection, addresses: &[String]) -> ApiResult<Vec<policy::Contact>> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT e.email, p.id, p.name, c.name AS company_name FROM person_emails e JOIN persons p ON p.id = e.person_id \
         LEFT JOIN companies c ON c.id = p.company_id WHERE e.email IN ({})",
        placeholders(addresses.len())
    );
    let mut query = sqlx::query(&sql);
    for a in addresses {
        query = query.bind(a);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            Ok(policy::Contact {
                email: text(row, "email")?,
                person_id: Some(RecordId::Text(text(row, "id")?)),
                name: Some(text(row, "name")?),
                company: store::opt_text(row, "company_name")?,
            })
        })
        .collect()
}

/// The associates with any of `addresses` (lower-case).
async fn associates_of(conn: &mut AnyConnection, addresses: &[String]) -> ApiResult<Vec<policy::Associate>> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT id, name, email FROM associates WHERE email IN ({})", placeholders(addresses.len()));
    let mut query = sqlx::query(&sql);
    for a in addresses {
        query = query.bind(a);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            Ok(policy::Associate {
                email: text(row, "email")?,
                associate_id: Some(RecordId::Text(text(row, "id")?)),
                name: Some(text(row, "name")?),
            })
        })
        .collect()
}

fn record_id(id: &Option<RecordId>) -> Option<String> {
    match id {
        Some(RecordId::Text(t)) => Some(t.clone()),
        Some(RecordId::Number(n)) => Some(n.to_string()),
        None => None,
    }
}

/// An engine instant (`2026-12-03T09:00:00Z`) or date (`2026-12-03`) as stored.
pub(super) fn engine_instant(s: &str) -> String {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return fmt_instant(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return fmt_instant(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    s.to_owned()
}

fn appointment_status(s: policy::AppointmentStatus) -> &'static str {
    match s {
        policy::AppointmentStatus::Tentative => appointments::status::TENTATIVE,
        policy::AppointmentStatus::Accepted => appointments::status::ACCEPTED,
        policy::AppointmentStatus::Declined => appointments::status::DECLINED,
    }
}

fn partstat_status(partstat: &str) -> &'static str {
    match partstat.to_ascii_uppercase().as_str() {
        "ACCEPTED" => invitation::ACCEPTED,
        "DECLINED" => invitation::DECLINED,
        "TENTATIVE" => invitation::TENTATIVE,
        "DELEGATED" => "delegated",
        _ => invitation::NEEDS_ACTION,
    }
}

/// Writes the engine's view of an appointment onto `a`.
async fn fill(
    conn: &mut AnyConnection,
    a: &mut Appointment,
    app: &policy::Appointment,
    sequence: i64,
) -> ApiResult<()> {
    a.title = app.summary.clone().unwrap_or_default();
    a.location = app.location.clone().unwrap_or_default();
    if let Some(start) = &app.start {
        a.start = engine_instant(start);
    }
    if let Some(end) = &app.end {
        a.end = engine_instant(end);
    } else {
        a.end = a.start.clone();
    }
    a.all_day = app.all_day;
    a.status = appointment_status(app.status).to_owned();
    a.uid = app.uid.clone();
    a.sequence = sequence;
    a.ics = Some(app.ics.clone());
    if let Some(o) = &app.organizer {
        a.organizer_email = Some(o.email.clone());
        a.organizer_name = o.name.clone().or_else(|| o.person_name.clone());
    }
    if let Some(contact) = &app.contact {
        a.person_id = record_id(&contact.person_id);
        if let Some(pid) = &a.person_id {
            let row = sqlx::query("SELECT company_id FROM persons WHERE id = $1")
                .bind(pid)
                .fetch_optional(&mut *conn)
                .await?;
            if let Some(row) = row {
                a.company_id = store::opt_text(&row, "company_id")?;
            }
        }
    }
    a.updated_at = fmt_instant(store::now());
    Ok(())
}

/// Replaces the participants and occurrences of a received appointment by
/// the engine's view (`fresh`: the appointment was just inserted and has
/// none yet).
async fn write_attendees(
    conn: &mut AnyConnection,
    a: &Appointment,
    app: &policy::Appointment,
    fresh: bool,
) -> ApiResult<()> {
    if !fresh {
        sqlx::query("DELETE FROM participants WHERE appointment_id = $1").bind(&a.id).execute(&mut *conn).await?;
    }
    for at in &app.attendees {
        if at.is_user {
            continue;
        }
        let party = &at.party;
        let kind = if party.associate_id.is_some() {
            "associate_contact"
        } else if party.person_id.is_some() {
            "person"
        } else {
            "email"
        };
        // Associates of a received meeting are recorded by address: their
        // own diaries get the meeting from their own mailboxes.
        let kind = if kind == "associate_contact" { "email" } else { kind };
        let mut p = blank_participant(&a.id, kind, partstat_status(&at.partstat));
        p.person_id = record_id(&party.person_id);
        p.email = Some(party.email.clone());
        p.name = party.name.clone().or_else(|| party.person_name.clone()).or_else(|| party.associate_name.clone());
        appointments::insert_participant(conn, &p).await?;
    }
    if let Some(occurrences) = &app.occurrences {
        if !fresh {
            sqlx::query("DELETE FROM occurrences WHERE appointment_id = $1").bind(&a.id).execute(&mut *conn).await?;
        }
        for o in occurrences.iter().take(10_000) {
            let status = match o.status.as_deref() {
                Some(s) if s.eq_ignore_ascii_case("CANCELLED") => "cancelled",
                _ => "active",
            };
            sqlx::query(
                "INSERT INTO occurrences (appointment_id, recurrence_id, start_at, end_at, status) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (appointment_id, recurrence_id) DO NOTHING",
            )
            .bind(&a.id)
            .bind(&o.recurrence_id)
            .bind(engine_instant(&o.start))
            .bind(engine_instant(&o.end))
            .bind(status)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

async fn set_ics(conn: &mut AnyConnection, appointment_id: &str, ics: &str) -> ApiResult<()> {
    sqlx::query("UPDATE appointments SET ics = $2, updated_at = $3 WHERE id = $1")
        .bind(appointment_id)
        .bind(ics)
        .bind(fmt_instant(store::now()))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn notice_text(what: &str, attendee: Option<&str>, title: &str) -> String {
    let who = attendee.unwrap_or("an attendee");
    match what {
        "invitation_declined" => format!("{who} declined your invitation to \"{title}\""),
        "appointment_moved" => format!("the organizer moved \"{title}\""),
        "appointment_cancelled" => format!("the organizer cancelled \"{title}\""),
        "refresh_requested" => format!("{who} asks for the latest version of \"{title}\""),
        "counter_declined" => format!("the organizer declined your proposal for \"{title}\""),
        other => format!("{other}: \"{title}\""),
    }
}

fn json_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Applies the effects of `decision` for `target`, looked up by the
/// message's `uid` (inside the caller's transaction). Returns the
/// appointment concerned and the queued messages.
async fn apply(
    conn: &mut AnyConnection,
    target: &Target,
    uid: &str,
    decision: &Decision,
) -> ApiResult<(Option<String>, Vec<OutboxMessage>)> {
    let mut current = target.existing.clone();
    let mut queued = Vec::new();
    for effect in &decision.effects {
        match effect {
            Effect::CreateAppointment(app) => {
                let Some(owner) = &target.owner else {
                    return Err(ApiError::invalid(
                        "the CRM inbox has no diary: deliver invitations to a user's mailbox",
                    ));
                };
                let existing = match &current {
                    Some(a) => Some(a.clone()),
                    // The target's lookup by this `UID` found none.
                    None if app.uid == uid => None,
                    None => appointments::find_by_uid(conn, &owner.id, &app.uid).await?,
                };
                let now = fmt_instant(store::now());
                let mut a = existing.clone().unwrap_or_else(|| Appointment {
                    id: store::new_id(),
                    owner_id: owner.id.clone(),
                    origin: "email".to_owned(),
                    title: String::new(),
                    location: String::new(),
                    description: String::new(),
                    start: now.clone(),
                    end: now.clone(),
                    all_day: false,
                    status: String::new(),
                    moved: false,
                    recurring: decision.recurring,
                    uid: app.uid.clone(),
                    sequence: 0,
                    dtstamp: Some(now.clone()),
                    organizer_email: None,
                    organizer_name: None,
                    ics: None,
                    person_id: None,
                    company_id: None,
                    project_id: None,
                    sale_id: None,
                    assigned_by: None,
                    first_available: None,
                    created_at: now.clone(),
                    updated_at: now,
                });
                fill(conn, &mut a, app, decision.sequence).await?;
                a.recurring = decision.recurring;
                if existing.is_some() {
                    appointments::update(conn, &a).await?;
                } else {
                    appointments::insert(conn, &a).await?;
                }
                write_attendees(conn, &a, app, existing.is_none()).await?;
                current = Some(a);
            }
            Effect::UpdateAppointment(update) => {
                let Some(mut a) = current.clone() else { continue };
                fill(conn, &mut a, &update.appointment, decision.sequence).await?;
                a.moved = a.moved || update.moved;
                appointments::update(conn, &a).await?;
                if a.origin != "crm" {
                    write_attendees(conn, &a, &update.appointment, false).await?;
                }
                current = Some(a);
            }
            Effect::CancelAppointment { ics, .. } => {
                let Some(mut a) = current.clone() else { continue };
                a.status = appointments::status::CANCELLED.to_owned();
                if let Some(ics) = ics {
                    a.ics = Some(ics.clone());
                }
                a.sequence = a.sequence.max(decision.sequence);
                a.updated_at = fmt_instant(store::now());
                appointments::update(conn, &a).await?;
                current = Some(a);
            }
            Effect::CancelOccurrence { recurrence_id, ics, .. } => {
                let Some(a) = current.clone() else { continue };
                sqlx::query(
                    "UPDATE occurrences SET status = 'cancelled' WHERE appointment_id = $1 AND recurrence_id = $2",
                )
                .bind(&a.id)
                .bind(recurrence_id)
                .execute(&mut *conn)
                .await?;
                set_ics(conn, &a.id, ics).await?;
                current = appointments::find(conn, &a.id).await?;
            }
            Effect::SetAttendeeStatus { attendee, partstat, recurrence_id, party, ics, .. } => {
                let Some(a) = current.clone() else { continue };
                set_ics(conn, &a.id, ics).await?;
                if recurrence_id.is_none() {
                    let address = email_of(attendee);
                    let participants = appointments::participants(conn, &a.id).await?;
                    let found = participants
                        .iter()
                        .find(|p| p.email.as_deref().is_some_and(|e| crate::ical::value::same_address(e, &address)));
                    let status = partstat_status(partstat);
                    match found {
                        Some(p) if p.kind == "associate" => {}
                        Some(p) => appointments::set_participant_status(conn, &p.id, status).await?,
                        None => {
                            let kind = if party.person_id.is_some() { "person" } else { "email" };
                            let mut p = blank_participant(&a.id, kind, status);
                            p.person_id = record_id(&party.person_id);
                            p.email = Some(address);
                            p.name = party.name.clone().or_else(|| party.person_name.clone());
                            appointments::insert_participant(conn, &p).await?;
                        }
                    }
                }
                current = appointments::find(conn, &a.id).await?;
            }
            Effect::SendReply { partstat, to, from, ics } => {
                let title = current.as_ref().map(|a| a.title.clone()).unwrap_or_default();
                let word = match partstat.to_ascii_uppercase().as_str() {
                    "ACCEPTED" => "Accepted",
                    "DECLINED" => "Declined",
                    _ => "Tentative",
                };
                queued.push(
                    outbox::queue(
                        conn,
                        NewMessage {
                            appointment_id: current.as_ref().map(|a| a.id.clone()),
                            associate_id: target.owner.as_ref().map(|o| o.id.clone()),
                            method: "REPLY".to_owned(),
                            sender: email_of(from),
                            recipient: email_of(to),
                            reply_to: None,
                            subject: format!("{word}: {title}"),
                            ics: ics.clone(),
                        },
                    )
                    .await?,
                );
            }
            Effect::Notify { what, attendee } => {
                let Some(owner) = &target.owner else { continue };
                let title = current.as_ref().map(|a| a.title.clone()).unwrap_or_default();
                let what = json_name(what);
                let who = match (attendee, &current) {
                    (Some(address), Some(a)) => appointments::participants(conn, &a.id)
                        .await?
                        .into_iter()
                        .find(|p| p.email.as_deref().is_some_and(|e| crate::ical::value::same_address(e, address)))
                        .and_then(|p| p.name)
                        .or_else(|| Some(address.clone())),
                    (attendee, _) => attendee.clone(),
                };
                let message = notice_text(&what, who.as_deref(), &title);
                add_notification(conn, &owner.id, &what, current.as_ref().map(|a| a.id.as_str()), &message).await?;
            }
            Effect::CounterProposal { attendee, start, end, .. } => {
                let Some(owner) = &target.owner else { continue };
                let title = current.as_ref().map(|a| a.title.clone()).unwrap_or_default();
                let message = format!(
                    "{attendee} proposes another time for \"{title}\": {} to {}",
                    start.as_deref().unwrap_or("?"),
                    end.as_deref().unwrap_or("?")
                );
                add_notification(
                    conn,
                    &owner.id,
                    "counter_proposal",
                    current.as_ref().map(|a| a.id.as_str()),
                    &message,
                )
                .await?;
            }
            Effect::SuggestContact { .. } => {}
        }
    }
    Ok((current.map(|a| a.id), queued))
}

/// The key a message is recorded under in `processed_messages`: the
/// SHA-256 (hex) of its `Message-ID`, or of its calendar when it has none.
/// Hashed, so that a key of any length fits an index entry.
fn message_key(envelope: &Envelope) -> String {
    hex(&Sha256::digest(legacy_message_key(envelope).as_bytes()))
}

/// The key as recorded before version 3 of the store (the plain
/// `Message-ID`), still looked up so that a message applied before the
/// upgrade is not applied again.
fn legacy_message_key(envelope: &Envelope) -> String {
    match envelope.message_id.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(id) => format!("message-id:{id}"),
        None => format!("sha256:{}", hex(&Sha256::digest(envelope.calendar.as_bytes()))),
    }
}

fn limits() -> InputLimits {
    InputLimits::default()
}

/// How many times a message is decided again because its appointment
/// changed between the decision and the write.
const MAX_DECISIONS: usize = 5;

/// A message decided on a snapshot of the store, waiting to be applied.
pub(crate) struct Decided {
    target: Target,
    decision: Decision,
    decision_json: serde_json::Value,
}

/// What the write found.
enum Written {
    Done(InboxResult),
    /// The appointment changed since the decision: decide again.
    Stale,
}

/// [`decide_and_apply`], logged and counted once.
async fn run(
    state: &AppState,
    user: Option<&CurrentUser>,
    mailbox: Option<&str>,
    raw: &[u8],
    action: Option<ActionBody>,
    judgement: &Judgement,
) -> ApiResult<InboxResult> {
    let result = decide_and_apply(state, user, mailbox, raw, action, judgement).await;
    let shown = mailbox.or(user.map(|u| u.email.as_str())).unwrap_or_default();
    let via = if user.is_some() { "http" } else { "imap" };
    match &result {
        Ok(r) => taken_in(via, shown, r),
        Err(e) if e.status.is_client_error() => refused(via, shown, &e.code),
        Err(_) => {}
    }
    result
}

async fn decide_and_apply(
    state: &AppState,
    user: Option<&CurrentUser>,
    mailbox: Option<&str>,
    raw: &[u8],
    action: Option<ActionBody>,
    judgement: &Judgement,
) -> ApiResult<InboxResult> {
    // Reading and deciding happen outside the single writer's transaction,
    // in parallel with other requests, on a snapshot read from the store;
    // the write transaction only checks that the snapshot still holds and
    // applies the decision.
    let envelope = read_message(raw, &limits())?;
    let calendar = parse_calendar(&envelope.calendar, &ParseOptions::default())?;
    let read = Read::new(&envelope, &calendar);
    let uid = read.uid();
    let keys = [message_key(&envelope), legacy_message_key(&envelope)];
    for _ in 0..MAX_DECISIONS {
        let decided = {
            let mut conn = state.store.read().await?;
            let conn: &mut AnyConnection = &mut conn;
            let prefs = preferences::load(conn).await?;
            let target = resolve_target(conn, user, mailbox, &prefs, &uid).await?;
            if action.is_none()
                && let Some(done) = duplicate(conn, &target, &uid, &keys).await?
            {
                return Ok(done);
            }
            let mut ctx = context(conn, &target, &read, &prefs, action).await?;
            ctx.authenticated = judgement.authenticated;
            let decision = decide_timed(&read, &ctx)?;
            let decision_json = serde_json::to_value(&decision).map_err(ApiError::internal)?;
            Decided { target, decision, decision_json }
        };
        let (user, mailbox, uid, keys) = (user.cloned(), mailbox.map(str::to_owned), uid.clone(), keys.clone());
        let judgement = judgement.clone();
        let written = state
            .group_commit
            .write(move |conn| {
                Box::pin(async move {
                    apply_decided(conn, user.as_ref(), mailbox.as_deref(), &uid, &keys, action, decided, &judgement)
                        .await
                })
            })
            .await?;
        if let Written::Done(result) = written {
            return Ok(result);
        }
    }
    Err(ApiError::internal("the appointment kept changing while the message was decided"))
}

/// A polled message decided on a snapshot of the store, outside the
/// writer's transaction.
pub(crate) enum Prepared {
    /// Applied before: nothing to do.
    Duplicate(InboxResult),
    /// Decided; applied by [`apply_polled`].
    Decided {
        /// The decision and what it was made on.
        decided: Box<Decided>,
        /// The message's `UID`.
        uid: String,
        /// Its keys in `processed_messages`.
        keys: [String; 2],
    },
}

/// Reads and decides the raw e-mail `raw` that arrived in `mailbox` on a
/// snapshot read through `conn` (the first half of the poller's way in).
pub(crate) async fn prepare_polled(
    conn: &mut AnyConnection,
    mailbox: &str,
    raw: &[u8],
    judgement: &Judgement,
) -> ApiResult<Prepared> {
    let envelope = read_message(raw, &limits())?;
    let calendar = parse_calendar(&envelope.calendar, &ParseOptions::default())?;
    let read = Read::new(&envelope, &calendar);
    let uid = read.uid();
    let keys = [message_key(&envelope), legacy_message_key(&envelope)];
    let prefs = preferences::load(conn).await?;
    let target = resolve_target(conn, None, Some(mailbox), &prefs, &uid).await?;
    if let Some(done) = duplicate(conn, &target, &uid, &keys).await? {
        return Ok(Prepared::Duplicate(done));
    }
    let mut ctx = context(conn, &target, &read, &prefs, None).await?;
    ctx.authenticated = judgement.authenticated;
    let decision = decide_timed(&read, &ctx)?;
    let decision_json = serde_json::to_value(&decision).map_err(ApiError::internal)?;
    Ok(Prepared::Decided { decided: Box::new(Decided { target, decision, decision_json }), uid, keys })
}

/// Applies a polled message inside the writer's transaction `conn` (the
/// second half): as decided in `prepared` when the stored appointment is
/// unchanged, else decided again on `conn`, which then sees every earlier
/// message of the same batch.
pub(crate) async fn apply_polled(
    conn: &mut AnyConnection,
    mailbox: &str,
    raw: &[u8],
    judgement: &Judgement,
    prepared: ApiResult<Prepared>,
) -> ApiResult<InboxResult> {
    let mut prepared = prepared?;
    for _ in 0..MAX_DECISIONS {
        let (decided, uid, keys) = match prepared {
            Prepared::Duplicate(done) => return Ok(done),
            Prepared::Decided { decided, uid, keys } => (decided, uid, keys),
        };
        match apply_decided(conn, None, Some(mailbox), &uid, &keys, None, *decided, judgement).await? {
            Written::Done(result) => return Ok(result),
            Written::Stale => prepared = prepare_polled(conn, mailbox, raw, judgement).await?,
        }
    }
    Err(ApiError::internal("the appointment kept changing while the message was decided"))
}

/// The recorded outcome of a message applied before, under any of its `keys`.
async fn duplicate(
    conn: &mut AnyConnection,
    target: &Target,
    uid: &str,
    keys: &[String; 2],
) -> ApiResult<Option<InboxResult>> {
    let [key, legacy] = keys;
    let seen = sqlx::query(
        "SELECT decision FROM processed_messages WHERE mailbox = $1 AND (message_key = $2 OR message_key = $3)",
    )
    .bind(&target.mailbox_key)
    .bind(key)
    .bind(legacy)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = seen else { return Ok(None) };
    let decision = serde_json::from_str(&text(&row, "decision")?).unwrap_or(serde_json::Value::Null);
    // The appointment as it is now: outside a transaction (the read before
    // deciding), another writer may have applied the message between the
    // target's read and this one.
    let appointment_id = match (&target.existing, &target.owner) {
        (Some(a), _) => Some(a.id.clone()),
        (None, Some(owner)) if !uid.is_empty() => appointments::find_by_uid(conn, &owner.id, uid).await?.map(|a| a.id),
        _ => None,
    };
    Ok(Some(InboxResult { decision, duplicate: true, appointment_id, outbox: Vec::new(), message_key: key.clone() }))
}

/// Whether two reads of the stored appointment are the same state.
fn same_state(a: &Option<Appointment>, b: &Option<Appointment>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.id == b.id
                && a.updated_at == b.updated_at
                && a.ics == b.ics
                && a.status == b.status
                && a.sequence == b.sequence
        }
        _ => false,
    }
}

/// Applies a decision inside the writer's transaction, if the stored
/// appointment it was made on is unchanged and the message is not recorded
/// meanwhile.
#[allow(clippy::too_many_arguments)]
async fn apply_decided(
    conn: &mut AnyConnection,
    user: Option<&CurrentUser>,
    mailbox: Option<&str>,
    uid: &str,
    keys: &[String; 2],
    action: Option<ActionBody>,
    decided: Decided,
    judgement: &Judgement,
) -> ApiResult<Written> {
    let prefs = preferences::load(conn).await?;
    let target = resolve_target(conn, user, mailbox, &prefs, uid).await?;
    if action.is_none()
        && let Some(done) = duplicate(conn, &target, uid, keys).await?
    {
        return Ok(Written::Done(done));
    }
    if !same_state(&target.existing, &decided.target.existing)
        || target.mailbox != decided.target.mailbox
        || target.owner.as_ref().map(|o| &o.id) != decided.target.owner.as_ref().map(|o| &o.id)
    {
        return Ok(Written::Stale);
    }
    let (appointment_id, outbox) = apply(conn, &target, uid, &decided.decision).await?;
    if action.is_none() {
        sqlx::query(
            "INSERT INTO processed_messages (mailbox, message_key, decision, created_at, authenticated, authentication) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&target.mailbox_key)
        .bind(&keys[0])
        .bind(decided.decision_json.to_string())
        .bind(fmt_instant(store::now()))
        .bind(judgement.authenticated.map(i64::from))
        .bind(&judgement.detail)
        .execute(&mut *conn)
        .await?;
    }
    Ok(Written::Done(InboxResult {
        decision: decided.decision_json,
        duplicate: false,
        appointment_id,
        outbox,
        message_key: keys[0].clone(),
    }))
}

/// Applies a raw e-mail that arrived in `mailbox` (an associate's address or
/// the CRM inbox) on the system's behalf: the mail poller's way in, with the
/// same decision, effects and duplicate check as `POST /api/inbox`, and the
/// poller's verdict on its authenticity.
pub async fn deliver_to_mailbox(
    state: &AppState,
    mailbox: &str,
    raw: &[u8],
    judgement: &Judgement,
) -> ApiResult<InboxResult> {
    let result = run(state, None, Some(mailbox), raw, None, judgement).await?;
    super::received::keep(state, mailbox, raw, &result).await;
    Ok(result)
}

/// Delivers a raw e-mail (`message/rfc822`) or `.ics` to a mailbox: the
/// engine decides, the effects are applied in one transaction, and the
/// decision is returned. The same message twice changes nothing.
#[utoipa::path(post, path = "/api/inbox", tag = "inbox", params(InboxQuery),
    request_body(content = String, content_type = "message/rfc822", description = "the raw e-mail or iCalendar text"),
    security(("bearer" = [])),
    responses((status = 200, body = InboxResult), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 413, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn deliver(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<InboxQuery>,
    RawBody(body): RawBody,
) -> ApiResult<Json<InboxResult>> {
    let judgement = state.authenticator.judge(&body).await;
    let result = run(&state, Some(&user), q.mailbox.as_deref(), &body, None, &judgement).await?;
    super::received::keep(&state, q.mailbox.as_deref().unwrap_or(&user.email), &body, &result).await;
    Ok(Json(result))
}

/// The engine's context for `raw` in `mailbox` as the inbox would build it
/// now (the web client and the task pane decide with it in the browser):
/// the context JSON of the engine's contract, without an action.
pub async fn engine_context(
    state: &AppState,
    user: &CurrentUser,
    mailbox: Option<&str>,
    raw: &[u8],
) -> ApiResult<serde_json::Value> {
    let envelope = read_message(raw, &limits())?;
    let calendar = parse_calendar(&envelope.calendar, &ParseOptions::default())?;
    let read = Read::new(&envelope, &calendar);
    let uid = read.uid();
    let judgement = state.authenticator.judge(raw).await;
    let mut conn = state.store.read().await?;
    let conn: &mut AnyConnection = &mut conn;
    let prefs = preferences::load(conn).await?;
    let target = resolve_target(conn, Some(user), mailbox, &prefs, &uid).await?;
    let ctx = context(conn, &target, &read, &prefs, None).await?;
    Ok(serde_json::json!({
        "mailbox": ctx.mailbox,
        "authenticated": judgement.authenticated,
        "now": fmt_instant(store::now()),
        "preferences": {
            "incoming": ctx.preferences.incoming,
            "request_reply": ctx.preferences.request_reply,
            "synchronizer": ctx.preferences.synchronizer,
        },
        "user": { "import_tentative": ctx.user.import_tentative, "synchronizer": ctx.user.synchronizer },
        "contacts": ctx.contacts,
        "associates": ctx.associates,
        "existing": ctx.existing,
    }))
}

/// Raw message bytes from a JSON body (`message` or `message_base64`).
pub fn raw_of(message: &Option<String>, message_base64: &Option<String>) -> ApiResult<Vec<u8>> {
    match (message, message_base64) {
        (Some(m), _) => Ok(m.as_bytes().to_vec()),
        (None, Some(b)) => crate::base64::decode(b).ok_or_else(|| ApiError::invalid("`message_base64` is not base64")),
        (None, None) => Err(ApiError::invalid("give the raw message as `message` or `message_base64`")),
    }
}

/// Answers a message (Accept, Tentative, Decline, Accept all; with or
/// without notifying the organizer): the engine decides again with the
/// action and the effects are applied; a `REPLY` goes to the outbox and is
/// returned. Refused with `action_disabled` (409) when the preferences
/// disable answers.
#[utoipa::path(post, path = "/api/inbox/actions", tag = "inbox", request_body = ActionRequest,
    security(("bearer" = [])),
    responses((status = 200, body = InboxResult), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody),
        (status = 413, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn answer(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<ActionRequest>,
) -> ApiResult<Json<InboxResult>> {
    let raw = raw_of(&req.message, &req.message_base64)?;
    let judgement = state.authenticator.judge(&raw).await;
    Ok(Json(run(&state, Some(&user), req.mailbox.as_deref(), &raw, Some(req.action), &judgement).await?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::server::{demo, store::Store};
    use std::time::Duration;

    const INVITATION: &str = "From: Bob Berg <bob@acme.example>\r\nTo: ada@ourcompany.example\r\n\
Message-ID: <writer-test@acme.example>\r\nSubject: Visit\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n\
BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:writer-test@acme.example\r\n\
SEQUENCE:0\r\nDTSTAMP:20291201T080000Z\r\nDTSTART:20300115T090000Z\r\nDTEND:20300115T100000Z\r\nSUMMARY:Visit\r\n\
ORGANIZER:mailto:bob@acme.example\r\nATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ada@ourcompany.example\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_engine_decides_before_the_writer_s_transaction() {
        let dir = std::env::temp_dir().join(format!("invitelink-inbox-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.join("t.sqlite").display())).await.unwrap();
        demo::seed(&store).await.unwrap();
        let state = AppState::new(store.clone(), dir.clone(), crate::mail::Authenticator::off(), None);
        // Another write holds the single writer.
        let held = store.write().await.unwrap();
        // A message whose calendar the engine refuses is answered at once:
        // reading and deciding do not wait for the writer.
        let broken = INVITATION.replace("END:VEVENT\r\n", "");
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            deliver_to_mailbox(&state, "ada@ourcompany.example", broken.as_bytes(), &Judgement::unchecked()),
        )
        .await
        .expect("decided without waiting for the writer");
        assert!(answer.unwrap_err().status.is_client_error());
        // A good one is decided now and applied once the writer is free.
        let task = {
            let state = state.clone();
            tokio::spawn(async move {
                deliver_to_mailbox(&state, "ada@ourcompany.example", INVITATION.as_bytes(), &Judgement::unchecked())
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!task.is_finished(), "the write waits for the writer");
        drop(held);
        let result = task.await.unwrap().unwrap();
        assert!(!result.duplicate);
        assert!(result.appointment_id.is_some(), "{:?}", result.decision);
        // The same message again: a duplicate, found before the writer.
        let again =
            deliver_to_mailbox(&state, "ada@ourcompany.example", INVITATION.as_bytes(), &Judgement::unchecked())
                .await
                .unwrap();
        assert!(again.duplicate);
        let keys: Vec<(String,)> =
            sqlx::query_as("SELECT message_key FROM processed_messages").fetch_all(store.pool()).await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].0.len(), 64, "stored hashed: {keys:?}");
        assert!(keys[0].0.chars().all(|c| c.is_ascii_hexdigit()));
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_huge_message_id_is_recorded_and_a_key_recorded_before_the_upgrade_still_counts() {
        let dir = std::env::temp_dir().join(format!("invitelink-inbox-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.join("t.sqlite").display())).await.unwrap();
        demo::seed(&store).await.unwrap();
        let state = AppState::new(store.clone(), dir.clone(), crate::mail::Authenticator::off(), None);
        let huge = format!("<{}@acme.example>", "x".repeat(100_000));
        let message = INVITATION.replace("<writer-test@acme.example>", &huge);
        let r = deliver_to_mailbox(&state, "ada@ourcompany.example", message.as_bytes(), &Judgement::unchecked())
            .await
            .unwrap();
        assert!(!r.duplicate);
        let longest: (i64,) = sqlx::query_as("SELECT MAX(LENGTH(message_key)) FROM processed_messages")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(longest.0, 64);
        // A message recorded under its plain key by an earlier version.
        let old = INVITATION.replace("writer-test", "before-upgrade");
        sqlx::query(
            "INSERT INTO processed_messages (mailbox, message_key, decision, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind("ada@ourcompany.example")
        .bind("message-id:<before-upgrade@acme.example>")
        .bind("{}")
        .bind("2029-12-01T08:00:00Z")
        .execute(store.pool())
        .await
        .unwrap();
        let r = deliver_to_mailbox(&state, "ada@ourcompany.example", old.as_bytes(), &Judgement::unchecked())
            .await
            .unwrap();
        assert!(r.duplicate, "applied once, across the upgrade");
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}
