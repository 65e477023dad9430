//! The arrival rules (SPEC 3.3, rules 1 to 6): what the diary does with a
//! message before the user answers. Each rule is an early return with a
//! named outcome ([`Refusal`]); what is left at the end of a function is
//! applied.
//!
//! Order of the checks (the first that holds gives the `ignored` code):
//! `disable_all`; an e-mail the backend found not authenticated
//! (`unauthenticated_sender`); then, by kind, the stored appointment
//! (`no_existing_appointment`), the addressee (`not_addressed_to_user`), the
//! sender (`unknown_attendee`, `sender_mismatch`), the version (`stale`,
//! `duplicate`), and last the preferences and settings. For the messages
//! iTIP processing applies (updates, `ADD`, `CANCEL`, `REPLY`) the sender
//! and the version are its verdict ([`itip::process_read`]); this module
//! words it (`organizer_refusal`, `attendee_refusal`).

use super::Case;
use super::context::Incoming;
use super::decision::{AppointmentStatus, Buttons, Decision, Display, Effect, Kind, Notice, Party};
use super::diary;
use super::reasons;
use crate::error::Result;
use crate::itip::trust::{self, Principal, Recorded, Voucher, vouch};
use crate::itip::{self, ProcessOutcome as Processed};
use crate::outcome::Ignored;

/// Why a rule stops: the `ignored` code and the sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The stable code.
    pub code: Ignored,
    /// The sentence.
    pub reason: String,
    /// Something odd about the message, for the decision's warnings.
    pub warning: Option<String>,
}

impl Refusal {
    fn new(code: Ignored, reason: String) -> Refusal {
        Refusal { code, reason, warning: None }
    }
}

fn refuse(d: &mut Decision, r: Refusal) -> Result<()> {
    d.ignored = Some(r.code);
    d.reasons.push(r.reason);
    d.warnings.extend(r.warning);
    Ok(())
}

/// Runs the arrival rules for `case` into `d`.
pub fn on_arrival(case: &Case<'_, '_>, d: &mut Decision) -> Result<()> {
    d.buttons = buttons(case).unwrap_or_default();
    let incoming = case.ctx.preferences.incoming;
    if incoming == Incoming::DisableAll {
        d.display = Display::PlainEmail;
        return refuse(d, Refusal::new(Ignored::DisabledByPreference, reasons::plain_email()));
    }
    if case.ctx.authenticated == Some(false) && case.kind != Kind::Publish {
        // Nothing automatic from an e-mail that failed authentication; the
        // user may still answer it by hand (the buttons stay, with a warning).
        return refuse(d, Refusal::new(Ignored::UnauthenticatedSender, reasons::unauthenticated(case.from.as_deref())));
    }
    match case.kind {
        Kind::Invitation => invitation(case, d),
        Kind::Update | Kind::Add => change(case, d),
        Kind::Cancel => cancel(case, d),
        Kind::Reply => reply(case, d),
        Kind::Counter => counter(case, d),
        Kind::Declinecounter => declinecounter(case, d),
        Kind::Refresh => refresh(case, d),
        Kind::Publish => {
            d.reasons.push(reasons::publish());
            Ok(())
        }
    }
}

/// The answer buttons for `case`, or why none can be used.
///
/// Invitations and updates addressed to the user can be answered unless a
/// synchronizer is active or the update is not the organizer's current
/// version; a recurring one is accepted with Accept all (Accept is off).
/// Published events can be accepted (or accepted tentatively), not
/// declined. Every other kind has no buttons.
pub fn buttons(case: &Case<'_, '_>) -> std::result::Result<Buttons, String> {
    if case.ctx.preferences.incoming == Incoming::DisableAll {
        return Err("answers are turned off by the system preference `disable_all`".to_owned());
    }
    let recurring = case.message.recurring;
    match case.kind {
        Kind::Invitation | Kind::Update => {
            if let Some(r) = addressed_to_attendee(case) {
                return Err(r.reason);
            }
            if case.ctx.synchronizer_active() {
                return Err("a calendar synchronizer is active: answer the invitation in your calendar".to_owned());
            }
            if case.kind == Kind::Update {
                // An update that someone else wrote cannot be answered; one
                // without any author can: the answer is recorded on the
                // stored copy, which the message does not change. A stale
                // one cannot. iTIP processing judges both.
                let author = case.from.is_some().then(|| case.author());
                let verdict = itip::process_read(case.message, case.stored.as_ref(), author.as_ref());
                if let Ok(Processed::Ignored(code @ (Ignored::SenderMismatch | Ignored::Stale))) = verdict {
                    return Err(organizer_refusal(case, code).reason);
                }
            }
            Ok(Buttons { accept: !recurring, tentative: true, decline: true, accept_all: recurring })
        }
        Kind::Publish => Ok(Buttons { accept: !recurring, tentative: true, decline: false, accept_all: recurring }),
        other => Err(format!("this message is a {}, not an invitation: there is nothing to answer", other.as_str())),
    }
}

