//! The sentences a decision gives the user (shown in the task pane as text).
//!
//! One function per sentence, so the same situation is always worded the
//! same way. Sentences start in lower case and have no final period, like
//! the engine's error messages; the task pane capitalizes them.

use super::context::{ActionType, Incoming};
use super::decision::Party;

/// How a person is named: "Bob Berg at Customer AS", "Bob Berg", or the address.
pub fn who(party: &Party) -> String {
    let name = party.person_name.as_deref().or(party.associate_name.as_deref()).or(party.name.as_deref());
    match (name, party.company.as_deref()) {
        (Some(n), Some(c)) if !c.is_empty() => format!("{n} at {c}"),
        (Some(n), _) => format!("{n} ({})", party.email),
        (None, Some(c)) if !c.is_empty() => format!("{} at {c}", party.email),
        (None, _) => party.email.clone(),
    }
}

/// `disable_all`.
pub fn plain_email() -> String {
    "incoming invitations are turned off (system preference `disable_all`): the message is shown as a plain e-mail \
     and cannot be answered here"
        .to_owned()
}

/// A preference that stops the arrival rules.
pub fn preference(incoming: Incoming) -> String {
    match incoming {
        Incoming::DisableTentative => "tentative appointments are turned off (system preference \
                                       `disable_tentative`): the appointment is created when you accept"
            .to_owned(),
        Incoming::DisableAutomation => "automatic processing of invitations is turned off (system preference \
                                        `disable_automation`): nothing changes in your diary until you answer"
            .to_owned(),
        Incoming::DisableAll => plain_email(),
        Incoming::EnableAll => "invitations are processed automatically (system preference `enable_all`)".to_owned(),
    }
}

/// Changes arriving while the preference holds them back.
pub fn changes_held(incoming: Incoming, what: &str) -> String {
    format!(
        "automatic processing of invitations is turned off (system preference `{}`): the {what} is not applied",
        incoming.as_str()
    )
}

/// The user is not an attendee.
pub fn not_addressed(mailbox: &str) -> String {
    format!("you ({mailbox}) are not among the attendees of this message: nothing is changed")
}

/// The user is not the organizer of the appointment a reply is about.
pub fn not_organizer(mailbox: &str, organizer: &str) -> String {
    format!("this answer is for {organizer}, the organizer, not for you ({mailbox}): nothing is changed")
}

/// Rule 2.
pub fn recurring() -> String {
    "recurring invitations are created on Accept all".to_owned()
}

/// A synchronizer is active.
pub fn synchronizer() -> String {
    "a calendar synchronizer is active: it brings the meeting to your diary, so no tentative appointment is added, \
     and you answer the invitation in your calendar"
        .to_owned()
}

/// The user's `import_tentative` is off.
pub fn import_off() -> String {
    "you turned off importing invitations as tentative appointments: the appointment is created when you accept"
        .to_owned()
}

/// Rule 3.
pub fn unknown_sender(organizer: &str) -> String {
    format!(
        "the organizer {organizer} is not a registered contact: nothing is added to your diary until you accept; \
         register them as a contact to have their invitations added"
    )
}

/// The organizer's address belongs to several contacts.
pub fn ambiguous_sender(addr: &str, count: usize) -> String {
    format!(
        "{addr} is registered for {count} contacts: the invitation is not linked to any of them automatically; \
         accept it and link the right person"
    )
}

/// The organizer is a CRM user.
pub fn associate_organizer(who: &str) -> String {
    format!("the organizer {who} is a CRM user, not a registered contact: nothing is added until you accept")
}

/// Rule 1.
pub fn tentative_created(who: &str) -> String {
    format!("{who} is a registered contact: a tentative appointment was added to your diary")
}

/// The organizer is a registered contact (for other kinds).
pub fn registered(who: &str) -> String {
    format!("the organizer {who} is a registered contact")
}

/// An update for a UID not stored, treated as an invitation.
pub fn update_taken_as_invitation(sequence: i64) -> String {
    format!(
        "this is an update (SEQUENCE {sequence}) of a meeting that is not in your diary: it is handled as a new \
         invitation"
    )
}

/// Rule 4: an update applied.
pub fn update_applied() -> String {
    "the organizer's update was applied to your appointment".to_owned()
}

/// Rule 4: a significant change.
pub fn moved() -> String {
    "the start, end, recurrence or location changed: the appointment is tentative again and marked as moved".to_owned()
}

/// Rule 4 for one occurrence.
pub fn occurrence_moved() -> String {
    "the organizer moved an occurrence: it is marked as moved and awaits your answer; the rest of the series is \
     unchanged"
        .to_owned()
}

