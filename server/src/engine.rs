//! The one place the backend calls the engine: decisions for incoming
//! messages, and the messages to send when the CRM changes a follow-up it
//! organizes. The backend applies what these return; it never re-derives a
//! rule of the engine.

use chrono::{DateTime, Utc};
use invitelink::error::Result;
use invitelink::ical::{ParseOptions, parse_calendar};
use invitelink::itip::ScheduleOptions;
use invitelink::message::Envelope;
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

/// The decision for the message in `envelope` under `ctx`.
pub fn decide(envelope: &Envelope, ctx: &Context) -> Result<Decision> {
    let calendar = parse_calendar(&envelope.calendar, &ParseOptions::default())?;
    invitelink::policy::decide(envelope, &calendar, ctx)
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
