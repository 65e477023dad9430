//! The CRM policy: what the diary does with a message (SPEC 3.3).
//!
//! [`decide`] reads the message and the stored appointment, matches the
//! people in them to the CRM ([`directory`]), and either runs the arrival
//! rules ([`rules`]) or carries out the user's answer ([`actions`]). The
//! result is a [`Decision`]: data that the backend and the task pane apply.
//! iTIP itself (what a message does to a stored object) is [`crate::itip`]'s
//! work; this module decides whether and how the diary takes it.
//!
//! Architecture Invariant: the policy never reads a clock and never looks
//! anything up: the context carries the time, the preferences and the CRM
//! lookups, so the same input always gives the same decision.

pub mod actions;
pub mod context;
pub mod decision;
pub mod diary;
pub mod directory;
pub mod reasons;
pub mod rules;

pub use context::{
    Action, ActionType, Associate, Contact, Context, Incoming, Preferences, RecordId, UserSettings, parse_context,
};
pub use decision::{
    Appointment, AppointmentStatus, AppointmentUpdate, Attendee, Buttons, Decision, Display, Effect, Kind, Notice,
    OccurrenceTime, Party,
};

use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::value::email_of;
use crate::ical::{Component, ParseOptions, parse_calendar};
use crate::itip::SchedulingObject;
use crate::itip::object::{RecurrenceDamage, recurrence_damage};
use crate::itip::{CalAddress, Method};
use crate::message::Envelope;
use chrono::NaiveDateTime;
use directory::Directory;

/// Decides what the diary does with `calendar` (read from `envelope`) for
/// the user and the CRM state that `ctx` describes.
///
/// Errors: the message or the stored appointment cannot be read as one
/// scheduling object (`no_event`, `missing_uid`, `invalid_value`, ...); the
/// stored appointment has another `UID` (`invalid_context`); the user's action
/// is not allowed (`action_disabled`, with the reason).
pub fn decide(envelope: &Envelope, calendar: &Component<'_>, ctx: &Context) -> Result<Decision> {
    let message = SchedulingObject::read_message(calendar, envelope.content_method.as_deref())?;
    decide_object(envelope, &message, ctx)
}

/// [`decide`] for a message read already into its scheduling snapshot
/// (`SchedulingObject::read_message` with the e-mail part's `method=`): the
/// backend reads a message once for its `UID`, its addresses and the
/// decision.
///
/// Errors: those of [`decide`] after the message's reading.
pub fn decide_object(envelope: &Envelope, message: &SchedulingObject<'_, '_>, ctx: &Context) -> Result<Decision> {
    let stored_calendar = match ctx.existing.as_deref() {
        Some(text) if !text.trim().is_empty() => {
            Some(parse_calendar(text, &ParseOptions::default()).map_err(|e| EngineError {
                code: e.code,
                message: format!("the stored appointment (`existing`) cannot be read: {}", e.message),
                line: e.line,
            })?)
        }
        _ => None,
    };
    let case = Case::new(envelope, message, stored_calendar.as_ref(), ctx)?;
    let mut decision = case.blank_decision();
    match ctx.action {
        None => rules::on_arrival(&case, &mut decision)?,
        Some(action) => actions::answer(&case, action, &mut decision)?,
    }
    Ok(decision)
}

/// Everything one decision looks at, read once.
#[derive(Debug)]
pub struct Case<'c, 'a> {
    /// The message's calendar.
    pub calendar: &'c Component<'a>,
    /// The message, read.
    pub message: &'c SchedulingObject<'c, 'a>,
    /// The stored appointment, read.
    pub stored: Option<SchedulingObject<'c, 'a>>,
    /// The context.
    pub ctx: &'c Context,
    /// The user's address, normalized.
    pub mailbox: String,
    /// The e-mail's author (`From`), normalized: the only address that can
    /// speak for the organizer or an attendee (rule 5); `None` when the
    /// message came without one and the context names none.
    pub from: Option<String>,
    /// The e-mail's `Sender:` header, normalized: shown, never vouching.
    pub sender_header: Option<String>,
    /// Whether the message came as an e-mail (false: a bare calendar file,
    /// whose invitation speaks for itself).
    pub is_email: bool,
    /// The CRM lookups.
    pub directory: Directory<'c>,
    /// What the message is.
    pub kind: Kind,
    /// The instant replies are stamped with.
    pub now: NaiveDateTime,
}

