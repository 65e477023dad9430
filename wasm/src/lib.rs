//! The WebAssembly front of the engine (SPEC 3.4), built into `pkg/` by
//! `cargo xtask pkg`.
//!
//! One camelCase export per boundary function of [`invitelink::api`]: `decide`,
//! `itipProcess`, `itipSchedule`, `itipReply`, `expand`, `version`. Each takes
//! the message (a string or a `Uint8Array`) and a plain object with the fields
//! of the CLI's JSON, read as that JSON (`JSON.stringify`, then the CLI's
//! reader), and returns a plain object:
//! `{type: "success", ...}` with what the CLI prints, or
//! `{type: "failure", errors: [{code, message, line}]}`. The objects are the
//! CLI's JSON, written by the same serializer and parsed by `JSON.parse`. The `.d.ts` is generated from the Rust types (tsify).
//!
//! Architecture Invariant: no rule lives here. An export converts its
//! arguments, calls one api function and converts the answer. It never
//! throws: bad input, a wrong JS type included, is a `failure` answer.
//!
//! A crate of its own, on top of the engine (`invitelink` without its
//! `server` feature): natively it is empty.

#![cfg(target_arch = "wasm32")]

use invitelink::api;
use invitelink::error::{EngineError, ErrorCode, Result};
use invitelink::message::InputLimits;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

// The types of the package are generated from the Rust types
// (`derive(tsify::Tsify)` on the wasm build); this section adds only the
// message input, which is no Rust type, and names the answers.
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A message: raw iCalendar text or a whole e-mail (RFC 5322), as text or bytes. */
export type MessageInput = string | Uint8Array;

/** `decide`: the decision, or the errors. */
export type DecideAnswer = Answer<Decided>;
/** `itipProcess`: the new stored object, "ignored" with the reason, or "deleted". */
export type ProcessAnswer = Answer<ProcessResult>;
/** `itipSchedule`: the messages to send. */
export type ScheduleAnswer = Answer<Scheduled>;
/** `itipReply`: the `REPLY`. */
export type ReplyAnswer = Answer<Replied>;
/** `expand`: the occurrences. */
export type ExpandAnswer = Answer<Expanded>;
/** `rebuildCalendar` / `rebuildEmail`: the rebuilt iCalendar object or e-mail. */
export type RebuildAnswer = Answer<Rebuilt>;
/** Why a message changes nothing (SPEC 3.3); the name of earlier versions. */
export type IgnoredReason = Ignored;
"#;

/// The answer of an export: the result, or the errors.
#[derive(Serialize, tsify::Tsify)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Answer<T> {
    /// The result.
    Success(T),
    /// The input could not be used.
    Failure {
        /// Why, with stable codes.
        errors: Vec<EngineError>,
    },
}

/// The result of `decide`.
#[derive(Serialize, tsify::Tsify)]
struct Decided {
    decision: invitelink::policy::Decision,
}

/// The result of `itipSchedule`.
#[derive(Serialize, tsify::Tsify)]
struct Scheduled {
    messages: Vec<invitelink::itip::OutgoingMessage>,
}

/// The result of `itipReply`.
#[derive(Serialize, tsify::Tsify)]
struct Replied {
    ics: String,
}

/// The result of `expand`.
#[derive(Serialize, tsify::Tsify)]
struct Expanded {
    occurrences: Vec<invitelink::expand::Occurrence>,
    limited: bool,
}

/// Turns a result into the JS answer object. Never throws.
///
/// The answer is written as the CLI's JSON (the same serializer) and parsed
/// by the host's `JSON.parse`: one serializer in the module for every type,
/// and one crossing of the boundary per answer.
fn answer<T: Serialize>(result: Result<T>) -> JsValue {
    let answer = match result {
        Ok(value) => Answer::Success(value),
        Err(error) => Answer::Failure { errors: vec![error] },
    };
    as_js(&answer).unwrap_or_else(|message| {
        let error = EngineError::new(ErrorCode::InvalidValue, message);
        as_js(&Answer::<()>::Failure { errors: vec![error] }).unwrap_or(JsValue::NULL)
    })
}

