//! `REQUEST`: a new object, or an update of the stored one (RFC 5546 3.2.2).

use super::*;

/// `REQUEST` (RFC 5546 3.2.2): a new invitation or an update.
pub(super) fn request(input: &Inbound<'_, '_, '_>) -> Result<ProcessOutcome> {
    if !input.is_from_organizer() {
        return Ok(ProcessOutcome::Ignored(Ignored::SenderMismatch));
    }
    let Some((existing, _)) = input.stored else {
        return Ok(ProcessOutcome::Stored(as_stored(input.message)));
    };
    let zones = input.zones();
    if !input.msg.instances_only() {
        // The whole object: the message replaces every component (RFC 5546
        // 3.2.2), after a version check against the stored master.
        let Some(msg_master) = events(input.message).into_iter().find(|e| !is_override(e)) else {
            return Ok(ProcessOutcome::Ignored(Ignored::Unsupported));
        };
        let stored_index = Index::build(&zones, existing)?;
        let stored_main = match stored_index.find(None) {
            Some(i) => existing.components.get(i),
            None => events(existing).into_iter().next(),
        };
        if let Some(s) = stored_main
            && let Some(why) = judge_version(version_of(msg_master)?, version_of(s)?)
        {
            return Ok(ProcessOutcome::Ignored(why));
        }
        let mut new = as_stored(input.message);
        carry_x_properties(&mut new, existing, None);
        let keep = !is_significant_change(existing, &new);
        carry_into(&zones, &mut new, existing, &stored_index, keep)?;
        add_referenced_timezones(&mut new, existing);
        return Ok(stored_or_duplicate(new, existing));
    }
    // Instances only (no master): update or add each override, keep the rest
    // of the series (an Exchange update of one occurrence must not wipe it).
    let mut new = existing.to_static();
    new.remove_props("METHOD");
    let mut index = Index::build(&zones, &new)?;
    let mut applied = false;
    let mut why: Option<Ignored> = None;
    for ev in events(input.message) {
        let key = recurrence_key(&zones, ev)?;
        let found = index.find(key);
        let against = match found {
            Some(i) => new.components.get(i),
            None => index.find(None).and_then(|i| new.components.get(i)),
        };
        if let Some(s) = against
            && let Some(reason) = judge_version(version_of(ev)?, version_of(s)?)
        {
            why = worse(why, reason);
            continue;
        }
        let mut replacement = ev.to_static();
        match found.and_then(|i| new.components.get_mut(i).map(|slot| (i, slot))) {
            Some((_, slot)) => {
                let old = slot.clone();
                let mut probe_old = Component::new("VCALENDAR");
                probe_old.components.push(old.clone());
                let mut probe_new = Component::new("VCALENDAR");
                probe_new.components.push(replacement.clone());
                let keep = !is_significant_change(&probe_old, &probe_new);
                carry_local_state(&mut replacement, &old, keep);
                *slot = replacement;
            }
            None => {
                new.components.push(replacement);
                index.push(Some(key));
            }
        }
        applied = true;
    }
    if !applied {
        return Ok(ProcessOutcome::Ignored(why.unwrap_or(Ignored::Stale)));
    }
    add_missing_timezones(&mut new, input.message);
    Ok(stored_or_duplicate(new, existing))
}

/// Rule 6 for an organizer's `REQUEST` against the stored component of the
/// same instance (RFC 5546 2.1.5): older is stale; the same `SEQUENCE` and
/// the same `DTSTAMP` (both given) is the same revision, a duplicate, even
/// if its content differs; anything newer, or equal without both
/// `DTSTAMP`s, is applied.
fn judge_version(
    msg: (Option<i64>, Option<NaiveDateTime>),
    stored: (Option<i64>, Option<NaiveDateTime>),
) -> Option<Ignored> {
    match compare_versions(msg, stored) {
        Ordering::Less => Some(Ignored::Stale),
        Ordering::Equal if msg.1.is_some() && stored.1.is_some() => Some(Ignored::Duplicate),
        _ => None,
    }
}

/// Carries local state from each stored component into the component of the
/// same instance in `new`.
fn carry_into(
    zones: &ZoneSet,
    new: &mut OwnedComponent,
    existing: &Component<'_>,
    stored: &Index,
    keep: bool,
) -> Result<()> {
    let mut keys = Vec::with_capacity(new.components.len());
    for c in &new.components {
        keys.push(if c.is("VEVENT") { Some(recurrence_key(zones, c)?) } else { None });
    }
    for (slot, key) in new.components.iter_mut().zip(keys) {
        let Some(key) = key else { continue };
        if let Some(i) = stored.find(key)
            && let Some(old) = existing.components.get(i)
        {
            carry_local_state(slot, old, keep);
        }
    }
    Ok(())
}

/// Adds the stored `VTIMEZONE`s that `new` refers to but lacks (a `TZID`
/// kept through local state).
fn add_referenced_timezones(new: &mut OwnedComponent, existing: &Component<'_>) {
    let used = referenced_tzids(new);
    let known: HashSet<String> = new.children("VTIMEZONE").filter_map(vtimezone_id).collect();
    let mut wanted = Component::new("VCALENDAR");
    for v in existing.children("VTIMEZONE") {
        if vtimezone_id(v).is_some_and(|id| used.contains(&id) && !known.contains(&id)) {
            wanted.components.push(v.to_static());
        }
    }
    if !wanted.components.is_empty() {
        add_missing_timezones(new, &wanted);
    }
}
