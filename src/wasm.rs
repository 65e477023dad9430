//! The WebAssembly front of the engine (SPEC 3.4), built into `pkg/` by
//! `cargo xtask pkg`.
//!
//! One camelCase export per boundary function of [`crate::api`]: `decide`,
//! `itipProcess`, `itipSchedule`, `itipReply`, `expand`, `version`. Each takes
//! the message (a string or a `Uint8Array`) and a plain object with the fields
//! of the CLI's JSON, read with serde-wasm-bindgen, and returns a plain object:
//! `{type: "success", ...}` with what the CLI prints, or
//! `{type: "failure", errors: [{code, message, line}]}`. The objects are made
//! with serde-wasm-bindgen's JSON-compatible serializer, so they equal the
//! CLI's JSON. The types are written below for the generated `.d.ts`.
//!
//! Architecture Invariant: no rule lives here. An export converts its
//! arguments, calls one api function and converts the answer. It never
//! throws: bad input, a wrong JS type included, is a `failure` answer.

use crate::api;
use crate::error::{EngineError, ErrorCode, Result};
use crate::message::InputLimits;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A message: raw iCalendar text or a whole e-mail (RFC 5322), as text or bytes. */
export type MessageInput = string | Uint8Array;

/** The stable machine codes of errors (`io` and `usage` come from the CLI only). */
export type ErrorCode =
  | "parse_error"
  | "no_calendar_part"
  | "no_event"
  | "missing_uid"
  | "too_large"
  | "recurrence_limit"
  | "invalid_value"
  | "invalid_scheduling_object"
  | "invalid_context"
  | "action_disabled"
  | "io"
  | "usage";

/** An error: a stable code, a message a person can act on, the 1-based line where reading stopped. */
export interface EngineError {
  code: ErrorCode;
  message: string;
  line: number | null;
}

/** The answer of every operation to input it cannot use. */
export interface Failure {
  type: "failure";
  errors: EngineError[];
}

/** Why a message changes nothing (SPEC 3.3). */
export type IgnoredReason =
  | "unknown_sender"
  | "recurring_needs_accept_all"
  | "disabled_by_preference"
  | "import_off"
  | "synchronizer_active"
  | "stale"
  | "duplicate"
  | "not_addressed_to_user"
  | "sender_mismatch"
  | "unknown_attendee"
  | "no_existing_appointment"
  | "unauthenticated_sender"
  | "unsupported";

/** A CRM record id, written back as given. */
export type RecordId = number | string;

/** System preference "Manage incoming invitations". */
export type IncomingPreference = "enable_all" | "disable_tentative" | "disable_automation" | "disable_all";

/** The user's answer buttons. */
export type ActionType = "accept" | "tentative" | "decline" | "accept_all";

/** The context of a decision (SPEC 3.4): every field optional but `mailbox`. */
export interface Context {
  /** The receiving user's e-mail address. */
  mailbox: string;
  /** The e-mail's `From` address; the envelope's when left out. */
  from?: string | null;
  /** The e-mail's `Sender` address; the envelope's when left out. */
  sender?: string | null;
  /** The backend's verdict on the e-mail: authenticated (DKIM/DMARC), not, or unknown (null). */
  authenticated?: boolean | null;
  /** The current instant (RFC 3339), e.g. `2026-12-03T09:00:00Z`. */
  now?: string | null;
  preferences?: {
    incoming?: IncomingPreference;
    request_reply?: boolean;
    synchronizer?: boolean;
  };
  user?: {
    import_tentative?: boolean;
    synchronizer?: boolean;
  };
  /** Registered contacts whose addresses occur in the message. */
  contacts?: Array<{ email: string; person_id?: RecordId | null; name?: string | null; company?: string | null }>;
  /** CRM users whose addresses occur in the message. */
  associates?: Array<{ email: string; associate_id?: RecordId | null; name?: string | null }>;
  /** The iCalendar text of the stored appointment with the message's `UID`. */
  existing?: string | null;
  /** The user's answer, when the decision is for a button press. */
  action?: { type: ActionType; notify?: boolean } | null;
}

/** What a message is. */
export type MessageKind =
  | "invitation"
  | "update"
  | "reply"
  | "cancel"
  | "add"
  | "refresh"
  | "counter"
  | "declinecounter"
  | "publish";

/** A person in the message, matched to the CRM. */
export interface Party {
  email: string;
  name?: string;
  person_id?: RecordId;
  person_name?: string;
  company?: string;
  associate_id?: RecordId;
  associate_name?: string;
}

/** An attendee of an appointment, matched to the CRM. */
export interface Attendee extends Party {
  partstat: string;
  role: string;
  is_user: boolean;
}

