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
use super::appointments::Appointment;
use super::auth::CurrentUser;
use super::directory;
use super::engine::{self, Read};
use super::error::{ApiError, ApiResult, Json, Query, RawBody};
use super::outbox::OutboxMessage;
use super::preferences::{self, Preferences};
use super::store::effects::{self, Target};
use super::store::{self, StoreError, StoreResult, ledger};
use crate::mail::Judgement;
use axum::extract::State;
use invitelink::error::EngineError;
use invitelink::ical::value::email_of;
use invitelink::policy::{self, Decision};
use serde::{Deserialize, Serialize};
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

/// Logs and counts a message `mailbox` refused with `code` ([`InboxError::Refused`]).
pub(crate) fn refused(via: &'static str, mailbox: &str, code: &str) {
    tracing::info!(target: "invitelink::inbox", mailbox, via, outcome = "rejected", code, "message refused");
    super::metrics::message_taken(via, mailbox, "rejected", code);
}

/// Why a message was not applied.
#[derive(Debug, Clone)]
pub enum InboxError {
    /// The message is refused: it cannot be read, is for no known mailbox,
    /// or asks what the store does not allow. The same message would be
    /// refused again: the mail poller sets it aside with this answer's code.
    Refused(ApiError),
    /// The store failed: the same message may be applied later (the mail
    /// poller leaves it in the mailbox and tries again).
    Failed(StoreError),
}

impl From<StoreError> for InboxError {
    fn from(e: StoreError) -> Self {
        if e.is_transient() { InboxError::Failed(e) } else { InboxError::Refused(ApiError::from(e)) }
    }
}

impl From<EngineError> for InboxError {
    fn from(e: EngineError) -> Self {
        InboxError::Refused(ApiError::from(e))
    }
}

impl From<InboxError> for ApiError {
    fn from(e: InboxError) -> Self {
        match e {
            InboxError::Refused(e) => e,
            InboxError::Failed(e) => ApiError::from(e),
        }
    }
}

impl std::fmt::Display for InboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InboxError::Refused(e) => e.fmt(f),
            InboxError::Failed(e) => e.fmt(f),
        }
    }
}

/// A transient failure of the inbox's own (a decision that cannot be
/// recorded, an appointment that keeps changing): try again later.
fn failed(message: impl Into<String>) -> InboxError {
    InboxError::Failed(StoreError::Database(message.into()))
}

/// `user` is `None` for the system (the mail poller): any mailbox, which
/// must then be named.
async fn resolve_target(
    conn: &mut AnyConnection,
    user: Option<&CurrentUser>,
    mailbox: Option<&str>,
    prefs: &Preferences,
    uid: &str,
) -> Result<Target, InboxError> {
    let named = mailbox.map(email_of).filter(|m| !m.is_empty());
    let mailbox = match (named, user) {
        (Some(m), _) => m,
        (None, Some(user)) => user.email.clone(),
        (None, None) => return Err(InboxError::Refused(ApiError::invalid("name the mailbox the message arrived in"))),
    };
    if let Some(user) = user
        && mailbox != user.email
        && !user.is_admin()
    {
        return Err(InboxError::Refused(ApiError::forbidden("only administrators may deliver to another mailbox")));
    }
    if let Some(owner) = directory::associate_by_email(conn, &mailbox).await? {
        let existing = store::appointments::find_by_uid(conn, &owner.id, uid).await?;
        return Ok(Target { mailbox: mailbox.clone(), owner: Some(owner), existing, mailbox_key: mailbox });
    }
    if mailbox == prefs.crm_inbox {
        // The CRM inbox receives the answers to follow-ups organized in the
        // CRM: they are decided for the follow-up's owner.
        let existing = store::appointments::find_crm_by_uid(conn, uid).await?;
        let owner = match &existing {
            Some(a) => directory::associate_by_id(conn, &a.owner_id).await?,
            None => None,
        };
        let as_mailbox = owner.as_ref().map(|o| o.email.clone()).unwrap_or_else(|| mailbox.clone());
        return Ok(Target { mailbox: as_mailbox, owner, existing, mailbox_key: mailbox });
    }
    Err(InboxError::Refused(ApiError::invalid(format!(
        "`{mailbox}` is not the mailbox of an associate nor the CRM inbox"
    ))))
}

