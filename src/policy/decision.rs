//! The decision: what the diary does with a message, as data (SPEC 3.4).
//!
//! The backend and the task pane apply a decision; they never re-derive a
//! rule. Every effect that changes the diary carries the iCalendar text to
//! store, so applying it is a plain write.

use super::context::{ActionType, RecordId};
use crate::itip::{PartStat, Role};
use crate::outcome::Ignored;
use serde::Serialize;

/// The decision for one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Decision {
    /// What the message is.
    pub kind: Kind,
    /// Whether the event recurs (`RRULE` or `RDATE`).
    pub recurring: bool,
    /// What to do, in order.
    pub effects: Vec<Effect>,
    /// Why the arrival rules did nothing (or only suggested), or null.
    pub ignored: Option<Ignored>,
    /// Which answer buttons the inbox and the task pane enable.
    pub buttons: Buttons,
    /// How the message is shown.
    pub display: Display,
    /// Sentences for the user, shown in the task pane.
    pub reasons: Vec<String>,
    /// The event's `UID`.
    pub uid: String,
    /// The iTIP method as read (`REQUEST`, `REPLY`, ...).
    pub method: String,
    /// The message's `SEQUENCE`.
    pub sequence: i64,
    /// The organizer, matched to the CRM.
    pub organizer: Option<Party>,
    /// The user's action this decision answers, or null on arrival.
    pub action: Option<ActionType>,
    /// Facts for the log that need no action from the user.
    pub notes: Vec<String>,
    /// Things the engine could not do exactly as the message asks.
    pub warnings: Vec<String>,
}

/// What a message is (from its `METHOD` and whether the `UID` is stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A `REQUEST` for a `UID` the diary does not hold.
    Invitation,
    /// A `REQUEST` for a stored `UID`.
    Update,
    /// A `REPLY` from an attendee.
    Reply,
    /// A `CANCEL` of the event or of instances.
    Cancel,
    /// An `ADD` of instances.
    Add,
    /// A `REFRESH`: an attendee asks for the latest version.
    Refresh,
    /// A `COUNTER`: an attendee proposes a change.
    Counter,
    /// A `DECLINECOUNTER`: the organizer refuses a proposal.
    Declinecounter,
    /// A `PUBLISH` (or a calendar without `METHOD`): no answer expected.
    Publish,
}

impl Kind {
    /// The value as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Invitation => "invitation",
            Kind::Update => "update",
            Kind::Reply => "reply",
            Kind::Cancel => "cancel",
            Kind::Add => "add",
            Kind::Refresh => "refresh",
            Kind::Counter => "counter",
            Kind::Declinecounter => "declinecounter",
            Kind::Publish => "publish",
        }
    }
}

/// The answer buttons of the inbox and the task pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Buttons {
    /// Accept (a single event).
    pub accept: bool,
    /// Tentative.
    pub tentative: bool,
    /// Decline.
    pub decline: bool,
    /// Accept all (a series).
    pub accept_all: bool,
}

impl Buttons {
    /// Whether the button for `action` is enabled.
    pub fn allows(&self, action: ActionType) -> bool {
        match action {
            ActionType::Accept => self.accept,
            ActionType::Tentative => self.tentative,
            ActionType::Decline => self.decline,
            ActionType::AcceptAll => self.accept_all,
        }
    }
}

/// How the message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Display {
    /// As a meeting, with its decision, reasons and buttons.
    Invitation,
    /// As a plain e-mail (`disable_all`).
    PlainEmail,
}

/// The status of an appointment in the user's diary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Not answered, or answered tentatively.
    Tentative,
    /// Accepted.
    Accepted,
    /// Declined, kept in the diary as declined.
    Declined,
}

/// A person in the message (organizer or attendee), matched to the CRM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Party {
    /// The address, lower-cased, without `mailto:`.
    pub email: String,
    /// The name the message gives (`CN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The registered contact with this address, when exactly one matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<RecordId>,
    /// The contact's name in the CRM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_name: Option<String>,
    /// The contact's company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// The associate (CRM user) with this address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub associate_id: Option<RecordId>,
    /// The associate's name in the CRM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub associate_name: Option<String>,
}

/// An attendee of an appointment, matched to the CRM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Attendee {
    /// Who it is.
    #[serde(flatten)]
    pub party: Party,
    /// `PARTSTAT` (RFC 5545 3.2.12), written upper-case; `NEEDS-ACTION` when absent.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub partstat: PartStat,
    /// `ROLE` (RFC 5545 3.2.16), written upper-case; `REQ-PARTICIPANT` when absent.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub role: Role,
    /// Whether this attendee is the receiving user.
    pub is_user: bool,
}

