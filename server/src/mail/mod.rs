//! Mail in and out for the backend: IMAP inboxes polled for meeting messages
//! ([`imap`]), messages sent over SMTP ([`smtp`]) by the outbox's sender loop
//! ([`outbox`]), and their settings ([`config`]).
//!
//! The backend is reached through two small traits, so this module knows no
//! SQL and no HTTP: [`imap::InboxSink`] takes each raw e-mail and applies it
//! (the engine's decision, in one database transaction), and
//! [`outbox::Outbox`] hands out the messages to send and records what became
//! of them. Composing the e-mails is [`invitelink::imip`]'s work, which is pure.
//!
//! Architecture Invariant: a message is marked processed in the mailbox only
//! after the sink committed its outcome, and an outbox row is marked sent
//! only after the SMTP server accepted it; a crash in between means the same
//! message is handled again, never lost.

pub mod auth;
pub mod config;
pub mod imap;
pub mod outbox;
pub mod smtp;
mod tls;

pub use auth::{AuthSettings, Authenticator, Dns, Judgement};
pub use config::{ConfigError, Credential, InboxConfig, MailConfig, Mark, Secret, SmtpConfig, Tls};
pub use imap::{
    BatchDelivery, Connections, Cursor, Delivered, ImapError, InboxSink, Incoming, Lease, PollReport, Poller, SinkError,
};
pub use outbox::{Backoff, Outbox, OutboxError, OutboxItem, SendReport, SendSettings, send_due};
pub use smtp::{SmtpError, SmtpSender, Transport};
