//! The context of a decision (SPEC 3.4): who receives the message, the
//! system preferences, the user's settings, the CRM lookups, the stored
//! appointment and the user's action. Read from JSON.
//!
//! Unknown fields are ignored (a newer backend may send more); the type of
//! every known field is checked, and a malformed context is an error with
//! code `invalid_context` and the JSON line where reading stopped.

use crate::error::{EngineError, ErrorCode, Result};
use chrono::{DateTime, NaiveDateTime};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Everything the policy knows besides the message itself.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Context {
    /// The receiving user's e-mail address (required).
    pub mailbox: String,
    /// The e-mail's `From` address; the envelope's when left out.
    #[serde(default)]
    pub from: Option<String>,
    /// The e-mail's `Sender` address; the envelope's when left out.
    #[serde(default)]
    pub sender: Option<String>,
    /// The backend's verdict on the e-mail's authenticity (DKIM/DMARC for the
    /// `From` domain, or a trusted `Authentication-Results`): `true`
    /// authenticated, `false` found not to be (nothing is applied
    /// automatically: `unauthenticated_sender`), `null`/absent unknown.
    #[serde(default)]
    pub authenticated: Option<bool>,
    /// The current instant (RFC 3339), used as `DTSTAMP` of the replies the
    /// decision writes. Default: the message's `DTSTAMP`, else 1970-01-01T00:00:00Z.
    #[serde(default, deserialize_with = "instant")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string | null"))]
    pub now: Option<NaiveDateTime>,
    /// The system preferences.
    #[serde(default)]
    pub preferences: Preferences,
    /// The user's own settings.
    #[serde(default)]
    pub user: UserSettings,
    /// Registered contacts (persons) whose addresses occur in the message.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// CRM users (associates) whose addresses occur in the message.
    #[serde(default)]
    pub associates: Vec<Associate>,
    /// The iCalendar text of the stored appointment with the message's `UID`.
    #[serde(default)]
    pub existing: Option<String>,
    /// The user's answer, when the decision is for a button press.
    #[serde(default)]
    pub action: Option<Action>,
}

/// System preference "Manage incoming invitations" (SPEC 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[cfg_attr(all(feature = "openapi", not(target_arch = "wasm32")), derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Incoming {
    /// Tentative appointments for new invitations from registered contacts;
    /// updates, cancellations and replies applied.
    #[default]
    EnableAll,
    /// No tentative appointments (created on Accept); updates, cancellations
    /// and replies applied.
    DisableTentative,
    /// Nothing automatic; explicit answers still answer and record.
    DisableAutomation,
    /// Nothing at all: the message is a plain e-mail and answers are refused.
    DisableAll,
}

impl Incoming {
    /// The value as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Incoming::EnableAll => "enable_all",
            Incoming::DisableTentative => "disable_tentative",
            Incoming::DisableAutomation => "disable_automation",
            Incoming::DisableAll => "disable_all",
        }
    }

    /// The value written as JSON (`enable_all`, ...), if it is one.
    pub fn parse(s: &str) -> Option<Incoming> {
        [Incoming::EnableAll, Incoming::DisableTentative, Incoming::DisableAutomation, Incoming::DisableAll]
            .into_iter()
            .find(|i| i.as_str() == s.trim())
    }

    /// Whether updates, cancellations, replies and `ADD` are applied on arrival (rule 4).
    pub fn applies_changes(self) -> bool {
        matches!(self, Incoming::EnableAll | Incoming::DisableTentative)
    }
}

/// The system preferences that concern incoming messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Preferences {
    /// "Manage incoming invitations" (default `enable_all`).
    #[serde(default)]
    pub incoming: Incoming,
    /// "Include request for reply in outgoing e-mail invitations" (default on).
    #[serde(default = "yes", alias = "requestReply")]
    pub request_reply: bool,
    /// "Synchronizer active" for the whole system (default off).
    #[serde(default)]
    pub synchronizer: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences { incoming: Incoming::EnableAll, request_reply: true, synchronizer: false }
    }
}

/// The user's settings (the add-in's Invitations tab).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct UserSettings {
    /// "Import incoming invitations as tentative appointments" (default on).
    #[serde(default = "yes", alias = "importTentative")]
    pub import_tentative: bool,
    /// A calendar synchronizer is active for this user (default off).
    #[serde(default)]
    pub synchronizer: bool,
}

impl Default for UserSettings {
    fn default() -> Self {
        UserSettings { import_tentative: true, synchronizer: false }
    }
}

fn yes() -> bool {
    true
}

/// A registered contact: a person at a company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Contact {
    /// The person's e-mail address.
    pub email: String,
    /// The person's id in the CRM.
    #[serde(default, alias = "personId")]
    pub person_id: Option<RecordId>,
    /// The person's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The name of the person's company.
    #[serde(default)]
    pub company: Option<String>,
}

/// A CRM user (an associate, with a diary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Associate {
    /// The associate's e-mail address.
    pub email: String,
    /// The associate's id in the CRM.
    #[serde(default, alias = "associateId")]
    pub associate_id: Option<RecordId>,
    /// The associate's name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A CRM record id: a number or a string, written back as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(untagged)]