/// Rule 3 after an answer.
pub fn register_contact(organizer: &str) -> String {
    format!("the organizer {organizer} is not a registered contact: register them to link their meetings")
}

/// Instances added (`ADD`).
pub fn instances_added() -> String {
    "the organizer added occurrences: they were added to your appointment".to_owned()
}

/// A whole cancellation.
pub fn cancelled() -> String {
    "the organizer cancelled the meeting: the appointment was removed from your diary".to_owned()
}

/// An instance cancellation.
pub fn occurrence_cancelled(at: &str) -> String {
    format!("the organizer cancelled the occurrence of {at}: it was removed from your diary")
}

/// Rule 6: a duplicate.
pub fn duplicate() -> String {
    "this message was processed already: nothing is changed".to_owned()
}

/// Rule 6: an old version.
pub fn stale(message: i64, stored: i64) -> String {
    format!(
        "this message is older (SEQUENCE {message}) than the stored appointment (SEQUENCE {stored}): nothing is changed"
    )
}

/// Rule 5: an organizer's message from someone else.
pub fn not_from_organizer(sender: &str, organizer: &str) -> String {
    format!("the message comes from {sender}, not from the organizer {organizer}: it is not applied")
}

/// Rule 5: an organizer's message that came without an author (`From`).
pub fn no_author(organizer: &str) -> String {
    format!(
        "the message has no sender address (no `From`), so nothing shows it comes from {organizer}: it is not applied"
    )
}

/// Rule 5: neither the message nor the stored appointment names an organizer.
pub fn no_organizer() -> String {
    "the message and the appointment name no organizer, so nobody can be shown to be entitled to change it: \
     it is not applied"
        .to_owned()
}

/// Rule 5: an invitation sent by someone else than its organizer.
pub fn invitation_not_from_organizer(sender: &str, organizer: &str) -> String {
    format!(
        "the invitation names {organizer} as organizer but comes from {sender}: nothing is added to your diary; \
         answer it yourself only if you trust it"
    )
}

/// Rule 5: the e-mail was found not authenticated.
pub fn unauthenticated(sender: Option<&str>) -> String {
    match sender {
        Some(s) => format!("this e-mail could not be verified as coming from {s}: nothing is applied automatically"),
        None => {
            "this e-mail could not be verified as coming from its sender: nothing is applied automatically".to_owned()
        }
    }
}

/// The warning shown with every decision on an unauthenticated e-mail.
pub fn unverified(sender: Option<&str>) -> String {
    format!(
        "this e-mail could not be verified as coming from {}: answer it only if you trust it",
        sender.unwrap_or("its sender")
    )
}

/// A malformed part of a recurrence rule was skipped (damaged input).
pub fn rule_part_skipped(line: u32, why: &str) -> String {
    format!(
        "the recurrence rule on line {line} is damaged ({why}): that part was skipped and the rest of the rule used"
    )
}

/// A recurrence rule could not be used at all (damaged input).
pub fn rule_dropped(line: u32, why: &str) -> String {
    format!("the recurrence rule on line {line} cannot be used ({why}): only the first occurrence is shown")
}

/// A value of a date list (`RDATE`, `EXDATE`) was skipped (damaged input).
pub fn value_skipped(line: u32, why: &str) -> String {
    format!("line {line} is damaged ({why}): that value was skipped and the others used")
}

/// The `Sender:` header names someone else than `From`.
pub fn sender_header(sender: &str, from: Option<&str>) -> String {
    match from {
        Some(f) => format!("the e-mail was sent by {sender} on behalf of {f}; only {f} counts as its sender"),
        None => format!("the e-mail was sent by {sender} but names no author (`From`)"),
    }
}

/// Rule 5: the message names another organizer than the stored one.
pub fn other_organizer(named: &str, stored: &str) -> String {
    format!("the message names {named} as organizer, but the appointment's organizer is {stored}: it is not applied")
}

/// Rule 5: a reply from someone else than the attendee.
pub fn not_from_attendee(sender: &str, attendee: &str) -> String {
    format!("the answer speaks for {attendee} but comes from {sender}: it is not recorded")
}

/// A delegate named by a reply is added to the meeting.
pub fn delegate_added(who: &str) -> String {
    format!("{who} was added to the meeting as a delegate: their own answer will follow")
}

/// Rule 5: a reply from an address that was not invited.
pub fn unknown_attendee(attendee: &str) -> String {
    format!("{attendee} answered, but was not invited to this meeting: the answer is not recorded")
}

/// A reply without an attendee.
pub fn reply_without_attendee() -> String {
    "the answer names no attendee: nothing is recorded".to_owned()
}