async fn context(
    conn: &mut AnyConnection,
    target: &Target,
    read: &Read<'_, '_>,
    prefs: &Preferences,
    action: Option<ActionBody>,
) -> StoreResult<policy::Context> {
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
    let addresses = read.addresses(MAX_ADDRESSES);
    let contacts = store::directory::contacts_with(conn, &addresses).await?;
    let associates = store::directory::associates_with(conn, &addresses).await?;
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
) -> Result<InboxResult, InboxError> {
    let result = decide_and_apply(state, user, mailbox, raw, action, judgement).await;
    let shown = mailbox.or(user.map(|u| u.email.as_str())).unwrap_or_default();
    let via = if user.is_some() { "http" } else { "imap" };
    match &result {
        Ok(r) => taken_in(via, shown, r),
        Err(InboxError::Refused(e)) => refused(via, shown, &e.code),
        Err(InboxError::Failed(_)) => {}
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
) -> Result<InboxResult, InboxError> {
    // Reading and deciding happen outside the single writer's transaction,
    // in parallel with other requests, on a snapshot read from the store;
    // the write transaction only checks that the snapshot still holds and
    // applies the decision.
    let envelope = engine::read_envelope(raw)?;
    let calendar = engine::parse(&envelope)?;
    let read = Read::new(&envelope, &calendar);
    let uid = read.uid();
    let keys = ledger::keys(&envelope);
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
            let decision = engine::decide(&read, &ctx)?;
            let decision_json = decision_json(&decision)?;
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
    Err(failed("the appointment kept changing while the message was decided"))
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
) -> Result<Prepared, InboxError> {
    let envelope = engine::read_envelope(raw)?;
    let calendar = engine::parse(&envelope)?;
    let read = Read::new(&envelope, &calendar);
    let uid = read.uid();
    let keys = ledger::keys(&envelope);
    let prefs = preferences::load(conn).await?;
    let target = resolve_target(conn, None, Some(mailbox), &prefs, &uid).await?;
    if let Some(done) = duplicate(conn, &target, &uid, &keys).await? {
        return Ok(Prepared::Duplicate(done));
    }
    let mut ctx = context(conn, &target, &read, &prefs, None).await?;
    ctx.authenticated = judgement.authenticated;
    let decision = engine::decide(&read, &ctx)?;
    let decision_json = decision_json(&decision)?;
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
    prepared: Result<Prepared, InboxError>,
) -> Result<InboxResult, InboxError> {
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
    Err(failed("the appointment kept changing while the message was decided"))
}

/// The decision as recorded in the ledger.
fn decision_json(decision: &Decision) -> Result<serde_json::Value, InboxError> {
    serde_json::to_value(decision).map_err(|e| failed(format!("the decision cannot be recorded: {e}")))
}

/// The recorded outcome of a message applied before, under any of its `keys`.
async fn duplicate(
    conn: &mut AnyConnection,
    target: &Target,
    uid: &str,
    keys: &[String; 2],
) -> StoreResult<Option<InboxResult>> {
    let Some(decision) = ledger::processed(conn, &target.mailbox_key, keys).await? else { return Ok(None) };
    // The appointment as it is now: outside a transaction (the read before
    // deciding), another writer may have applied the message between the
    // target's read and this one.
    let appointment_id = match (&target.existing, &target.owner) {
        (Some(a), _) => Some(a.id.clone()),
        (None, Some(owner)) if !uid.is_empty() => {
            store::appointments::find_by_uid(conn, &owner.id, uid).await?.map(|a| a.id)
        }
        _ => None,
    };
    let message_key = keys[0].clone();
    Ok(Some(InboxResult { decision, duplicate: true, appointment_id, outbox: Vec::new(), message_key }))
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
) -> Result<Written, InboxError> {
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
    let applied = effects::apply(conn, &target, uid, &decided.decision).await?;
    if action.is_none() {
        ledger::record_processed(conn, &target.mailbox_key, &keys[0], &decided.decision_json, judgement).await?;
    }
    Ok(Written::Done(InboxResult {
        decision: decided.decision_json,
        duplicate: false,
        appointment_id: applied.appointment_id,
        outbox: applied.outbox,
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
) -> Result<InboxResult, InboxError> {
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
    let envelope = engine::read_envelope(raw)?;
    let calendar = engine::parse(&envelope)?;
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
        "now": store::fmt_instant(store::now()),
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
        (None, Some(b)) => {
            invitelink::base64::decode(b).ok_or_else(|| ApiError::invalid("`message_base64` is not base64"))
        }
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
    use crate::{demo, store::Store};
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
        assert!(matches!(answer.unwrap_err(), InboxError::Refused(e) if e.code == "parse_error"));
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
    async fn a_message_for_nobody_is_refused_and_a_store_that_fails_is_worth_trying_again() {
        let dir = std::env::temp_dir().join(format!("invitelink-inbox-kinds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.join("t.sqlite").display())).await.unwrap();
        demo::seed(&store).await.unwrap();
        let state = AppState::new(store.clone(), dir.clone(), crate::mail::Authenticator::off(), None);
        let unchecked = Judgement::unchecked();
        let nobody = deliver_to_mailbox(&state, "nobody@elsewhere.example", INVITATION.as_bytes(), &unchecked).await;
        assert!(matches!(nobody, Err(InboxError::Refused(ref e)) if e.code == "invalid_input"), "{nobody:?}");
        // The database goes away: the message is not refused, it waits.
        store.close().await;
        let later = deliver_to_mailbox(&state, "ada@ourcompany.example", INVITATION.as_bytes(), &unchecked).await;
        assert!(matches!(later, Err(InboxError::Failed(ref e)) if e.is_transient()), "{later:?}");
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