pub enum RecordId {
    /// A numeric id.
    Number(i64),
    /// A textual id.
    Text(String),
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = RecordId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<RecordId, E> {
                Ok(RecordId::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<RecordId, E> {
                i64::try_from(v).map(RecordId::Number).map_err(|_| E::custom("the id is too large"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<RecordId, E> {
                Ok(RecordId::Text(v.to_owned()))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

/// The user's answer to an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Action {
    /// Which button was pressed.
    #[serde(rename = "type")]
    pub kind: ActionType,
    /// "Accept and notify sender" (true, the default) or "Accept, but do not
    /// notify sender" (false).
    #[serde(default = "yes")]
    pub notify: bool,
}

/// The buttons of the inbox and the task pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    /// Accept the invitation.
    Accept,
    /// Accept tentatively.
    Tentative,
    /// Decline.
    Decline,
    /// Accept every occurrence of a recurring invitation.
    #[serde(alias = "acceptAll")]
    AcceptAll,
}

impl ActionType {
    /// The value as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::Accept => "accept",
            ActionType::Tentative => "tentative",
            ActionType::Decline => "decline",
            ActionType::AcceptAll => "accept_all",
        }
    }
}

fn instant<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<NaiveDateTime>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else { return Ok(None) };
    parse_instant(&text).map(Some).ok_or_else(|| {
        de::Error::custom(format!("`now` must be an RFC 3339 instant such as `2026-12-03T09:00:00Z`, not `{text}`"))
    })
}

/// Reads an RFC 3339 instant as UTC.
fn parse_instant(text: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| t.naive_utc())
}

impl Context {
    /// A context for `mailbox` with every other field at its default.
    pub fn for_mailbox(mailbox: &str) -> Context {
        Context {
            mailbox: mailbox.to_owned(),
            from: None,
            sender: None,
            authenticated: None,
            now: None,
            preferences: Preferences::default(),
            user: UserSettings::default(),
            contacts: Vec::new(),
            associates: Vec::new(),
            existing: None,
            action: None,
        }
    }

    /// Whether a calendar synchronizer is active for this user, by the system
    /// preference or the user's own flag.
    pub fn synchronizer_active(&self) -> bool {
        self.preferences.synchronizer || self.user.synchronizer
    }
}

/// Reads the context JSON. Errors have code `invalid_context` and the line of
/// the JSON where reading stopped.
pub fn parse_context(json: &str) -> Result<Context> {
    let ctx: Context = serde_json::from_str(json).map_err(|e| {
        let full = e.to_string();
        // serde_json appends " at line L column C"; the line is given apart.
        let message = match full.rfind(" at line ") {
            Some(i) => full.get(..i).unwrap_or(&full).to_owned(),
            None => full,
        };
        let line = u32::try_from(e.line()).unwrap_or(u32::MAX).max(1);
        EngineError::at(ErrorCode::InvalidContext, line, format!("the context is not valid: {message}"))
    })?;
    if crate::ical::value::email_of(&ctx.mailbox).is_empty() {
        return Err(EngineError::new(ErrorCode::InvalidContext, "the context's `mailbox` is empty"));
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_what_is_left_out() {
        let ctx = parse_context(r#"{"mailbox": "anna@crm.example", "unknown": 1}"#).unwrap();
        assert_eq!(ctx.preferences.incoming, Incoming::EnableAll);
        assert!(ctx.preferences.request_reply);
        assert!(ctx.user.import_tentative);
        assert!(!ctx.synchronizer_active());
        assert!(ctx.action.is_none());
    }

    #[test]
    fn wrong_types_are_refused_with_their_line() {
        let err =
            parse_context("{\n\"mailbox\": \"a@b.c\",\n\"user\": {\"import_tentative\": \"yes\"}\n}").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidContext);
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("invalid type"), "{}", err.message);
        let err = parse_context(r#"{"mailbox": "a@b.c", "preferences": {"incoming": "sometimes"}}"#).unwrap_err();
        assert!(err.message.contains("unknown variant"), "{}", err.message);
        let err = parse_context(r#"{"from": "a@b.c"}"#).unwrap_err();
        assert!(err.message.contains("mailbox"), "{}", err.message);
    }

    #[test]
    fn now_and_ids_are_read() {
        let ctx = parse_context(
            r#"{"mailbox": "a@b.c", "now": "2026-12-03T10:00:00+01:00",
                "contacts": [{"email": "x@y.z", "person_id": 7}, {"email": "w@y.z", "person_id": "p-8"}],
                "action": {"type": "accept_all"}}"#,
        )
        .unwrap();
        assert_eq!(ctx.now.unwrap().to_string(), "2026-12-03 09:00:00");
        assert_eq!(ctx.contacts[0].person_id, Some(RecordId::Number(7)));
        assert_eq!(ctx.contacts[1].person_id, Some(RecordId::Text("p-8".into())));
        assert_eq!(ctx.action, Some(Action { kind: ActionType::AcceptAll, notify: true }));
        assert!(parse_context(r#"{"mailbox": "a@b.c", "now": "tomorrow"}"#).is_err());
    }
}