/** One occurrence of a series inside a decision. */
export interface OccurrenceTime {
  recurrence_id: string;
  start: string;
  end: string;
  all_day: boolean;
  status?: string;
}

/** An appointment to create in (or write to) the user's diary. */
export interface Appointment {
  uid: string;
  status: "tentative" | "accepted" | "declined";
  summary?: string;
  location?: string;
  start?: string;
  end?: string;
  all_day: boolean;
  organizer?: Party;
  contact?: Party;
  attendees: Attendee[];
  occurrences?: OccurrenceTime[];
  occurrences_limited?: boolean;
  /** The iCalendar text to store. */
  ics: string;
}

/** What a `notify` effect tells the user. */
export type Notice =
  | "invitation_declined"
  | "appointment_moved"
  | "appointment_cancelled"
  | "refresh_requested"
  | "counter_declined";

/** One thing to do. */
export type Effect =
  | ({ type: "create_appointment" } & Appointment)
  | ({ type: "update_appointment"; moved: boolean } & Appointment)
  | { type: "cancel_appointment"; uid: string; ics?: string }
  | { type: "cancel_occurrence"; uid: string; recurrence_id: string; ics: string }
  | {
      type: "set_attendee_status";
      uid: string;
      attendee: string;
      partstat: string;
      recurrence_id?: string;
      party: Party;
      ics: string;
    }
  | { type: "send_reply"; partstat: string; to: string; from: string; ics: string }
  | { type: "notify"; what: Notice; attendee?: string }
  | { type: "suggest_contact"; email: string; name?: string }
  | {
      type: "counter_proposal";
      attendee: string;
      start?: string;
      end?: string;
      location?: string;
      comment?: string;
      recurrence_id?: string;
    };

/** The decision for one message (SPEC 3.4). */
export interface Decision {
  kind: MessageKind;
  recurring: boolean;
  effects: Effect[];
  ignored: IgnoredReason | null;
  buttons: { accept: boolean; tentative: boolean; decline: boolean; accept_all: boolean };
  display: "invitation" | "plain_email";
  reasons: string[];
  uid: string;
  method: string;
  sequence: number;
  organizer: Party | null;
  action: ActionType | null;
  notes: string[];
  warnings: string[];
}

/** `decide`: the decision, or the errors. */
export type DecideAnswer = { type: "success"; decision: Decision } | Failure;

/** The request of `itipProcess` (the flags of `invitelink itip process`). */
export interface ProcessRequest {
  /** The stored calendar object with the same `UID`, as iCalendar text. */
  existing?: string | null;
  /** The address the message came from (the e-mail's `From`). */
  sender?: string | null;
}

/** `itipProcess`: the new stored object, "ignored" with the reason, or "deleted". */
export type ProcessAnswer =
  | { type: "success"; ics: string }
  | { type: "success"; ignored: IgnoredReason }
  | { type: "success"; deleted: true }
  | Failure;

/** The request of `itipSchedule` (the flags of `invitelink itip schedule`). */
export interface ScheduleRequest {
  /** The organizer's stored copy before the change; none: the object is new. */
  old?: string | null;
  /** The copy after the change; none: it was deleted. */
  new?: string | null;
  /** The addresses of the user who made the change. */
  user: string[];
  /** The current instant (RFC 3339), written as `DTSTAMP`. */
  now?: string | null;
  /** Ask attendees for a reply (`RSVP`); none: as written. */
  rsvp?: boolean | null;
}

/** One message to send. */
export interface OutgoingMessage {
  uid: string;
  method: string;
  sender: string;
  sender_name: string | null;
  recipient: string;
  recipient_name: string | null;
  significant_change: boolean;
  ics: string;
}

/** `itipSchedule`: the messages to send, one per recipient. */
export type ScheduleAnswer = { type: "success"; messages: OutgoingMessage[] } | Failure;

/** The request of `itipReply` (the flags of `invitelink itip reply`). */
export interface ReplyRequest {
  /** The attendee who answers. */
  attendee: string;
  partstat: "ACCEPTED" | "TENTATIVE" | "DECLINED";
  /** The current instant (RFC 3339), written as `DTSTAMP`. */
  now?: string | null;
}

/** `itipReply`: the `REPLY` to send, as iCalendar text. */
export type ReplyAnswer = { type: "success"; ics: string } | Failure;

/** The request of `expand` (the flags of `invitelink expand`). */
export interface ExpandRequest {
  /** Start of the window (RFC 3339 instant or date), inclusive. */
  from?: string | null;
  /** End of the window, exclusive. */
  until?: string | null;
  /** Most instances per series (default 1000). */
  max_instances?: number | null;
  /** Longest window in days (default 730). */
  horizon_days?: number | null;
}