/// How the organizer of an invitation matches the CRM (rule 1): by the
/// `ORGANIZER` address (or its `EMAIL` when the value is no e-mail address),
/// then by its `SENT-BY` when that is in the organizer's own organization
/// (and the e-mail is not known to be unauthenticated), then by the e-mail's
/// author when the author speaks for the organizer ([`vouch`]); with no
/// `ORGANIZER`, by the author. The first that matches any contact decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganizerLink {
    /// Exactly one registered contact.
    Contact(Party),
    /// Several contacts share the address: none is picked.
    Ambiguous {
        /// The shared address.
        email: String,
        /// How many contacts have it.
        count: usize,
    },
    /// A CRM user, not a contact.
    Associate(Party),
    /// Nobody the CRM knows.
    Unknown {
        /// The organizer's address.
        email: String,
        /// The organizer's name.
        name: Option<String>,
    },
    /// The message names no organizer and came without an e-mail.
    Nobody,
}

/// Matches the organizer of the message to the CRM.
pub fn organizer_link(case: &Case<'_, '_>) -> OrganizerLink {
    let org = case.message.organizer.as_ref().or_else(|| case.organizer());
    let name = org.and_then(|o| o.name.as_deref());
    let mut candidates: Vec<&str> = Vec::new();
    match org {
        Some(o) => {
            candidates.push(&o.email);
            candidates.extend(o.reach_email());
            // The organizer's own assistant (SENT-BY in the organizer's
            // organization), and the author when the author speaks for the
            // organizer (a colleague's booking system).
            let unverified = case.ctx.authenticated == Some(false);
            candidates.extend(o.sent_by.as_deref().filter(|a| !unverified && trust::same_organization(a, &o.email)));
            if organizer_voucher(case).is_some_and(|v| v != Voucher::Itself) {
                candidates.extend(case.from.as_deref());
            }
        }
        None => candidates.extend(case.from.as_deref()),
    }
    for addr in &candidates {
        match case.directory.contact(addr) {
            super::directory::ContactMatch::One(_) => return OrganizerLink::Contact(case.directory.party(addr, name)),
            super::directory::ContactMatch::Several(count) => {
                return OrganizerLink::Ambiguous { email: (*addr).to_owned(), count };
            }
            super::directory::ContactMatch::None => {}
        }
    }
    if let Some(addr) = candidates.iter().find(|a| case.directory.associate(a).is_some()) {
        return OrganizerLink::Associate(case.directory.party(addr, name));
    }
    match (org, candidates.first()) {
        (Some(o), _) => {
            OrganizerLink::Unknown { email: o.email.to_string(), name: o.name.as_deref().map(str::to_owned) }
        }
        (None, Some(addr)) => OrganizerLink::Unknown { email: (*addr).to_owned(), name: None },
        (None, None) => OrganizerLink::Nobody,
    }
}

impl OrganizerLink {
    /// The `suggest_contact` effect for an organizer nobody knows.
    pub fn suggestion(&self) -> Option<Effect> {
        match self {
            OrganizerLink::Unknown { email, name } if !email.is_empty() => {
                Some(Effect::SuggestContact { email: email.clone(), name: name.clone() })
            }
            _ => None,
        }
    }

    /// The sentence about the organizer, when the organizer is not a contact
    /// (the refusal of rule 3) or is one (a fact worth telling).
    pub fn reason(&self) -> Option<String> {
        match self {
            OrganizerLink::Contact(p) => Some(reasons::registered(&reasons::who(p))),
            OrganizerLink::Ambiguous { email, count } => Some(reasons::ambiguous_sender(email, *count)),
            OrganizerLink::Associate(p) => Some(reasons::associate_organizer(&reasons::who(p))),
            OrganizerLink::Unknown { email, .. } => Some(reasons::unknown_sender(email)),
            OrganizerLink::Nobody => None,
        }
    }

