//! Errors of the engine: malformed or contradictory input.
//!
//! "Ignored, because ..." is not an error: that is an outcome of a decision.
//! Errors are for input the engine cannot read. Every error carries a stable
//! machine code (see [`ErrorCode`]), the line where reading stopped (1-based,
//! when known) and a message for a person, in lower case without a final period.

use serde::Serialize;
use std::fmt;

/// Stable machine codes. Changing a code is a breaking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The iCalendar or e-mail text could not be read.
    ParseError,
    /// An e-mail without any `text/calendar` or `application/ics` part.
    NoCalendarPart,
    /// A calendar without a `VEVENT`.
    NoEvent,
    /// A `VEVENT` without `UID`.
    MissingUid,
    /// The input is larger than the configured limit.
    TooLarge,
    /// Recurrence expansion was cut at the configured count or horizon.
    RecurrenceLimit,
    /// A value (date, duration, recurrence rule, ...) is malformed.
    InvalidValue,
    /// The scheduling object contradicts itself (different UIDs or organizers).
    InvalidSchedulingObject,
    /// The context or options given with the message are malformed.
    InvalidContext,
    /// The action is not allowed by the system preferences.
    ActionDisabled,
    /// A file could not be read (CLI only).
    Io,
    /// The command line is wrong (CLI only).
    Usage,
}

impl ErrorCode {
    /// The code as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ParseError => "parse_error",
            ErrorCode::NoCalendarPart => "no_calendar_part",
            ErrorCode::NoEvent => "no_event",
            ErrorCode::MissingUid => "missing_uid",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RecurrenceLimit => "recurrence_limit",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::InvalidSchedulingObject => "invalid_scheduling_object",
            ErrorCode::InvalidContext => "invalid_context",
            ErrorCode::ActionDisabled => "action_disabled",
            ErrorCode::Io => "io",
            ErrorCode::Usage => "usage",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of the engine, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct EngineError {
    /// Stable machine code.
    pub code: ErrorCode,
    /// A message a person can act on.
    pub message: String,
    /// The 1-based line where reading stopped, when known.
    pub line: Option<u32>,
}

impl EngineError {
    /// A new error without a line.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        EngineError { code, message: message.into(), line: None }
    }

    /// A new error at a line.
    pub fn at(code: ErrorCode, line: u32, message: impl Into<String>) -> Self {
        EngineError { code, message: message.into(), line: Some(line) }
    }

    /// The same error, placed at `line` unless it already has one.
    pub fn with_line(mut self, line: u32) -> Self {
        if self.line.is_none() {
            self.line = Some(line);
        }
        self
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} at line {}: {}", self.code, line, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for EngineError {}

/// Results of the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