/// `value` as the CLI's JSON, parsed by the host; why not, when it cannot be.
fn as_js(value: &impl Serialize) -> std::result::Result<JsValue, String> {
    let text = serde_json::to_string(value).map_err(|e| format!("cannot return the result: {e}"))?;
    js_sys::JSON::parse(&text).map_err(|_| "cannot return the result".to_owned())
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

/// A request object as the JSON text the CLI reads (`JSON.stringify`).
fn request_json(value: &JsValue, name: &str) -> Result<String> {
    if !value.is_object() || value.is_array() || value.is_function() {
        return Err(EngineError::new(
            ErrorCode::InvalidContext,
            format!("`{name}` must be an object, not {}", js_type(value)),
        ));
    }
    js_sys::JSON::stringify(value).ok().and_then(|text| text.as_string()).ok_or_else(|| {
        EngineError::new(ErrorCode::InvalidContext, format!("`{name}` is not valid: it cannot be written as JSON"))
    })
}

/// Reads a request object with the shape of the CLI's JSON, with the CLI's reader.
fn read_request<T: DeserializeOwned>(value: &JsValue, name: &str) -> Result<T> {
    serde_json::from_str(&request_json(value, name)?).map_err(|e| {
        // A JS object has no lines to point at.
        let shown = e.to_string();
        let reason = shown.rsplit_once(" at line ").map_or(shown.as_str(), |(reason, _)| reason);
        EngineError::new(ErrorCode::InvalidContext, format!("`{name}` is not valid: {reason}"))
    })
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
        let context = request_json(&context, "context")?;
        let decision = api::decide_json(&message, &context).map_err(|e| match e.code {
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
        let request: api::ProcessRequest = read_request(&request, "request")?;
        api::itip_process(&message, &request)
    })())
}

/// The messages to send after the organizer changed an object.
#[wasm_bindgen(js_name = itipSchedule, unchecked_return_type = "ScheduleAnswer")]
pub fn itip_schedule(#[wasm_bindgen(unchecked_param_type = "ScheduleRequest")] request: JsValue) -> JsValue {
    answer((|| {
        let request: api::ScheduleRequest = read_request(&request, "request")?;
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
        let request: api::ReplyRequest = read_request(&request, "request")?;
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
        let request: api::ExpandRequest = read_request(&request, "request")?;
        let expansion = api::expand(&message, &request)?;
        Ok(Expanded { occurrences: expansion.occurrences, limited: expansion.limited })
    })())
}

#[derive(Serialize, tsify::Tsify)]
struct Rebuilt {
    text: String,
}

/// The minimal iCalendar object for a meeting item whose whole message
/// Outlook cannot give (`invitelink::rebuild`).
#[wasm_bindgen(js_name = rebuildCalendar, unchecked_return_type = "RebuildAnswer")]
pub fn rebuild_calendar(#[wasm_bindgen(unchecked_param_type = "RebuildRequest")] request: JsValue) -> JsValue {
    answer((|| {
        let request: invitelink::rebuild::RebuildRequest = read_request(&request, "request")?;
        Ok(Rebuilt { text: invitelink::rebuild::calendar_from_item(&request)? })
    })())
}

/// The minimal e-mail for archiving an item whose whole message Outlook
/// cannot give (`invitelink::rebuild`).
#[wasm_bindgen(js_name = rebuildEmail, unchecked_return_type = "RebuildAnswer")]
pub fn rebuild_email(#[wasm_bindgen(unchecked_param_type = "RebuildRequest")] request: JsValue) -> JsValue {
    answer((|| {
        let request: invitelink::rebuild::RebuildRequest = read_request(&request, "request")?;
        Ok(Rebuilt { text: invitelink::rebuild::email_from_item(&request)? })
    })())
}

/// The engine's version.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    api::version().to_owned()
}

/// The module's allocator: TLSF instead of the target's default (dlmalloc).
/// The same `decide` speed, and a module 87 KiB smaller raw, 19 KiB gzipped
/// (docs/benchmarks.md); its memory stays bounded (`tests/wasm`).
#[global_allocator]
static ALLOCATOR: rlsf::GlobalTlsf = rlsf::GlobalTlsf::new();

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