    /// The contact the appointment is linked to.
    pub fn contact(&self) -> Option<Party> {
        match self {
            OrganizerLink::Contact(p) => Some(p.clone()),
            _ => None,
        }
    }
}

/// Rules 1, 2 and 3: a `REQUEST` for a `UID` the diary does not hold.
fn invitation(case: &Case<'_, '_>, d: &mut Decision) -> Result<()> {
    if let Some(r) = addressed_to_attendee(case) {
        return refuse(d, r);
    }
    if let Some(r) = invitation_from_organizer(case) {
        return refuse(d, r);
    }
    let link = organizer_link(case);
    let before = |d: &mut Decision, r: Refusal| {
        d.effects.extend(link.suggestion());
        refuse(d, r)?;
        d.reasons.extend(link.reason());
        Ok(())
    };
    if case.message.recurring {
        return before(d, Refusal::new(Ignored::RecurringNeedsAcceptAll, reasons::recurring()));
    }
    let incoming = case.ctx.preferences.incoming;
    if incoming != Incoming::EnableAll {
        return before(d, Refusal::new(Ignored::DisabledByPreference, reasons::preference(incoming)));
    }
    if case.ctx.synchronizer_active() {
        return before(d, Refusal::new(Ignored::SynchronizerActive, reasons::synchronizer()));
    }
    if !case.ctx.user.import_tentative {
        return before(d, Refusal::new(Ignored::ImportOff, reasons::import_off()));
    }
    let OrganizerLink::Contact(contact) = &link else {
        d.effects.extend(link.suggestion());
        let reason = link.reason().unwrap_or_else(|| reasons::unknown_sender("(none)"));
        return refuse(d, Refusal::new(Ignored::UnknownSender, reason));
    };
    let sequence = case.message.highest_sequence();
    // Anyone may invite: a new invitation is stored as it came, in iTIP
    // processing's stored shape (no `METHOD`, one `VTIMEZONE` per `TZID`, of
    // which the first counts in both), so the message's snapshot describes
    // the copy.
    let ics = itip::stored_ics(case.calendar);
    let appointment =
        diary::appointment_of(case, case.message, ics, AppointmentStatus::Tentative, Some(contact.clone()))?;
    d.effects.push(Effect::CreateAppointment(appointment));
    d.reasons.push(reasons::tentative_created(&reasons::who(contact)));
    if sequence > 0 {
        d.notes.push(reasons::update_taken_as_invitation(sequence));
    }
    Ok(())
}

/// Rule 4 for `REQUEST` updates and `ADD`.
fn change(case: &Case<'_, '_>, d: &mut Decision) -> Result<()> {
    if case.stored.is_none() {
        return refuse(d, Refusal::new(Ignored::NoExistingAppointment, reasons::no_existing("message")));
    }
    if let Some(r) = addressed_to_attendee(case) {
        return refuse(d, r);
    }
    // Rules 5 and 6 (sender, version): iTIP processing's verdict.
    let outcome = itip::process_read(case.message, case.stored.as_ref(), Some(&case.author()))?;
    if let Processed::Ignored(code) = outcome {
        return refuse(d, organizer_refusal(case, code));
    }
    let incoming = case.ctx.preferences.incoming;
    if !incoming.applies_changes() {
        return refuse(d, Refusal::new(Ignored::DisabledByPreference, reasons::changes_held(incoming, "update")));
    }
    match outcome {
        Processed::Stored(new) => {
            let (effect, moved) = diary::changed(case, new, case.kind == Kind::Update)?;
            d.effects.push(effect);
            d.reasons.push(if case.kind == Kind::Add { reasons::instances_added() } else { reasons::update_applied() });
            if moved {
                d.effects.push(Effect::Notify { what: Notice::AppointmentMoved, attendee: None });
                d.reasons.push(if case.message.instances_only() {
                    reasons::occurrence_moved()
                } else {
                    reasons::moved()
                });
            }
            Ok(())
        }
        Processed::Deleted => {
            d.effects.push(Effect::CancelAppointment { uid: case.message.uid.clone(), ics: None });
            d.reasons.push(reasons::cancelled());
            Ok(())
        }
        Processed::Ignored(code) => refuse(d, Refusal::new(code, reasons::itip_ignored(code))),
    }
}