/// One occurrence of a series, as `invitelink expand` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct OccurrenceTime {
    /// The instance's `RECURRENCE-ID` (its original start).
    pub recurrence_id: String,
    /// Start: UTC RFC 3339 (`2026-12-03T09:00:00Z`) or a date for all-day.
    pub start: String,
    /// End, in the same form.
    pub end: String,
    /// Whether the occurrence is all-day.
    pub all_day: bool,
    /// The occurrence's `STATUS`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// An appointment to create in (or to write to) the user's diary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Appointment {
    /// The event's `UID`.
    pub uid: String,
    /// The appointment's status in the diary.
    pub status: AppointmentStatus,
    /// `SUMMARY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `LOCATION`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Start of the event (of the first instance for a series).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End of the event (of the first instance for a series).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Whether the event is all-day.
    pub all_day: bool,
    /// The organizer, matched to the CRM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizer: Option<Party>,
    /// The registered contact the appointment is linked to (its person and
    /// company), when the organizer is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Party>,
    /// Every attendee, matched to persons and associates.
    pub attendees: Vec<Attendee>,
    /// Every occurrence of a series (overrides and `EXDATE`s applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrences: Option<Vec<OccurrenceTime>>,
    /// Whether `occurrences` was cut at the expansion limit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub occurrences_limited: bool,
    /// The iCalendar text to store.
    pub ics: String,
}

/// A change to a stored appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct AppointmentUpdate {
    /// The appointment as it is now.
    #[serde(flatten)]
    pub appointment: Appointment,
    /// A significant change (start, end, recurrence, location) moved it.
    pub moved: bool,
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Create an appointment in the user's diary.
    CreateAppointment(Appointment),
    /// Replace the stored appointment.
    UpdateAppointment(AppointmentUpdate),
    /// Remove (cancel) the stored appointment.
    CancelAppointment {
        /// The event's `UID`.
        uid: String,
        /// The stored text after the cancellation, when it is kept (`STATUS:CANCELLED`).
        #[serde(skip_serializing_if = "Option::is_none")]
        ics: Option<String>,
    },
    /// Cancel one occurrence of a stored series.
    CancelOccurrence {
        /// The event's `UID`.
        uid: String,
        /// The occurrence, as in [`OccurrenceTime::recurrence_id`].
        recurrence_id: String,
        /// The stored text after the cancellation.
        ics: String,
    },
    /// Record an attendee's answer in the organizer's stored copy.
    SetAttendeeStatus {
        /// The event's `UID`.
        uid: String,
        /// The attendee's address.
        attendee: String,
        /// The answer (`ACCEPTED`, `TENTATIVE`, `DECLINED`, ...).
        partstat: String,
        /// The instance answered, or absent for the whole event.
        #[serde(skip_serializing_if = "Option::is_none")]
        recurrence_id: Option<String>,
        /// The attendee, matched to the CRM.
        party: Party,
        /// The stored text with the answer recorded.
        ics: String,
    },
    /// Send the user's `REPLY` to the organizer.
    SendReply {
        /// The answer (`ACCEPTED`, `TENTATIVE`, `DECLINED`).
        partstat: String,
        /// The organizer's address.
        to: String,
        /// The user's address as the invitation names it.
        from: String,
        /// The `REPLY` to send (`text/calendar; method=REPLY`).
        ics: String,
    },
    /// Tell the user something.
    Notify {
        /// What happened.
        what: Notice,
        /// The attendee concerned, when there is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        attendee: Option<String>,
    },
    /// Suggest registering an address as a contact.
    SuggestContact {
        /// The address.
        email: String,
        /// The name the message gives.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// An attendee's proposal for the organizer; never applied automatically.
    CounterProposal {
        /// Who proposes.
        attendee: String,
        /// The proposed start.
        #[serde(skip_serializing_if = "Option::is_none")]
        start: Option<String>,
        /// The proposed end.
        #[serde(skip_serializing_if = "Option::is_none")]
        end: Option<String>,
        /// The proposed location, when it differs.
        #[serde(skip_serializing_if = "Option::is_none")]
        location: Option<String>,
        /// The attendee's `COMMENT`.
        #[serde(skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        /// The instance concerned, or absent for the whole event.
        #[serde(skip_serializing_if = "Option::is_none")]
        recurrence_id: Option<String>,
    },
}

impl Effect {
    /// The `type` as written in JSON.
    pub fn type_name(&self) -> &'static str {
        match self {
            Effect::CreateAppointment(_) => "create_appointment",
            Effect::UpdateAppointment(_) => "update_appointment",
            Effect::CancelAppointment { .. } => "cancel_appointment",
            Effect::CancelOccurrence { .. } => "cancel_occurrence",
            Effect::SetAttendeeStatus { .. } => "set_attendee_status",
            Effect::SendReply { .. } => "send_reply",
            Effect::Notify { .. } => "notify",
            Effect::SuggestContact { .. } => "suggest_contact",
            Effect::CounterProposal { .. } => "counter_proposal",
        }
    }
}

/// What a `notify` effect tells the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// An attendee declined the user's invitation (until "Got it").
    InvitationDeclined,
    /// The organizer moved an appointment (significant change).
    AppointmentMoved,
    /// The organizer cancelled an appointment or an occurrence.
    AppointmentCancelled,
    /// An attendee asks for the latest version of the user's invitation.
    RefreshRequested,
    /// The organizer declined the user's counter-proposal.
    CounterDeclined,
}
