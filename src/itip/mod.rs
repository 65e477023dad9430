//! iTIP processing (RFC 5546): scheduling messages in and out.
//!
//! One file per use case, as a reader looks for them:
//! - [`vocab`]: methods, participation status, roles, user types;
//! - [`object`]: reading a scheduling object (UID, SEQUENCE, organizer,
//!   attendees, master and overridden instances);
//! - [`process`](mod@process): an incoming message applied to the stored copy;
//! - [`schedule`](mod@schedule): the messages to send after the organizer (or an
//!   attendee) changed the stored copy;
//! - [`reply`](mod@reply): an attendee's answer as a `REPLY`;
//! - [`significant`]: which changes are significant (RFC 5546 2.1.4);
//! - [`trust`]: who may speak for the organizer or an attendee (SPEC 3.3 rule 5).
//!
//! Architecture Invariant: these functions are pure. They take the message,
//! the stored copy, the user's addresses and "now" as parameters and return
//! data; they never read a clock, never store, never send.
//!
//! Where the behaviour differs from sabre/vobject's broker (the reference of
//! the conformance suite), RFC 5546 is the reason; `docs/deviations.md` has
//! the list.

pub mod object;
pub mod process;
pub mod reply;
pub mod schedule;
pub mod significant;
pub mod trust;
pub mod vocab;

pub use object::{CalAddress, Instance, SchedulingObject, SeriesLines, vtimezone_id};
pub use process::{
    ProcessOutcome, answers_current_version, as_stored as stored_copy, process, process_as, process_read, stored_ics,
};
pub use reply::reply;
pub use schedule::{OutgoingMessage, ScheduleOptions, schedule};
pub use significant::is_significant_change;
pub use vocab::{CuType, Method, PartStat, Role, ScheduleAgent};

/// `PRODID` of the calendars the engine writes (RFC 5545 3.7.3).
pub const PRODID: &str = "-//invitelink//invitation rules engine//EN";

#[cfg(test)]
mod tests;
