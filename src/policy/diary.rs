//! The appointment as the diary stores it: built from a calendar, with the
//! user's answer written into the user's own `ATTENDEE` lines.

use super::Case;
use super::decision::{Appointment, AppointmentStatus, AppointmentUpdate, Effect, OccurrenceTime, Party};
use crate::error::Result;
use crate::ical::{Component, OwnedComponent};
use crate::itip;
use crate::itip::{PartStat, SchedulingObject};

/// The user's status in a stored copy: from the `PARTSTAT` of the user's line
/// in the main instance (`ACCEPTED`, `DECLINED`; anything else is tentative).
pub fn status_of(obj: &SchedulingObject<'_, '_>, mailbox: &str) -> AppointmentStatus {
    let line = obj.main().and_then(|m| m.attendees.iter().find(|a| a.is(mailbox))).or_else(|| obj.attendee(mailbox));
    match line.map(|a| &a.partstat) {
        Some(PartStat::Accepted) => AppointmentStatus::Accepted,
        Some(PartStat::Declined) => AppointmentStatus::Declined,
        _ => AppointmentStatus::Tentative,
    }
}

/// The `PARTSTAT` of the user's line in the main instance of a stored copy.
pub fn partstat_of(obj: &SchedulingObject<'_, '_>, mailbox: &str) -> Option<String> {
    obj.main().and_then(|m| m.attendees.iter().find(|a| a.is(mailbox))).map(|a| a.partstat.as_str().to_owned())
}

/// Writes `partstat` into every `ATTENDEE` line of the user, in every
/// `VEVENT`; `RSVP` is dropped once the user has answered.
pub fn set_user_partstat(calendar: &mut OwnedComponent, mailbox: &str, partstat: &str) {
    for event in calendar.components.iter_mut().filter(|c| c.is("VEVENT")) {
        for prop in event.props_mut("ATTENDEE") {
            let by_value = crate::ical::value::email_of(&prop.value) == mailbox;
            let by_param = prop.param("EMAIL").is_some_and(|e| crate::ical::value::email_of(e) == mailbox);
            if by_value || by_param {
                prop.set_param("PARTSTAT", partstat);
                if partstat != "NEEDS-ACTION" {
                    prop.remove_param("RSVP");
                }
            }
        }
    }
}

/// The appointment that `calendar` describes, for the diary.
pub fn appointment(
    case: &Case<'_, '_>,
    calendar: &Component<'_>,
    status: AppointmentStatus,
    contact: Option<Party>,
) -> Result<Appointment> {
    appointment_of(case, &SchedulingObject::read(calendar)?, calendar.to_ics(), status, contact)
}

/// The appointment for the scheduling object `obj`, read already, whose
/// stored copy is `ics`.
pub fn appointment_of(
    case: &Case<'_, '_>,
    obj: &SchedulingObject<'_, '_>,
    ics: String,
    status: AppointmentStatus,
    contact: Option<Party>,
) -> Result<Appointment> {
    let main = obj.main();
    let (start, end, all_day) = main.map(|m| obj.span(m)).unwrap_or((None, None, false));
    let (occurrences, occurrences_limited) = if obj.recurring {
        let (list, limited) = occurrences(obj.calendar)?;
        (Some(list), limited)
    } else {
        (None, false)
    };
    Ok(Appointment {
        uid: obj.uid.clone(),
        status,
        summary: main.and_then(|m| m.text("SUMMARY")),
        location: main.and_then(|m| m.text("LOCATION")),
        start,
        end,
        all_day,
        organizer: obj.organizer.as_ref().map(|o| case.directory.party_of(o)),
        contact,
        attendees: main
            .map(|m| m.attendees.iter().map(|a| case.directory.attendee(a, &case.mailbox)).collect())
            .unwrap_or_default(),
        occurrences,
        occurrences_limited,
        ics,
    })
}

/// The stored appointment after an organizer's change (`new`, from iTIP
/// processing): a significant change makes it tentative again and marks it
/// moved; otherwise the user's answer is kept. Instances added by `ADD`
/// (`may_move` false) leave the rest of the series as it was. Returns the
/// effect and whether the appointment moved.
pub fn changed(case: &Case<'_, '_>, mut new: OwnedComponent, may_move: bool) -> Result<(Effect, bool)> {
    let Some(stored) = case.stored.as_ref() else {
        let appointment = appointment(case, &new, AppointmentStatus::Tentative, None)?;
        return Ok((Effect::CreateAppointment(appointment), false));
    };
    let moved = may_move && itip::is_significant_change(stored.calendar, &new);
    let before = status_of(stored, &case.mailbox);
    if case.message.instances_only() {
        // Single occurrences changed (Exchange sends only the moved one): the
        // series keeps its answer; iTIP processing resets the moved
        // occurrence's own `PARTSTAT`.
        let appointment = appointment(case, &new, before, None)?;
        return Ok((Effect::UpdateAppointment(AppointmentUpdate { appointment, moved }), moved));
    }
    let status = if moved { AppointmentStatus::Tentative } else { before };
    let partstat = if moved { Some("NEEDS-ACTION".to_owned()) } else { partstat_of(stored, &case.mailbox) };
    if let Some(p) = partstat {
        set_user_partstat(&mut new, &case.mailbox, &p);
    }
    let appointment = appointment(case, &new, status, None)?;
    Ok((Effect::UpdateAppointment(AppointmentUpdate { appointment, moved }), moved))
}

/// Every occurrence of the series in `calendar` over the default window
/// (SPEC 3.4: from the first `DTSTART`, 730 days), and whether the list was
/// cut at the expansion limit.
fn occurrences(calendar: &Component<'_>) -> Result<(Vec<OccurrenceTime>, bool)> {
    let expansion = crate::expand::expand(calendar, &crate::expand::ExpandOptions::default())?;
    let list = expansion
        .occurrences
        .into_iter()
        .map(|o| OccurrenceTime {
            recurrence_id: o.recurrence_id.unwrap_or(o.start).into(),
            start: o.start.into(),
            end: o.end.into(),
            all_day: o.all_day,
            status: o.status.as_deref().map(str::to_owned),
        })
        .collect();
    Ok((list, expansion.limited))
}