/// Rule 4 for `CANCEL`.
fn cancel(case: &Case<'_, '_>, d: &mut Decision) -> Result<()> {
    if case.stored.is_none() {
        return refuse(d, Refusal::new(Ignored::NoExistingAppointment, reasons::no_existing("cancellation")));
    }
    if let Some(r) = addressed_to_attendee(case) {
        return refuse(d, r);
    }
    // Rules 5 and 6 (sender, version): iTIP processing's verdict.
    let outcome = itip::process_read(case.message, case.stored.as_ref(), Some(&case.author()))?;
    if let Processed::Ignored(code) = outcome {
        return refuse(d, organizer_refusal(case, code));
    }
    let incoming = case.ctx.preferences.incoming;
    if !incoming.applies_changes() {
        return refuse(d, Refusal::new(Ignored::DisabledByPreference, reasons::changes_held(incoming, "cancellation")));
    }
    let uid = case.message.uid.clone();
    match outcome {
        Processed::Deleted => {
            d.effects.push(Effect::CancelAppointment { uid, ics: None });
            d.reasons.push(reasons::cancelled());
        }
        Processed::Stored(new) if case.message.instances_only() => {
            let ics = new.to_ics();
            for inst in &case.message.instances {
                let Some(rid) = case.message.recurrence_id_of(inst) else { continue };
                d.reasons.push(reasons::occurrence_cancelled(&rid));
                d.effects.push(Effect::CancelOccurrence { uid: uid.clone(), recurrence_id: rid, ics: ics.clone() });
            }
        }
        Processed::Stored(new) => {
            d.effects.push(Effect::CancelAppointment { uid, ics: Some(new.to_ics()) });
            d.reasons.push(reasons::cancelled());
        }
        Processed::Ignored(code) => return refuse(d, Refusal::new(code, reasons::itip_ignored(code))),
    }
    d.effects.push(Effect::Notify { what: Notice::AppointmentCancelled, attendee: None });
    Ok(())
}

/// Rules 4 and 5 for `REPLY`.
fn reply(case: &Case<'_, '_>, d: &mut Decision) -> Result<()> {
    if case.stored.is_none() {
        return refuse(d, Refusal::new(Ignored::NoExistingAppointment, reasons::no_existing("answer")));
    }
    if let Some(r) = addressed_to_organizer(case) {
        return refuse(d, r);
    }
    if case.message.attendees().is_empty() {
        return refuse(d, Refusal::new(Ignored::UnknownAttendee, reasons::reply_without_attendee()));
    }
    // Rules 5 and 6 (sender, version): iTIP processing's verdict.
    let outcome = itip::process_read(case.message, case.stored.as_ref(), Some(&case.author()))?;
    if let Processed::Ignored(code) = outcome {
        return refuse(d, attendee_refusal(case, code));
    }
    let incoming = case.ctx.preferences.incoming;
    if !incoming.applies_changes() {
        return refuse(d, Refusal::new(Ignored::DisabledByPreference, reasons::changes_held(incoming, "answer")));
    }
    let new = match outcome {
        Processed::Stored(new) => new,
        Processed::Deleted | Processed::Ignored(_) => return Ok(()),
    };
    let ics = new.to_ics();
    for inst in &case.message.instances {
        let at = case.message.recurrence_id_of(inst);
        for att in &inst.attendees {
            if case.stored.as_ref().is_some_and(|s| s.attendee(&att.email).is_none()) {
                // A delegate the reply introduces: added to the meeting by
                // iTIP processing; its own answer comes later.
                let who = reasons::who(&case.directory.party_of(att));
                d.reasons.push(reasons::delegate_added(&who));
                continue;
            }
            let party = case.directory.party_of(att);
            d.reasons.push(reasons::answer_recorded(&reasons::who(&party), att.partstat.as_str(), at.as_deref()));
            d.effects.push(Effect::SetAttendeeStatus {
                uid: case.message.uid.clone(),
                attendee: att.email.to_string(),
                partstat: att.partstat.as_str().to_owned(),
                recurrence_id: at.clone(),
                party,
                ics: ics.clone(),
            });
            if att.partstat == itip::PartStat::Declined {
                d.effects
                    .push(Effect::Notify { what: Notice::InvitationDeclined, attendee: Some(att.email.to_string()) });
            }
        }
    }
    if !case.ctx.preferences.request_reply {
        d.notes.push(reasons::replies_not_requested());
    }
    Ok(())
}