impl<'c, 'a> Case<'c, 'a> {
    fn new(
        envelope: &'c Envelope,
        message: &'c SchedulingObject<'c, 'a>,
        stored_calendar: Option<&'c Component<'a>>,
        ctx: &'c Context,
    ) -> Result<Case<'c, 'a>> {
        let calendar = message.calendar;
        let stored = match stored_calendar {
            Some(c) => Some(SchedulingObject::read(c).map_err(|e| EngineError {
                code: e.code,
                message: format!("the stored appointment (`existing`): {}", e.message),
                line: e.line,
            })?),
            None => None,
        };
        if let Some(s) = stored.as_ref().filter(|s| s.uid != message.uid) {
            return Err(EngineError::new(
                ErrorCode::InvalidContext,
                format!("the stored appointment has UID `{}`, the message `{}`", s.uid, message.uid),
            ));
        }
        let kind = match &message.method {
            Some(Method::Request) if stored.is_some() => Kind::Update,
            Some(Method::Request) => Kind::Invitation,
            Some(Method::Reply) => Kind::Reply,
            Some(Method::Cancel) => Kind::Cancel,
            Some(Method::Add) => Kind::Add,
            Some(Method::Refresh) => Kind::Refresh,
            Some(Method::Counter) => Kind::Counter,
            Some(Method::DeclineCounter) => Kind::Declinecounter,
            Some(Method::Publish) | None => Kind::Publish,
            Some(Method::Other(other)) => {
                return Err(EngineError::new(
                    ErrorCode::InvalidValue,
                    format!("`{other}` is not an iTIP method (RFC 5546 1.4)"),
                ));
            }
        };
        let normalized = |a: Option<&str>| a.map(email_of).filter(|a| !a.is_empty());
        let from = normalized(ctx.from.as_deref().or(envelope.from.as_deref()));
        let sender_header = normalized(ctx.sender.as_deref().or(envelope.sender.as_deref()));
        let now = ctx.now.or_else(|| message.main().and_then(|m| m.dtstamp)).unwrap_or_default();
        Ok(Case {
            calendar,
            message,
            stored,
            ctx,
            mailbox: email_of(&ctx.mailbox),
            from,
            sender_header,
            is_email: envelope.is_email || ctx.from.is_some(),
            directory: Directory::new(&ctx.contacts, &ctx.associates),
            kind,
            now,
        })
    }

    fn blank_decision(&self) -> Decision {
        let mut warnings = Vec::new();
        if self.message.method.is_none() {
            warnings.push(reasons::no_method());
        }
        if self.ctx.authenticated == Some(false) {
            warnings.push(reasons::unverified(self.from.as_deref()));
        }
        // Damaged recurrence (docs/decision.md, "Damaged input"): what was
        // skipped changes the occurrences, so the user is told.
        for event in self.message.instances.iter().map(|i| i.event) {
            warnings.extend(recurrence_damage(event).into_iter().map(|damage| match damage {
                RecurrenceDamage::PartSkipped(line, why) => reasons::rule_part_skipped(line, &why),
                RecurrenceDamage::RuleDropped(line, why) => reasons::rule_dropped(line, &why),
                RecurrenceDamage::ValueSkipped(line, why) => reasons::value_skipped(line, &why),
            }));
        }
        let mut notes = Vec::new();
        if let Some(sender) = self.sender_header.as_deref().filter(|s| Some(*s) != self.from.as_deref()) {
            notes.push(reasons::sender_header(sender, self.from.as_deref()));
        }
        Decision {
            kind: self.kind,
            recurring: self.recurring(),
            effects: Vec::new(),
            ignored: None,
            buttons: Buttons::default(),
            display: Display::Invitation,
            reasons: Vec::new(),
            uid: self.message.uid.clone(),
            method: self.message.method.as_ref().map_or("PUBLISH", Method::as_str).to_owned(),
            sequence: self.message.highest_sequence(),
            organizer: self.organizer().map(|o| self.directory.party_of(o)),
            action: None,
            notes,
            warnings,
        }
    }

    /// Whether the event recurs, by the message or else by the stored copy.
    pub fn recurring(&self) -> bool {
        self.message.recurring || self.stored.as_ref().is_some_and(|s| s.recurring)
    }

    /// The e-mail's author as the trust rule sees it (SPEC 3.3 rule 5).
    pub fn author(&self) -> crate::itip::trust::Author<'_> {
        crate::itip::trust::Author { from: self.from.as_deref(), authenticated: self.ctx.authenticated }
    }

    /// The organizer: the stored appointment's, else the message's.
    pub fn organizer(&self) -> Option<&CalAddress<'_>> {
        self.stored.as_ref().and_then(|s| s.organizer.as_ref()).or(self.message.organizer.as_ref())
    }
}
