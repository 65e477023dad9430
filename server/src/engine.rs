//! The one place the backend calls the engine: an incoming message read
//! once and decided (the inbox), and the messages to send when the CRM
//! changes a follow-up it organizes. The backend applies what these return
//! (`store::effects`); it never re-derives a rule of the engine.

use chrono::{DateTime, Utc};
use invitelink::error::Result;
use invitelink::ical::value::email_of;
use invitelink::ical::{Component, ParseOptions, parse_calendar};
use invitelink::itip::{ScheduleOptions, SchedulingObject};
use invitelink::message::{Envelope, InputLimits, read_message};
use invitelink::policy::{Context, Decision};

/// A message the engine wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// iTIP method (`REQUEST`, `CANCEL`, ...).
    pub method: String,
    /// The address it is sent from.
    pub sender: String,
    /// The address it is sent to.
    pub recipient: String,
    /// The `text/calendar` part.
    pub ics: String,
}

/// Reads the raw e-mail (or `.ics`) `raw` with the engine's input limits.
pub fn read_envelope(raw: &[u8]) -> Result<Envelope<'_>> {
    read_message(raw, &InputLimits::default())
}

/// Parses the calendar part of `envelope` as the engine does for a decision.
pub fn parse<'e>(envelope: &'e Envelope<'_>) -> Result<Component<'e>> {
    invitelink::api::read_calendar(envelope)
}

/// A message read once: its envelope, and its meeting as the engine reads
/// it, which gives the `UID`, the addresses to look up and the decision.
pub struct Read<'c, 'a> {
    envelope: &'c Envelope<'c>,
    /// The scheduling snapshot, or why the calendar is none (the decision
    /// is then that error).
    object: invitelink::Result<SchedulingObject<'c, 'a>>,
}

impl<'c, 'a> Read<'c, 'a> {
    /// Reads the meeting of `calendar`, the calendar part of `envelope`.
    pub fn new(envelope: &'c Envelope<'c>, calendar: &'c Component<'a>) -> Self {
        Read { envelope, object: SchedulingObject::read_message(calendar, envelope.content_method.as_deref()) }
    }

    /// The `UID` of the meeting (empty when it cannot be read).
    pub fn uid(&self) -> String {
        self.object.as_ref().map(|o| o.uid.clone()).unwrap_or_default()
    }

    /// Every address named in the message: `From`, `Sender`, organizers,
    /// attendees, their `EMAIL` and `SENT-BY` (as the engine reads them; a
    /// calendar it cannot read is refused by `decide` anyway), at most `max`.
    pub fn addresses(&self, max: usize) -> Vec<String> {
        let envelope = self.envelope;
        let mut out: Vec<String> = Vec::new();
        let mut push = |a: &str| {
            let a = email_of(a);
            if a.contains('@') && !out.contains(&a) && out.len() < max {
                out.push(a);
            }
        };
        for a in [envelope.from.as_deref(), envelope.sender.as_deref()].into_iter().flatten() {
            push(a);
        }
        let object = self.object.as_ref().ok();
        let lines = object.iter().flat_map(|o| o.instances.iter()).flat_map(|i| i.organizer.iter().chain(&i.attendees));
        for line in lines {
            for a in [Some(&line.email), line.alt_email.as_ref(), line.sent_by.as_ref()].into_iter().flatten() {
                push(a);
            }
        }
        out
    }
}

/// The engine's decision on a message read once ([`Read`]), timed.
pub fn decide(read: &Read<'_, '_>, ctx: &Context) -> Result<Decision> {
    let object = read.object.as_ref().map_err(Clone::clone)?;
    let started = std::time::Instant::now();
    let decision = invitelink::policy::decide_object(read.envelope, object, ctx);
    crate::metrics::decision_took(started.elapsed());
    decision
}

/// The messages to send after the organizer's copy changed from `old` to
/// `new` (`None`: created, or deleted), by the user with `addresses`, with
/// `RSVP` as the "request reply" preference says.
pub fn schedule(
    old: Option<&str>,
    new: Option<&str>,
    addresses: &[String],
    now: DateTime<Utc>,
    rsvp: bool,
) -> Result<Vec<Outgoing>> {
    let old = old.map(|t| parse_calendar(t, &ParseOptions::default())).transpose()?;
    let new = new.map(|t| parse_calendar(t, &ParseOptions::default())).transpose()?;
    let opts = ScheduleOptions { now: now.naive_utc(), rsvp: Some(rsvp) };
    let messages = invitelink::itip::schedule(old.as_ref(), new.as_ref(), addresses, &opts)?;
    Ok(messages
        .into_iter()
        .map(|m| Outgoing { method: m.method, sender: m.sender, recipient: m.recipient, ics: m.ics })
        .collect())
}