/// `COUNTER`: a proposal for the organizer, never applied.
fn counter(case: &Case<'_, '_>, d: &mut Decision) -> Result<()> {
    if case.stored.is_none() {
        return refuse(d, Refusal::new(Ignored::NoExistingAppointment, reasons::no_existing("proposal")));
    }
    for check in [addressed_to_organizer, from_attendees] {
        if let Some(r) = check(case) {
            return refuse(d, r);
        }
    }
    let stored_location = case.stored.as_ref().and_then(|s| s.main()).and_then(|m| m.text("LOCATION"));
    for inst in &case.message.instances {
        let Some(att) = inst.attendees.first() else { continue };
        let (start, end, _) = case.message.span(inst);
        let location = inst.text("LOCATION").filter(|l| Some(l) != stored_location.as_ref());
        let who = reasons::who(&case.directory.party_of(att));
        d.reasons.push(reasons::counter(&who, start.as_deref(), end.as_deref()));
        d.effects.push(Effect::CounterProposal {
            attendee: att.email.to_string(),
            start,
            end,
            location,
            comment: inst.text("COMMENT"),
            recurrence_id: case.message.recurrence_id_of(inst),
        });
    }
    Ok(())
}

/// `DECLINECOUNTER`: the organizer refuses the user's proposal.
fn declinecounter(case: &Case<'_, '_>, d: &mut Decision) -> Result<()> {
    if case.stored.is_none() {
        return refuse(d, Refusal::new(Ignored::NoExistingAppointment, reasons::no_existing("message")));
    }
    for check in [addressed_to_attendee, from_organizer] {
        if let Some(r) = check(case) {
            return refuse(d, r);
        }
    }
    d.effects.push(Effect::Notify { what: Notice::CounterDeclined, attendee: None });
    d.reasons.push(reasons::counter_declined());
    Ok(())
}

/// `REFRESH`: an attendee asks the organizer (the user) for the latest version.
fn refresh(case: &Case<'_, '_>, d: &mut Decision) -> Result<()> {
    if case.stored.is_none() {
        return refuse(d, Refusal::new(Ignored::NoExistingAppointment, reasons::no_existing("request")));
    }
    for check in [addressed_to_organizer, from_attendees] {
        if let Some(r) = check(case) {
            return refuse(d, r);
        }
    }
    for att in case.message.instances.iter().flat_map(|i| i.attendees.first()).take(1) {
        let who = reasons::who(&case.directory.party_of(att));
        d.effects.push(Effect::Notify { what: Notice::RefreshRequested, attendee: Some(att.email.to_string()) });
        d.reasons.push(reasons::refresh(&who));
    }
    d.notes.push(reasons::refresh_rsvp(case.ctx.preferences.request_reply));
    Ok(())
}

/// The user must be an attendee (requests, cancellations, `ADD`,
/// `DECLINECOUNTER`). A cancellation, `ADD` or `DECLINECOUNTER` that lists no
/// attendee at all is taken as addressed to everyone the stored copy invites.
pub fn addressed_to_attendee(case: &Case<'_, '_>) -> Option<Refusal> {
    if case.message.attendee(&case.mailbox).is_some() {
        return None;
    }
    let lenient = matches!(case.kind, Kind::Cancel | Kind::Add | Kind::Declinecounter);
    if lenient && case.message.attendees().is_empty() {
        let in_stored =
            case.stored.as_ref().is_none_or(|s| s.attendee(&case.mailbox).is_some() || s.attendees().is_empty());
        if in_stored {
            return None;
        }
    }
    Some(Refusal::new(Ignored::NotAddressedToUser, reasons::not_addressed(&case.mailbox)))
}

/// The user must be the organizer (or the organizer's `SENT-BY`) of the
/// stored appointment (replies, counters, refreshes). Without any organizer
/// (Exchange sends replies without one) the message is taken as addressed to
/// the user.
pub fn addressed_to_organizer(case: &Case<'_, '_>) -> Option<Refusal> {
    let org = case.organizer()?;
    // The user is the organizer, or the assistant the stored copy records.
    if org.is(&case.mailbox) || org.sent_by.as_deref() == Some(case.mailbox.as_str()) {
        return None;
    }
    Some(Refusal::new(Ignored::NotAddressedToUser, reasons::not_organizer(&case.mailbox, &org.email)))
}