/** One `VEVENT` occurrence, as `invitelink expand` prints it. */
export interface Occurrence {
  uid: string;
  recurrence_id: string | null;
  start: string;
  end: string;
  all_day: boolean;
  summary: string | null;
  status: string | null;
  /** Present (true) when the times are floating wall times, e.g. `2026-12-03T09:00:00`. */
  floating?: true;
}

/** `expand`: the occurrences in the window; `limited` when a series was cut. */
export type ExpandAnswer = { type: "success"; occurrences: Occurrence[]; limited: boolean } | Failure;

/** A person as the add-in reads one from an Outlook item. */
export interface ItemPerson {
  email?: string | null;
  name?: string | null;
}

/** The properties of an Outlook item; instants in RFC 3339. */
export interface OutlookItem {
  /** request, cancel, accepted, declined, tentative, appointment, organizer; none for an e-mail. */
  kind?: string | null;
  subject?: string | null;
  location?: string | null;
  start?: string | null;
  end?: string | null;
  created?: string | null;
  organizer?: ItemPerson | null;
  from?: ItemPerson | null;
  to?: ItemPerson[];
  cc?: ItemPerson[];
  required?: ItemPerson[];
  optional?: ItemPerson[];
  messageId?: string | null;
}

/** `rebuildCalendar` / `rebuildEmail`: the item, its reader, "now" (RFC 3339) and an e-mail's text. */
export interface RebuildRequest {
  item: OutlookItem;
  user?: ItemPerson;
  now: string;
  body?: string | null;
}

/** The rebuilt iCalendar object or e-mail. */
export type RebuildAnswer = { type: "success"; text: string } | Failure;
"#;

/// The answer of an export: the result, or the errors.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Answer<T> {
    Success(T),
    Failure { errors: Vec<EngineError> },
}

/// The result of `decide`.
#[derive(Serialize)]
struct Decided {
    decision: crate::policy::Decision,
}

/// The result of `itipSchedule`.
#[derive(Serialize)]
struct Scheduled {
    messages: Vec<crate::itip::OutgoingMessage>,
}

/// The result of `itipReply`.
#[derive(Serialize)]
struct Replied {
    ics: String,
}

/// The result of `expand`.
#[derive(Serialize)]
struct Expanded {
    occurrences: Vec<crate::expand::Occurrence>,
    limited: bool,
}

/// Turns a result into the JS answer object. Never throws.
fn answer<T: Serialize>(result: Result<T>) -> JsValue {
    let answer = match result {
        Ok(value) => Answer::Success(value),
        Err(error) => Answer::Failure { errors: vec![error] },
    };
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    answer.serialize(&serializer).unwrap_or_else(|e| {
        let error = EngineError::new(ErrorCode::InvalidValue, format!("cannot return the result: {e}"));
        Answer::<()>::Failure { errors: vec![error] }.serialize(&serializer).unwrap_or(JsValue::NULL)
    })
}

/// A short name of a JS value's type, for error messages.
fn js_type(value: &JsValue) -> String {
    if value.is_null() {
        "null".to_owned()
    } else if value.is_array() {
        "an array".to_owned()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

/// The message bytes: a string (as UTF-8) or a `Uint8Array`. Inputs
/// certainly over the size limit are refused before they are copied.
fn message_bytes(value: &JsValue, name: &str) -> Result<Vec<u8>> {
    let limit = InputLimits::default().max_email_bytes;
    let too_large = |len: usize| {
        EngineError::new(
            ErrorCode::TooLarge,
            format!("the `{name}` is at least {len} bytes, more than the limit of {limit} bytes"),
        )
    };
    if let Some(text) = value.dyn_ref::<js_sys::JsString>() {
        // A UTF-16 code unit is at least one UTF-8 byte.
        let units = text.length() as usize;
        if units > limit {
            return Err(too_large(units));
        }
    } else if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
        let len = bytes.length() as usize;
        if len > limit {
            return Err(too_large(len));
        }
        return Ok(bytes.to_vec());
    }
    match value.as_string() {
        Some(text) => Ok(text.into_bytes()),
        None => Err(EngineError::new(
            ErrorCode::InvalidContext,
            format!("`{name}` must be a string or a Uint8Array, not {}", js_type(value)),
        )),
    }
}

/// Reads a request object with the shape of the CLI's JSON.
fn read_request<T: DeserializeOwned>(value: JsValue, name: &str) -> Result<T> {
    if !value.is_object() || value.is_array() || value.is_function() {
        return Err(EngineError::new(
            ErrorCode::InvalidContext,
            format!("`{name}` must be an object, not {}", js_type(&value)),
        ));
    }
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| EngineError::new(ErrorCode::InvalidContext, format!("`{name}` is not valid: {e}")))
}

