//! invitelink: the meeting-invitation rules engine of a CRM.
//!
//! One engine decides what happens to every meeting message: it reads
//! iCalendar and iMIP e-mails ([`ical`], [`message`]), resolves time zones
//! ([`tz`]), expands recurrence ([`recur`], [`expand`]), processes iTIP
//! ([`itip`]) and applies the CRM's policy ([`policy`]). [`api`] has one
//! boundary function per operation; the CLI and the WebAssembly module call
//! those and nothing else.
//!
//! Architecture Invariant: the engine does no I/O, reads no clock and never
//! panics on input; decisions are data.

pub mod api;
pub mod base64;
#[cfg(all(feature = "contacts-import", not(target_arch = "wasm32")))]
pub mod contacts_import;
pub mod error;
pub mod expand;
pub mod ical;
pub mod imip;
pub mod itip;
pub mod message;
pub mod outcome;
pub mod policy;
pub mod rebuild;
pub mod recur;
pub mod tz;

pub use error::{EngineError, ErrorCode, Result};