/// Rule 5 for a new invitation that came as an e-mail: its author speaks
/// for the organizer ([`vouch`]: the organizer, or an assistant in the
/// organizer's own organization). A bare calendar file speaks for itself.
pub fn invitation_from_organizer(case: &Case<'_, '_>) -> Option<Refusal> {
    let org = case.message.organizer.as_ref()?;
    if !case.is_email && case.from.is_none() {
        return None;
    }
    let Some(from) = case.from.as_deref() else {
        return Some(Refusal::new(Ignored::SenderMismatch, reasons::no_author(&org.email)));
    };
    if organizer_voucher(case).is_some() {
        return None;
    }
    // An attendee who delegated the invitation to the user forwards it
    // (RFC 5546 3.2.2.3): trusted for this new invitation only.
    if trust::delegated_by_author(&case.author(), case.calendar, Some(&case.mailbox)) {
        return None;
    }
    Some(Refusal::new(Ignored::SenderMismatch, reasons::invitation_not_from_organizer(from, &org.email)))
}

/// Why the e-mail's author speaks for the organizer (the stored one, else
/// the message's), if anything vouches ([`vouch`]).
fn organizer_voucher(case: &Case<'_, '_>) -> Option<Voucher> {
    let stored_org = case.stored.as_ref().and_then(|s| s.organizer.as_ref());
    let message_org = case.message.organizer.as_ref();
    let org = stored_org.or(message_org)?;
    let recorded = match &case.stored {
        Some(_) => Recorded::SentBy(stored_org.and_then(|o| o.sent_by.as_deref())),
        None => Recorded::NothingStored,
    };
    let principal =
        Principal { address: &org.email, claimed_sent_by: message_org.and_then(|m| m.sent_by.as_deref()), recorded };
    vouch(&case.author(), &principal)
}

/// Rule 5 for `DECLINECOUNTER`, which iTIP processing does not take: the
/// message names the stored organizer, and the e-mail's author speaks for
/// that organizer ([`vouch`]). A message without an author changes nothing.
pub fn from_organizer(case: &Case<'_, '_>) -> Option<Refusal> {
    let stored_org = case.stored.as_ref().and_then(|s| s.organizer.as_ref());
    let message_org = case.message.organizer.as_ref();
    let renamed = stored_org.zip(message_org).is_some_and(|(s, m)| !s.is(&m.email));
    let named = stored_org.or(message_org).is_some();
    if !renamed && named && case.from.is_some() && organizer_voucher(case).is_some() {
        return None;
    }
    Some(Refusal::new(Ignored::SenderMismatch, not_from_organizer(case)))
}

/// Why a message is not the organizer's, in words: it renames the
/// organizer, names none, came without an author, or came from someone else.
fn not_from_organizer(case: &Case<'_, '_>) -> String {
    let stored_org = case.stored.as_ref().and_then(|s| s.organizer.as_ref());
    let message_org = case.message.organizer.as_ref();
    match (stored_org, message_org, case.from.as_deref()) {
        (Some(s), Some(m), _) if !s.is(&m.email) => reasons::other_organizer(&m.email, &s.email),
        (None, None, _) => reasons::no_organizer(),
        (s, m, from) => {
            let org = s.or(m).map(|o| &*o.email).unwrap_or_default();
            match from {
                None => reasons::no_author(org),
                Some(from) => reasons::not_from_organizer(from, org),
            }
        }
    }
}

/// Why an organizer's message (an update, `ADD`, `CANCEL`) changes
/// nothing, in words, from iTIP processing's verdict `code` (rules 5 and 6
/// are iTIP's: [`itip::process_read`]). Only the facts that name the case
/// are read here: whether the message renames the organizer, names none,
/// came without an author; the versions; whether a duplicate moves the
/// meeting.
fn organizer_refusal(case: &Case<'_, '_>, code: Ignored) -> Refusal {
    let stored = case.stored.as_ref();
    match code {
        Ignored::SenderMismatch => Refusal::new(code, not_from_organizer(case)),
        Ignored::Stale => {
            let stored_seq = stored.map_or(0, |s| s.highest_sequence());
            Refusal::new(code, reasons::stale(case.message.highest_sequence(), stored_seq))
        }
        Ignored::Duplicate => {
            let mut r = Refusal::new(code, reasons::duplicate());
            let moved = stored.is_some_and(|s| itip::is_significant_change(s.calendar, case.calendar));
            if moved && case.kind != Kind::Cancel {
                r.warning = Some(
                    "the message has the same version as the stored appointment but another time, recurrence or \
                     location: it is not applied"
                        .to_owned(),
                );
            }
            r
        }
        other => Refusal::new(other, reasons::itip_ignored(other)),
    }
}

