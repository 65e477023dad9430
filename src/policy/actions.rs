//! The user's answers (SPEC 3.3, "User actions"): Accept, Tentative,
//! Decline and Accept all, each with or without notifying the organizer.
//!
//! An answer is carried out only when its button is enabled (see
//! [`rules::buttons`]); otherwise it is refused with `action_disabled` and
//! the reason. Explicit answers record in the diary whatever the automatic
//! rules say: `disable_tentative`, `disable_automation`, `import_tentative`
//! off and an unregistered organizer only stop what happens on arrival.

use super::context::{Action, ActionType, Incoming};
use super::decision::{AppointmentStatus, AppointmentUpdate, Decision, Effect, Kind};
use super::rules;
use super::{Case, diary, reasons};
use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::OwnedComponent;
use crate::itip::{self, ProcessOutcome as Processed};

/// Carries out `action` for `case` into `d`.
pub fn answer(case: &Case<'_, '_>, action: Action, d: &mut Decision) -> Result<()> {
    d.action = Some(action.kind);
    if case.ctx.preferences.incoming == Incoming::DisableAll {
        return Err(EngineError::new(
            ErrorCode::ActionDisabled,
            format!(
                "`{}` is refused: answers are turned off by the system preference `disable_all`",
                action.kind.as_str()
            ),
        ));
    }
    let buttons = rules::buttons(case).map_err(|why| {
        EngineError::new(ErrorCode::ActionDisabled, format!("`{}` is refused: {why}", action.kind.as_str()))
    })?;
    d.buttons = buttons;
    if !buttons.allows(action.kind) {
        return Err(EngineError::new(ErrorCode::ActionDisabled, not_offered(action.kind)));
    }
    if case.kind == Kind::Invitation
        && let Some(r) = rules::invitation_from_organizer(case)
    {
        // The user answers by hand an invitation whose author does not speak
        // for its organizer: allowed, and said plainly.
        d.warnings.push(r.reason);
    }
    let (partstat, status) = match action.kind {
        ActionType::Accept | ActionType::AcceptAll => ("ACCEPTED", AppointmentStatus::Accepted),
        ActionType::Tentative => ("TENTATIVE", AppointmentStatus::Tentative),
        ActionType::Decline => ("DECLINED", AppointmentStatus::Declined),
    };
    let (mut copy, moved) = answered_copy(case)?;
    diary::set_user_partstat(&mut copy, &case.mailbox, partstat);
    let link = rules::organizer_link(case);
    let recurring = case.message.recurring;
    match (action.kind, case.stored.as_ref()) {
        (ActionType::Decline, None) => d.reasons.push(reasons::declined_nothing_stored()),
        (ActionType::Decline, Some(stored)) => {
            if diary::status_of(stored, &case.mailbox) == AppointmentStatus::Accepted {
                let appointment = diary::appointment(case, &copy, status, link.contact())?;
                d.effects.push(Effect::UpdateAppointment(AppointmentUpdate { appointment, moved }));
                d.reasons.push(reasons::answered(action.kind, false, recurring));
            } else {
                d.effects.push(Effect::CancelAppointment { uid: case.message.uid.clone(), ics: None });
                d.reasons.push(reasons::declined_removed());
            }
        }
        (_, None) => {
            let appointment = diary::appointment(case, &copy, status, link.contact())?;
            d.effects.push(Effect::CreateAppointment(appointment));
            d.reasons.push(reasons::answered(action.kind, true, recurring));
        }
        (_, Some(_)) => {
            let appointment = diary::appointment(case, &copy, status, link.contact())?;
            d.effects.push(Effect::UpdateAppointment(AppointmentUpdate { appointment, moved }));
            d.reasons.push(reasons::answered(action.kind, false, recurring));
            if moved {
                d.reasons.push(reasons::moved_and_answered());
            }
        }
    }
    notify_organizer(case, action, partstat, d)?;
    let suggests = action.kind != ActionType::Decline && case.kind != Kind::Publish;
    if let Some(s) = link.suggestion().filter(|_| suggests) {
        if let Effect::SuggestContact { email, .. } = &s {
            d.reasons.push(reasons::register_contact(email));
        }
        d.effects.push(s);
    }
    Ok(())
}

/// Why a button that is off was pressed anyway.
fn not_offered(action: ActionType) -> String {
    match action {
        ActionType::Accept => {
            "`accept` is refused: this invitation is recurring; use `accept_all` to accept the whole series".to_owned()
        }
        ActionType::AcceptAll => {
            "`accept_all` is refused: it is for recurring invitations, and this one is not recurring; use `accept`"
                .to_owned()
        }
        ActionType::Decline => {
            "`decline` is refused: a published event has nobody to decline to; it is simply not added".to_owned()
        }
        ActionType::Tentative => "`tentative` is refused: this message cannot be answered".to_owned(),
    }
}

/// The copy the answer is written into: the stored appointment brought up to
/// date by the message (when the message is newer), or the message itself
/// for a new invitation. Also tells whether the update moved the appointment.
fn answered_copy(case: &Case<'_, '_>) -> Result<(OwnedComponent, bool)> {
    let Some(stored_calendar) = case.stored.as_ref().map(|s| s.calendar) else {
        return Ok(match itip::process_read(case.message, None, None)? {
            Processed::Stored(c) => (c, false),
            Processed::Deleted | Processed::Ignored(_) => (itip::stored_copy(case.calendar), false),
        });
    };
    if case.kind == Kind::Publish {
        let moved = itip::is_significant_change(stored_calendar, case.calendar);
        return Ok((itip::stored_copy(case.calendar), moved));
    }
    Ok(match itip::process_read(case.message, case.stored.as_ref(), Some(&case.author()))? {
        Processed::Stored(new) => {
            let moved = itip::is_significant_change(stored_calendar, &new);
            (new, moved)
        }
        Processed::Deleted | Processed::Ignored(_) => (stored_calendar.to_static(), false),
    })
}

/// The `REPLY` to the organizer, when the user asked to notify and the
/// invitation does not say `RSVP=FALSE` for the user.
fn notify_organizer(case: &Case<'_, '_>, action: Action, partstat: &str, d: &mut Decision) -> Result<()> {
    if !action.notify {
        d.reasons.push(reasons::reply_not_requested_by_user());
        return Ok(());
    }
    if case.kind == Kind::Publish {
        d.reasons.push(reasons::published_no_reply());
        return Ok(());
    }
    let Some(organizer) = case.message.organizer.as_ref().or_else(|| case.organizer()) else {
        d.reasons.push(reasons::nobody_to_notify());
        return Ok(());
    };
    let line = case
        .message
        .main()
        .and_then(|m| m.attendees.iter().find(|a| a.is(&case.mailbox)))
        .or_else(|| case.message.attendee(&case.mailbox));
    let Some(line) = line else {
        d.reasons.push(reasons::nobody_to_notify());
        return Ok(());
    };
    if line.rsvp == Some(false) {
        d.reasons.push(reasons::rsvp_false());
        return Ok(());
    }
    let reply = itip::reply(case.calendar, &line.address, itip::PartStat::parse(partstat), case.now)?;
    d.effects.push(Effect::SendReply {
        partstat: partstat.to_owned(),
        to: organizer.email.to_string(),
        from: line.email.to_string(),
        ics: reply.to_ics(),
    });
    d.reasons.push(reasons::reply_sent(&organizer.email));
    Ok(())
}
