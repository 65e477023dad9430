//! `REPLY`: an attendee's answer on the stored object (RFC 5546 3.2.3).

use super::*;

/// `REPLY` (RFC 5546 3.2.3): an attendee's answer, applied to the organizer's copy.
pub(super) fn reply(input: &Inbound<'_, '_, '_>) -> Result<ProcessOutcome> {
    let Some((existing, _)) = input.stored else {
        return Ok(ProcessOutcome::Ignored(Ignored::NoExistingAppointment));
    };
    // The attendee the reply speaks for: the line the sender acts for, else
    // the first ATTENDEE (RFC 5546 3.2.3: a REPLY names exactly one).
    let lines: Vec<&Property<'_>> = events(input.message).into_iter().flat_map(|e| e.props("ATTENDEE")).collect();
    let Some(first) = lines.first() else {
        return Err(EngineError::at(
            ErrorCode::InvalidSchedulingObject,
            input.message.line.max(1),
            "the reply names no `ATTENDEE`",
        ));
    };
    let replier = match input.author {
        Some(author) => {
            let speaks = |l: &&&Property<'_>| {
                let recorded = events(existing)
                    .into_iter()
                    .flat_map(|e| e.props("ATTENDEE"))
                    .find(|a| same_address(&a.value, &l.value))
                    .and_then(|a| a.param("SENT-BY"));
                let principal = Principal {
                    address: &l.value,
                    claimed_sent_by: l.param("SENT-BY"),
                    recorded: Recorded::SentBy(recorded),
                };
                vouch(author, &principal).is_some()
            };
            let Some(line) = lines.iter().find(speaks) else {
                return Ok(ProcessOutcome::Ignored(Ignored::SenderMismatch));
            };
            line.value.trim().to_owned()
        }
        None => first.value.trim().to_owned(),
    };
    let zones = input.zones();
    let mut new = existing.to_static();
    new.remove_props("METHOD");
    let mut index = Index::build(&zones, &new)?;
    let excluded = match index.find(None).and_then(|m| new.components.get(m)) {
        Some(master) => exdate_instants(&zones, master),
        None => HashSet::new(),
    };
    let mut seen = HashSet::new();
    let mut applied = false;
    let mut why: Option<Ignored> = None;
    for ev in events(input.message) {
        // One answer per instance: the first component for it.
        if !seen.insert(recurrence_key(&zones, ev)?) {
            continue;
        }
        let Some(line) = ev.props("ATTENDEE").find(|l| same_address(&l.value, &replier)) else { continue };
        let status = ReplyStatus {
            partstat: line.param("PARTSTAT").map(PartStat::parse).unwrap_or_default(),
            schedule_status: status_code(ev.value("REQUEST-STATUS")).unwrap_or("2.0").to_owned(),
            line,
            sequence: sequence_of(ev)?,
        };
        let mut target = Target { zones: &zones, cal: &mut new, index: &mut index, excluded: &excluded };
        match target.apply_reply(ev, &replier, &status)? {
            Ok(()) => applied = true,
            Err(reason) => why = worse(why, reason),
        }
    }
    if !applied {
        return Ok(ProcessOutcome::Ignored(why.unwrap_or(Ignored::UnknownAttendee)));
    }
    Ok(stored_or_duplicate(new, existing))
}

/// What one component of a reply says.
struct ReplyStatus<'r, 'a> {
    partstat: PartStat,
    schedule_status: String,
    line: &'r Property<'a>,
    sequence: Option<i64>,
}

/// The organizer's copy a reply is applied to.
struct Target<'t> {
    zones: &'t ZoneSet,
    cal: &'t mut OwnedComponent,
    index: &'t mut Index,
    /// The master's `EXDATE`s.
    excluded: &'t HashSet<NaiveDateTime>,
}

impl Target<'_> {
    /// Applies one component of a reply; `Err(reason)` when it is ignored.
    fn apply_reply(
        &mut self,
        ev: &Component<'_>,
        replier: &str,
        status: &ReplyStatus<'_, '_>,
    ) -> Result<std::result::Result<(), Ignored>> {
        let (zones, cal) = (self.zones, &mut *self.cal);
        let key = recurrence_key(zones, ev)?;
        let master = self.index.find(None);
        let mut targets: Vec<usize> = Vec::new();
        let mut created = false;
        match key {
            None => match master {
                Some(i) => targets.push(i),
                // No master: the answer holds for every instance of the attendee.
                None => {
                    for (i, c) in cal.components.iter().enumerate() {
                        if c.is("VEVENT") && has_attendee(c, replier) {
                            targets.push(i);
                        }
                    }
                }
            },
            Some(k) => match self.index.find(Some(k)) {
                Some(i) => targets.push(i),
                None => {
                    let Some(m) = master else { return Ok(Err(Ignored::NoExistingAppointment)) };
                    let Some(master_ev) = cal.components.get(m) else { return Ok(Err(Ignored::NoExistingAppointment)) };
                    if !has_attendee(master_ev, replier) {
                        return Ok(Err(Ignored::UnknownAttendee));
                    }
                    if !has_rules(master_ev) {
                        // A single event: the answer is for its only instance.
                        targets.push(m);
                    } else {
                        if self.excluded.contains(&k) {
                            // The instance was cancelled since: an answer to an old version.
                            return Ok(Err(Ignored::Stale));
                        }
                        let Some(instance) = instance_from_master(zones, master_ev, k)? else {
                            return Ok(Err(Ignored::NoExistingAppointment));
                        };
                        cal.components.push(instance);
                        self.index.push(Some(Some(k)));
                        targets.push(cal.components.len() - 1);
                        created = true;
                    }
                }
            },
        }
        let mut result = Err(Ignored::UnknownAttendee);
        for i in targets {
            let Some(target) = cal.components.get_mut(i) else { continue };
            if !has_attendee(target, replier) {
                result = Err(Ignored::UnknownAttendee);
                continue;
            }
            let current = sequence_of(target)?;
            if let Some(seq) = status.sequence
                && seq < current.unwrap_or(0)
                && !answers_current_version(ev, zones, target, zones)
            {
                // An answer to a version the organizer has moved since.
                result = Err(Ignored::Stale);
                continue;
            }
            let recorded = target
                .props("ATTENDEE")
                .find(|a| same_address(&a.value, replier))
                .map(|a| a.param("PARTSTAT").map(PartStat::parse).unwrap_or_default());
            if !created && recorded.as_ref() == Some(&status.partstat) && status.partstat != PartStat::Delegated {
                // The answer is recorded already: nothing new.
                result = Err(Ignored::Duplicate);
                continue;
            }
            set_answer(target, replier, status, created);
            result = Ok(());
        }
        Ok(result)
    }
}