/// No stored appointment.
pub fn no_existing(what: &str) -> String {
    format!("there is no appointment with this meeting's UID in your diary: the {what} changes nothing")
}

/// A reply recorded.
pub fn answer_recorded(who: &str, partstat: &str, at: Option<&str>) -> String {
    let verb = match partstat {
        "ACCEPTED" => "accepted".to_owned(),
        "DECLINED" => "declined".to_owned(),
        "TENTATIVE" => "accepted tentatively".to_owned(),
        "DELEGATED" => "delegated the invitation".to_owned(),
        "NEEDS-ACTION" => "has not decided yet".to_owned(),
        other => format!("answered `{other}`"),
    };
    match at {
        Some(at) => format!("{who} {verb} the occurrence of {at}: the answer was recorded"),
        None => format!("{who} {verb}: the answer was recorded"),
    }
}

/// `request_reply` for replies that arrive while it is off.
pub fn replies_not_requested() -> String {
    "the CRM does not ask for replies to its invitations (system preference `request_reply` off), but this answer \
     is recorded"
        .to_owned()
}

/// `request_reply` for refreshed invitations.
pub fn refresh_rsvp(on: bool) -> String {
    if on {
        "the invitation sent again asks for a reply (system preference `request_reply` on)".to_owned()
    } else {
        "the invitation sent again asks for no reply (system preference `request_reply` off)".to_owned()
    }
}

/// `COUNTER`.
pub fn counter(who: &str, start: Option<&str>, end: Option<&str>) -> String {
    match (start, end) {
        (Some(s), Some(e)) => {
            format!("{who} proposes another time, {s} to {e}: nothing changes unless you reschedule the meeting")
        }
        _ => format!("{who} proposes a change to the meeting: nothing changes unless you reschedule it"),
    }
}

/// `DECLINECOUNTER`.
pub fn counter_declined() -> String {
    "the organizer declined your proposal: the meeting stays as it is".to_owned()
}

/// `REFRESH`.
pub fn refresh(who: &str) -> String {
    format!("{who} asks for the latest version of the invitation: send it again from the appointment")
}

/// `PUBLISH`.
pub fn publish() -> String {
    "a published event expects no answer: it is added to your diary only if you accept it".to_owned()
}

/// A calendar without `METHOD`.
pub fn no_method() -> String {
    "the calendar has no METHOD: it is read as a published event".to_owned()
}

/// An action carried out.
pub fn answered(action: ActionType, created: bool, recurring: bool) -> String {
    let what = if recurring { "the series" } else { "the appointment" };
    let place = if created { "was added to your diary" } else { "was updated in your diary" };
    match action {
        ActionType::Accept | ActionType::AcceptAll => format!("you accepted: {what} {place} as accepted"),
        ActionType::Tentative => format!("you accepted tentatively: {what} {place} as tentative"),
        ActionType::Decline => format!("you declined: {what} {place} as declined"),
    }
}

/// Decline of a tentative appointment.
pub fn declined_removed() -> String {
    "you declined: the tentative appointment was removed from your diary".to_owned()
}

/// Decline of an invitation that is not stored.
pub fn declined_nothing_stored() -> String {
    "you declined: nothing is added to your diary".to_owned()
}

/// The reply is sent.
pub fn reply_sent(to: &str) -> String {
    format!("your answer is sent to the organizer {to}")
}

/// The user chose not to notify.
pub fn reply_not_requested_by_user() -> String {
    "the organizer is not notified, as you chose".to_owned()
}

/// `RSVP=FALSE`.
pub fn rsvp_false() -> String {
    "the organizer asked for no reply (RSVP=FALSE): no answer is sent".to_owned()
}

/// No organizer to answer.
pub fn nobody_to_notify() -> String {
    "the event has no organizer to answer: no answer is sent".to_owned()
}

/// Expansion cut.
pub fn occurrences_limited() -> String {
    "the series has more occurrences than the engine expands: only the first ones are listed".to_owned()
}

/// iTIP processing changed nothing.
pub fn itip_ignored(code: crate::outcome::Ignored) -> String {
    match code {
        crate::outcome::Ignored::Duplicate => duplicate(),
        crate::outcome::Ignored::Stale => {
            "this message is older than the stored appointment: nothing is changed".to_owned()
        }
        other => format!("the scheduling rules leave the stored appointment as it is (`{}`)", other.as_str()),
    }
}

/// `PUBLISH` is not answered.
pub fn published_no_reply() -> String {
    "a published event expects no answer: none is sent".to_owned()
}

/// An answer to an update that moved the meeting.
pub fn moved_and_answered() -> String {
    "the organizer changed the start, end, recurrence or location: your answer is for the new version".to_owned()
}