/// Rule 5 for attendees' messages (`REPLY`, `COUNTER`, `REFRESH`): every
/// attendee the message speaks for was invited (by address: an `EMAIL`
/// parameter matches nobody), and the e-mail's author speaks for that
/// attendee ([`vouch`]).
pub fn from_attendees(case: &Case<'_, '_>) -> Option<Refusal> {
    let stored = case.stored.as_ref()?;
    let mut any = false;
    for (inst, att) in case.message.instances.iter().flat_map(|i| i.attendees.iter().map(move |a| (i, a))) {
        any = true;
        let Some(invited) = stored.attendee(&att.email) else {
            if is_introduced_delegate(case, inst, att) {
                continue;
            }
            return Some(Refusal::new(Ignored::UnknownAttendee, reasons::unknown_attendee(&att.email)));
        };
        let Some(from) = case.from.as_deref() else {
            return Some(Refusal::new(Ignored::SenderMismatch, reasons::no_author(&att.email)));
        };
        let principal = Principal {
            address: &att.email,
            claimed_sent_by: att.sent_by.as_deref(),
            recorded: Recorded::SentBy(invited.sent_by.as_deref()),
        };
        if vouch(&case.author(), &principal).is_none() {
            return Some(Refusal::new(Ignored::SenderMismatch, reasons::not_from_attendee(from, &att.email)));
        }
    }
    if !any {
        return Some(Refusal::new(Ignored::UnknownAttendee, reasons::reply_without_attendee()));
    }
    None
}

/// Whether `att` is a delegate the reply itself introduces (RFC 5546
/// 3.2.2.3): its line is `DELEGATED-FROM` an invited attendee of the same
/// component who is `DELEGATED-TO` it, and the e-mail's author speaks for
/// that delegator. Such a line is recorded by iTIP processing as a new
/// attendee, not as an answer.
pub fn is_introduced_delegate(case: &Case<'_, '_>, inst: &itip::Instance<'_, '_>, att: &itip::CalAddress) -> bool {
    let Some(stored) = case.stored.as_ref() else { return false };
    let names =
        |list: &[std::borrow::Cow<'_, str>], who: &str| list.iter().any(|v| crate::ical::value::email_of(v) == who);
    let line_of = |email: &str| inst.attendees.iter().find(|l| l.email == email);
    inst.attendees.iter().any(|d| {
        let Some(invited) = stored.attendee(&d.email) else { return false };
        let principal = Principal {
            address: &d.email,
            claimed_sent_by: d.sent_by.as_deref(),
            recorded: Recorded::SentBy(invited.sent_by.as_deref()),
        };
        line_of(&att.email).is_some_and(|l| names(&l.delegated_from, &d.email))
            && line_of(&d.email).is_some_and(|l| names(&l.delegated_to, &att.email))
            && vouch(&case.author(), &principal).is_some()
    })
}

/// Why a reply changes nothing, in words, from iTIP processing's verdict
/// `code`: the facts that name the case (the attendee line it speaks for,
/// whether that attendee was invited, the author, the versions).
fn attendee_refusal(case: &Case<'_, '_>, code: Ignored) -> Refusal {
    let stored = case.stored.as_ref();
    let invited = |email: &str| stored.is_some_and(|s| s.attendee(email).is_some());
    let lines = || case.message.instances.iter().flat_map(|i| i.attendees.iter());
    let reason = match code {
        Ignored::UnknownAttendee => match lines().find(|a| !invited(&a.email)).or_else(|| lines().next()) {
            Some(a) => reasons::unknown_attendee(&a.email),
            None => reasons::reply_without_attendee(),
        },
        Ignored::SenderMismatch => {
            let email = lines().find(|a| invited(&a.email)).or_else(|| lines().next()).map(|a| &*a.email);
            match case.from.as_deref() {
                None => reasons::no_author(email.unwrap_or_default()),
                Some(from) => reasons::not_from_attendee(from, email.unwrap_or_default()),
            }
        }
        Ignored::Stale => reasons::stale(case.message.highest_sequence(), stored.map_or(0, |s| s.highest_sequence())),
        Ignored::Duplicate => reasons::duplicate(),
        other => reasons::itip_ignored(other),
    };
    Refusal::new(code, reason)
}
