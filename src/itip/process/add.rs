//! `ADD`: new instances added to the stored series (RFC 5546 3.2.4).

use super::*;

/// `ADD` (RFC 5546 3.2.4): new instances of a recurring event. Each
/// component of the message becomes an `RDATE` of the master and an
/// override carrying the instance's own properties.
pub(super) fn add(input: &Inbound<'_, '_, '_>) -> Result<ProcessOutcome> {
    let (existing, mut new) = match stored_for_organizer(input) {
        Ok(found) => found,
        Err(outcome) => return Ok(outcome),
    };
    let zones = input.zones();
    let mut index = Index::build(&zones, &new)?;
    let master_at = index.find(None);
    if let Some(master) = master_at.and_then(|i| new.components.get(i)) {
        let msg_main = events(input.message).into_iter().next();
        if let Some(m) = msg_main
            && older(version_of(m)?, master)?
        {
            return Ok(ProcessOutcome::Ignored(Ignored::Stale));
        }
    }
    for ev in events(input.message) {
        let Some(start) = dtstart_of(ev)? else { continue };
        let rid = match recurrence_id_of(ev)? {
            Some((v, _)) => v,
            None => start,
        };
        let key = instant(&zones, &rid);
        if index.find(Some(key)).is_some() {
            continue;
        }
        if let Some(master) = master_at.and_then(|i| new.components.get_mut(i)) {
            // The new instance is the master's RDATE; the master's SEQUENCE
            // stays, as for any message about instances only.
            master.properties.push(rid.to_property("RDATE"));
        }
        let mut instance = ev.to_static();
        if !is_override(&instance) {
            instance.properties.push(rid.to_property("RECURRENCE-ID"));
        }
        new.components.push(instance);
        index.push(Some(Some(key)));
    }
    add_missing_timezones(&mut new, input.message);
    Ok(stored_or_duplicate(new, existing))
}