/// What the diary does with a message (SPEC 3.3).
#[wasm_bindgen(js_name = decide, unchecked_return_type = "DecideAnswer")]
pub fn decide(
    #[wasm_bindgen(unchecked_param_type = "MessageInput")] message: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Context")] context: JsValue,
) -> JsValue {
    answer((|| {
        let message = message_bytes(&message, "message")?;
        // The CLI's own reader of the context JSON checks it, so both accept
        // exactly the same contexts; a JS object has no lines to point at.
        let context: serde_json::Value = read_request(context, "context")?;
        let decision = api::decide_json(&message, &context.to_string()).map_err(|e| match e.code {
            ErrorCode::InvalidContext => EngineError { line: None, ..e },
            _ => e,
        })?;
        Ok(Decided { decision })
    })())
}

/// An incoming iTIP message applied to the stored copy (RFC 5546).
#[wasm_bindgen(js_name = itipProcess, unchecked_return_type = "ProcessAnswer")]
pub fn itip_process(
    #[wasm_bindgen(unchecked_param_type = "MessageInput")] message: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ProcessRequest")] request: JsValue,
) -> JsValue {
    answer((|| {
        let message = message_bytes(&message, "message")?;
        let request: api::ProcessRequest = read_request(request, "request")?;
        api::itip_process(&message, &request)
    })())
}

/// The messages to send after the organizer changed an object.
#[wasm_bindgen(js_name = itipSchedule, unchecked_return_type = "ScheduleAnswer")]
pub fn itip_schedule(#[wasm_bindgen(unchecked_param_type = "ScheduleRequest")] request: JsValue) -> JsValue {
    answer((|| {
        let request: api::ScheduleRequest = read_request(request, "request")?;
        Ok(Scheduled { messages: api::itip_schedule(&request)? })
    })())
}

/// The `REPLY` an attendee sends to an invitation.
#[wasm_bindgen(js_name = itipReply, unchecked_return_type = "ReplyAnswer")]
pub fn itip_reply(
    #[wasm_bindgen(unchecked_param_type = "MessageInput")] invitation: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ReplyRequest")] request: JsValue,
) -> JsValue {
    answer((|| {
        let invitation = message_bytes(&invitation, "invitation")?;
        let request: api::ReplyRequest = read_request(request, "request")?;
        Ok(Replied { ics: api::itip_reply(&invitation, &request)? })
    })())
}

/// Every `VEVENT` occurrence in a window.
#[wasm_bindgen(js_name = expand, unchecked_return_type = "ExpandAnswer")]
pub fn expand(
    #[wasm_bindgen(unchecked_param_type = "MessageInput")] message: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ExpandRequest")] request: JsValue,
) -> JsValue {
    answer((|| {
        let message = message_bytes(&message, "message")?;
        let request: api::ExpandRequest = read_request(request, "request")?;
        let expansion = api::expand(&message, &request)?;
        Ok(Expanded { occurrences: expansion.occurrences, limited: expansion.limited })
    })())
}

#[derive(Serialize)]
struct Rebuilt {
    text: String,
}

/// The minimal iCalendar object for a meeting item whose whole message
/// Outlook cannot give (`crate::rebuild`).
#[wasm_bindgen(js_name = rebuildCalendar, unchecked_return_type = "RebuildAnswer")]
pub fn rebuild_calendar(#[wasm_bindgen(unchecked_param_type = "RebuildRequest")] request: JsValue) -> JsValue {
    answer((|| {
        let request: crate::rebuild::RebuildRequest = read_request(request, "request")?;
        Ok(Rebuilt { text: crate::rebuild::calendar_from_item(&request)? })
    })())
}

/// The minimal e-mail for archiving an item whose whole message Outlook
/// cannot give (`crate::rebuild`).
#[wasm_bindgen(js_name = rebuildEmail, unchecked_return_type = "RebuildAnswer")]
pub fn rebuild_email(#[wasm_bindgen(unchecked_param_type = "RebuildRequest")] request: JsValue) -> JsValue {
    answer((|| {
        let request: crate::rebuild::RebuildRequest = read_request(request, "request")?;
        Ok(Rebuilt { text: crate::rebuild::email_from_item(&request)? })
    })())
}

/// The engine's version.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    api::version().to_owned()
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

/// The last guard: the engine does not panic on input, but should it ever,
/// the panic is written to the console and the next call gets a fresh
/// instance instead of a broken one.
#[wasm_bindgen(start, private)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error(&format!("invitelink: internal error: {info}"));
        wasm_bindgen::handler::schedule_reinit();
    }));
}
