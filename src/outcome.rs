//! Why a message was ignored: an outcome with a reason, not an error.

use serde::{Deserialize, Serialize};

/// The stable `ignored` codes of a decision (SPEC 3.3) and of `itip process`.
/// Changing a code is a breaking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Ignored {
    /// The organizer is not a registered contact (rule 3).
    UnknownSender,
    /// A new recurring invitation is created only on Accept all (rule 2).
    RecurringNeedsAcceptAll,
    /// The "Manage incoming invitations" preference turns this off.
    DisabledByPreference,
    /// The user's `import_tentative` setting is off.
    ImportOff,
    /// A calendar synchronizer is active for the user or the system.
    SynchronizerActive,
    /// Older than the stored copy (`SEQUENCE`, then `DTSTAMP`; RFC 5546 2.1.5).
    Stale,
    /// The same message was applied already (rule 6).
    Duplicate,
    /// The user's address is not an attendee of the invitation.
    NotAddressedToUser,
    /// The sender is not the organizer (for requests and cancellations) or not
    /// the attendee the reply speaks for (rule 5).
    SenderMismatch,
    /// A reply from an address that was not invited (rule 5).
    UnknownAttendee,
    /// An update, cancellation or reply for an appointment we do not have.
    NoExistingAppointment,
    /// The backend found the e-mail not authenticated (DKIM/DMARC failed, or
    /// no verdict where one is required): nothing is applied automatically.
    UnauthenticatedSender,
    /// The method or component is not one the engine applies (`PUBLISH` to
    /// `itip process`, a `VTODO`, a message without `METHOD`).
    Unsupported,
}

impl Ignored {
    /// The code as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Ignored::UnknownSender => "unknown_sender",
            Ignored::RecurringNeedsAcceptAll => "recurring_needs_accept_all",
            Ignored::DisabledByPreference => "disabled_by_preference",
            Ignored::ImportOff => "import_off",
            Ignored::SynchronizerActive => "synchronizer_active",
            Ignored::Stale => "stale",
            Ignored::Duplicate => "duplicate",
            Ignored::NotAddressedToUser => "not_addressed_to_user",
            Ignored::SenderMismatch => "sender_mismatch",
            Ignored::UnknownAttendee => "unknown_attendee",
            Ignored::NoExistingAppointment => "no_existing_appointment",
            Ignored::UnauthenticatedSender => "unauthenticated_sender",
            Ignored::Unsupported => "unsupported",
        }
    }
}