/// Whether the reply component `reply` answers what `current` (the
/// organizer's component for that instance) is now, although its `SEQUENCE`
/// is lower (servers and clients renumber; RFC 5546 2.1.5 only asks that an
/// answer to an older version not undo a newer one): the same start, the
/// same end where both give one, and the same rules where the reply carries
/// them. A reply that does not say when its instance is answers nothing
/// current.
pub fn answers_current_version(
    reply: &Component<'_>,
    reply_zones: &ZoneSet,
    current: &Component<'_>,
    current_zones: &ZoneSet,
) -> bool {
    type Reader = fn(&Component<'_>) -> Result<Option<DateTimeValue>>;
    let at = |ev: &Component<'_>, zones: &ZoneSet, read: Reader| read(ev).ok().flatten().map(|v| instant(zones, &v));
    let Some(start) = at(reply, reply_zones, dtstart_of) else { return false };
    if Some(start) != at(current, current_zones, dtstart_of) {
        return false;
    }
    if let (Some(a), Some(b)) = (at(reply, reply_zones, dtend_of), at(current, current_zones, dtend_of))
        && a != b
    {
        return false;
    }
    let rules = rules_of(reply);
    rules.is_empty() || rules == rules_of(current)
}

fn has_attendee(ev: &Component<'_>, address: &str) -> bool {
    ev.props("ATTENDEE").any(|a| same_address(&a.value, address))
}

/// Records the answer on the attendee's line: `PARTSTAT`, `SCHEDULE-STATUS`
/// (not on an override created for the answer, as sabre/vobject does),
/// `RSVP` dropped (answered), delegation (RFC 5546 3.2.2.3).
fn set_answer(target: &mut OwnedComponent, replier: &str, status: &ReplyStatus<'_, '_>, created: bool) {
    let delegated_to: Vec<String> = status
        .line
        .params
        .iter()
        .filter(|p| p.name.eq_ignore_ascii_case("DELEGATED-TO"))
        .flat_map(|p| p.values.iter().map(|v| v.to_string()))
        .collect();
    for a in target.props_mut("ATTENDEE") {
        if !same_address(&a.value, replier) {
            continue;
        }
        a.set_param("PARTSTAT", status.partstat.as_str().to_owned());
        if !created {
            a.set_param("SCHEDULE-STATUS", status.schedule_status.clone());
        }
        a.remove_param("RSVP");
        if !delegated_to.is_empty() {
            a.remove_param("DELEGATED-TO");
            a.params.push(Param {
                name: "DELEGATED-TO".into(),
                values: delegated_to.iter().map(|v| v.clone().into()).collect(),
            });
        }
    }
    // Delegates the reply introduces (RFC 5546 3.2.2.3): added once.
    for d in &delegated_to {
        if !has_attendee(target, d) {
            let mut line = Property::new("ATTENDEE", d.clone());
            line.set_param("DELEGATED-FROM", replier.to_owned());
            line.set_param("PARTSTAT", PartStat::NeedsAction.as_str().to_owned());
            target.properties.push(line);
        }
    }
}

/// A new override for the instance at `key`, made from the master: the
/// master's properties without recurrence, `DTSTART` at the instance (in the
/// master's form), `DTEND` at the same exact duration (RFC 5545 3.8.5.3),
/// and `RECURRENCE-ID`.
pub(crate) fn instance_from_master(
    zones: &ZoneSet,
    master: &Component<'_>,
    key: NaiveDateTime,
) -> Result<Option<OwnedComponent>> {
    let Some(start) = dtstart_of(master)? else { return Ok(None) };
    let new_start = in_form_of(zones, &start, key);
    let end = dtend_of(master)?;
    let mut ev = master.to_static();
    for name in ["RRULE", "RDATE", "EXDATE", "EXRULE"] {
        ev.remove_props(name);
    }
    if let Some(end) = end {
        let length: TimeDelta = instant(zones, &end) - instant(zones, &start);
        let new_end = in_form_of(zones, &end, key + length);
        if let Some(p) = ev.prop_mut("DTEND") {
            p.value = new_end.to_ical_value().into();
        }
    }
    // The RECURRENCE-ID takes DTSTART's parameters as written (its TZID, a
    // VALUE=DATE).
    let mut rid = Property::new("RECURRENCE-ID", new_start.to_ical_value());
    if let Some(p) = ev.prop_mut("DTSTART") {
        rid.params.clone_from(&p.params);
        p.value = new_start.to_ical_value().into();
    }
    ev.properties.push(rid);
    Ok(Some(ev))
}

// ----------------------------------------------------------------- CANCEL
